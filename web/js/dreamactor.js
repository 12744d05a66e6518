// ComfyUI-DreamActor frontend extension.
// Shows what each DreamActor node reports after it runs (frame counts, sizes, warnings)
// in a read-only line under the node, so artists see at a glance what a clip or a
// motion holds without opening the console.
import { app } from "../../../scripts/app.js";
import { chainCallback } from "./node_hooks.js";

const PACK_PREFIX = "DreamActor";
const INFO_WIDGET = "dreamactor_info";

function infoElement(node) {
  let widget = node.widgets?.find((w) => w.name === INFO_WIDGET);
  if (!widget) {
    const el = document.createElement("div");
    el.className = "dreamactor-info";
    el.style.cssText =
      "font: 11px monospace; color: var(--descrip-text, #aaa); white-space: pre-wrap;" +
      "overflow-wrap: anywhere; padding: 2px 4px; max-height: 64px; overflow-y: auto;";
    widget = node.addDOMWidget(INFO_WIDGET, "div", el, { serialize: false, hideOnZoom: false });
    widget.computeSize = () => [node.size[0], Math.min(64, 16 + 14 * (el.textContent.split("\n").length - 1))];
  }
  return widget.element;
}

app.registerExtension({
  name: "DreamActor.Core",
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (!nodeData.name?.startsWith(PACK_PREFIX)) return;
    chainCallback(nodeType.prototype, "onExecuted", function (message) {
      const text = message?.text;
      if (!text) return;
      const el = infoElement(this);
      el.textContent = Array.isArray(text) ? text.join("\n") : String(text);
      // grow to fit the text, never shrink: the artist's own size (room for previews) stays
      this.setSize([this.size[0], Math.max(this.size[1], this.computeSize()[1])]);
      app.graph.setDirtyCanvas(true, true);
    });
  },
});
