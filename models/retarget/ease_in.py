"""The guide starts in the character's own pose and eases into the driver's motion.

A character drawn mid-stride, lunging or with an arm raised, driven by a clip that starts
standing, would otherwise jump at frame 0 from its picture's pose to the driver's: the
first frames then ask the model to draw limbs where the picture shows none (a standing
driver's feet land between a walking character's legs). Easing in, frame 0 of the guide is
the picture's pose and the driver's motion takes over within ``seconds``.

How: each bone's direction on the first valid frame is turned onto the reference's by one
rotation (the shortest, about a fixed axis); that rotation is applied to the bone's
direction on every frame of the ease and faded out with a smoothstep. The driver's own
motion is kept throughout (an offset fading out, not a cross-fade towards a still pose),
bone lengths stay exact, and after the ease the output is the unchanged retarget. The
fingers ease the same way onto the picture's hand where it has one. The pelvis is raised or lowered so the lowest foot point stays where the un-eased pose has it
(the feet stay on the floor while the legs change).
"""

from __future__ import annotations

import numpy as np

EASE_IN_SECONDS = 0.5
"""Default ease: short enough to keep the driver's motion, long enough that a leg swinging
from mid-stride to standing (~40 degrees) moves at a walking pace (< 150 degrees/s at the peak)."""
EASE_RANGE = (0.0, 5.0)
"""Seconds the node accepts."""


def ease_weights(valid: np.ndarray, fps: float, seconds: float) -> np.ndarray:
    """(T,) how much of the offset is left: 1 on the first valid frame, smoothstep down to 0
    ``seconds`` later, 0 from there on (and before the first valid frame)."""
    T = len(valid)
    out = np.zeros(T)
    n = int(round(seconds * fps))
    if n <= 0 or not valid.any():
        return out
    t0 = int(np.flatnonzero(valid)[0])
    s = np.clip((np.arange(T) - t0) / n, 0.0, 1.0)
    out = 1.0 - s * s * (3.0 - 2.0 * s)
    out[:t0] = 0.0
    return out


def rotate_about(vectors: np.ndarray, axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """vectors (T, 3) turned about the unit ``axis`` (3,) by ``angle`` (T,) radians (Rodrigues)."""
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    return vectors * c + np.cross(axis, vectors) * s + axis * (vectors @ axis)[:, None] * (1.0 - c)


def shortest_turn(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, float]:
    """(unit axis (3,), angle) of the shortest rotation taking unit ``src`` onto unit ``dst``;
    opposite vectors turn about any axis perpendicular to ``src``."""
    cross = np.cross(src, dst)
    sin, cos = np.linalg.norm(cross), float(np.dot(src, dst))
    angle = float(np.arctan2(sin, cos))
    if sin > 1e-9:
        return cross / sin, angle
    helper = np.eye(3)[int(np.argmin(np.abs(src)))]
    axis = np.cross(src, helper)
    return axis / np.linalg.norm(axis), angle


def ease_from_pose(dirs: np.ndarray, pose_dirs: np.ndarray, pose_ok: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """dirs (T, J, 3) unit bone directions with the turn from their first eased frame onto
    ``pose_dirs`` (J, 3) applied by ``weights`` (T,) (1 = all of it); bones not ``pose_ok`` (J,)
    (the reference does not show them) keep the driver's."""
    out = dirs.copy()
    eased = np.flatnonzero(weights > 0)
    if len(eased) == 0:
        return out
    t0 = eased[0]
    for j in np.flatnonzero(pose_ok):
        axis, angle = shortest_turn(dirs[t0, j], pose_dirs[j])
        if angle < 1e-6:
            continue
        out[eased, j] = rotate_about(dirs[eased, j], axis, angle * weights[eased])
    return out


def floor_offset(eased: np.ndarray, plain: np.ndarray, feet: list[int], up: np.ndarray) -> np.ndarray:
    """(T, 3) the root shift that puts the eased pose's lowest foot point (along ``up``) at the
    height of the un-eased pose's. eased, plain (T, J, 3) joints; feet: joint indices."""
    low_eased = (eased[:, feet] @ up).min(1)
    low_plain = (plain[:, feet] @ up).min(1)
    return (low_plain - low_eased)[:, None] * up
