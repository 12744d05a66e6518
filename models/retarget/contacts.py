"""Foot contacts on the driver: the up direction and, per foot, the frames where it rests
(slow in the image and near the local lowest point)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..core.skeleton import SkeletonDef
from ..core.smoothing import runs
from .lengths import LEGS


# --------------------------------------------------------------------------- contacts
@dataclass(frozen=True)
class ContactParams:
    """Foot-contact detection thresholds, relative to the driver's leg length L (metres)."""

    speed: float = 0.6
    """A planted foot moves slower than speed * L per second (smoothed)."""
    height: float = 0.12
    """... and is within max(4 cm, height * L) of the local lowest foot point."""
    ground_window_s: float = 1.0
    """The local lowest point is taken over +- this many seconds."""
    min_span_s: float = 0.08
    """Shorter contacts are noise (at least 2 frames)."""
    fill_gap_frames: int = 2
    """Breaks in a contact up to this long are bridged."""
    depth_weight: float = 0.25
    """Weight of the speed along the camera ray: monocular depth drifts (tens of cm over
    half a second on real clips) while the image-plane position is measured directly."""


def estimate_up(joints: np.ndarray, valid: np.ndarray, skeleton: SkeletonDef) -> np.ndarray:
    """(3,) unit 'up' in camera space: the mean ankles -> neck direction when it is within
    45 degrees of the camera's up (-y), else -y (a level camera)."""
    up = np.array([0.0, -1.0, 0.0])
    names = skeleton.index
    if not all(n in names for n in ("neck", "left_ankle", "right_ankle")) or not valid.any():
        return up
    v = joints[valid]
    axis = v[:, names["neck"]] - 0.5 * (v[:, names["left_ankle"]] + v[:, names["right_ankle"]])
    axis = axis / np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-9)
    m = axis.mean(0)
    if np.linalg.norm(m) < 1e-6:
        return up
    m = m / np.linalg.norm(m)
    return m if np.dot(m, up) > np.cos(np.radians(45)) else up


def _fill_invalid(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(T,) values with invalid frames filled by linear interpolation of valid ones."""
    t = np.arange(len(x))
    return np.interp(t, t[valid], x[valid])


def foot_points(skeleton: SkeletonDef, side: str) -> list[int]:
    return [skeleton[n] for n in LEGS[side][2:] if n in skeleton.index]


def lowest_point(points: np.ndarray, up: np.ndarray) -> np.ndarray:
    """points (T, P, 3) -> (T, 3) the lowest of each frame's points along ``up``."""
    return points[np.arange(len(points)), np.argmin(points @ up, axis=1)]


def detect_foot_contacts(
    joints: np.ndarray,
    valid: np.ndarray,
    fps: float,
    skeleton: SkeletonDef,
    up: np.ndarray,
    leg_length: float,
    params: ContactParams = ContactParams(),
) -> np.ndarray:
    """(T, 2) bool: left / right foot planted on the driver.

    joints (T, J, 3) metres. A foot is planted where its centroid (ankle, toe, heel)
    is slow (its speed along the camera ray discounted by ``depth_weight``) and its
    lowest point is near the local ground (the running minimum of both feet's
    lowest points). Contacts never span an invalid frame.
    """
    T = len(joints)
    out = np.zeros((T, 2), bool)
    if valid.sum() < 3:
        return out
    heights, speeds = [], []
    for side in ("left", "right"):
        pts = joints[:, foot_points(skeleton, side)]  # (T, P, 3)
        heights.append(_fill_invalid((pts @ up).min(1), valid))
        c = pts.mean(1)
        vel = np.gradient(c, axis=0) * fps
        ray = c / np.maximum(np.linalg.norm(c, axis=-1, keepdims=True), 1e-9)
        along = np.sum(vel * ray, -1)
        across = np.linalg.norm(vel - along[:, None] * ray, axis=-1)
        speed = np.hypot(across, params.depth_weight * along)
        # a neighbour that is invalid makes the difference meaningless
        bad = ~valid | ~np.r_[valid[1:], True] | ~np.r_[True, valid[:-1]]
        speed[bad] = np.inf
        speeds.append(ndimage.median_filter(speed, size=3, mode="nearest"))
    lowest = np.minimum(*heights)
    w = max(1, int(round(params.ground_window_s * fps)))
    ground = ndimage.minimum_filter1d(ndimage.median_filter(lowest, size=5, mode="nearest"), 2 * w + 1, mode="nearest")
    h_tol = max(0.04, params.height * leg_length)
    v_tol = params.speed * leg_length
    min_len = max(2, int(round(params.min_span_s * fps)))
    for s in range(2):
        mask = (speeds[s] < v_tol) & (heights[s] - ground < h_tol) & valid
        for a, b in runs(~mask):  # bridge short breaks inside a valid stretch
            if 0 < a and b < T and b - a <= params.fill_gap_frames and valid[a:b].all():
                mask[a:b] = True
        for a, b in runs(mask):
            if b - a < min_len:
                mask[a:b] = False
        out[:, s] = mask
    return out
