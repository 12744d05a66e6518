"""Planting feet: over each contact the ankle holds an image point, the pelvis lowers only as
much as needed and thigh and shin are re-aimed by soft two-bone IK."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..core.skeleton import SkeletonDef
from ..core.smoothing import runs
from .contacts import foot_points, lowest_point
from .kinematics import SOFT_IK, forward_kinematics, two_bone_ik
from .lengths import LEGS

CONTACT_JITTER = 0.05
"""A planted foot ignores the driver foot's own wandering across the camera ray up to this
share of the leg's length (detector jitter); beyond it, it follows the driver's foot."""


# --------------------------------------------------------------------------- planting
def _hold_across_ray(points: np.ndarray, band: float) -> np.ndarray:
    """points (N, 3) -> (N, 3) held still across the camera ray while they wander less than
    ``band`` from the held point (dragged along, ``band`` behind, beyond it); along the ray
    they are followed as they are. Starts at the mean; never moves faster than ``points``."""
    held = points.mean(0)
    out = np.empty_like(points)
    for i, p in enumerate(points):
        ray = held / np.linalg.norm(held)
        d = p - held
        along = np.dot(d, ray) * ray
        across = d - along
        n = np.linalg.norm(across)
        if n > band:
            held = held + across * (1 - band / n)
        out[i] = held + along
    return out


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _ankle_offsets(
    contact: np.ndarray, valid: np.ndarray, on_contact: np.ndarray, ease: int, bridge: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame ankle correction for one leg, and how much IK is in play.

    contact, valid (T,) bool; on_contact (T, 3) the correction (target - FK ankle) on
    contact frames. Between two contacts at most ``bridge`` frames apart (a step's
    swing) the correction is interpolated linearly, so the catch-up is spread over the
    whole swing; elsewhere it eases to 0 over ``ease`` frames. Never across an
    invalid frame. Returns (offset (T, 3), weight (T,) in [0, 1]).
    """
    offset = np.where(contact[:, None], on_contact, 0.0)
    weight = contact.astype(np.float64)
    for lo, hi in runs(valid):
        for a, b in runs(~contact[lo:hi]):
            a, b = a + lo, b + lo
            left = offset[a - 1] if a > lo else None
            right = offset[b] if b < hi else None
            n = b - a
            t = np.arange(a, b)
            if left is not None and right is not None and n <= bridge:
                x = ((t - a + 1) / (n + 1))[:, None]
                offset[t] = (1 - x) * left + x * right
                weight[t] = 1.0
                continue
            if left is not None:
                w = _smoothstep(1 - (t - a + 1) / (ease + 1))
                offset[t] += w[:, None] * left
                weight[t] = np.maximum(weight[t], w)
            if right is not None:
                w = _smoothstep(1 - (b - t) / (ease + 1))
                offset[t] += w[:, None] * right
                weight[t] = np.maximum(weight[t], w)
    return offset, weight


def _lock_weights(contact: np.ndarray, valid: np.ndarray, ease: int) -> tuple[np.ndarray, np.ndarray]:
    """(T,) weight (1 on a contact, easing to 0 over ``ease`` frames either side, never across
    an invalid frame) and (T,) the contact span each weighted frame belongs to (-1 none)."""
    weight = np.zeros(len(contact))
    owner = np.full(len(contact), -1)
    valid_runs = runs(valid)
    for i, (a, b) in enumerate(runs(contact)):
        lo, hi = next((va, vb) for va, vb in valid_runs if va <= a < vb)
        t = np.arange(max(lo, a - ease), min(hi, b + ease))
        w = _smoothstep(1 - np.maximum(np.maximum(a - t, t - (b - 1)), 0) / (ease + 1))
        better = w > weight[t]
        weight[t[better]], owner[t[better]] = w[better], i
    return weight, owner


