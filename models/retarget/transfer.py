"""3D bone-length retargeting: the driver's motion on the reference character's body.

(Over 400 lines: ``retarget_details`` puts the stages together; splitting it is a to-do.)

Per frame every bone keeps its *direction* from the driving motion (the driver refitted at
one length per bone on its camera rays, ``models.retarget.clip_fit``) and takes the
target length (reference length x the artist's scale, ``models.retarget.bone_edits``);
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
  the head sphere and face points are scaled to the reference head (both spheres taken on
  their bodies' scale, ``models.retarget.head_scale``);
* the result is projected with the driver's camera and framed into the
  reference image by a 2D similarity folded into the output camera, so
  ``project(joints3d, camera) == joints2d`` still holds.

Bones the driver never sees (a talking head has no legs) are held at the
reference's pose instead of following the extractor's guess. Where the driver's pelvis or
legs are not followed, a full-body reference keeps its body still (a full-body reference
driven by a talking head keeps its feet on its floor), and a portrait reference anchors on
what is visible: its root is placed so the neck follows the driver's neck, so the visible
upper body leans and sways with the driver's (a talking head driven onto its own first
frame reproduces the clip: ``benchmarks/bench_alignment.py``). A reference that is a frame
of the driving clip takes the clip's lengths and needs no framing (``own_frame``).

Hook for body models: ``bone_lengths(..., body_model=obj)`` takes lengths from
any object with ``bone_lengths(motion) -> (J,)`` (NaN where it has no opinion) and
an optional ``note`` (str) saying where they came from, e.g. the SMPL-X shape fit
of ``models.retarget.smplx_body`` when the user has the licensed model files; the measured
median and the fallbacks fill whatever it leaves NaN. ``retarget_details`` uses it
for the reference's body only: the driver's lengths stay measured.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import DreamActorError
from ..core.motion import Motion, project
from ..core.skeleton import HAND
from ..core.smoothing import runs
from .bone_edits import BoneEdits, parse_bone_edits
from .clip_fit import fit_clip_lengths
from .contacts import ContactParams, detect_foot_contacts, estimate_up, foot_points, lowest_point
from .ease_in import EASE_IN_SECONDS, ease_from_pose, ease_weights, floor_offset
from .framing import (
    FRAMINGS,
    MANUAL_SCALE_RANGE,
    anchor_joints,
    apply_similarity,
    keep_driver_framing,
    manual_framing,
    match_reference_framing,
)
from .head_scale import body_scale_heads, body_scale_radius, sphere_offsets
from .kinematics import forward_kinematics, unit_directions
from .lengths import (
    BODY_MODEL_NOTE,
    CONF_THRESHOLD,
    FACE_BONES,
    LEGS,
    bone_lengths,
    hand_bone_lengths,
    leg_length,
    seen_mask,
)
from .own_frame import reference_is_a_driving_frame
from .planting import PlantReport, plant_feet
from .reference_pose import pose_reference

FOLLOW_FRACTION = 0.25
"""A bone follows the driver when both its ends are seen on at least this share of valid frames;
where it is unseen the extractor's estimate carries it (an arm turned behind the body keeps
moving). Below it (legs under a talking head's frame) the bone holds the reference's pose. On
the full sports2d clip the jumper's left upper arm is seen on 48 % of frames (he turns away
after frame 90): a half share froze that arm in the jumping jacks it clearly shows."""

OWN_NOTE = {False: "driver's framing kept", True: "the reference is a frame of the clip: its framing and lengths kept"}
LONG_GAP_SECONDS = 0.5
"""Runs of invalid driving frames at least this long are flagged in the info."""

WRISTS = ("left_wrist", "right_wrist")  # hand 0 = person's left, 1 = right
DRIVER_ONLY = ("hands3d", "face3d", "info", "person_box", "people_boxes", "person_index", "people_frame", "fitted_head")
"""Optional keys of the driving motion not copied into the output: rebuilt below (hands3d, face3d,
info), or about the driving clip's people and the driver's own fitted head, not the retargeted
character (its head comes from the reference's, see :func:`head_ratio`)."""


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
    the driver's root (its median where a full-body reference stays in place; for a portrait, the
    root that puts the neck on the driver's neck with the unedited lengths), A the point on the driver's
    floor it scales about; 0 on invalid frames. A new leg ratio r1 moves the root by (r1 - r0) x it."""
    gaps: list[tuple[int, int]] = field(default_factory=list)
    """Inclusive runs of invalid driving frames."""
    reference: Motion | None = None
    """The reference as retargeted onto: posed where the edits place joints (``reference_pose``)."""


def _check_inputs(driving: Motion, reference: Motion, framing: str, manual, conf_threshold: float) -> None:
    if not driving.skeleton.same_as(reference.skeleton):
        raise DreamActorError(
            f"the driving skeleton ({driving.skeleton.name}, {driving.skeleton.num_joints} joints) and the "
            f"reference skeleton ({reference.skeleton.name}, {reference.skeleton.num_joints} joints) differ",
            fix="extract both motions with the same DreamActor Skeleton Extract settings",
            input="reference",
        )
    if framing not in FRAMINGS:
        raise DreamActorError(
            f"unknown framing {framing!r}", fix=f"choose one of: {', '.join(FRAMINGS)}", input="framing"
        )
    if framing == "manual":
        try:
            m, dx, dy = (float(v) for v in manual)
        except (TypeError, ValueError):
            raise DreamActorError(
                f"manual framing must be (scale, dx, dy), got {manual!r}", fix="give three numbers", input="framing"
            ) from None
        lo, hi = MANUAL_SCALE_RANGE
        if not (np.isfinite([m, dx, dy]).all() and lo <= m <= hi):
            raise DreamActorError(
                f"manual framing scale {m} is outside [{lo}, {hi}] or an offset is not finite",
                fix=f"use a scale between {lo} and {hi} and finite offsets (fractions of the reference image size)",
                input="framing",
            )
    if not driving.valid.any():
        raise DreamActorError(
            "the driving motion has no valid frame (no person was found in the clip)",
            fix="choose a clip where a person is visible, or a wider frame range",
            input="driving",
        )
    if not seen_mask(reference, conf_threshold).any():
        raise DreamActorError(
            "the reference has no valid person",
            fix="use a reference image where a person is clearly visible, and check the skeleton extraction preview",
            input="reference",
        )


def _followed_bones(driving: Motion, conf_threshold: float) -> np.ndarray:
    """(J,) bool: both ends of the bone are seen on >= FOLLOW_FRACTION of the valid frames."""
    par = np.asarray(driving.skeleton.parents)
    seen = seen_mask(driving, conf_threshold)[driving.valid]
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


def head_ratio(driving: Motion, reference: Motion, base: str, base_len, drv_len, scales, skeleton) -> float:
    """Target head size / driver head size: sphere radii (on their bodies' scale) when both were fitted, else face bones."""
    face = [skeleton[n] for n in FACE_BONES if n in skeleton.index]
    artist = float(np.mean(scales[face])) if face else 1.0
    if base == "driver":
        return artist
    if driving.has_head and reference.has_head:  # radii on each body's scale (see head_scale)
        return body_scale_radius(reference) / body_scale_radius(driving) * artist
    if face:
        return float(np.sum(base_len[face]) / np.sum(drv_len[face])) * artist
    return artist


def _reference_hand_pose(reference: Motion, frame: int, hand: int, conf_threshold: float):
    """(dirs (21, 3), ok (21,)) of the reference's hand on ``frame``; ok all False without hands3d."""
    hands3d = reference.get("hands3d")
    if hands3d is None:
        return np.zeros((HAND.num_joints, 3)), np.zeros(HAND.num_joints, bool)
    dirs, ok = unit_directions(hands3d[frame, hand], HAND.parents)
    seen = reference.hands_conf[frame, hand] >= conf_threshold
    return dirs, ok & seen & seen[np.maximum(np.asarray(HAND.parents), 0)]


def _retarget_hands(driving, reference, body3d, base, base_len, drv_len, scales, skeleton, conf_threshold, ease):
    """(T, 2, 21, 3) hands rebuilt by FK at the new wrists, or None when the driver has no hands3d.
    ``ease`` = (weights (T,), reference frame): the reference's hands eased in as the body is."""
    hands3d = driving.get("hands3d")
    if hands3d is None:
        return None
    drv_h = hand_bone_lengths(driving, conf_threshold)
    ref_h = hand_bone_lengths(reference, conf_threshold) if base == "reference" else None
    present = driving.hands_conf.max(-1) > 0  # (T, 2)
    out = np.zeros(hands3d.shape, np.float64)
    weights, r0 = ease
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
        if weights.any():
            dirs = ease_from_pose(dirs, *_reference_hand_pose(reference, r0, h, conf_threshold), weights)
        out[:, h] = forward_kinematics(body3d[:, w], dirs, lengths, HAND.parents)
    return np.where(present[..., None, None] & driving.valid[:, None, None, None], out, 0.0)


def _transfer_2d(points: np.ndarray, old_anchor: np.ndarray, new_anchor: np.ndarray, k: np.ndarray) -> np.ndarray:
    """points (T, N, 2) moved with their anchor (T, 2) -> (T, 2) and scaled by k (T,) about it."""
    return new_anchor[:, None] + k[:, None, None] * (points - old_anchor[:, None])


def _gaps_info(valid: np.ndarray, fps: float) -> tuple[list[tuple[int, int]], list[str]]:
    gaps = [(int(a), int(b) - 1) for a, b in runs(~valid)]  # inclusive, as the info prints them
    if not gaps:
        return gaps, []
    long_len = max(2, int(round(LONG_GAP_SECONDS * fps)))
    longs = [(a, b) for a, b in gaps if b - a + 1 >= long_len]
    lines = [f"driving: {len(gaps)} gap(s) with no person ({int((~valid).sum())} frames), left invalid, not invented"]
    for a, b in longs:
        lines.append(
            f"WARNING long gap in the driving motion: frames {a}-{b} ({b - a + 1} frames, "
            f"{(b - a + 1) / fps:.2f} s) have no person; the output has none there either"
        )
    return gaps, lines


def _held_root(D, dirs, lengths, valid, reference: Motion, conf_threshold: float) -> tuple[np.ndarray, bool]:
    """((T, 3) the root path where the driver's pelvis or legs are not followed, swaying: bool).

    A portrait reference (no feet seen) anchors on what is visible: the root is placed so the
    neck follows the driver's neck (lengths (J,) unedited, so the editor's root lever stays
    exact), and the visible upper body leans and sways with the driver's. A full-body
    reference keeps its body still (its feet stay on its floor)."""
    sk = reference.skeleton
    T = len(D)
    seen = seen_mask(reference, conf_threshold)
    f0 = int(np.flatnonzero(seen.any(1))[0])
    if anchor_joints(reference, f0, seen)[0] == "full body" or "neck" not in sk.index:
        return np.broadcast_to(np.median(D[valid, 0], axis=0), (T, 3)), False
    neck = sk["neck"]
    offset = forward_kinematics(np.zeros((T, 3)), dirs, lengths, sk.parents)[:, neck]
    return np.where(valid[:, None], D[:, neck] - offset, np.median(D[valid, 0], axis=0)), True


def _eased(root, dirs, lengths, skeleton, weights, ref_dirs, ref_ok, up, sways) -> tuple[np.ndarray, np.ndarray]:
    """(root (T, 3), dirs (T, J, 3)) eased from the reference's pose (``ease_in``): the feet stay on
    the floor the un-eased pose stands on, or a portrait's neck stays where it followed the driver's."""
    par = skeleton.parents
    plain = forward_kinematics(root, dirs, lengths, par)
    dirs = ease_from_pose(dirs, ref_dirs, ref_ok, weights)
    eased = forward_kinematics(root, dirs, lengths, par)
    feet = [j for side in LEGS for j in foot_points(skeleton, side)]
    if sways:
        neck = skeleton["neck"]
        return root + plain[:, neck] - eased[:, neck], dirs
    if feet:
        return root + floor_offset(eased, plain, feet, up), dirs
    return root, dirs


def retarget_details(
    driving: Motion,
    reference: Motion,
    edits: "BoneEdits | str | dict | None" = None,
    framing: str = "match reference",
    manual=(1.0, 0.0, 0.0),
    conf_threshold: float = CONF_THRESHOLD,
    plant: bool = True,
    contact_params: ContactParams = ContactParams(),
    body_model=None,
    ease_in: float = EASE_IN_SECONDS,
) -> RetargetResult:
    """Retarget ``driving`` onto ``reference``'s body; see the module docstring.

    ``manual`` = (scale, dx, dy) for ``framing="manual"``: the driver's framing scaled
    about the reference image centre, shifted by dx * W and dy * H of the reference.
    ``body_model``: see :func:`bone_lengths`; used for the reference's lengths only.
    ``ease_in``: seconds over which the guide turns from the reference's pose into the driver's
    (``models.retarget.ease_in``; 0 = the driver's pose from the first frame). A reference that
    is a frame of the clip is not eased (the clip is reproduced as it is).
    """
    _check_inputs(driving, reference, framing, manual, conf_threshold)
    sk = driving.skeleton
    par = sk.parents
    edits = parse_bone_edits(edits, sk)
    reference = pose_reference(reference, edits, conf_threshold)  # the artist's placed joints, if any
    T = driving.num_frames
    valid = driving.valid.astype(bool)

    # the body model describes the character: the driver's own lengths stay measured (they
    # only set how far the driver's bones stretch, never the output's proportions)
    drv_len, drv_fb = bone_lengths(driving, conf_threshold, input_name="driving")
    D, fit_len = fit_clip_lengths(driving, seen_mask(driving, conf_threshold))  # see clip_fit
    drv_len = np.where(np.isfinite(fit_len), fit_len, drv_len)
    drv_len[0] = 0.0
    own = body_model is None and reference_is_a_driving_frame(driving, reference, conf_threshold)  # see own_frame
    ref_len, ref_fb = (drv_len, drv_fb) if own else bone_lengths(reference, conf_threshold, body_model, "reference")
    base_len = ref_len if edits.base == "reference" else drv_len
    scales = edits.bone_scales(sk)
    target = base_len * scales
    target[0] = 0.0

    # directions: the driver's (at its clip lengths) where it sees the bone, else the reference's pose
    dirs, ok = unit_directions(D, par)
    ok &= valid[:, None]
    ref_seen = seen_mask(reference, conf_threshold)
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
        contacts = detect_foot_contacts(D, valid, driving.fps, sk, up, leg_length(drv_len, sk), contact_params)
    ratio = leg_length(target, sk) / leg_length(drv_len, sk) if has_legs else float(np.sum(target) / np.sum(drv_len))
    # the driver made rigid (its own median lengths) for the floor: extracted bone lengths
    # wander by centimetres from frame to frame, which must not read as the floor moving
    rigid = forward_kinematics(D[:, 0], dirs, drv_len, par)
    if contacts.any():
        lowest = np.stack([lowest_point(rigid[:, foot_points(sk, side)], up) for side in LEGS], 1)  # (T, 2, 3)
        anchor = lowest[contacts].mean(0)  # a point on the driver's floor
    else:
        anchor = np.median(D[valid, 0], axis=0)
    legs_held = has_legs and any(sk[n] in held for side in LEGS.values() for n in side)
    root_moves = bool(followed[0]) and not legs_held
    X, sways = (D[:, 0], False) if root_moves else _held_root(D, dirs, base_len, valid, reference, conf_threshold)
    lever = X - anchor  # (T, 3): the root is anchor + leg ratio x lever (before planting)
    root = anchor + ratio * lever

    ik_weight = np.zeros((T, 2))
    report = PlantReport()
    if contacts.any():
        floor = (anchor + ratio * (lowest - anchor)) @ up  # (T, 2) the floor under each foot, scaled
        ankles = anchor + ratio * (D[:, [sk[LEGS[side][2]] for side in LEGS]] - anchor)  # as the video shows them
        root, dirs, ik_weight, report = plant_feet(
            root, dirs, target, sk, contacts, valid, up, driving.fps, floor, ankles
        )
    weights = ease_weights(valid, driving.fps, 0.0 if own else ease_in)
    if weights.any():
        root, dirs = _eased(root, dirs, target, sk, weights, ref_dirs, ref_ok, up, sways)
    body3d = forward_kinematics(root, dirs, target, par)

    # hands, head sphere, face: follow the new skeleton
    hands3d = _retarget_hands(
        driving, reference, body3d, edits.base, base_len, drv_len, scales, sk, conf_threshold, (weights, r0)
    )
    head_k = head_ratio(driving, reference, edits.base, base_len, drv_len, scales, sk)
    head_j = sk.index.get("head", 0)
    head_k0 = head_ratio(driving, reference, edits.base, base_len, drv_len, np.ones_like(scales), sk)  # unedited
    offsets = sphere_offsets(driving, reference if edits.base == "reference" else None, head_k0)
    head_center = body3d[:, head_j] + head_k * offsets  # the sphere beside the head joint as the character's is
    head_radius = body_scale_heads(driving)[1] * head_k  # the driver's radius on its body's scale

    # 2D: project with the driver's camera, transfer 2D-only points, then frame
    K = np.asarray(driving.camera, np.float64)
    out2d = project(body3d, K)
    depth_ratio = D[:, :, 2] / np.maximum(body3d[:, :, 2], 1e-6)  # (T, J): apparent size change per joint
    if hands3d is None:
        hand_k = [(sk[w], target[sk[w]] / drv_len[sk[w]] * depth_ratio[:, sk[w]]) for w in WRISTS]
        hands2d = np.stack(
            [
                _transfer_2d(driving.hands2d[:, h], driving.hands2d[:, h, 0], out2d[:, w], k)
                for h, (w, k) in enumerate(hand_k)
            ],
            1,
        )
    face2d = _transfer_2d(
        driving.face2d, driving.joints2d[:, head_j], out2d[:, head_j], head_k * depth_ratio[:, head_j]
    )
    if framing == "match reference" and not own:
        S, framing_note = match_reference_framing(body3d, out2d, valid, K, reference, conf_threshold)
    elif framing != "manual":  # keep driver, or a reference that is a frame of the clip
        S, framing_note = keep_driver_framing(driving.image_size, reference.image_size), OWN_NOTE[own]
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
    optional = {k: v for k, v in driving.optional.items() if k not in DRIVER_ONLY}
    if hands3d is not None:
        optional["hands3d"] = hands3d.astype(np.float32)
    face3d = driving.get("face3d")
    if face3d is not None:
        k3 = (head_k * depth_ratio[:, head_j] * S[0, 0])[:, None]
        xy = apply_similarity(
            _transfer_2d(
                face3d[..., :2], driving.joints2d[:, head_j], out2d[:, head_j], head_k * depth_ratio[:, head_j]
            ),
            S,
        )
        optional["face3d"] = np.concatenate([xy, face3d[..., 2:] * k3[..., None]], -1).astype(np.float32)
    has_head = driving.head_radius > 0
    gaps, gap_lines = _gaps_info(valid, driving.fps)

    fallbacks = {**{f"reference: {k}": v for k, v in ref_fb.items()}, **{f"driver: {k}": v for k, v in drv_fb.items()}}
    lines = [
        f"preset '{edits.preset}' (lengths from the {edits.base})"
        + (f", {len(edits.scales)} bone edit(s)" if edits.scales else "")
        + (", left/right linked" if edits.link_lr else ""),
        f"leg ratio {ratio:.3f}; head ratio {head_k:.3f}",
        framing_note,
    ]
    if weights.any():
        lines.append(f"eased in from the reference's pose over {int((weights > 0).sum())} frames ({ease_in:.2f} s)")
    if edits.reference_joints:
        lines.append("reference posed by hand: " + ", ".join(edits.reference_joints) + " placed")
    if held:
        lines.append("held at the reference pose (not seen in the driver): " + ", ".join(sk.bone_name(j) for j in held))
    if not root_moves:
        lines.append(
            "the driver shows no pelvis or no legs: "
            + ("the portrait's neck follows the driver's" if sways else "the body stays in place")
        )
    if report.spans:
        lines.append(
            f"feet planted over {report.spans} contact span(s); slide {report.slide_cm:.2f} cm "
            f"(along the camera ray {report.depth_follow_cm:.1f} cm); "
            f"pelvis lowered up to {report.lowered_cm:.2f} cm"
            + (f"; {report.unreachable_frames} frame(s) out of reach" if report.unreachable_frames else "")
        )
    from_model = [k for k, v in ref_fb.items() if v.startswith(BODY_MODEL_NOTE)]
    if from_model:
        lines.append(
            f"reference lengths from the {ref_fb[from_model[0]][len(BODY_MODEL_NOTE) :]}: " + ", ".join(from_model)
        )
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
    return RetargetResult(
        motion=motion,
        info=info,
        target_lengths=target,
        driver_lengths=drv_len,
        reference_lengths=ref_len,
        fallbacks=fallbacks,
        followed=followed,
        contacts=contacts,
        ik_weight=ik_weight,
        plant=report,
        framing=S,
        root_lever=np.where(valid[:, None], lever, 0.0),
        gaps=gaps,
        reference=reference,
    )


def retarget(
    driving: Motion,
    reference: Motion,
    edits: "BoneEdits | str | dict | None" = None,
    framing: str = "match reference",
    manual=(1.0, 0.0, 0.0),
    **options,
) -> tuple[Motion, str]:
    """The driving motion on the reference's body, framed into the reference image.

    Returns (motion, info): the motion has the reference's image size and a camera
    with the framing folded in; info says what was measured, held, planted, framed.
    ``options`` go to :func:`retarget_details`.
    """
    result = retarget_details(driving, reference, edits, framing, manual, **options)
    return result.motion, result.info
