"""Write tests/vectors/bone_editor_vectors.json from the Python implementation.

The bone editor redraws every edit in the browser (``predictFrame`` in
web/js/bone_editor_model.js) from the preview the node published
(models/retarget/preview.py). This file holds previews of real retargets
(``retarget_details`` on a synthetic walk with one frame missing, onto a full-body
and a portrait reference) and, for other edits and framings, what the server then
outputs. tests/js/bone_editor_model.test.mjs checks the JS prediction against it:
exact where the edit leaves the legs alone, close for leg edits.
tests/unit/test_retarget_preview.py recomputes it, so a stale file fails.

    .venv/bin/python -m tests.vectors.make_bone_editor_vectors
"""

from __future__ import annotations

import json
import os

import numpy as np

from models.core.motion import Motion, project
from models.core.skeleton import BODY
from models.retarget.bone_edits import parse_bone_edits
from models.retarget.kinematics import forward_kinematics, unit_directions
from models.retarget.preview import build_preview, frames_payload
from models.retarget.transfer import retarget_details
from tests.unit.motion_fixtures import standing_joints

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bone_editor_vectors.json")
PAR = list(BODY.parents)
IX = BODY.index
LEG_BONES = (
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_foot",
    "right_foot",
    "left_heel",
    "right_heel",
    "left_hip",
    "right_hip",
)


def _rot_x(a: float) -> np.ndarray:
    return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])


