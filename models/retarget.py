"""3D bone-length retargeting: the driver's motion on the reference character's body.

Per frame every bone keeps its *direction* from the driving motion and takes the
target length (reference length x the artist's scale, ``models.bone_edits``);
joints are rebuilt by forward kinematics (FK) from the root. Then:

* the root path is scaled by the leg-length ratio around a point on the driver's
  ground, so a shorter character takes shorter steps on the same floor;
* feet in contact on the driver (slow in the image and near the local lowest
  point) are planted: over each contact the ankle holds a fixed image point and
  rests the foot's lowest point on the driver's floor; the toe and heel keep their
  mean direction. Where a planted ankle is out of reach the pelvis is lowered
  (smoothly, only as much as needed); thigh and shin are re-aimed by two-bone IK
  (soft near full extension, so knees never snap) and the correction is spread
  over each step's swing. Bone lengths stay exact; only the thigh, shin, toe and
  heel of a planting leg change direction. Retargeting adds no slide; the
  driver's own foot drift is followed only beyond ``CONTACT_JITTER`` across the
  camera ray, and along the ray (monocular depth drifts) as the body moves;
* hands (``hands3d``) are rebuilt the same way and attached at the new wrists;
  the head sphere and face points are scaled to the reference head;
* the result is projected with the driver's camera and framed into the
  reference image by a 2D similarity folded into the output camera, so
  ``project(joints3d, camera) == joints2d`` still holds.

Bones the driver never sees (a talking head has no legs) are held at the
reference's pose instead of following the extractor's guess, and the root then
stays still: a full-body reference driven by a talking head keeps its body.

Hook for body models: ``bone_lengths(..., body_model=obj)`` takes lengths from
any object with ``bone_lengths(motion) -> (J,)`` (NaN where it has no opinion) and
an optional ``note`` (str) saying where they came from, e.g. the SMPL-X shape fit
of ``models.smplx_body`` when the user has the licensed model files; the measured
median and the fallbacks fill whatever it leaves NaN. ``retarget_details`` uses it
for the reference's body only: the driver's lengths stay measured.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from .bone_edits import BoneEdits, parse_bone_edits
from .errors import DreamActorError
from .motion import Motion, project
from .skeleton import HAND, SkeletonDef

CONF_THRESHOLD = 0.5
"""A joint is 'seen' at a frame when its confidence reaches this."""

FOLLOW_FRACTION = 0.25
"""A bone follows the driver when both its ends are seen on at least this share of valid frames;
where it is unseen the extractor's estimate carries it (an arm turned behind the body keeps
moving). Below it (legs under a talking head's frame) the bone holds the reference's pose. On
the full sports2d clip the jumper's left upper arm is seen on 48 % of frames (he turns away
after frame 90): a half share froze that arm in the jumping jacks it clearly shows."""

LONG_GAP_SECONDS = 0.5
"""Runs of invalid driving frames at least this long are flagged in the info."""

CONTACT_JITTER = 0.05
"""A planted foot ignores the driver foot's own wandering across the camera ray up to this
share of the leg's length (detector jitter); beyond it, it follows the driver's foot."""

SOFT_IK = 0.01
"""Share of the leg's length over which IK eases into full extension (see ``soft_reach``)."""

FRAMINGS = ("match reference", "keep driver", "manual")
MANUAL_SCALE_RANGE = (0.05, 20.0)

PRIOR_LENGTHS = {
    "left_hip": 0.11, "right_hip": 0.11, "spine1": 0.11, "spine2": 0.13, "spine3": 0.06,
    "left_knee": 0.40, "right_knee": 0.40, "left_ankle": 0.40, "right_ankle": 0.40,
    "left_foot": 0.14, "right_foot": 0.14, "left_heel": 0.07, "right_heel": 0.07,
    "neck": 0.22, "left_collar": 0.15, "right_collar": 0.15, "head": 0.09,
    "left_shoulder": 0.11, "right_shoulder": 0.11, "left_elbow": 0.27, "right_elbow": 0.27,
    "left_wrist": 0.25, "right_wrist": 0.25,
    "nose": 0.11, "left_eye": 0.10, "right_eye": 0.10, "left_ear": 0.08, "right_ear": 0.08,
}
"""Anthropometric bone lengths of a ~1.75 m adult (metres). Only their ratios are used:
a hidden bone gets prior x (median measured/prior over the bones that were seen)."""

