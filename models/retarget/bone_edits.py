"""The bone-edit spec: how an artist reshapes the character's skeleton.

A bone edit is a JSON value (the web editor keeps it in a hidden widget)::

    {"version": 1,
     "preset": "match reference",        # see PRESETS
     "scales": {"left_knee": 1.2},       # per-bone overrides of the preset
     "link_lr": true,                    # an edit to a left bone edits its right mirror too
     "reference_joints": {"left_wrist": [212.5, 140.0]}}   # optional: the reference posed by hand

A *bone* is named after its child joint (``models.core.skeleton``): ``left_knee`` is the
thigh (hip -> knee), ``left_ankle`` the shin, ``left_elbow`` the upper arm,
``left_wrist`` the forearm, ``left_collar`` spine3 -> collar, ``left_shoulder``
collar -> shoulder, ``head`` neck -> head, ``nose``/``*_eye``/``*_ear`` the face.

The target length of bone b is ``base_length[b] * scale[b]`` where

* ``base_length`` is the reference's measured length, or the driver's for the
  ``keep driver`` preset (the character keeps the driver's proportions);
* ``scale[b]`` is ``scales[b]`` when given, else the preset's value, else 1.
  ``scales`` hold the *final* value, not a factor on top of the preset, so the
  editor stores exactly what a drag produced.

With ``link_lr`` an entry for one side also sets the mirror bone, unless the
mirror has its own entry. Every scale must lie in ``SCALE_RANGE``.

``reference_joints`` (joint name -> [x, y] in the reference picture's pixels) are joints of
the *reference* skeleton the artist dragged onto the picture ("pose reference" in the
editor); ``models.retarget.reference_pose`` moves the reference motion there before the
retarget. Older specs without the key mean no placements. A ``ui`` key
(free-form editor state) is allowed and ignored; any other key is an error.
``web/js/retarget_geometry.js`` is the browser twin of this module (same presets,
same checks, held together by tests/vectors/retarget_vectors.json).

Presets (bones not listed keep 1.0; every table is left/right symmetric):

=================  ==============================================================
preset             what it does
=================  ==============================================================
match reference    the reference's proportions, unchanged
keep driver        the driver's proportions (base lengths from the driver)
heroic             ~8 heads tall: longer legs (1.10) and torso (1.06), broad
                   shoulders (collar/shoulder 1.18), longer arms (1.06), feet
                   1.05, a smaller head and face (0.92)
chibi              big head (head and face 1.6), short neck (0.6), short torso
                   (0.7), narrow hips (0.8), stubby legs (0.55), feet 0.7,
                   narrow shoulders (0.75), short arms (0.6)
long legs          longer thighs (1.15) and shins (1.18), nothing else
=================  ==============================================================
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import DreamActorError
from ..core.skeleton import BODY, SkeletonDef

BONE_EDITS_VERSION = 1
SCALE_RANGE = (0.25, 4.0)
"""Allowed per-bone scales: beyond these the skeleton stops looking like a body."""

ALLOWED_KEYS = ("version", "preset", "scales", "link_lr", "reference_joints", "ui")
"""Top-level keys. ``ui`` is free-form editor state (selected bone, zoom); ignored here."""
PIXEL_LIMIT = 100_000.0
"""A placed reference joint's coordinates must be finite and within +-this many pixels."""


def _both(scale: float, *suffixes: str) -> dict[str, float]:
    """{left_<s>: scale, right_<s>: scale} for each suffix: presets stay symmetric by construction."""
    return {f"{side}_{s}": scale for s in suffixes for side in ("left", "right")}


_FACE = ("head", "nose", "left_eye", "right_eye", "left_ear", "right_ear")

