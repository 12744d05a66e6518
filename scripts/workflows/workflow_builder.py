"""Compact workflow specs -> the UI-format JSON the frontend's "Export Workflow" writes.

A spec names nodes by a key and their class_type, gives widget values and links by
input name, and puts the nodes in groups laid out in columns. :func:`build` reads the
node definitions from the server's ``/object_info`` (so a workflow cannot drift from
the code: a renamed input or a missing node type is an error here), fills unnamed
widgets with their defaults, wires the links, sizes and places the nodes and groups,
and adds a Markdown note. The result is deterministic (the stale check rebuilds and
compares).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from scripts.workflows.workflow_format import MODEL_WIDGETS, UPLOAD_VALUE, outputs, sockets, widgets

FORMAT_VERSION = 0.4
CORE_CNR_ID = "comfy-core"
NOTE_COLORS = ("#432", "#653")
COLORS = {"positive": ("#232", "#353"), "negative": ("#322", "#533"), "note": NOTE_COLORS}

# Layout (graph units). LiteGraph draws a node's title bar above its pos.
NODE_TITLE = 30
GROUP_TITLE = 44
PAD = 20
NODE_GAP = 30
GROUP_GAP = 50
COLUMN_GAP = 70
NOTE_WIDTH = 420
VIEW = (1500, 820, 70, 120)  # width, height, left, top of the canvas area the saved view fits into
MIN_SCALE = 0.7  # below ~0.6 the frontend draws nodes without text: rather start readable and pan

WIDTHS = {"DreamActorBoneRetarget": 520, "CLIPTextEncode": 400, "DreamActorSampler": 340, "DreamActorLoadVideo": 440}
DEFAULT_WIDTH = 320
# room for what the frontend shows in a node: media previews (video, picture), images, the bone editor
FIXED_HEIGHTS = {
    "CLIPTextEncode": 150,
    "PreviewImage": 260,
    "DreamActorBoneRetarget": 760,
    "DreamActorLoadVideo": 500,
    "LoadImage": 400,
}
EDITOR_HEIGHT = {"DreamActorBoneRetarget": 420}  # the bone editor's DOM widget (web/js/bone_editor.js)


class WorkflowError(ValueError):
    """A spec that does not fit the current node definitions."""


@dataclass(frozen=True)
class Model:
    """A model file a loader needs: the frontend offers to download ``url`` into models/<directory>."""

    name: str
    url: str
    directory: str

    def entry(self) -> dict:
        return {"name": self.name, "url": self.url, "directory": self.directory}


@dataclass(frozen=True)
class Out:
    """A link source: output ``output`` (by name) of the node with key ``node``."""

    node: str
    output: str


@dataclass
class Node:
    """One node: ``values`` maps input names to widget values or :class:`Out` links."""

    key: str
    type: str
    values: dict = field(default_factory=dict)
    title: str | None = None
    color: str | None = None  # a key of COLORS
    model: Model | None = None  # for core loaders: the file, its download entry
    models: tuple = ()  # further files the node reads (e.g. Skeleton Extract's MediaPipe files)


@dataclass
class Group:
    title: str
    column: int
    nodes: list[Node]
    color: str = "#3f789e"


@dataclass
class Spec:
    """A workflow: ``note`` is Markdown shown in a note at the top left."""

    name: str
    note: str
    groups: list[Group]

    def nodes(self) -> list[Node]:
        return [n for g in self.groups for n in g.nodes]


@dataclass(frozen=True)
class Versions:
    """Written into the file: the frontend it was checked with, and node origins for
    ComfyUI-Manager ("cnr_id"/"ver" per node)."""

    frontend: str
    comfyui: str
    pack_id: str
    pack_version: str


# ------------------------------------------------------------------ nodes


def _node_def(object_info: dict, node: Node) -> dict:
    if node.type not in object_info:
        raise WorkflowError(
            f"node '{node.key}': type {node.type} is not in /object_info (a renamed node, or a pack that is not loaded)"
        )
    return object_info[node.type]


def _widget_values(node: Node, node_def: dict) -> list:
    values = []
    for w in widgets(node_def):
        if w.kind == "control":
            values.append(node.values.get("control_after_generate", "fixed"))  # fixed: a queued run can resume
        elif w.kind == "upload":
            values.append(UPLOAD_VALUE)
        elif w.name in node.values:
            values.append(node.values[w.name])
        elif node.model is not None and MODEL_WIDGETS.get((node.type, w.name)):
            values.append(node.model.name)
        elif w.default is None or (w.type == "COMBO" and "default" not in (w.spec or {})):
            raise WorkflowError(
                f"node '{node.key}' ({node.type}): give a value for '{w.name}' "
                "(a list with no declared default depends on the machine)"
            )
        else:
            values.append(w.default)
    return values


def _check_names(node: Node, node_def: dict) -> None:
    known = {w.name for w in widgets(node_def)} | {s[0] for s in sockets(node_def)}
    unknown = sorted(set(node.values) - known)
    if unknown:
        raise WorkflowError(
            f"node '{node.key}' ({node.type}) has no input {', '.join(map(repr, unknown))}; "
            f"it has: {', '.join(sorted(known))}"
        )


def _size(node: Node, node_def: dict, width: int) -> list[int]:
    """At least the frontend's computeSize: 20 px per slot row, 24 per widget, 14 of margin."""
    rows = max(len(sockets(node_def)), len(outputs(node_def)))
    height = 20 * rows + 24 * len(widgets(node_def)) + 14 + EDITOR_HEIGHT.get(node.type, 0)
    return [width, max(height, FIXED_HEIGHTS.get(node.type, 0))]