def _nlerp(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Unit vectors (N, 3) between unit a and b (N, 3) by weight w (N,)."""
    v = (1 - w)[:, None] * a + w[:, None] * b
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.where(n > 1e-9, v / np.maximum(n, 1e-12), b)


def _lowering_needed(hip: np.ndarray, target: np.ndarray, reach: float, up: np.ndarray) -> np.ndarray:
    """(N,) how far to lower the hip (along -up) so ``target`` comes within ``reach``.

    hip, target (N, 3). 0 when already in reach; when lowering alone cannot bring a
    target below the hip into reach, lower to the target's level (closest approach).
    """
    w = target - hip
    wu = w @ up  # < 0: the target is below the hip
    excess = np.sum(w * w, -1) - reach**2
    disc = wu**2 - excess
    s = -wu - np.sqrt(np.maximum(disc, 0.0))  # the smaller root of |w + s up| = reach
    closest = np.maximum(-wu, 0.0)
    return np.select([excess <= 0, (disc >= 0) & (s >= 0)], [0.0, s], closest)


@dataclass
class PlantReport:
    spans: int = 0
    lowered_cm: float = 0.0
    """Largest pelvis lowering needed to reach a planted foot."""
    unreachable_frames: int = 0
    """Contact frames whose target stayed out of the leg's reach (the foot slides there)."""
    slide_cm: float = 0.0
    """Largest distance a planted ankle, toe or heel moves across its camera ray (what the
    image shows) from its position at the span's start."""
    depth_follow_cm: float = 0.0
    """Largest distance one moves along its camera ray (following the driver's depth drift)."""


def plant_feet(
    root: np.ndarray,
    dirs: np.ndarray,
    lengths: np.ndarray,
    skeleton: SkeletonDef,
    contacts: np.ndarray,
    valid: np.ndarray,
    up: np.ndarray,
    fps: float,
    floor: np.ndarray | None = None,
    driver_ankles: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, PlantReport]:
    """Hold planted feet still over each contact span with exact bone lengths.

    root (T, 3), dirs (T, J, 3), lengths (J,), contacts (T, 2) -> (root (T, 3),
    dirs (T, J, 3), ik_weight (T, 2), report).

    Targets: a span's ankle target starts at the mean FK ankle over it. With
    ``floor`` (T, 2), the floor's height (along ``up``) under each planted foot, its
    height is set so the foot's lowest point (toe or heel, in this body's
    proportions) rests on the floor. Retargeting's own slide is removed but the
    driver's is not invented away: with ``driver_ankles`` (T, 2, 3), the driver's
    ankles under the same root-path scaling, the target moves as they do, except
    that across the camera ray it holds still while they wander less than
    ``CONTACT_JITTER`` of the leg (detector jitter); along the ray it follows them
    (monocular depth drifts by tens of cm on real clips where the image shows a
    still foot, and the body drifts with it).

    Solving: the ankle correction (target - FK ankle) is interpolated across each
    step's swing and eased out over ~0.15 s elsewhere. Where the corrected ankle is
    beyond the leg's reach the pelvis is lowered (max-filtered then box-smoothed:
    never less than needed, no jumps); two-bone IK, soft near full extension so
    knees never snap, re-aims thigh and shin; the toe and heel bones hold their
    mean direction over each contact so the whole foot stays put. Only those four
    bones change direction; every length is exact.
    """
    par = skeleton.parents
    T = len(root)
    ease = max(2, int(round(0.15 * fps)))
    bridge = max(ease, int(round(1.0 * fps)))
    joints = forward_kinematics(root, dirs, lengths, par)
    legs = [tuple(skeleton[n] for n in LEGS[side][:3]) for side in ("left", "right")]
    targets = np.zeros((T, 2, 3))
    report = PlantReport()
    for s, (side, (hip, knee, ankle)) in enumerate(zip(("left", "right"), legs)):
        # ankle height above the foot's lowest point: fixed by the foot bones' directions and lengths
        clearance = (joints[:, ankle] - lowest_point(joints[:, foot_points(skeleton, side)], up)) @ up
        band = CONTACT_JITTER * (lengths[knee] + lengths[ankle])
        for a, b in runs(contacts[:, s]):
            # where the foot would be with the driver's own motion only (retargeting's slide removed)
            ideal = np.broadcast_to(joints[a:b, ankle].mean(0), (b - a, 3)).copy()
            if driver_ankles is not None:
                ideal += driver_ankles[a:b, s] - driver_ankles[a:b, s].mean(0)
            if floor is not None:
                ideal += up * np.mean(floor[a:b, s] + clearance[a:b] - ideal @ up)
            targets[a:b, s] = _hold_across_ray(ideal, band)
            report.spans += 1
    if report.spans == 0:
        return root, dirs, np.zeros((T, 2)), report

    # where each ankle should be: the span target on contact frames, the FK ankle plus
    # an interpolated correction around them (absolute positions, before any lowering)
    ik_weight = np.zeros((T, 2))
    want = np.zeros((T, 2, 3))
    for s, (hip, knee, ankle) in enumerate(legs):
        offset, ik_weight[:, s] = _ankle_offsets(contacts[:, s], valid, targets[:, s] - joints[:, ankle], ease, bridge)
        want[:, s] = joints[:, ankle] + offset

    lower = np.zeros(T)
    for s, (hip, knee, ankle) in enumerate(legs):
        t = np.flatnonzero(ik_weight[:, s] > 0)
        if t.size == 0:  # this foot is never planted
            continue
        reach = lengths[knee] + lengths[ankle]
        # planted frames must be met exactly: within the soft zone's start
        reach_t = np.where(contacts[t, s], reach * (1 - SOFT_IK), reach)
        lower[t] = np.maximum(lower[t], _lowering_needed(joints[t, hip], want[t, s], reach_t, up))
    if lower.any():
        lower = ndimage.uniform_filter1d(
            ndimage.maximum_filter1d(lower, 2 * ease + 1, mode="nearest"), 2 * ease + 1, mode="nearest"
        )
        report.lowered_cm = float(lower.max() * 100)
        root = root - lower[:, None] * up
        joints = forward_kinematics(root, dirs, lengths, par)

    dirs = dirs.copy()
    facing = np.cross(up, joints[:, skeleton["right_hip"]] - joints[:, skeleton["left_hip"]])
    for s, (hip, knee, ankle) in enumerate(legs):
        t = np.flatnonzero(ik_weight[:, s] > 0)
        if t.size == 0:
            continue
        a, b = lengths[knee], lengths[ankle]
        out_of_reach = np.linalg.norm(want[t, s] - joints[t, hip], axis=-1) > (a + b) * (1 - SOFT_IK) + 1e-9
        report.unreachable_frames += int(np.sum(out_of_reach & contacts[t, s]))
        new_knee, new_ankle = two_bone_ik(
            joints[t, hip],
            joints[t, knee],
            want[t, s],
            a,
            b,
            bend_hint=facing[t].mean(0),  # knees bend the way the pelvis faces
            softness=SOFT_IK * (a + b),
        )
        dirs[t, knee] = (new_knee - joints[t, hip]) / a
        dirs[t, ankle] = (new_ankle - new_knee) / b

    for s, side in enumerate(("left", "right")):  # hold the foot's orientation while planted
        if not contacts[:, s].any():  # one foot planted, the other never (a kick, a one-leg stand)
            continue
        w, owner = _lock_weights(contacts[:, s], valid, ease)
        t = np.flatnonzero(owner >= 0)
        for bone in foot_points(skeleton, side)[1:]:
            held = np.array([dirs[a:b, bone].mean(0) for a, b in runs(contacts[:, s])])
            held /= np.linalg.norm(held, axis=-1, keepdims=True)
            dirs[t, bone] = _nlerp(dirs[t, bone], held[owner[t]], w[t])
        ik_weight[:, s] = np.maximum(ik_weight[:, s], w)

    joints = forward_kinematics(root, dirs, lengths, par)
    for s, side in enumerate(("left", "right")):
        feet = foot_points(skeleton, side)
        for a, b in runs(contacts[:, s]):
            moved = joints[a:b, feet] - joints[a, feet]  # (N, 3 points, 3)
            ray = joints[a, feet] / np.linalg.norm(joints[a, feet], axis=-1, keepdims=True)
            along = np.sum(moved * ray, -1)
            across = np.linalg.norm(moved - along[..., None] * ray, axis=-1)
            report.slide_cm = max(report.slide_cm, float(across.max() * 100))
            report.depth_follow_cm = max(report.depth_follow_cm, float(np.abs(along).max() * 100))
    return root, dirs, ik_weight, report
