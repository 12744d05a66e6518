"""The ComfyUI frontend's workflow format, read off a node's `/object_info` entry.

What the frontend (comfyui_frontend_package 1.32) does with a node definition, so
Python can write, convert and check UI-format workflows without a browser:

- which inputs are widgets (INT, FLOAT, STRING, BOOLEAN, combos) and which are
  sockets (everything else, or ``forceInput``);
- the order of ``widgets_values``: the widget inputs in ``input_order`` (required,
  then optional), a ``control_after_generate`` value right after an input that asks
  for one, and an ``upload`` value last on nodes with an upload button;
- the order of a node's socket ``inputs`` as "Export Workflow" writes them: sockets
  in ``input_order`` (required, then optional), unconnected widget slots left out;
- :func:`to_api_prompt`, the twin of the frontend's ``graphToPrompt().output``.

tests/browser/test_workflows.py loads every workflow into the real frontend and
checks these rules against what it serialises and queues.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDGET_TYPES = ("INT", "FLOAT", "STRING", "BOOLEAN", "COMBO")
VIRTUAL_NODES = ("Note", "MarkdownNote")
"""Frontend-only nodes: in the workflow, never in the prompt, not in /object_info."""
UPLOAD_OPTIONS = ("image_upload", "video_upload")
"""Combo options that make the frontend add an upload button (serialised as 'image')."""
UPLOAD_VALUE = "image"
CONTROL_VALUES = ("fixed", "increment", "decrement", "randomize")

MODEL_WIDGETS = {
    ("UNETLoader", "unet_name"): "diffusion_models",
    ("VAELoader", "vae_name"): "vae",
    ("CLIPLoader", "clip_name"): "text_encoders",
    ("CLIPVisionLoader", "clip_name"): "clip_vision",
}
"""Core loader widgets that name a model file, and the models/ folder it is read from."""


@dataclass(frozen=True)
class Widget:
    """One entry of a node's ``widgets_values``: kind 'value' (an input), 'control'
    (the seed's control_after_generate) or 'upload' (the upload button)."""

    name: str
    kind: str
    type: str = ""
    options: tuple = ()
    spec: dict | None = None

    @property
    def default(self):
        spec = self.spec or {}
        if "default" in spec:
            return spec["default"]
        return self.options[0] if self.type == "COMBO" and self.options else None


def _type_and_spec(entry: list) -> tuple[str, tuple, dict]:
    """(type, combo options, options dict) of an /object_info input entry."""
    kind = entry[0]
    spec = entry[1] if len(entry) > 1 and isinstance(entry[1], dict) else {}
    if isinstance(kind, list):  # V1 combo: the options themselves
        return "COMBO", tuple(kind), spec
    return kind, tuple(spec.get("options", ())), spec


def is_widget(entry: list) -> bool:
    kind, _, spec = _type_and_spec(entry)
    return kind in WIDGET_TYPES and not spec.get("forceInput")


def _ordered_inputs(node_def: dict):
    """(name, entry, optional) over required then optional inputs, in input_order."""
    order = node_def.get("input_order") or {s: list(node_def["input"].get(s, {})) for s in ("required", "optional")}
    for section in ("required", "optional"):
        for name in order.get(section, []):
            yield name, node_def["input"][section][name], section == "optional"


def widgets(node_def: dict) -> list[Widget]:
    """The node's widgets in ``widgets_values`` order (see the module docstring)."""
    out, upload = [], False
    for name, entry, _ in _ordered_inputs(node_def):
        if not is_widget(entry):
            continue
        kind, options, spec = _type_and_spec(entry)
        out.append(Widget(name, "value", kind, options, spec))
        if spec.get("control_after_generate"):
            out.append(Widget("control_after_generate", "control"))
        upload = upload or any(spec.get(k) for k in UPLOAD_OPTIONS)
    if upload:
        out.append(Widget("upload", "upload"))
    return out


def sockets(node_def: dict) -> list[tuple[str, str, bool]]:
    """(name, type, optional) of the socket inputs, in the order the frontend writes them."""
    return [
        (name, _type_and_spec(entry)[0], optional)
        for name, entry, optional in _ordered_inputs(node_def)
        if not is_widget(entry)
    ]


def outputs(node_def: dict) -> list[tuple[str, str]]:
    """(name, type) of the outputs."""
    return list(zip(node_def["output_name"], node_def["output"]))


def to_api_prompt(workflow: dict, object_info: dict) -> dict:
    """The API prompt the frontend queues for ``workflow`` (``graphToPrompt().output``):
    node id -> {inputs, class_type, _meta.title}; widget values by name, links as
    [origin id, origin slot]; frontend-only nodes left out."""
    links = {link[0]: link for link in workflow.get("links", [])}
    prompt = {}
    for node in workflow["nodes"]:
        if node["type"] in VIRTUAL_NODES:
            continue
        if node.get("mode", 0) != 0:
            raise ValueError(f"node {node['id']} ({node['type']}) is muted or bypassed: only active nodes convert")
        node_def = object_info[node["type"]]
        inputs = {}
        for widget, value in zip(widgets(node_def), node.get("widgets_values", [])):
            if widget.kind == "value":
                inputs[widget.name] = {"__value__": value} if isinstance(value, list) else value
        for slot in node.get("inputs", []):
            if slot.get("link") is not None:
                link = links[slot["link"]]
                inputs[slot["name"]] = [str(link[1]), link[2]]
        prompt[str(node["id"])] = {
            "inputs": inputs,
            "class_type": node["type"],
            "_meta": {"title": node.get("title") or node_def["display_name"]},
        }
    return prompt