def _properties(node: Node, node_def: dict, versions: Versions) -> dict:
    ours = node_def.get("python_module", "").startswith("custom_nodes.")
    props = {
        "Node name for S&R": node.type,
        "cnr_id": versions.pack_id if ours else CORE_CNR_ID,
        "ver": versions.pack_version if ours else versions.comfyui,
    }
    files = ([node.model] if node.model is not None else []) + list(node.models)
    if files:
        props["models"] = [m.entry() for m in files]
    return props


# ----------------------------------------------------------------- layout


def _layout(spec: Spec, sizes: dict[str, list[int]]) -> tuple[dict, list[dict], tuple]:
    """Positions by node key, group boxes, and the bounding box (x0, y0, x1, y1)."""
    pos, boxes, x = {}, [], 0
    for column in sorted({g.column for g in spec.groups}):
        groups = [g for g in spec.groups if g.column == column]
        width = max(sizes[n.key][0] for g in groups for n in g.nodes) + 2 * PAD
        y = 0
        for g in groups:
            top, ny = y, y + GROUP_TITLE + NODE_TITLE
            for n in g.nodes:
                sizes[n.key][0] = width - 2 * PAD  # one width per column: tidy edges
                pos[n.key] = [x + PAD, ny]
                ny += sizes[n.key][1] + NODE_TITLE + NODE_GAP
            bottom = ny - NODE_GAP - NODE_TITLE + PAD
            boxes.append({"title": g.title, "bounding": [x, top, width, bottom - top], "color": g.color})
            y = bottom + GROUP_GAP
        x += width + COLUMN_GAP
    y1 = max(b["bounding"][1] + b["bounding"][3] for b in boxes)
    return pos, boxes, (-NOTE_WIDTH - COLUMN_GAP, 0, x - COLUMN_GAP, y1)


def _view(box: tuple) -> dict:
    """The saved canvas view: the graph from its top left, as much of it as fits readably."""
    w, h, left, top = VIEW
    x0, y0, x1, y1 = box
    scale = round(max(MIN_SCALE, min(1.0, w / (x1 - x0), h / (y1 - y0))), 3)
    return {"scale": scale, "offset": [round(left / scale - x0, 1), round(top / scale - y0 + NODE_TITLE, 1)]}


def _execution_order(nodes: list[dict], links: list[list]) -> None:
    """Set each node's ``order`` as LiteGraph's computeExecutionOrder does (Kahn, file order)."""
    by_id = {n["id"]: n for n in nodes}
    link_by_id = {link[0]: link for link in links}
    remaining = {n["id"]: sum(1 for i in n["inputs"] if i.get("link") is not None) for n in nodes}
    queue = [n for n in nodes if remaining[n["id"]] == 0]
    done = []
    while queue:
        node = queue.pop(0)
        done.append(node)
        for out in node["outputs"]:
            for link_id in out["links"] or []:
                target = link_by_id[link_id][3]
                remaining[target] -= 1
                if remaining[target] == 0:
                    queue.append(by_id[target])
    done += [n for n in nodes if n not in done]
    for i, node in enumerate(done):
        node["order"] = i


# ------------------------------------------------------------------ build


