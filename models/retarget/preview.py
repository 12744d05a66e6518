"""What the browser bone editor needs to redraw a retarget live, and the checks on asking for it.

After DreamActor Bone Retarget runs, the node writes a small *preview* file next to
ComfyUI's other temporary files; the editor asks for it by name, a few frames at a
time (``/dreamactor/retarget_preview``), and redraws every edit in the browser with
``web/js/bone_editor_model.js`` (the pure JS that predicts the output).

A preview holds, per frame, the retargeted 3D pose (``pose3d``: every bone's
direction as the server computed it, planted feet included) and the raw driver pose,
plus the static facts the prediction needs: reference skeleton (2D, lengths), the
driver's lengths, the edits and lengths used, the framing (similarity, anchor, the
reference's pixels per metre), cameras, head-sphere ratios and the motion's 2D
bounds (a stable view for the editor).

How the browser predicts an edit (``predictFrame`` in bone_editor_model.js): keep
each bone's direction from ``pose3d``, give it the new length (base length x scale),
rebuild from the root, move the root path as the server would for the new leg ratio
(``root_lever``), and re-frame. For the edits and framing the node ran with,
this reproduces the node's output exactly. Edits of bones above the pelvis (arms,
spine, neck, head, face) and any framing change are exact too; leg edits are close
(the server also re-solves the planted feet and rests the new legs on the floor).

File layout (``<temp>/dreamactor_retarget/<name>.npz``, numpy, no pickles):
``pose3d`` (T, J, 3) float32, ``driver3d`` (T, J, 3) float32, ``valid`` (T,) bool,
``head_center`` (T, 3) float32, ``head_radius`` (T,) float32, ``root_lever`` (T, 3) float64
(see ``RetargetResult.root_lever``), ``meta`` () str (JSON).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
from collections import OrderedDict

import numpy as np

from ..core.motion import Motion, project
from .bone_edits import BoneEdits
from .framing import anchor_joints, pixels_per_metre
from .lengths import CONF_THRESHOLD, FACE_BONES, leg_length, seen_mask
from .transfer import RetargetResult, head_ratio

PREVIEW_VERSION = 1
PREVIEW_FOLDER = "dreamactor_retarget"
"""Subfolder of ComfyUI's temp folder (the host empties temp at start)."""
KEEP_PREVIEWS = 32
"""Newest previews kept in the folder; older ones are deleted when a new one is written."""
MAX_FRAMES_PER_REQUEST = 240
MAX_BODY_BYTES = 4096
MAX_IMAGE_SIDE = 1024
NAME_RE = re.compile(r"retarget_[A-Za-z0-9-]{1,40}_[0-9a-f]{12}")  # fullmatch: "$" would let a trailing newline in
REQUEST_KEYS = ("name", "frame", "count")
INPUTS_SUFFIX = ".inputs.npz"
"""A run's input motions beside its previews (``models.retarget.preview_inputs``), pruned on their own."""