PRESETS: dict[str, dict[str, float]] = {
    "match reference": {},
    "keep driver": {},
    "heroic": {
        **_both(1.10, "knee", "ankle"),
        **_both(1.05, "foot", "heel"),
        "spine1": 1.06,
        "spine2": 1.06,
        "spine3": 1.06,
        **_both(1.18, "collar", "shoulder"),
        **_both(1.06, "elbow", "wrist"),
        **{b: 0.92 for b in _FACE},
    },
    "chibi": {
        **{b: 1.6 for b in _FACE},
        "neck": 0.6,
        "spine1": 0.7,
        "spine2": 0.7,
        "spine3": 0.7,
        **_both(0.8, "hip"),
        **_both(0.55, "knee", "ankle"),
        **_both(0.7, "foot", "heel"),
        **_both(0.75, "collar", "shoulder"),
        **_both(0.6, "elbow", "wrist"),
    },
    "long legs": {**_both(1.15, "knee"), **_both(1.18, "ankle")},
}
"""Per-bone scale tables (documented in the module docstring)."""

BASE_OF_PRESET = {name: ("driver" if name == "keep driver" else "reference") for name in PRESETS}
"""Whose measured lengths the scales multiply."""


@dataclass(frozen=True)
class BoneEdits:
    """A validated bone-edit spec. Build it with :func:`parse_bone_edits`."""

    preset: str = "match reference"
    scales: dict[str, float] = field(default_factory=dict)
    link_lr: bool = True
    version: int = BONE_EDITS_VERSION
    reference_joints: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Joint name -> (x, y) reference-picture pixels where the artist placed it."""

    @property
    def base(self) -> str:
        """'reference' or 'driver': whose measured lengths the scales multiply."""
        return BASE_OF_PRESET[self.preset]

    def resolved(self, skeleton: SkeletonDef = BODY) -> dict[str, float]:
        """The final scale of every bone of ``skeleton``, by bone name (preset, then edits, then link_lr)."""
        table = PRESETS[self.preset]
        out = {}
        for _, child in skeleton.bones:
            name = skeleton.bone_name(child)
            out[name] = float(table.get(name, 1.0))
        for name, value in self.scales.items():
            out[name] = float(value)
        if self.link_lr:
            for name, value in self.scales.items():
                mirror = skeleton.mirror(name)
                if mirror is not None and mirror not in self.scales:
                    out[mirror] = float(value)
        return out

    def bone_scales(self, skeleton: SkeletonDef = BODY) -> np.ndarray:
        """(J,) float64 scale per joint's bone (indexed by child joint); 1.0 at the root."""
        _check_bone_names(self.scales, skeleton)
        resolved = self.resolved(skeleton)
        out = np.ones(skeleton.num_joints, np.float64)
        for name, value in resolved.items():
            out[skeleton[name]] = value
        return out

    def to_dict(self) -> dict:
        out = {"version": self.version, "preset": self.preset, "scales": dict(self.scales), "link_lr": self.link_lr}
        if self.reference_joints:  # only when used: older editors' JSON stays byte-identical
            out["reference_joints"] = {k: [float(x), float(y)] for k, (x, y) in self.reference_joints.items()}
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def _error(what: str, fix: str) -> DreamActorError:
    return DreamActorError(what, fix=fix, input="bone_edits")


def _check_bone_names(scales: dict, skeleton: SkeletonDef) -> None:
    bones = [skeleton.bone_name(c) for _, c in skeleton.bones]
    root = skeleton.joint_names[0]
    for name in scales:
        if name == root:
            raise _error(
                f"'{name}' is the skeleton's root joint, not a bone, so it has no length to scale",
                fix=f"remove '{name}' from scales; scale its child bones instead",
            )
        if name not in bones:
            raise _error(f"unknown bone '{name}' in scales", fix=f"use one of the bone names: {', '.join(bones)}")


def _check_scale(name: str, value) -> float:
    lo, hi = SCALE_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _error(
            f"the scale of bone '{name}' is {value!r}, not a number",
            fix=f"give '{name}' a number between {lo} and {hi}",
        )
    v = float(value)
    if not math.isfinite(v) or not (lo <= v <= hi):
        raise _error(
            f"the scale of bone '{name}' is {value!r}, outside the valid range [{lo}, {hi}]",
            fix=f"give '{name}' a scale between {lo} and {hi} (1 keeps the base length)",
        )
    return v