def _note(spec: Spec, node_id: int, height: int) -> dict:
    return {
        "id": node_id,
        "type": "MarkdownNote",
        "pos": [-NOTE_WIDTH - COLUMN_GAP, NODE_TITLE],
        "size": [NOTE_WIDTH, height],
        "flags": {},
        "order": 0,
        "mode": 0,
        "inputs": [],
        "outputs": [],
        "title": "About this workflow",
        "properties": {},
        "widgets_values": [spec.note.strip() + "\n"],
        "color": NOTE_COLORS[0],
        "bgcolor": NOTE_COLORS[1],
    }


def build(spec: Spec, object_info: dict, versions: Versions) -> dict:
    """The UI-format workflow of ``spec`` for the node definitions in ``object_info``."""
    nodes = spec.nodes()
    keys = [n.key for n in nodes]
    if len(set(keys)) != len(keys):
        raise WorkflowError(f"{spec.name}: node keys repeat")
    defs = {n.key: _node_def(object_info, n) for n in nodes}
    ids = {key: i for i, key in enumerate(keys, start=2)}  # 1 is the note
    sizes = {n.key: _size(n, defs[n.key], WIDTHS.get(n.type, DEFAULT_WIDTH)) for n in nodes}
    pos, boxes, box = _layout(spec, sizes)

    out_nodes, links = [], []
    for n in nodes:
        d = defs[n.key]
        _check_names(n, d)
        inputs = []
        for name, kind, optional in sockets(d):
            slot = {"name": name, "type": kind, "link": None}
            if optional:
                slot["shape"] = 7  # the frontend's mark for an optional socket
            source = n.values.get(name)
            if source is not None:
                if not isinstance(source, Out):
                    raise WorkflowError(f"node '{n.key}': input '{name}' is a socket; link it with Out(...)")
                slot["link"] = len(links) + 1
                links.append(_link(slot["link"], source, ids, defs, n, name, kind))
            elif not optional:
                raise WorkflowError(f"node '{n.key}' ({n.type}): required input '{name}' is not connected")
            inputs.append(slot)
        node = {
            "id": ids[n.key],
            "type": n.type,
            "pos": pos[n.key],
            "size": sizes[n.key],
            "flags": {},
            "order": 0,
            "mode": 0,
            "inputs": inputs,
            "outputs": [{"name": name, "type": kind, "links": None} for name, kind in outputs(d)],
            "properties": _properties(n, d, versions),
            "widgets_values": _widget_values(n, d),
        }
        if n.title:
            node["title"] = n.title
        if n.color:
            node["color"], node["bgcolor"] = COLORS[n.color]
        out_nodes.append(node)
    by_id = {node["id"]: node for node in out_nodes}
    for link in links:
        slot = by_id[link[1]]["outputs"][link[2]]
        slot["links"] = (slot["links"] or []) + [link[0]]
    note = _note(spec, 1, max(300, box[3] - box[1] - NODE_TITLE))
    all_nodes = [note] + out_nodes
    _execution_order(all_nodes, links)
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"comfyui-dreamactor/workflows/{spec.name}")),
        "revision": 0,
        "last_node_id": len(all_nodes),
        "last_link_id": len(links),
        "nodes": all_nodes,
        "links": links,
        "groups": [{"id": i, **b, "font_size": 24, "flags": {}} for i, b in enumerate(boxes, start=1)],
        "config": {},
        "extra": {"ds": _view(box), "frontendVersion": versions.frontend, "workflowRendererVersion": "LG"},
        "version": FORMAT_VERSION,
    }


def _link(link_id: int, source: Out, ids: dict, defs: dict, target: Node, name: str, kind: str) -> list:
    if source.node not in defs:
        raise WorkflowError(f"node '{target.key}': input '{name}' links to unknown node '{source.node}'")
    names = [o[0] for o in outputs(defs[source.node])]
    if source.output not in names:
        raise WorkflowError(f"node '{source.node}' has no output '{source.output}' (it has {', '.join(names)})")
    slot = names.index(source.output)
    out_type = outputs(defs[source.node])[slot][1]
    if out_type != kind:
        raise WorkflowError(f"'{source.node}.{source.output}' is {out_type}, input '{target.key}.{name}' takes {kind}")
    return [link_id, ids[source.node], slot, ids[target.key], _socket_index(defs[target.key], name), out_type]


def _socket_index(node_def: dict, name: str) -> int:
    return [s[0] for s in sockets(node_def)].index(name)


def dumps(workflow: dict) -> str:
    """JSON as the frontend writes it (indent 2; whole floats as integers, like JavaScript)."""
    return json.dumps(_js_numbers(workflow), indent=2, ensure_ascii=False) + "\n"


def _js_numbers(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_js_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _js_numbers(v) for k, v in value.items()}
    return value
