"""MediaPipe's 33 pose landmarks -> the pack's 29-joint ``BODY`` skeleton.

Every body joint is a fixed linear combination of landmarks, so one (29, 33)
matrix maps image points, world points (metres) and anything else per landmark:

* measured directly: nose, eyes, ears, shoulders, elbows, wrists, hips, knees,
  ankles, heels, and ``*_foot`` = MediaPipe's ``foot_index`` (toe tip);
* derived: ``pelvis`` = mid-hip; ``neck`` = mid-shoulder raised by 10 % of the
  torso (the SMPL-X neck joint sits above the shoulder line); ``spine1..3`` on the
  pelvis->neck segment at 22 %, 48 % and 58 % (the mean SMPL-X proportions);
  collars half-way between the neck and each shoulder; ``head`` = between the ears.

MediaPipe's "left" is the person's left (checked on a frontal photo: its left
shoulder is on the image's right). A joint's confidence is the visibility of
its landmarks, the smallest of those that weigh at least 20 % in it (the
neck's small pelvis term does not make a head-and-shoulders shot's neck uncertain).
"""

from __future__ import annotations

import numpy as np

from ..core.skeleton import BODY

MP_NAMES = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)
MP = {n: i for i, n in enumerate(MP_NAMES)}

NECK_RAISE = 0.10
SPINE_FRACTIONS = {"spine1": 0.22, "spine2": 0.48, "spine3": 0.58}
CONF_SOURCE_MIN_WEIGHT = 0.2


def _recipes() -> dict[str, dict[str, float]]:
    """Body joint name -> {MediaPipe landmark name: weight}."""
    mid_hip = {"left_hip": 0.5, "right_hip": 0.5}
    mid_sh = {"left_shoulder": 0.5, "right_shoulder": 0.5}

    def mix(a: dict, b: dict, t: float) -> dict:  # (1 - t) a + t b
        out: dict[str, float] = {}
        for k, w in a.items():
            out[k] = out.get(k, 0.0) + (1 - t) * w
        for k, w in b.items():
            out[k] = out.get(k, 0.0) + t * w
        return out

    neck = mix(mid_hip, mid_sh, 1.0 + NECK_RAISE)  # extrapolated past the shoulders
    r = {
        "pelvis": mid_hip,
        "neck": neck,
        "head": {"left_ear": 0.5, "right_ear": 0.5},
        "left_collar": mix(neck, {"left_shoulder": 1.0}, 0.5),
        "right_collar": mix(neck, {"right_shoulder": 1.0}, 0.5),
        "left_foot": {"left_foot_index": 1.0},
        "right_foot": {"right_foot_index": 1.0},
    }
    for name, t in SPINE_FRACTIONS.items():
        r[name] = mix(mid_hip, neck, t)
    for name in BODY.joint_names:
        r.setdefault(name, {name: 1.0})  # same name in both: measured directly
    return r


def _matrices() -> tuple[np.ndarray, np.ndarray]:
    recipes = _recipes()
    weights = np.zeros((BODY.num_joints, len(MP_NAMES)))
    sources = np.zeros_like(weights, dtype=bool)
    for j, name in enumerate(BODY.joint_names):
        for lm, w in recipes[name].items():
            weights[j, MP[lm]] += w
    sources[:] = np.abs(weights) >= CONF_SOURCE_MIN_WEIGHT
    return weights, sources


WEIGHTS, CONF_SOURCES = _matrices()
"""WEIGHTS (29, 33): body joint = WEIGHTS @ landmarks. CONF_SOURCES (29, 33) bool."""


def to_body(landmarks: np.ndarray) -> np.ndarray:
    """(..., 33, C) MediaPipe landmarks -> (..., 29, C) BODY joints (any C, any units)."""
    return np.einsum("jk,...kc->...jc", WEIGHTS, np.asarray(landmarks, np.float64))


def body_confidence(visibility: np.ndarray) -> np.ndarray:
    """(..., 33) landmark visibilities -> (..., 29) joint confidences (min of sources)."""
    v = np.asarray(visibility, np.float64)[..., None, :]
    return np.where(CONF_SOURCES, v, np.inf).min(-1)
