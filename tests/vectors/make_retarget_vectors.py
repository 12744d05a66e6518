"""Write tests/vectors/retarget_vectors.json from the Python implementation.

The browser editor's geometry (web/js/retarget_geometry.js) must reproduce the
Python retarget of one frame: the same joints for the same edits within 1e-6.
Both tests/unit/test_retarget_vectors.py and tests/js/retarget_geometry.test.mjs
read this file; the Python test also recomputes it, so a stale file fails.

    .venv/bin/python -m tests.vectors.make_retarget_vectors
"""

from __future__ import annotations

import json
import os

import numpy as np

from models.core.errors import DreamActorError
from models.core.motion import default_camera, project
from models.core.skeleton import BODY
from models.retarget.bone_edits import PRESETS, SCALE_RANGE, parse_bone_edits
from models.retarget.kinematics import drag_along_bone, retarget_pose

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "retarget_vectors.json")

EDIT_CASES = [
    None,
    {"version": 1, "preset": "match reference", "scales": {}, "link_lr": True},
    {"preset": "heroic"},
    {"preset": "chibi", "scales": {"head": 2.0}},
    {"preset": "long legs", "scales": {"left_knee": 1.4}, "link_lr": True},
    {"preset": "long legs", "scales": {"left_knee": 1.4}, "link_lr": False},
    {"preset": "keep driver", "scales": {"right_elbow": 0.5, "left_elbow": 1.5, "neck": 3.9}},
    {"scales": {"left_wrist": 0.25, "right_ankle": 4.0, "nose": 1.1}, "ui": {"selected": "nose"}},
    {"preset": "chibi", "reference_joints": {"left_wrist": [212.5, 140], "pelvis": [-3.25, 1e5]}},
]

ERROR_CASES = [  # spec -> words every implementation's message must contain
    ("{not json", ["not valid JSON"]),
    ([1, 2], ["must be a JSON object"]),
    ({"version": 2}, ["version 2"]),
    ({"version": True}, ["version true"]),
    ({"preset": "hero"}, ["unknown preset", "hero"]),
    ({"scales": {"left_kne": 1.2}}, ["unknown bone 'left_kne'", "left_knee"]),
    ({"scales": {"pelvis": 1.2}}, ["'pelvis' is the skeleton's root"]),
    ({"scales": {"left_knee": 0}}, ["'left_knee'", "valid range [0.25, 4"]),
    ({"scales": {"left_knee": -1.0}}, ["'left_knee'", "valid range [0.25, 4"]),
    ({"scales": {"neck": 4.5}}, ["'neck'", "valid range [0.25, 4"]),
    ({"scales": {"neck": "1.2"}}, ["'neck'", "not a number"]),
    ({"scales": {"neck": None}}, ["'neck'", "not a number"]),
    ({"scales": [1.2]}, ["scales must be an object"]),
    ({"link_lr": "yes"}, ["link_lr must be true or false"]),
    ({"link_lr": None}, ["link_lr must be true or false"]),
    ({"preset": "chibi", "scale": {}}, ["unknown key", "scale"]),
    ({"reference_joints": {"left_wirst": [1, 2]}}, ["unknown joint 'left_wirst'", "left_wrist"]),
    ({"reference_joints": {"head": [1]}}, ["'head'", "[x, y]"]),
    ({"reference_joints": {"head": [1, "2"]}}, ["'head'", "[x, y]"]),
    ({"reference_joints": {"head": [1, True]}}, ["'head'", "[x, y]"]),
    ({"reference_joints": {"head": [1, 100001]}}, ["'head'", "[x, y]"]),
    ({"reference_joints": [[1, 2]]}, ["reference_joints must be an object"]),
]


def _standing() -> np.ndarray:
    """(J, 3) a plausible standing pose facing the camera, 3 m away."""
    offsets = {
        "pelvis": (0, 0, 0),
        "left_hip": (0.09, 0.05, 0),
        "right_hip": (-0.09, 0.05, 0),
        "spine1": (0, -0.1, 0),
        "spine2": (0, -0.22, 0),
        "spine3": (0, -0.35, 0),
        "left_knee": (0.1, 0.47, -0.02),
        "right_knee": (-0.1, 0.47, -0.02),
        "left_ankle": (0.1, 0.88, 0.02),
        "right_ankle": (-0.1, 0.88, 0.02),
        "left_foot": (0.11, 0.93, -0.12),
        "right_foot": (-0.11, 0.93, -0.12),
        "left_heel": (0.1, 0.94, 0.05),
        "right_heel": (-0.1, 0.94, 0.05),
        "neck": (0, -0.5, 0),
        "left_collar": (0.07, -0.45, 0),
        "right_collar": (-0.07, -0.45, 0),
        "head": (0, -0.62, 0),
        "left_shoulder": (0.18, -0.46, 0),
        "right_shoulder": (-0.18, -0.46, 0),
        "left_elbow": (0.3, -0.24, 0),
        "right_elbow": (-0.3, -0.24, 0),
        "left_wrist": (0.42, -0.03, -0.05),
        "right_wrist": (-0.42, -0.03, -0.05),
        "nose": (0, -0.63, -0.1),
        "left_eye": (0.035, -0.67, -0.08),
        "right_eye": (-0.035, -0.67, -0.08),
        "left_ear": (0.08, -0.65, 0),
        "right_ear": (-0.08, -0.65, 0),
    }
    return np.array([offsets[n] for n in BODY.joint_names], np.float64) + [0.0, 0.05, 3.0]