def _lengths(joints: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(joints - joints[np.maximum(PAR, 0)], axis=-1)
    n[0] = 0.0
    return n


def _motion(joints: np.ndarray, image_size, fps: float, head_radius: float, conf=None) -> Motion:
    m = Motion.empty(len(joints), image_size, fps)
    m.joints3d[:] = joints
    m.joints2d[:] = project(joints, m.camera)
    m.conf[:] = 1.0 if conf is None else conf
    m.valid[:] = True
    up = joints[:, IX["head"]] - joints[:, IX["neck"]]
    up /= np.linalg.norm(up, axis=-1, keepdims=True)
    m.head_center[:] = joints[:, IX["head"]] + 0.03 * up
    m.head_radius[:] = head_radius
    return m


def driver(T: int = 30, fps: float = 15.0) -> Motion:
    """Walking towards the camera and to the side, arms swinging; frame 17 has nobody."""
    base = standing_joints("a", pelvis=(0.0, 0.0, 0.0))
    dirs0, _ = unit_directions(base, PAR)
    L = _lengths(base)
    joints = np.zeros((T, BODY.num_joints, 3))
    for t in range(T):
        ph = 2 * np.pi * t / fps
        dirs = dirs0.copy()
        for side, shift in (("left", 0.0), ("right", np.pi)):
            swing = 0.45 * np.sin(ph + shift)
            bend = 0.6 * max(0.0, np.sin(ph + shift + 1.2))
            dirs[IX[f"{side}_knee"]] = _rot_x(swing) @ dirs0[IX[f"{side}_knee"]]
            for bone in ("ankle", "foot", "heel"):
                dirs[IX[f"{side}_{bone}"]] = _rot_x(swing - bend) @ dirs0[IX[f"{side}_{bone}"]]
            for bone in ("elbow", "wrist"):
                dirs[IX[f"{side}_{bone}"]] = _rot_x(-0.8 * swing) @ dirs0[IX[f"{side}_{bone}"]]
        root = np.array([0.6 * t / T, 0.02 * np.cos(2 * ph), 3.6 - 0.6 * t / T])
        joints[t] = forward_kinematics(root, dirs, L, PAR)
    m = _motion(joints, (960, 540), fps, 0.1)
    m.valid[17] = False
    m.conf[17] = 0.0
    m.joints3d[17] = 0.0
    m.joints2d[17] = 0.0
    m.head_radius[17] = 0.0
    m.head_center[17] = 0.0
    return m


def reference(portrait: bool) -> Motion:
    """One frame, other proportions (longer legs, shorter arms, bigger head); a portrait sees no legs."""
    base = standing_joints("a", pelvis=(0.05, 0.1, 2.2 if portrait else 3.2))
    dirs, _ = unit_directions(base, PAR)
    L = _lengths(base)
    for name, k in (
        ("left_knee", 1.12),
        ("right_knee", 1.12),
        ("left_ankle", 1.08),
        ("right_ankle", 1.08),
        ("left_elbow", 0.9),
        ("right_elbow", 0.9),
        ("left_wrist", 0.85),
        ("right_wrist", 0.85),
        ("neck", 1.1),
        ("head", 1.2),
    ):
        L[IX[name]] *= k
    joints = forward_kinematics(base[0], dirs, L, PAR)[None]
    conf = None
    if portrait:
        conf = np.ones((1, BODY.num_joints), np.float32)
        for name in LEG_BONES:
            conf[0, IX[name]] = 0.0
    return _motion(joints, (512, 512) if portrait else (480, 640), 1.0, 0.12, conf)


def _changes_legs(edits: dict, against: dict) -> bool:
    """True when ``edits`` give a leg bone another target length than ``against`` (the preview's)."""
    a, b = parse_bone_edits(edits), parse_bone_edits(against)
    sa, sb = a.bone_scales(BODY), b.bone_scales(BODY)
    return a.base != b.base or any(sa[IX[n]] != sb[IX[n]] for n in LEG_BONES)


CASE_FRAMES = [0, 1, 4, 8, 12, 16, 17, 18, 22, 26, 29]
"""Frames whose output each case records (17 has nobody)."""

PREVIEWS = [
    {
        "name": "full body, default edits",
        "portrait": False,
        "edits": {},
        "framing": "match reference",
        "manual": [1.0, 0.0, 0.0],
        "cases": [
            ({}, "match reference", [1.0, 0.0, 0.0], True),
            ({"scales": {"left_wrist": 1.5}}, "match reference", [1.0, 0.0, 0.0], True),
            ({"scales": {"left_elbow": 0.7, "neck": 1.3}, "link_lr": False}, "match reference", [1.0, 0.0, 0.0], True),
            ({"scales": {"head": 1.4, "nose": 0.8, "spine2": 1.2}}, "match reference", [1.0, 0.0, 0.0], True),
            ({}, "keep driver", [1.0, 0.0, 0.0], True),
            ({"scales": {"right_wrist": 2.0}}, "manual", [1.3, 0.1, -0.05], True),
            ({"scales": {"left_knee": 1.3}}, "match reference", [1.0, 0.0, 0.0], False),
            ({"preset": "chibi"}, "match reference", [1.0, 0.0, 0.0], False),
            ({"preset": "heroic"}, "keep driver", [1.0, 0.0, 0.0], False),
            ({"preset": "keep driver"}, "match reference", [1.0, 0.0, 0.0], False),
        ],
    },
    {
        "name": "portrait, heroic, manual framing",
        "portrait": True,
        "edits": {"preset": "heroic"},
        "framing": "manual",
        "manual": [0.8, 0.0, 0.1],
        "cases": [
            ({"preset": "heroic"}, "manual", [0.8, 0.0, 0.1], True),
            ({"preset": "heroic", "scales": {"left_wrist": 0.6, "head": 1.5}}, "manual", [0.8, 0.0, 0.1], True),
            ({"preset": "heroic", "scales": {"right_shoulder": 1.4}}, "match reference", [1.0, 0.0, 0.0], True),
            ({}, "match reference", [1.0, 0.0, 0.0], False),
        ],
    },
]


def build() -> dict:
    drv = driver()
    previews = []
    for spec in PREVIEWS:
        ref = reference(spec["portrait"])
        edits = parse_bone_edits(spec["edits"])
        res = retarget_details(drv, ref, edits, spec["framing"], tuple(spec["manual"]))
        arrays = build_preview(res, drv, ref, edits, spec["framing"], tuple(spec["manual"]))
        data = {k: v for k, v in arrays.items()}
        data["meta"] = json.loads(str(arrays["meta"]))
        payload = frames_payload(data, "retarget_vectors_000000000000", 0, drv.num_frames)
        for f in payload["frames"]:  # the raw driver is for display only: not part of the prediction
            f.pop("driver3d")
            if f["valid"]:  # 0.1 um: far below what a pixel shows, and a smaller file
                f["pose3d"] = np.round(f["pose3d"], 7).tolist()
                f["head_center"] = np.round(f["head_center"], 7).tolist()
                f["root_lever"] = np.round(f["root_lever"], 7).tolist()
        cases = []
        for case_edits, framing, manual, exact in spec["cases"]:
            if exact == _changes_legs(case_edits, spec["edits"]):
                raise AssertionError(
                    f"case {case_edits}: exact={exact} but it changes the legs="
                    f"{_changes_legs(case_edits, spec['edits'])}"
                )
            out = retarget_details(drv, ref, case_edits, framing, tuple(manual)).motion
            head = project(out.head_center.astype(np.float64), out.camera)
            head_r = out.camera[0, 0] * out.head_radius / np.maximum(out.head_center[:, 2], 1e-6)
            ts = CASE_FRAMES
            cases.append(
                {
                    "edits": case_edits,
                    "frames": list(ts),
                    "framing": {"mode": framing, "scale": manual[0], "dx": manual[1], "dy": manual[2]},
                    "exact": exact,
                    "valid": out.valid[ts].tolist(),
                    "joints2d": np.round(out.joints2d[ts].astype(np.float64), 4).tolist(),
                    "head2d": np.round(head[ts], 4).tolist(),
                    "head_radius2d": np.round(head_r[ts], 4).tolist(),
                }
            )
        previews.append({"name": spec["name"], "preview": payload, "cases": cases})
    return {"about": "written by tests/vectors/make_bone_editor_vectors.py; see its docstring", "previews": previews}


def main() -> None:
    with open(PATH, "w") as f:
        json.dump(build(), f, separators=(",", ":"))
    print(PATH, os.path.getsize(PATH), "bytes")


if __name__ == "__main__":
    main()