def _check_placements(placed, skeleton: SkeletonDef) -> dict[str, tuple[float, float]]:
    """``reference_joints`` -> {joint: (x, y)}: known joint names, two finite numbers each."""
    if placed is None:
        return {}
    if not isinstance(placed, dict):
        raise _error(
            f"reference_joints must be an object of joint name -> [x, y], got {type(placed).__name__}",
            fix='write e.g. "reference_joints": {"left_wrist": [212.5, 140.0]}, or reset the pose in the editor',
        )
    out = {}
    for name, xy in placed.items():
        if name not in skeleton.index:
            raise _error(
                f"unknown joint '{name}' in reference_joints",
                fix=f"use one of the joint names: {', '.join(skeleton.joint_names)}",
            )
        ok = isinstance(xy, (list, tuple)) and len(xy) == 2
        ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in xy)
        if not ok or not all(math.isfinite(v) and abs(v) <= PIXEL_LIMIT for v in xy):
            raise _error(
                f"the placed reference joint '{name}' is {xy!r}, not [x, y] pixels",
                fix=f"give '{name}' two finite numbers within +-{PIXEL_LIMIT:.0f} (pixels of the reference picture)",
            )
        out[str(name)] = (float(xy[0]), float(xy[1]))
    return out


def parse_bone_edits(spec: "str | dict | BoneEdits | None", skeleton: SkeletonDef = BODY) -> BoneEdits:
    """Validate a bone-edit spec (JSON text, a dict, or ``None``/"" for the defaults).

    Raises ``DreamActorError`` naming the offending key or bone and the valid values.
    """
    if isinstance(spec, BoneEdits):
        _check_bone_names(spec.scales, skeleton)
        _check_placements(spec.reference_joints, skeleton)
        return spec
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return BoneEdits()
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except json.JSONDecodeError as e:
            raise _error(
                f"the bone edits are not valid JSON ({e.msg} at line {e.lineno} column {e.colno})",
                fix='reset the bone editor, or write e.g. {"version": 1, "preset": "match reference", '
                '"scales": {}, "link_lr": true}',
            ) from None
    if not isinstance(spec, dict):
        raise _error(
            f"the bone edits must be a JSON object, got {type(spec).__name__}",
            fix='write an object such as {"version": 1, "preset": "heroic"}',
        )
    unknown = sorted(set(spec) - set(ALLOWED_KEYS))
    if unknown:
        raise _error(f"unknown key(s) {unknown} in the bone edits", fix=f"use only the keys {list(ALLOWED_KEYS)}")
    version = spec.get("version", BONE_EDITS_VERSION)
    if isinstance(version, bool) or version != BONE_EDITS_VERSION:
        raise _error(
            f"bone edits version {json.dumps(version)} is not supported; this pack reads version {BONE_EDITS_VERSION}",
            fix=f'set "version": {BONE_EDITS_VERSION} (update ComfyUI-DreamActor for newer editors)',
        )
    preset = spec.get("preset", "match reference")
    if preset not in PRESETS:
        raise _error(f"unknown preset {preset!r}", fix=f"choose one of: {', '.join(PRESETS)}")
    link_lr = spec.get("link_lr", True)
    if not isinstance(link_lr, bool):
        raise _error(f"link_lr must be true or false, got {link_lr!r}", fix='set "link_lr": true or false')
    scales = spec.get("scales")
    scales = {} if scales is None else scales
    if not isinstance(scales, dict):
        raise _error(
            f"scales must be an object of bone name -> number, got {type(scales).__name__}",
            fix='write e.g. "scales": {"left_knee": 1.2}',
        )
    _check_bone_names(scales, skeleton)
    clean = {str(name): _check_scale(name, value) for name, value in scales.items()}
    placed = _check_placements(spec.get("reference_joints"), skeleton)
    return BoneEdits(preset=preset, scales=clean, link_lr=link_lr, reference_joints=placed)