def _bone_lengths(joints: np.ndarray) -> np.ndarray:
    par = np.asarray(BODY.parents)
    out = np.linalg.norm(joints - joints[np.maximum(par, 0)], axis=-1)
    out[0] = 0.0
    return out


def _poses(rng) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    """(name, driver joints (J, 3), root or None) cases."""
    base = _standing()
    out = [("standing", base, None)]
    for i in range(3):
        out.append((f"random {i}", base + rng.normal(0, 0.08, base.shape), None))
    moved = base + rng.normal(0, 0.05, base.shape)
    out.append(("new root", moved, np.array([0.4, -0.2, 4.5])))
    degenerate = base.copy()
    degenerate[BODY["left_heel"]] = degenerate[BODY["left_ankle"]]  # a bone of zero length
    out.append(("zero-length heel", degenerate, None))
    return out


def build() -> dict:
    rng = np.random.default_rng(20240611)
    par = list(BODY.parents)
    reference = _standing() * [1.0, 1.0, 1.0] + rng.normal(0, 0.03, (BODY.num_joints, 3))
    base_lengths = _bone_lengths(reference)
    K = default_camera(640, 480)
    framed = np.array([[0.6, 0, 40.0], [0, 0.6, -12.0], [0, 0, 1]]) @ K
    poses, cases = [], []
    cameras = [K, framed]
    for i, (pose_name, driver, root) in enumerate(_poses(rng)):
        poses.append({"name": pose_name, "driver": driver.tolist(), "root": None if root is None else root.tolist()})
        for k in range(4):  # every edit case meets several poses, both cameras
            e = (3 * i + k) % len(EDIT_CASES)
            c = (i + k) % 2
            scales = parse_bone_edits(EDIT_CASES[e]).bone_scales(BODY)
            joints = retarget_pose(driver, base_lengths * scales, par, root)
            cases.append(
                {
                    "pose": i,
                    "edits": e,
                    "camera": c,
                    "scales": scales.tolist(),
                    "joints": joints.tolist(),
                    "projected": project(joints, cameras[c]).tolist(),
                }
            )
    drags = []
    for i in range(24):
        parent = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), rng.uniform(1.5, 5.0)])
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        base = float(rng.uniform(0.05, 0.5))
        child = parent + base * float(rng.uniform(0.5, 2.0)) * d
        camera = cameras[i % 2]
        want = float(rng.uniform(0.1, 5.0))  # beyond the range sometimes: clamped
        drag = project(parent + base * want * d, camera) + rng.normal(0, 3.0, 2)
        drags.append(
            {
                "parent": parent.tolist(),
                "child": child.tolist(),
                "camera": camera.tolist(),
                "drag": drag.tolist(),
                "base_length": base,
                "scale": drag_along_bone(parent, child, camera, drag, base),
            }
        )
    errors = []
    for spec, words in ERROR_CASES:
        try:
            parse_bone_edits(spec)
        except DreamActorError:
            errors.append({"spec": spec, "words": words})
        else:
            raise AssertionError(f"{spec!r} should be rejected")
    return {
        "comment": "written by tests/vectors/make_retarget_vectors.py from models/retarget/transfer.py; do not edit",
        "joint_names": list(BODY.joint_names),
        "parents": par,
        "scale_range": list(SCALE_RANGE),
        "presets": PRESETS,
        "base_lengths": base_lengths.tolist(),
        "cameras": [c.tolist() for c in cameras],
        "edits": EDIT_CASES,
        "parsed": [parse_bone_edits(e).to_dict() for e in EDIT_CASES],
        "poses": poses,
        "cases": cases,
        "drags": drags,
        "errors": errors,
    }


def main() -> None:
    data = build()
    with open(PATH, "w") as f:  # one entry per line: readable diffs, a small file
        f.write("{\n")
        items = list(data.items())
        for n, (key, value) in enumerate(items):
            f.write(f" {json.dumps(key)}: ")
            if isinstance(value, list) and value and isinstance(value[0], dict):
                f.write("[\n" + ",\n".join("  " + json.dumps(v) for v in value) + "\n ]")
            else:
                f.write(json.dumps(value))
            f.write(",\n" if n < len(items) - 1 else "\n")
        f.write("}\n")
    print(PATH)


if __name__ == "__main__":
    main()