FACE_BONES = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
LEGS = {"left": ("left_hip", "left_knee", "left_ankle", "left_foot", "left_heel"),
        "right": ("right_hip", "right_knee", "right_ankle", "right_foot", "right_heel")}
WRISTS = ("left_wrist", "right_wrist")  # hand 0 = person's left, 1 = right


# --------------------------------------------------------------------------- kinematics
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


def retarget_pose(driver_joints: np.ndarray, lengths: np.ndarray, parents,
                  root: np.ndarray | None = None) -> np.ndarray:
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


def two_bone_ik(hip: np.ndarray, knee_hint: np.ndarray, target: np.ndarray, a: float, b: float,
                bend_hint: np.ndarray, softness: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
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
    sin_a = np.sqrt(1.0 - cos_a ** 2)
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


# --------------------------------------------------------------------------- lengths
def _seen(motion: Motion, conf_threshold: float) -> np.ndarray:
    """(T, J) bool: joint seen on a valid frame."""
    return (motion.conf >= conf_threshold) & motion.valid[:, None]


def measured_bone_lengths(motion: Motion, conf_threshold: float = CONF_THRESHOLD) -> np.ndarray:
    """(J,) per-bone median length (metres) over the valid frames where both ends are
    seen, indexed by child joint; NaN where a bone is never seen (and at the root)."""
    par = np.asarray(motion.skeleton.parents)
    seen = _seen(motion, conf_threshold)
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


def bone_lengths(motion: Motion, conf_threshold: float = CONF_THRESHOLD, body_model=None,
                 input_name: str = "motion") -> tuple[np.ndarray, dict[str, str]]:
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
        raise DreamActorError("no bone of the person is seen on any frame (no valid person)",
                              fix="use an image or clip where a person is clearly visible, "
                                  "and check the skeleton extraction preview", input=input_name)
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
                fallbacks[name] = (f"hidden, mirror too; anthropometric prior x {k:.3f} "
                                   f"(from {int(have.sum())} seen bones)")
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


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive (start, end) index pairs of the True runs of a (T,) bool array."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1))


def _fill_invalid(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(T,) values with invalid frames filled by linear interpolation of valid ones."""
    t = np.arange(len(x))
    return np.interp(t, t[valid], x[valid])


def _foot_points(skeleton: SkeletonDef, side: str) -> list[int]:
    return [skeleton[n] for n in LEGS[side][2:] if n in skeleton.index]


def _lowest_point(points: np.ndarray, up: np.ndarray) -> np.ndarray:
    """points (T, P, 3) -> (T, 3) the lowest of each frame's points along ``up``."""
    return points[np.arange(len(points)), np.argmin(points @ up, axis=1)]


def detect_foot_contacts(joints: np.ndarray, valid: np.ndarray, fps: float, skeleton: SkeletonDef,
                         up: np.ndarray, leg_length: float, params: ContactParams = ContactParams()) -> np.ndarray:
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
        pts = joints[:, _foot_points(skeleton, side)]  # (T, P, 3)
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
            if 0 < a and b < T - 1 and b - a + 1 <= params.fill_gap_frames and valid[a:b + 1].all():
                mask[a:b + 1] = True
        for a, b in runs(mask):
            if b - a + 1 < min_len:
                mask[a:b + 1] = False
        out[:, s] = mask
    return out


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


def _ankle_offsets(contact: np.ndarray, valid: np.ndarray, on_contact: np.ndarray, ease: int,
                   bridge: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame ankle correction for one leg, and how much IK is in play.

    contact, valid (T,) bool; on_contact (T, 3) the correction (target - FK ankle) on
    contact frames. Between two contacts at most ``bridge`` frames apart (a step's
    swing) the correction is interpolated linearly, so the catch-up is spread over the
    whole swing; elsewhere it eases to 0 over ``ease`` frames. Never across an
    invalid frame. Returns (offset (T, 3), weight (T,) in [0, 1]).
    """
    T = len(contact)
    offset = np.where(contact[:, None], on_contact, 0.0)
    weight = contact.astype(np.float64)
    for lo, hi in runs(valid):
        for a, b in runs(~contact[lo:hi + 1]):
            a, b = a + lo, b + lo
            left = offset[a - 1] if a > lo else None
            right = offset[b + 1] if b < hi else None
            n = b - a + 1
            t = np.arange(a, b + 1)
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
                w = _smoothstep(1 - (b + 1 - t) / (ease + 1))
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
        lo, hi = next((va, vb) for va, vb in valid_runs if va <= a <= vb)
        t = np.arange(max(lo, a - ease), min(hi, b + ease) + 1)
        w = _smoothstep(1 - np.maximum(np.maximum(a - t, t - b), 0) / (ease + 1))
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
    excess = np.sum(w * w, -1) - reach ** 2
    disc = wu ** 2 - excess
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


def plant_feet(root: np.ndarray, dirs: np.ndarray, lengths: np.ndarray, skeleton: SkeletonDef,
               contacts: np.ndarray, valid: np.ndarray, up: np.ndarray, fps: float,
               floor: np.ndarray | None = None, driver_ankles: np.ndarray | None = None
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
        clearance = (joints[:, ankle] - _lowest_point(joints[:, _foot_points(skeleton, side)], up)) @ up
        band = CONTACT_JITTER * (lengths[knee] + lengths[ankle])
        for a, b in runs(contacts[:, s]):
            # where the foot would be with the driver's own motion only (retargeting's slide removed)
            ideal = np.broadcast_to(joints[a:b + 1, ankle].mean(0), (b - a + 1, 3)).copy()
            if driver_ankles is not None:
                ideal += driver_ankles[a:b + 1, s] - driver_ankles[a:b + 1, s].mean(0)
            if floor is not None:
                ideal += up * np.mean(floor[a:b + 1, s] + clearance[a:b + 1] - ideal @ up)
            targets[a:b + 1, s] = _hold_across_ray(ideal, band)
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
        lower = ndimage.uniform_filter1d(ndimage.maximum_filter1d(lower, 2 * ease + 1, mode="nearest"),
                                         2 * ease + 1, mode="nearest")
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
        new_knee, new_ankle = two_bone_ik(joints[t, hip], joints[t, knee], want[t, s], a, b,
                                          bend_hint=facing[t].mean(0),  # knees bend the way the pelvis faces
                                          softness=SOFT_IK * (a + b))
        dirs[t, knee] = (new_knee - joints[t, hip]) / a
        dirs[t, ankle] = (new_ankle - new_knee) / b

    for s, side in enumerate(("left", "right")):  # hold the foot's orientation while planted
        if not contacts[:, s].any():  # one foot planted, the other never (a kick, a one-leg stand)
            continue
        w, owner = _lock_weights(contacts[:, s], valid, ease)
        t = np.flatnonzero(owner >= 0)
        for bone in _foot_points(skeleton, side)[1:]:
            held = np.array([dirs[a:b + 1, bone].mean(0) for a, b in runs(contacts[:, s])])
            held /= np.linalg.norm(held, axis=-1, keepdims=True)
            dirs[t, bone] = _nlerp(dirs[t, bone], held[owner[t]], w[t])
        ik_weight[:, s] = np.maximum(ik_weight[:, s], w)

    joints = forward_kinematics(root, dirs, lengths, par)
    for s, side in enumerate(("left", "right")):
        feet = _foot_points(skeleton, side)
        for a, b in runs(contacts[:, s]):
            moved = joints[a:b + 1, feet] - joints[a, feet]  # (N, 3 points, 3)
            ray = joints[a, feet] / np.linalg.norm(joints[a, feet], axis=-1, keepdims=True)
            along = np.sum(moved * ray, -1)
            across = np.linalg.norm(moved - along[..., None] * ray, axis=-1)
            report.slide_cm = max(report.slide_cm, float(across.max() * 100))
            report.depth_follow_cm = max(report.depth_follow_cm, float(np.abs(along).max() * 100))
    return root, dirs, ik_weight, report


# --------------------------------------------------------------------------- framing
def _pixels_per_metre(camera: np.ndarray, points3d: np.ndarray) -> float:
    """Pixels spanned by one metre facing the camera at the mean depth of points3d (N, 3)."""
    return float(camera[0, 0] / max(float(np.mean(points3d[:, 2])), 1e-6))


def _similarity(scale: float, tx: float, ty: float) -> np.ndarray:
    return np.array([[scale, 0.0, tx], [0.0, scale, ty], [0.0, 0.0, 1.0]])


def keep_driver_framing(driver_size, reference_size) -> np.ndarray:
    """(3, 3) the driver's frame resized to cover the reference frame, centred (a centre crop)."""
    (Wd, Hd), (Wr, Hr) = driver_size, reference_size
    s = max(Wr / Wd, Hr / Hd)
    return _similarity(s, (Wr - s * Wd) / 2, (Hr - s * Hd) / 2)


def manual_framing(driver_size, reference_size, manual) -> np.ndarray:
    """(3, 3) the driver's framing, then scaled by ``manual[0]`` about the reference centre and
    shifted by (manual[1] * W, manual[2] * H) of the reference image."""
    m, dx, dy = manual
    Wr, Hr = reference_size
    cx, cy = Wr / 2.0, Hr / 2.0
    about = _similarity(m, cx - m * cx + dx * Wr, cy - m * cy + dy * Hr)
    return about @ keep_driver_framing(driver_size, reference_size)


def _anchor_joints(reference: Motion, frame: int, seen: np.ndarray) -> tuple[str, list[int]]:
    """('full body' | 'portrait', joints whose mean is the anchor point) of the reference."""
    sk = reference.skeleton
    idx = sk.index

    def seen_of(names):
        return [idx[n] for n in names if n in idx and seen[frame, idx[n]]]

    ankles = seen_of(("left_ankle", "right_ankle"))
    hips = seen_of(("left_hip", "right_hip"))
    if ankles and len(hips) == 2:
        return "full body", ankles
    head = seen_of(("head",)) or seen_of(("nose", "left_eye", "right_eye", "left_ear", "right_ear"))
    if head:
        return "portrait", head
    return "portrait", list(np.flatnonzero(seen[frame]))


def match_reference_framing(out3d: np.ndarray, out2d: np.ndarray, valid: np.ndarray, camera: np.ndarray,
                            reference: Motion, conf_threshold: float) -> tuple[np.ndarray, str]:
    """(3, 3) similarity placing the projected result into the reference image, and a description.

    A full-body reference (hips and an ankle seen) anchors the feet, a portrait the
    head: the anchor point of the first valid output frame lands on the reference's,
    and one metre at the anchor depth spans as many pixels as in the reference
    (focal length / depth), so an unedited head or body keeps the reference's size
    and the artist's edits show as edits. One transform for the whole clip, so the
    driver's own motion is kept.
    out3d (T, J, 3), out2d (T, J, 2) in driver pixels, camera (3, 3) the driver's.
    """
    seen = _seen(reference, conf_threshold)
    f0 = int(np.flatnonzero(seen.any(1))[0])
    kind, anchor = _anchor_joints(reference, f0, seen)
    ref_anchor = reference.joints2d[f0, anchor].mean(0)
    ref_ppm = _pixels_per_metre(reference.camera, reference.joints3d[f0, anchor])
    t0 = int(np.flatnonzero(valid)[0])
    out_anchor = out2d[t0, anchor].mean(0)
    out_ppm = _pixels_per_metre(camera, out3d[t0, anchor])
    s = ref_ppm / out_ppm
    tx, ty = ref_anchor - s * out_anchor
    where = "feet" if kind == "full body" else "head"
    return _similarity(s, tx, ty), f"{kind} reference: {where} anchored, scale {s:.3f}"


def apply_similarity(points2d: np.ndarray, S: np.ndarray) -> np.ndarray:
    """points2d (..., 2) -> (..., 2) under a 2D similarity (3, 3)."""
    return points2d * S[0, 0] + S[:2, 2]


# --------------------------------------------------------------------------- retarget
@dataclass
class RetargetResult:
    """Everything :func:`retarget_details` worked out; :func:`retarget` returns (motion, info)."""

    motion: Motion
    info: str
    target_lengths: np.ndarray
    """(J,) the lengths the output's bones have."""
    driver_lengths: np.ndarray
    reference_lengths: np.ndarray
    fallbacks: dict[str, str]
    """'reference: <bone>' / 'driver: <bone>' -> why the length was not measured."""
    followed: np.ndarray
    """(J,) bool: the bone's direction follows the driver (else held at the reference pose)."""
    contacts: np.ndarray
    """(T, 2) bool: driver foot contacts (left, right)."""
    ik_weight: np.ndarray
    """(T, 2) how much planting re-aimed each leg's thigh, shin, toe and heel bones (0: the driver's directions)."""
    plant: PlantReport
    framing: np.ndarray
    """(3, 3) similarity from the driver's pixels to the reference image's."""
    root_lever: np.ndarray
    """(T, 3) ``X_t - A``: the root is ``A + leg_ratio * (X_t - A)`` before planting lowers it, X_t
    the driver's root (or its median where the body stays in place), A the point on the driver's
    floor it scales about; 0 on invalid frames. A new leg ratio r1 moves the root by (r1 - r0) x it."""
    gaps: list[tuple[int, int]] = field(default_factory=list)
    """Inclusive runs of invalid driving frames."""


def _check_inputs(driving: Motion, reference: Motion, framing: str, manual, conf_threshold: float) -> None:
    if not driving.skeleton.same_as(reference.skeleton):
        raise DreamActorError(
            f"the driving skeleton ({driving.skeleton.name}, {driving.skeleton.num_joints} joints) and the "
            f"reference skeleton ({reference.skeleton.name}, {reference.skeleton.num_joints} joints) differ",
            fix="extract both motions with the same DreamActor Skeleton Extract settings", input="reference")
    if framing not in FRAMINGS:
        raise DreamActorError(f"unknown framing {framing!r}", fix=f"choose one of: {', '.join(FRAMINGS)}",
                              input="framing")
    if framing == "manual":
        try:
            m, dx, dy = (float(v) for v in manual)
        except (TypeError, ValueError):
            raise DreamActorError(f"manual framing must be (scale, dx, dy), got {manual!r}",
                                  fix="give three numbers", input="framing") from None
        lo, hi = MANUAL_SCALE_RANGE
        if not (np.isfinite([m, dx, dy]).all() and lo <= m <= hi):
            raise DreamActorError(f"manual framing scale {m} is outside [{lo}, {hi}] or an offset is not finite",
                                  fix=f"use a scale between {lo} and {hi} and finite offsets (fractions of the "
                                      "reference image size)", input="framing")
    if not driving.valid.any():
        raise DreamActorError("the driving motion has no valid frame (no person was found in the clip)",
                              fix="choose a clip where a person is visible, or a wider frame range",
                              input="driving")
    if not _seen(reference, conf_threshold).any():
        raise DreamActorError("the reference has no valid person", fix="use a reference image where a person "
                              "is clearly visible, and check the skeleton extraction preview", input="reference")


def _followed_bones(driving: Motion, conf_threshold: float) -> np.ndarray:
    """(J,) bool: both ends of the bone are seen on >= FOLLOW_FRACTION of the valid frames."""
    par = np.asarray(driving.skeleton.parents)
    seen = _seen(driving, conf_threshold)[driving.valid]
    both = seen & seen[:, np.maximum(par, 0)]
    follow = both.mean(0) >= FOLLOW_FRACTION
    follow[0] = bool(seen[:, 0].mean() >= FOLLOW_FRACTION)
    return follow


def _fill_directions(dirs: np.ndarray, ok: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """dirs (T, J, 3) with not-ok entries taken from the nearest ok frame of that bone,
    or ``fallback`` (J, 3) when the bone is never ok."""
    out = dirs.copy()
    T = len(dirs)
    for j in range(1, dirs.shape[1]):
        good = np.flatnonzero(ok[:, j])
        if len(good) == T:
            continue
        bad = np.flatnonzero(~ok[:, j])
        if len(good) == 0:
            out[:, j] = fallback[j]
            continue
        pos = np.clip(np.searchsorted(good, bad), 1, len(good) - 1) if len(good) > 1 else np.zeros(len(bad), int)
        left, right = good[np.maximum(pos - 1, 0)], good[pos]
        nearest = np.where(np.abs(bad - left) <= np.abs(right - bad), left, right)
        out[bad, j] = dirs[nearest, j]
    return out


def _leg_length(lengths: np.ndarray, skeleton: SkeletonDef) -> float:
    """Mean thigh + shin over both legs (metres)."""
    return float(np.mean([lengths[skeleton[LEGS[s][1]]] + lengths[skeleton[LEGS[s][2]]] for s in LEGS]))


def _head_ratio(driving: Motion, reference: Motion, base: str, base_len, drv_len, scales, skeleton) -> float:
    """Target head size / driver head size: sphere radii when both were fitted, else face bones."""
    face = [skeleton[n] for n in FACE_BONES if n in skeleton.index]
    artist = float(np.mean(scales[face])) if face else 1.0
    if base == "driver":
        return artist
    if driving.has_head and reference.has_head:
        r_ref = np.median(reference.head_radius[reference.valid & (reference.head_radius > 0)])
        r_drv = np.median(driving.head_radius[driving.valid & (driving.head_radius > 0)])
        return float(r_ref / r_drv) * artist
    if face:
        return float(np.sum(base_len[face]) / np.sum(drv_len[face])) * artist
    return artist


def _retarget_hands(driving, reference, body3d, base, base_len, drv_len, scales, skeleton, conf_threshold):
    """(T, 2, 21, 3) hands rebuilt by FK at the new wrists, or None when the driver has no hands3d."""
    hands3d = driving.get("hands3d")
    if hands3d is None:
        return None
    drv_h = hand_bone_lengths(driving, conf_threshold)
    ref_h = hand_bone_lengths(reference, conf_threshold) if base == "reference" else None
    present = driving.hands_conf.max(-1) > 0  # (T, 2)
    out = np.zeros(hands3d.shape, np.float64)
    for h, wrist_name in enumerate(WRISTS):
        w = skeleton[wrist_name]
        forearm = base_len[w] / drv_len[w]
        lengths = drv_h[h] * forearm
        if ref_h is not None:
            lengths = np.where(np.isfinite(ref_h[h]), ref_h[h], lengths)
        lengths = np.nan_to_num(lengths * scales[w])
        dirs, ok = unit_directions(hands3d[:, h], HAND.parents)
        ok &= present[:, h, None]
        dirs = _fill_directions(dirs, ok, np.tile([0.0, 1.0, 0.0], (HAND.num_joints, 1)))
        out[:, h] = forward_kinematics(body3d[:, w], dirs, lengths, HAND.parents)
    return np.where(present[..., None, None] & driving.valid[:, None, None, None], out, 0.0)


def _transfer_2d(points: np.ndarray, old_anchor: np.ndarray, new_anchor: np.ndarray, k: np.ndarray) -> np.ndarray:
    """points (T, N, 2) moved with their anchor (T, 2) -> (T, 2) and scaled by k (T,) about it."""
    return new_anchor[:, None] + k[:, None, None] * (points - old_anchor[:, None])


def _gaps_info(valid: np.ndarray, fps: float) -> tuple[list[tuple[int, int]], list[str]]:
    gaps = [(int(a), int(b)) for a, b in runs(~valid)]
    if not gaps:
        return gaps, []
    long_len = max(2, int(round(LONG_GAP_SECONDS * fps)))
    longs = [(a, b) for a, b in gaps if b - a + 1 >= long_len]
    lines = [f"driving: {len(gaps)} gap(s) with no person ({int((~valid).sum())} frames), left invalid, not invented"]
    for a, b in longs:
        lines.append(f"WARNING long gap in the driving motion: frames {a}-{b} ({b - a + 1} frames, "
                     f"{(b - a + 1) / fps:.2f} s) have no person; the output has none there either")
    return gaps, lines


def retarget_details(driving: Motion, reference: Motion, edits: "BoneEdits | str | dict | None" = None,
                     framing: str = "match reference", manual=(1.0, 0.0, 0.0),
                     conf_threshold: float = CONF_THRESHOLD, plant: bool = True,
                     contact_params: ContactParams = ContactParams(), body_model=None) -> RetargetResult:
    """Retarget ``driving`` onto ``reference``'s body; see the module docstring.

    ``manual`` = (scale, dx, dy) for ``framing="manual"``: the driver's framing scaled
    about the reference image centre, shifted by dx * W and dy * H of the reference.
    ``body_model``: see :func:`bone_lengths`; used for the reference's lengths only.
    """
    _check_inputs(driving, reference, framing, manual, conf_threshold)
    sk = driving.skeleton
    par = sk.parents
    edits = parse_bone_edits(edits, sk)
    T = driving.num_frames
    valid = driving.valid.astype(bool)

    # the body model describes the character: the driver's own lengths stay measured (they
    # only set how far the driver's bones stretch, never the output's proportions)
    drv_len, drv_fb = bone_lengths(driving, conf_threshold, input_name="driving")
    ref_len, ref_fb = bone_lengths(reference, conf_threshold, body_model, input_name="reference")
    base_len = ref_len if edits.base == "reference" else drv_len
    scales = edits.bone_scales(sk)
    target = base_len * scales
    target[0] = 0.0

    # directions: the driver's where it sees the bone, else the reference's pose
    D = np.asarray(driving.joints3d, np.float64)
    dirs, ok = unit_directions(D, par)
    ok &= valid[:, None]
    ref_seen = _seen(reference, conf_threshold)
    r0 = int(np.flatnonzero(ref_seen.any(1))[0])
    ref_dirs, ref_ok = unit_directions(reference.joints3d[r0], par)
    ref_ok &= ref_seen[r0] & ref_seen[r0, np.maximum(np.asarray(par), 0)]
    followed = _followed_bones(driving, conf_threshold)
    held = [j for j in range(1, sk.num_joints) if not followed[j] and ref_ok[j]]
    dirs = _fill_directions(dirs, ok, np.where(ref_ok[:, None], ref_dirs, [0.0, 1.0, 0.0]))
    dirs[:, held] = ref_dirs[held]

    # root path: scaled by the leg ratio about a point on the driver's ground
    has_legs = all(n in sk.index for side in LEGS.values() for n in side)
    up = estimate_up(D, valid, sk)
    contacts = np.zeros((T, 2), bool)
    legs_followed = has_legs and all(followed[sk[n]] for side in LEGS.values() for n in side[1:3])
    if legs_followed and plant:
        contacts = detect_foot_contacts(D, valid, driving.fps, sk, up, _leg_length(drv_len, sk), contact_params)
    ratio = _leg_length(target, sk) / _leg_length(drv_len, sk) if has_legs else \
        float(np.sum(target) / np.sum(drv_len))
    # the driver made rigid (its own median lengths) for the floor: extracted bone lengths
    # wander by centimetres from frame to frame, which must not read as the floor moving
    rigid = forward_kinematics(D[:, 0], dirs, drv_len, par)
    if contacts.any():
        lowest = np.stack([_lowest_point(rigid[:, _foot_points(sk, side)], up) for side in LEGS], 1)  # (T, 2, 3)
        anchor = lowest[contacts].mean(0)  # a point on the driver's floor
    else:
        anchor = np.median(D[valid, 0], axis=0)
    legs_held = has_legs and any(sk[n] in held for side in LEGS.values() for n in side)
    root_moves = bool(followed[0]) and not legs_held
    # the driver shows no pelvis, or no legs to stand on: keep the body where it is
    X = D[:, 0] if root_moves else np.broadcast_to(np.median(D[valid, 0], axis=0), (T, 3))
    lever = X - anchor  # (T, 3): the root is anchor + leg ratio x lever (before planting)
    root = anchor + ratio * lever

    ik_weight = np.zeros((T, 2))
    report = PlantReport()
    if contacts.any():
        floor = (anchor + ratio * (lowest - anchor)) @ up  # (T, 2) the floor under each foot, scaled
        ankles = anchor + ratio * (D[:, [sk[LEGS[side][2]] for side in LEGS]] - anchor)  # as the video shows them
        root, dirs, ik_weight, report = plant_feet(root, dirs, target, sk, contacts, valid, up, driving.fps,
                                                   floor, ankles)
    body3d = forward_kinematics(root, dirs, target, par)

    # hands, head sphere, face: follow the new skeleton
    hands3d = _retarget_hands(driving, reference, body3d, edits.base, base_len, drv_len, scales, sk, conf_threshold)
    head_ratio = _head_ratio(driving, reference, edits.base, base_len, drv_len, scales, sk)
    head_j = sk.index.get("head", 0)
    head_center = body3d[:, head_j] + head_ratio * (driving.head_center - D[:, head_j])
    head_radius = driving.head_radius * head_ratio

    # 2D: project with the driver's camera, transfer 2D-only points, then frame
    K = np.asarray(driving.camera, np.float64)
    out2d = project(body3d, K)
    depth_ratio = D[:, :, 2] / np.maximum(body3d[:, :, 2], 1e-6)  # (T, J): apparent size change per joint
    if hands3d is None:
        wrists = [sk[w] for w in WRISTS]
        hands2d = np.stack([_transfer_2d(driving.hands2d[:, h], driving.hands2d[:, h, 0], out2d[:, w],
                                         target[w] / drv_len[w] * depth_ratio[:, w])
                            for h, w in enumerate(wrists)], 1)
    face2d = _transfer_2d(driving.face2d, driving.joints2d[:, head_j], out2d[:, head_j],
                          head_ratio * depth_ratio[:, head_j])
    if framing == "match reference":
        S, framing_note = match_reference_framing(body3d, out2d, valid, K, reference, conf_threshold)
    elif framing == "keep driver":
        S, framing_note = keep_driver_framing(driving.image_size, reference.image_size), "driver's framing kept"
    else:
        S = manual_framing(driving.image_size, reference.image_size, manual)
        framing_note = f"manual framing (scale {manual[0]}, offset {manual[1]}, {manual[2]})"
    camera = S @ K
    joints2d = project(body3d, camera)
    hands2d = project(hands3d, camera) if hands3d is not None else apply_similarity(hands2d, S)
    face2d = apply_similarity(face2d, S)
    # points the driver never measured (all zeros) stay zeros, as the format has them
    hands2d = np.where((driving.hands_conf.max(-1) > 0)[..., None, None], hands2d, 0.0)
    face2d = np.where(np.any(driving.face2d != 0, axis=(1, 2))[:, None, None], face2d, 0.0)

    # confidences: the driver's where followed, the reference's where held
    conf = np.asarray(driving.conf, np.float32).copy()
    conf[:, held] = reference.conf[r0, held]
    if not followed[0]:
        conf[:, 0] = reference.conf[r0, 0]
    v3 = valid[:, None, None]
    optional = {k: v for k, v in driving.optional.items() if k not in ("hands3d", "person_box", "face3d", "info")}
    if hands3d is not None:
        optional["hands3d"] = hands3d.astype(np.float32)
    face3d = driving.get("face3d")
    if face3d is not None:
        k3 = (head_ratio * depth_ratio[:, head_j] * S[0, 0])[:, None]
        xy = apply_similarity(_transfer_2d(face3d[..., :2], driving.joints2d[:, head_j], out2d[:, head_j],
                                           head_ratio * depth_ratio[:, head_j]), S)
        optional["face3d"] = np.concatenate([xy, face3d[..., 2:] * k3[..., None]], -1).astype(np.float32)
    has_head = driving.head_radius > 0
    gaps, gap_lines = _gaps_info(valid, driving.fps)

    fallbacks = {**{f"reference: {k}": v for k, v in ref_fb.items()},
                 **{f"driver: {k}": v for k, v in drv_fb.items()}}
    lines = [f"preset '{edits.preset}' (lengths from the {edits.base})"
             + (f", {len(edits.scales)} bone edit(s)" if edits.scales else "")
             + (", left/right linked" if edits.link_lr else ""),
             f"leg ratio {ratio:.3f}; head ratio {head_ratio:.3f}", framing_note]
    if held:
        lines.append("held at the reference pose (not seen in the driver): " + ", ".join(sk.bone_name(j) for j in held))
    if not root_moves:
        lines.append("the driver shows no pelvis or no legs: the body stays in place")
    if report.spans:
        lines.append(f"feet planted over {report.spans} contact span(s); slide {report.slide_cm:.2f} cm "
                     f"(along the camera ray {report.depth_follow_cm:.1f} cm); "
                     f"pelvis lowered up to {report.lowered_cm:.2f} cm"
                     + (f"; {report.unreachable_frames} frame(s) out of reach" if report.unreachable_frames else ""))
    from_model = [k for k, v in ref_fb.items() if v.startswith(BODY_MODEL_NOTE)]
    if from_model:
        lines.append(f"reference lengths from the {ref_fb[from_model[0]][len(BODY_MODEL_NOTE):]}: "
                     + ", ".join(from_model))
    lines += [f"{k} length: {v}" for k, v in fallbacks.items() if not v.startswith(BODY_MODEL_NOTE)]
    lines += gap_lines
    info = "\n".join(lines)
    optional["info"] = np.asarray(info)

    motion = dataclasses.replace(
        driving,
        joints3d=np.where(v3, body3d, 0.0).astype(np.float32),
        joints2d=np.where(v3, joints2d, 0.0).astype(np.float32),
        conf=np.where(valid[:, None], conf, 0.0).astype(np.float32),
        valid=valid.copy(),
        image_size=tuple(int(v) for v in reference.image_size),
        camera=camera,
        hands2d=np.where(valid[:, None, None, None], hands2d, 0.0).astype(np.float32),
        face2d=np.where(valid[:, None, None], face2d, 0.0).astype(np.float32),
        head_center=np.where((valid & has_head)[:, None], head_center, 0.0).astype(np.float32),
        head_radius=np.where(valid & has_head, head_radius, 0.0).astype(np.float32),
        optional=optional,
    )
    return RetargetResult(motion=motion, info=info, target_lengths=target, driver_lengths=drv_len,
                          reference_lengths=ref_len, fallbacks=fallbacks, followed=followed, contacts=contacts,
                          ik_weight=ik_weight, plant=report, framing=S,
                          root_lever=np.where(valid[:, None], lever, 0.0), gaps=gaps)


def retarget(driving: Motion, reference: Motion, edits: "BoneEdits | str | dict | None" = None,
             framing: str = "match reference", manual=(1.0, 0.0, 0.0), **options) -> tuple[Motion, str]:
    """The driving motion on the reference's body, framed into the reference image.

    Returns (motion, info): the motion has the reference's image size and a camera
    with the framing folded in; info says what was measured, held, planted, framed.
    ``options`` go to :func:`retarget_details`.
    """
    result = retarget_details(driving, reference, edits, framing, manual, **options)
    return result.motion, result.info
