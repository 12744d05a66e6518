"""Bone lengths of a person: measured (robust median over frames where both ends are seen),
from a body model where one is given, from the mirror bone or anthropometric priors otherwise."""

from __future__ import annotations

import numpy as np

from ..core.errors import DreamActorError
from ..core.motion import Motion
from ..core.skeleton import HAND, SkeletonDef
from .kinematics import bone_vectors

CONF_THRESHOLD = 0.5
"""A joint is 'seen' at a frame when its confidence reaches this."""

PRIOR_LENGTHS = {
    "left_hip": 0.11,
    "right_hip": 0.11,
    "spine1": 0.11,
    "spine2": 0.13,
    "spine3": 0.06,
    "left_knee": 0.40,
    "right_knee": 0.40,
    "left_ankle": 0.40,
    "right_ankle": 0.40,
    "left_foot": 0.14,
    "right_foot": 0.14,
    "left_heel": 0.07,
    "right_heel": 0.07,
    "neck": 0.22,
    "left_collar": 0.15,
    "right_collar": 0.15,
    "head": 0.09,
    "left_shoulder": 0.11,
    "right_shoulder": 0.11,
    "left_elbow": 0.27,
    "right_elbow": 0.27,
    "left_wrist": 0.25,
    "right_wrist": 0.25,
    "nose": 0.11,
    "left_eye": 0.10,
    "right_eye": 0.10,
    "left_ear": 0.08,
    "right_ear": 0.08,
}
"""Anthropometric bone lengths of a ~1.75 m adult (metres). Only their ratios are used:
a hidden bone gets prior x (median measured/prior over the bones that were seen)."""

FACE_BONES = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")


LEGS = {
    "left": ("left_hip", "left_knee", "left_ankle", "left_foot", "left_heel"),
    "right": ("right_hip", "right_knee", "right_ankle", "right_foot", "right_heel"),
}


def seen_mask(motion: Motion, conf_threshold: float) -> np.ndarray:
    """(T, J) bool: joint seen on a valid frame."""
    return (motion.conf >= conf_threshold) & motion.valid[:, None]


def measured_bone_lengths(motion: Motion, conf_threshold: float = CONF_THRESHOLD) -> np.ndarray:
    """(J,) per-bone median length (metres) over the valid frames where both ends are
    seen, indexed by child joint; NaN where a bone is never seen (and at the root)."""
    par = np.asarray(motion.skeleton.parents)
    seen = seen_mask(motion, conf_threshold)
    ok = seen & seen[:, np.maximum(par, 0)]
    ok[:, par < 0] = False
    n = np.linalg.norm(bone_vectors(motion.joints3d, par), axis=-1)
    ok &= n > 1e-6
    out = np.full(motion.skeleton.num_joints, np.nan)
    for j in np.flatnonzero(ok.any(0)):
        out[j] = float(np.median(n[ok[:, j], j]))
    return out


BODY_MODEL_NOTE = "body model: "
"""Prefix of the fallback notes of lengths taken from a body model."""


def bone_lengths(
    motion: Motion, conf_threshold: float = CONF_THRESHOLD, body_model=None, input_name: str = "motion"
) -> tuple[np.ndarray, dict[str, str]]:
    """Robust per-bone lengths of the person in ``motion``.

    Returns (lengths (J,) metres, indexed by child joint, 0 at the root;
    fallbacks {bone name: why it was not measured directly}). Order of sources:
    ``body_model`` (when given; noted as ``BODY_MODEL_NOTE`` + its ``note``), the
    median over frames where both ends are seen, the mirror bone's length, then the
    anthropometric prior scaled to the seen bones. Raises ``DreamActorError``
    when no bone is seen at all.
    """
    sk = motion.skeleton
    J = sk.num_joints
    lengths = np.full(J, np.nan)
    fallbacks: dict[str, str] = {}
    if body_model is not None:
        given = np.asarray(body_model.bone_lengths(motion), np.float64).reshape(J)
        lengths = np.where(np.isfinite(given) & (given > 0), given, np.nan)
        note = BODY_MODEL_NOTE + (getattr(body_model, "note", None) or type(body_model).__name__)
        fallbacks.update({sk.bone_name(j): note for j in np.flatnonzero(~np.isnan(lengths)) if j})
    seen_len = measured_bone_lengths(motion, conf_threshold)
    seen = ~np.isnan(seen_len) & np.isnan(lengths)  # measured here, not given by the body model
    lengths = np.where(np.isnan(lengths), seen_len, lengths)
    measured = ~np.isnan(lengths)
    measured[0] = False
    if not measured.any():
        raise DreamActorError(
            "no bone of the person is seen on any frame (no valid person)",
            fix="use an image or clip where a person is clearly visible, and check the skeleton extraction preview",
            input=input_name,
        )
    for j in range(1, J):
        if measured[j]:
            continue
        name = sk.bone_name(j)
        mirror = sk.mirror(name)
        if mirror is not None and measured[sk[mirror]]:
            lengths[j] = lengths[sk[mirror]]
            fallbacks[name] = f"hidden; copied from its mirror {mirror}"
    priors = np.array([PRIOR_LENGTHS.get(sk.bone_name(j), np.nan) if j else np.nan for j in range(J)])
    have = seen & np.isfinite(priors)  # the person's own bones set the prior's scale
    k = float(np.median(lengths[have] / priors[have])) if have.any() else 1.0
    for j in range(1, J):
        if np.isnan(lengths[j]):
            name = sk.bone_name(j)
            if np.isfinite(priors[j]):
                lengths[j] = priors[j] * k
                fallbacks[name] = (
                    f"hidden, mirror too; anthropometric prior x {k:.3f} (from {int(have.sum())} seen bones)"
                )
            else:
                lengths[j] = float(np.median(lengths[seen if seen.any() else measured]))
                fallbacks[name] = "hidden and no prior for it; median seen bone length"
    lengths[0] = 0.0
    return lengths, fallbacks


def hand_bone_lengths(motion: Motion, conf_threshold: float = CONF_THRESHOLD) -> np.ndarray | None:
    """(2, 21) hand bone lengths from ``hands3d`` (median over seen frames; the other
    hand's where one hand is never seen; NaN where neither is), or None without hands3d."""
    hands3d = motion.get("hands3d")
    if hands3d is None:
        return None
    par = np.asarray(HAND.parents)
    seen = (motion.hands_conf >= conf_threshold) & motion.valid[:, None, None]
    ok = seen & seen[..., np.maximum(par, 0)]
    ok[..., par < 0] = False
    n = np.linalg.norm(bone_vectors(hands3d, par), axis=-1)  # (T, 2, 21)
    out = np.full((2, HAND.num_joints), np.nan)
    for h in range(2):
        for j in range(1, HAND.num_joints):
            if ok[:, h, j].any():
                out[h, j] = np.median(n[ok[:, h, j], h, j])
    out = np.where(np.isnan(out), out[::-1], out)
    out[:, 0] = 0.0
    return out


def leg_length(lengths: np.ndarray, skeleton: SkeletonDef) -> float:
    """Mean thigh + shin over both legs (metres)."""
    return float(np.mean([lengths[skeleton[LEGS[s][1]]] + lengths[skeleton[LEGS[s][2]]] for s in LEGS]))
