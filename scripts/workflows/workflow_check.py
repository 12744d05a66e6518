"""Check a UI-format workflow against the server's ``/object_info``, independently of
how it was made: every node type, input name, link type and widget value must be one
the current code accepts. A list of problems comes back (empty = fine).

Model-file and media-file combos are machine-dependent lists, so they are checked
differently: a model file must be named in the node's ``properties.models`` (the
entry the frontend offers to download, in the loader's folder), a media file must be
one of the sample files the workflows are written for.
"""

from __future__ import annotations

from scripts.workflows.workflow_format import (
    CONTROL_VALUES,
    MODEL_WIDGETS,
    UPLOAD_OPTIONS,
    UPLOAD_VALUE,
    VIRTUAL_NODES,
    outputs,
    sockets,
    widgets,
)

HTTPS_SOURCES = ("https://huggingface.co/", "https://storage.googleapis.com/mediapipe-models/")
"""Where listed model files may come from: Hugging Face, and MediaPipe's own model storage (the
frontend's download dialog offers only the former; Skeleton Extract downloads the latter itself)."""


def _value_problem(widget, value, node: dict, media: tuple) -> str | None:
    """Why ``value`` does not fit ``widget`` (None when it does)."""
    if widget.kind == "control":
        return None if value in CONTROL_VALUES else f"must be one of {CONTROL_VALUES}"
    if widget.kind == "upload":
        return None if value == UPLOAD_VALUE else f"the upload button's value must be {UPLOAD_VALUE!r}"
    spec = widget.spec or {}
    folder = MODEL_WIDGETS.get((node["type"], widget.name))
    if folder:
        listed = [m.get("name") for m in node.get("properties", {}).get("models", []) if m.get("directory") == folder]
        return (
            None
            if value in listed
            else (
                f"model file {value!r} is not in the node's properties.models for "
                f"models/{folder} (the frontend offers downloads from there)"
            )
        )
    if widget.type == "COMBO":
        if any(spec.get(k) for k in UPLOAD_OPTIONS):
            return None if value in media else f"{value!r} is not one of the sample media files {media}"
        return (
            None if value in widget.options else f"{value!r} is not an option ({', '.join(map(str, widget.options))})"
        )
    kinds = {"INT": int, "FLOAT": (int, float), "BOOLEAN": bool, "STRING": str}
    if isinstance(value, bool) != (widget.type == "BOOLEAN") or not isinstance(value, kinds[widget.type]):
        return f"{value!r} is not a {widget.type}"
    if widget.type in ("INT", "FLOAT"):
        lo, hi = spec.get("min"), spec.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return f"{value} is outside [{lo}, {hi}]"
    return None


def _models_problems(node: dict) -> list[str]:
    out = []
    for m in node.get("properties", {}).get("models", []):
        if not (
            m.get("name")
            and m.get("directory")
            and str(m.get("url", "")).startswith(HTTPS_SOURCES)
            and m["url"].endswith("/" + m["name"])
        ):
            out.append(
                f"properties.models entry {m} needs a name, a directory and a Hugging Face (or MediaPipe) URL ending in the name"
            )
    return out


def check_node(node: dict, object_info: dict, media: tuple) -> list[str]:
    """Problems of one node (its links are checked by :func:`check_workflow`)."""
    if node["type"] in VIRTUAL_NODES:
        values = node.get("widgets_values", [])
        return [] if len(values) == 1 and isinstance(values[0], str) else ["a note holds one text"]
    if node["type"] not in object_info:
        return [f"node type {node['type']} is not in /object_info"]
    node_def = object_info[node["type"]]
    problems = _models_problems(node)
    socket_types = {name: kind for name, kind, _ in sockets(node_def)}
    widget_list = widgets(node_def)
    for slot in node.get("inputs", []):
        name = slot.get("name")
        if name in socket_types:
            if slot.get("type") != socket_types[name]:
                problems.append(f"input '{name}' is {slot.get('type')} here, {socket_types[name]} in the code")
        elif not (slot.get("widget") and any(w.name == name for w in widget_list)):
            problems.append(f"input '{name}' is no longer an input of {node['type']}")
    linked = {s["name"] for s in node.get("inputs", []) if s.get("link") is not None}
    for name, _, optional in sockets(node_def):
        if not optional and name not in linked:
            problems.append(f"required input '{name}' is not connected")
    values = node.get("widgets_values", [])
    if len(values) != len(widget_list):
        names = ", ".join(w.name for w in widget_list)
        return problems + [f"{len(values)} widget values for {len(widget_list)} widgets ({names})"]
    for widget, value in zip(widget_list, values):
        why = _value_problem(widget, value, node, media)
        if why:
            problems.append(f"widget '{widget.name}': {why}")
    return problems


def check_workflow(workflow: dict, object_info: dict, media: tuple) -> list[str]:
    """Every problem of ``workflow`` against ``object_info``, each prefixed with its node."""
    nodes = {n["id"]: n for n in workflow["nodes"]}
    problems = [
        f"node {n['id']} ({n['type']}): {p}" for n in workflow["nodes"] for p in check_node(n, object_info, media)
    ]
    for link_id, src, src_slot, dst, dst_slot, kind in workflow.get("links", []):
        where = f"link {link_id}"
        if src not in nodes or dst not in nodes:
            problems.append(f"{where}: joins a node that is not in the workflow")
            continue
        a, b = nodes[src], nodes[dst]
        if a["type"] in object_info:
            outs = outputs(object_info[a["type"]])
            if src_slot >= len(outs) or outs[src_slot][1] != kind:
                problems.append(f"{where}: {a['type']} output {src_slot} is not {kind}")
        slots = b.get("inputs", [])
        if dst_slot >= len(slots) or slots[dst_slot].get("link") != link_id or slots[dst_slot].get("type") != kind:
            problems.append(f"{where}: does not arrive at input {dst_slot} of node {dst} as {kind}")
    return problems
