"""Bone kinematics: bone vectors and directions, forward kinematics from the root, two-bone IK
and dragging a joint along its bone in the image."""

from __future__ import annotations

import numpy as np

from ..core.motion import project

SOFT_IK = 0.01
"""Share of the leg's length over which IK eases into full extension (see ``soft_reach``)."""


def bone_vectors(joints: np.ndarray, parents) -> np.ndarray:
    """joints (..., J, 3) -> (..., J, 3) child - parent per joint; zeros at the root."""
    joints = np.asarray(joints, np.float64)
    par = np.asarray(parents)
    vec = joints - joints[..., np.maximum(par, 0), :]
    vec[..., par < 0, :] = 0.0
    return vec


def unit_directions(joints: np.ndarray, parents, eps: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """joints (..., J, 3) -> (dirs (..., J, 3) unit bone directions, ok (..., J) bool).

    ``ok`` is False at the root and where a bone has (near) zero length; dirs are 0 there.
    """
    vec = bone_vectors(joints, parents)
    n = np.linalg.norm(vec, axis=-1)
    ok = n > eps
    ok[..., np.asarray(parents) < 0] = False
    dirs = np.where(ok[..., None], vec / np.where(ok, n, 1.0)[..., None], 0.0)
    return dirs, ok


def forward_kinematics(root: np.ndarray, dirs: np.ndarray, lengths: np.ndarray, parents) -> np.ndarray:
    """Joints from the root position and unit bone directions.

    root (..., 3), dirs (..., J, 3), lengths (J,) or (..., J) -> joints (..., J, 3).
    Parents come before children, so one pass in index order suffices.
    """
    dirs = np.asarray(dirs, np.float64)
    lengths = np.broadcast_to(np.asarray(lengths, np.float64), dirs.shape[:-1])
    out = np.empty_like(dirs)
    out[..., 0, :] = root
    for j, p in enumerate(parents):
        if p >= 0:
            out[..., j, :] = out[..., p, :] + lengths[..., j, None] * dirs[..., j, :]
    return out


def retarget_pose(
    driver_joints: np.ndarray, lengths: np.ndarray, parents, root: np.ndarray | None = None
) -> np.ndarray:
    """One pose: keep every bone's direction from ``driver_joints`` (J, 3), set its
    length from ``lengths`` (J,), rebuild from ``root`` (3,) (default: the driver's root).
    The browser editor's ``retargetFrame`` is the JS twin of this function."""
    driver_joints = np.asarray(driver_joints, np.float64)
    dirs, _ = unit_directions(driver_joints, parents)
    root = driver_joints[..., 0, :] if root is None else np.asarray(root, np.float64)
    return forward_kinematics(root, dirs, lengths, parents)


def soft_reach(dist: np.ndarray, reach: float, softness: float) -> np.ndarray:
    """Hip-to-ankle distances (N,) eased towards full extension: unchanged up to
    ``reach - softness``, then approaching ``reach`` exponentially, never reaching it.
    Near a straight leg the knee moves ~sqrt(distance change): this keeps it from snapping."""
    start = reach - softness
    if softness <= 0:
        return np.minimum(dist, reach)
    over = np.maximum(dist - start, 0.0)
    return np.where(dist > start, start + softness * (1 - np.exp(-over / softness)), dist)


def two_bone_ik(
    hip: np.ndarray,
    knee_hint: np.ndarray,
    target: np.ndarray,
    a: float,
    b: float,
    bend_hint: np.ndarray,
    softness: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Two-bone IK, vectorised over N legs.

    hip, knee_hint, target (N, 3); a, b thigh and shin lengths; bend_hint (3,) a
    fallback bend direction for a straight hint leg. The knee bends in the plane of
    (hip, knee_hint, target), on the hint's side. Exact for targets within
    ``a + b - softness`` (see :func:`soft_reach`); farther ones are met as closely as
    the eased leg allows. Returns (knee (N, 3), ankle (N, 3)) with
    |knee - hip| == a and |ankle - knee| == b.
    """
    w = target - hip
    dist = np.linalg.norm(w, axis=-1)
    u = w / np.maximum(dist, 1e-12)[:, None]
    d = np.maximum(soft_reach(dist, a + b, softness), abs(a - b) + 1e-9)
    k = knee_hint - hip
    v = k - np.sum(k * u, -1, keepdims=True) * u
    vn = np.linalg.norm(v, axis=-1)
    straight = vn < 1e-9
    if np.any(straight):  # no bend plane in the hint: bend towards bend_hint
        alt = np.broadcast_to(bend_hint, u.shape) - np.sum(bend_hint * u, -1, keepdims=True) * u
        v = np.where(straight[:, None], alt, v)
        vn = np.linalg.norm(v, axis=-1)
    v = v / np.maximum(vn, 1e-12)[:, None]
    cos_a = np.clip((a * a + d * d - b * b) / (2 * a * d), -1.0, 1.0)
    sin_a = np.sqrt(1.0 - cos_a**2)
    knee = hip + a * (cos_a[:, None] * u + sin_a[:, None] * v)
    ankle = hip + d[:, None] * u
    return knee, ankle


def drag_along_bone(parent3d, child3d, camera, drag_px, base_length: float) -> float:
    """The bone scale that puts the child joint's projection where the user dragged it.

    The child slides along the bone's 3D ray from ``parent3d`` (3,); ``drag_px`` (2,)
    is the handle's new screen position, first dropped onto the projected bone line.
    Returns ``new 3D length / base_length``, clamped to the valid scale range.
    The JS twin is ``dragAlongBone`` in ``web/js/retarget_geometry.js``.
    """
    from .bone_edits import SCALE_RANGE

    P = np.asarray(parent3d, np.float64)
    C = np.asarray(child3d, np.float64)
    K = np.asarray(camera, np.float64)
    d = C - P
    d = d / max(np.linalg.norm(d), 1e-12)
    p0, p1 = project(P, K), project(C, K)
    line = p1 - p0
    m = np.asarray(drag_px, np.float64)
    if np.linalg.norm(line) > 1e-9:  # foot of the perpendicular onto the screen line
        m = p0 + line * np.dot(m - p0, line) / np.dot(line, line)
    axis = 0 if abs(line[0]) >= abs(line[1]) else 1
    f, c = K[axis, axis], K[axis, 2]
    n = (m[axis] - c) / f  # normalised image coordinate: (P_a + t d_a) / (P_z + t d_z) = n
    denom = d[axis] - n * d[2]
    t = (n * P[2] - P[axis]) / denom if abs(denom) > 1e-12 else np.inf
    lo, hi = SCALE_RANGE
    if not np.isfinite(t) or t <= 0:  # dragged behind the parent or to the horizon
        t = lo * base_length if np.dot(m - p0, line) <= 0 else hi * base_length
    return float(np.clip(t / base_length, lo, hi))