class PreviewRequestError(ValueError):
    """A bad request for a preview: ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------- building
def _safe_node_id(node_id) -> str:
    """A node id ('12', '5:3' inside subgraphs) as a file-name part: [A-Za-z0-9-], at most 40 chars."""
    s = re.sub(r"[^A-Za-z0-9]+", "-", str(node_id if node_id is not None else "node")).strip("-")
    return (s or "node")[:40]


def new_preview_name(node_id) -> str:
    """A fresh, unguessable preview name for one execution of the node ``node_id``."""
    return f"retarget_{_safe_node_id(node_id)}_{secrets.token_hex(6)}"


def _framing_facts(result: RetargetResult, driving: Motion, reference: Motion, framing: str, manual) -> dict:
    """The framing the node used, with what the browser needs to recompute it for other edits."""
    valid = driving.valid.astype(bool)
    t0 = int(np.flatnonzero(valid)[0])
    seen = seen_mask(reference, CONF_THRESHOLD)
    f0 = int(np.flatnonzero(seen.any(1))[0])
    kind, anchor = anchor_joints(reference, f0, seen)
    anchor = [int(a) for a in anchor]
    return {
        "mode": framing,
        "manual": [float(v) for v in manual],
        "S": np.asarray(result.framing, np.float64).tolist(),
        "t0": t0,
        "kind": kind,
        "anchor": anchor,
        "ref_anchor": reference.joints2d[f0, anchor].astype(np.float64).mean(0).tolist(),
        "ref_ppm": pixels_per_metre(reference.camera, reference.joints3d[f0, anchor].astype(np.float64)),
    }


def build_preview(
    result: RetargetResult,
    driving: Motion,
    reference: Motion,
    edits: BoneEdits,
    framing: str,
    manual=(1.0, 0.0, 0.0),
    plant: bool = True,
    image: dict | None = None,
    inputs: str | None = None,
) -> dict[str, np.ndarray]:
    """The preview arrays of one retarget (see the module docstring). ``image``: the reference
    picture as {'filename', 'subfolder', 'type', 'width', 'height'} for ComfyUI's /view, or None.
    ``inputs``: the run whose stored inputs can recompute it (``preview_inputs``), or None."""
    out = result.motion
    reference = result.reference if result.reference is not None else reference  # posed by hand, if so
    sk = driving.skeleton
    valid = out.valid.astype(bool)
    ones = np.ones(sk.num_joints)
    seen = seen_mask(reference, CONF_THRESHOLD)
    r0 = int(np.flatnonzero(seen.any(1))[0])
    face = [sk[n] for n in FACE_BONES if n in sk.index]
    scales = edits.bone_scales(sk)
    artist = float(np.mean(scales[face])) if face else 1.0
    head_j = sk.index.get("head", 0)
    hr_ref = head_ratio(driving, reference, "reference", result.reference_lengths, result.driver_lengths, ones, sk)
    if valid.any():
        pts = out.joints2d[valid].reshape(-1, 2).astype(np.float64)
        bounds = [float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max())]
    else:
        bounds = [0.0, 0.0, float(out.image_size[0]), float(out.image_size[1])]
    meta = {
        "version": PREVIEW_VERSION,
        "joint_names": list(sk.joint_names),
        "parents": [int(p) for p in sk.parents],
        "num_frames": int(out.num_frames),
        "fps": float(out.fps),
        "image_size": [int(v) for v in out.image_size],
        "driver_size": [int(v) for v in driving.image_size],
        "reference": {
            "frame": r0,
            "joints2d": reference.joints2d[r0].astype(np.float64).tolist(),
            "seen": [bool(v) for v in seen[r0]],
            "lengths": np.asarray(result.reference_lengths, np.float64).tolist(),
        },
        "driver_lengths": np.asarray(result.driver_lengths, np.float64).tolist(),
        "edits": edits.to_dict(),
        "target_lengths": np.asarray(result.target_lengths, np.float64).tolist(),
        "leg_ratio": leg_length(result.target_lengths, sk) / leg_length(result.driver_lengths, sk),
        "head_joint": int(head_j),
        "face_bones": [int(j) for j in face],
        "head_ratio": {
            "used": hr_ref * artist if edits.base == "reference" else artist,
            "reference": float(hr_ref),
            "driver": 1.0,
        },
        "followed": [bool(v) for v in result.followed],
        "framing": _framing_facts(result, driving, reference, framing, manual),
        "camera_driver": np.asarray(driving.camera, np.float64).tolist(),
        "camera": np.asarray(out.camera, np.float64).tolist(),
        "bounds": bounds,
        "plant_feet": bool(plant),
        "info": result.info,
        "image": image,
        "inputs": inputs,
    }
    return {
        "pose3d": np.asarray(out.joints3d, np.float32),
        "driver3d": np.asarray(driving.joints3d, np.float32),
        "valid": valid,
        "head_center": np.asarray(out.head_center, np.float32),
        "head_radius": np.asarray(out.head_radius, np.float32),
        "root_lever": result.root_lever,
        "meta": np.asarray(json.dumps(meta)),
    }


def preview_folder(temp_dir: str) -> str:
    return os.path.join(temp_dir, PREVIEW_FOLDER)


def save_preview(arrays: dict[str, np.ndarray], temp_dir: str, name: str, keep: int = KEEP_PREVIEWS) -> str:
    """Write ``<temp>/dreamactor_retarget/<name>.npz`` (atomically) and delete all but the
    ``keep`` newest previews (with their pictures). Returns the path."""
    check_name(name)
    folder = preview_folder(temp_dir)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name + ".npz")
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)
    _prune(folder, keep)
    return path


def _prune(folder: str, keep: int) -> None:
    files = [
        os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".npz") and not f.endswith(INPUTS_SUFFIX)
    ]
    files.sort(key=lambda p: os.path.getmtime(p), reverse=True)
    for old in files[keep:]:
        for p in (old, old[:-4] + ".png"):
            try:
                os.remove(p)
            except OSError:
                pass


# --------------------------------------------------------------------------- requests
def check_name(name) -> str:
    """A preview name as the node made it (``retarget_<node>_<12 hex>``); anything else -> 400."""
    if name is None or name == "":
        raise PreviewRequestError("'name' is missing: give the preview name the node reported after it ran")
    if not isinstance(name, str) or len(name) > 64 or not NAME_RE.fullmatch(name):
        raise PreviewRequestError(
            f"'name' {str(name)[:64]!r} is not a preview name (expected "
            "retarget_<node>_<12 hex digits>, no paths or extensions)"
        )
    return name


def _int(params: dict, key: str, default: int | None) -> int:
    v = params.get(key, default)
    if v is None:
        raise PreviewRequestError(f"'{key}' is missing")
    if isinstance(v, bool):
        raise PreviewRequestError(f"'{key}' must be an integer, got {v!r}")
    if isinstance(v, str):
        if not re.fullmatch(r"-?\d{1,9}", v.strip()):
            raise PreviewRequestError(f"'{key}' must be an integer, got {v[:32]!r}")
        v = int(v)
    if not isinstance(v, int) or abs(v) > 10**9:
        raise PreviewRequestError(f"'{key}' must be an integer of at most 9 digits, got {v!r}"[:120])
    return v


def parse_request(params) -> tuple[str, int, int]:
    """Validate a preview request (query parameters or a JSON body) -> (name, frame, count).

    Frame bounds against the preview's length are checked by :func:`frames_payload`.
    """
    if not isinstance(params, dict):
        raise PreviewRequestError(
            "the request body must be a JSON object such as "
            '{"name": "retarget_12_0123456789ab", "frame": 0, "count": 1}'
        )
    unknown = sorted(str(k)[:32] for k in params if k not in REQUEST_KEYS)
    if unknown:
        raise PreviewRequestError(f"unknown parameter(s) {unknown}; allowed: {', '.join(REQUEST_KEYS)}")
    name = check_name(params.get("name"))
    frame = _int(params, "frame", 0)
    count = _int(params, "count", 1)
    if frame < 0:
        raise PreviewRequestError(f"'frame' {frame} is negative; frames count from 0")
    if not 1 <= count <= MAX_FRAMES_PER_REQUEST:
        raise PreviewRequestError(f"'count' {count} is outside [1, {MAX_FRAMES_PER_REQUEST}]")
    return name, frame, count


class PreviewStore:
    """Reads previews from ``<temp>/dreamactor_retarget`` by validated name, keeping a few in memory."""

    def __init__(self, temp_dir_fn, cache_size: int = 4):
        self._temp_dir_fn = temp_dir_fn
        self._cache: OrderedDict[str, tuple[float, dict]] = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()

    def path(self, name: str) -> str:
        folder = os.path.realpath(preview_folder(self._temp_dir_fn()))
        path = os.path.realpath(os.path.join(folder, check_name(name) + ".npz"))
        if os.path.commonpath([folder, path]) != folder:  # cannot happen with NAME_RE; kept as a guard
            raise PreviewRequestError(f"'name' {name!r} points outside the preview folder")
        return path

    def load(self, name: str) -> dict:
        path = self.path(name)
        try:
            mtime = os.path.getmtime(path)
        except OSError:
            raise PreviewRequestError(
                f"no preview named {name!r}: it expired (the server keeps the newest "
                f"{KEEP_PREVIEWS} and empties its temp folder when it starts); queue the "
                "prompt to make a new one",
                status=404,
            ) from None
        with self._lock:
            hit = self._cache.get(name)
            if hit is not None and hit[0] == mtime:
                self._cache.move_to_end(name)
                return hit[1]
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        data["meta"] = json.loads(str(data["meta"]))
        with self._lock:
            self._cache[name] = (mtime, data)
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return data

    def answer(self, params) -> dict:
        """The JSON answer to a request: the static facts plus ``count`` frames from ``frame``."""
        name, frame, count = parse_request(params)
        return frames_payload(self.load(name), name, frame, count)


def frames_payload(data: dict, name: str, frame: int, count: int) -> dict:
    meta = data["meta"]
    T = int(meta["num_frames"])
    if frame >= T:
        raise PreviewRequestError(f"'frame' {frame} is past the motion's last frame {T - 1} (frames 0..{T - 1})")
    stop = min(T, frame + count)
    frames = []
    for t in range(frame, stop):
        ok = bool(data["valid"][t])
        frames.append(
            {
                "index": t,
                "valid": ok,
                "pose3d": data["pose3d"][t].astype(np.float64).tolist() if ok else None,
                "driver3d": data["driver3d"][t].astype(np.float64).tolist() if ok else None,
                "head_center": data["head_center"][t].astype(np.float64).tolist() if ok else None,
                "head_radius": float(data["head_radius"][t]) if ok else 0.0,
                "root_lever": data["root_lever"][t].tolist() if ok else None,
            }
        )
    return {"name": name, **meta, "frame": frame, "frames": frames}


def framed_joints2d(pose3d: np.ndarray, meta: dict) -> np.ndarray:
    """(..., J, 2) the output's 2D joints from preview poses (the node's own camera)."""
    return project(pose3d, np.asarray(meta["camera"], np.float64))
