// The person picker of DreamActor Skeleton Extract: click a person in the node's preview to
// choose whom to follow.
//
// When the extraction finds several people, the node's first preview image shows each with a
// numbered box (1 = the leftmost, the number its `person` input takes) and its UI output
// carries the boxes (nodes/people_picker.py). A click inside a box, while that image is shown
// on its own (a photo's preview always is; for a clip, open the first image), sets `person` to
// that number; the next run follows that person. Until then the chosen box is outlined here,
// dashed, with "next run". A click elsewhere does what it always did (select, drag the node).
import { app } from "../../../scripts/app.js";
import { chainCallback } from "./node_hooks.js";
import { SIZE_LINE, boxRect, personAt, pictureRect } from "./person_picker_model.js";

const NODE_TYPE = "DreamActorSkeletonExtract";
const PERSON_WIDGET = "person";
const PREVIEW_WIDGET = "$$canvas-image-preview";
const UI_KEY = "dreamactor_people";
const NEXT_COLOR = "#7CFC00";

class PersonPicker {
  constructor(node) {
    this.node = node;
    this.people = null; // {image, boxes, taken, person} from the last run
  }

  onExecuted(message) {
    const entry = message?.[UI_KEY]?.[0];
    this.people = entry?.boxes?.length > 1 ? entry : null;
  }

  get widget() {
    return this.node.widgets?.find((w) => w.name === PERSON_WIDGET);
  }

  /** The picture with the boxes, where it is drawn now in node coordinates, or null (not shown
   * on its own, or not loaded). */
  pictureRect() {
    const node = this.node;
    const preview = node.widgets?.find((w) => w.name === PREVIEW_WIDGET);
    const index = node.imageIndex ?? (node.imgs?.length === 1 ? 0 : null);
    const img = node.imgs?.[this.people?.image ?? 0];
    if (!this.people || !preview || index !== this.people.image || !img?.naturalWidth) return null;
    const setting = "Comfy.Node.AllowImageSizeDraw";
    const sizeDraw = app.extensionManager?.setting?.get?.(setting) ?? app.ui?.settings?.getSettingValue?.(setting);
    const sizeLine = sizeDraw ? SIZE_LINE : 0;
    const height = preview.computedHeight ?? node.size[1] - preview.y;
    return pictureRect(node.size[0], preview.y, height, img.naturalWidth, img.naturalHeight, sizeLine);
  }

  /** The person number under a point in node coordinates (0: none). */
  personAt(x, y) {
    const rect = this.pictureRect();
    return rect ? personAt(this.people.boxes, rect, x, y) : 0;
  }

  choose(number) {
    const w = this.widget;
    if (!w || !number) return false;
    w.value = number;
    w.callback?.(number, app.canvas, this.node);
    this.node.setDirtyCanvas(true, true);
    return true;
  }

  /** Chain onto the preview widget: a click (not a drag) on a box chooses; after the picture is
   * drawn, the outline of the person asked for next. */
  hookPreview() {
    const preview = this.node.widgets?.find((w) => w.name === PREVIEW_WIDGET);
    if (!preview || preview.__daPicker) return;
    preview.__daPicker = true;
    const picker = this;
    const original = preview.onPointerDown;
    preview.onPointerDown = function (pointer, node, canvas) {
      const handled = original ? original.call(this, pointer, node, canvas) : false;
      const [gx, gy] = canvas.graph_mouse;
      const number = picker.personAt(gx - node.pos[0], gy - node.pos[1]);
      if (number) {
        const previous = pointer.onClick;
        pointer.onClick = (e) => {
          previous?.(e);
          picker.choose(number);
        };
      }
      return handled;
    };
    const draw = preview.drawWidget;
    preview.drawWidget = function (ctx, ...rest) {
      const out = draw.call(this, ctx, ...rest);
      picker.drawNext(ctx);
      return out;
    };
  }

  /** Outline the person the widget now asks for, when that is not who the last run took. */
  drawNext(ctx) {
    const rect = this.pictureRect();
    const wanted = Number(this.widget?.value ?? 0);
    if (!rect || !wanted || wanted === this.people.taken || wanted > this.people.boxes.length) return;
    const r = boxRect(this.people.boxes[wanted - 1], rect);
    ctx.save();
    ctx.strokeStyle = NEXT_COLOR;
    ctx.lineWidth = 2;
    ctx.setLineDash([6, 4]);
    ctx.strokeRect(r.x, r.y, r.w, r.h);
    ctx.setLineDash([]);
    ctx.font = "12px sans-serif";
    ctx.textAlign = "left";
    ctx.textBaseline = "alphabetic";
    ctx.fillStyle = NEXT_COLOR;
    ctx.fillText(`#${wanted}: next run`, r.x + 4, Math.max(r.y + r.h - 6, rect.y + 12));
    ctx.restore();
  }
}

app.registerExtension({
  name: "DreamActor.PersonPicker",
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData.name !== NODE_TYPE) return;
    chainCallback(nodeType.prototype, "onNodeCreated", function () {
      this.personPicker = new PersonPicker(this);
    });
    chainCallback(nodeType.prototype, "onExecuted", function (message) {
      (this.personPicker ??= new PersonPicker(this)).onExecuted(message);
    });
    chainCallback(nodeType.prototype, "onDrawForeground", function () {
      this.personPicker?.hookPreview(); // the preview widget comes with the first images
    });
  },
});
