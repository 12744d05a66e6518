"""A reference posed by hand: move the reference motion's joints where the artist placed them.

The bone editor's "pose reference" mode stores joint placements in the bone edits
(``reference_joints``: joint name -> [x, y] reference-picture pixels). Before the retarget,
:func:`pose_reference` moves the reference motion there, on the frame the retarget reads
the reference's pose from (its first frame with a seen joint, ``frame_of``):

* 2D: a placed joint's ``joints2d`` is exactly the placement;
* 3D (the lift): a placed joint goes on its camera ray (``pixel_rays``). The root keeps
  its depth. Any other placed joint keeps its bone's length from its (already moved)
  parent: the depth on the ray is a root of ``|d ray - parent| = length``
  (``ray_quadratic``), the root on the side of the depth the joint had riding along with its
  parent (so a limb does not flip towards or away from the camera). Where the ray passes
  farther from the parent than the bone's length (the joint was dragged farther than the
  bone reaches) the joint takes the ray's closest point to the parent: the bone becomes
  as long as the placement demands, and the 2D is still exact;
* a joint not placed rides rigidly with its parent (its 3D offset kept), its 2D the
  projection of its new 3D; joints with nothing placed above them are untouched;
* a placed joint counts as seen (confidence at least 1): the artist vouched for it;
* the head sphere moves with the head joint; hands (3D and 2D) with their wrists; the
  face's 2D points with the head's 2D.

Every bone keeps its length except a placement out of reach, so the retarget's lengths
(and the character's proportions) stay what Skeleton Extract measured.
"""

from __future__ import annotations

import numpy as np

from ..core.motion import Motion, project
from ..extract.camera import pixel_rays, ray_quadratic
from .bone_edits import BoneEdits
from .lengths import CONF_THRESHOLD, seen_mask

MIN_DEPTH = 0.05
"""Metres: a placed joint never goes closer to the camera than this (or behind it)."""
WRISTS = ("left_wrist", "right_wrist")  # hand 0 = person's left, 1 = right


def frame_of(reference: Motion, conf_threshold: float = CONF_THRESHOLD) -> int | None:
    """The reference frame the retarget reads the pose from (first with a seen joint), or None."""
    seen = seen_mask(reference, conf_threshold).any(1)
    return int(np.flatnonzero(seen)[0]) if seen.any() else None


def lift_placements(
    joints3d: np.ndarray, placements: dict[int, np.ndarray], camera: np.ndarray, parents
) -> tuple[np.ndarray, np.ndarray]:
    """(new joints3d (J, 3), moved (J,) bool) of one pose with joints placed at pixels.

    joints3d (J, 3) camera space, parents before children; placements: joint index -> (2,) pixels.
    """
    old = np.asarray(joints3d, np.float64)
    new = old.copy()
    moved = np.zeros(len(old), bool)
    for j, p in enumerate(parents):
        if j in placements:
            ray = pixel_rays(np.asarray(placements[j], np.float64), camera)
            if p < 0:
                depth = old[j, 2]
            else:
                length = np.linalg.norm(old[j] - old[p])
                mid, half, reaches = ray_quadratic(new[p], ray, length)
                riding = new[p, 2] + old[j, 2] - old[p, 2]  # its depth had it moved with its parent
                depth = mid + (half if riding >= mid else -half) if reaches else mid
            new[j] = ray * max(float(depth), MIN_DEPTH)
            moved[j] = True
        elif p >= 0 and moved[p]:
            new[j] = new[p] + old[j] - old[p]
            moved[j] = True
    return new, moved


def pose_reference(
    reference: Motion, edits: "BoneEdits | dict | None", conf_threshold: float = CONF_THRESHOLD
) -> Motion:
    """The reference with the artist's joint placements applied (see the module docstring).

    ``edits``: parsed bone edits (their ``reference_joints``) or a {joint name: (x, y)} dict.
    Returns ``reference`` itself when nothing is placed or it has no seen joint.
    """
    placed = edits.reference_joints if isinstance(edits, BoneEdits) else (edits or {})
    f = frame_of(reference, conf_threshold)
    if not placed or f is None:
        return reference
    sk = reference.skeleton
    K = np.asarray(reference.camera, np.float64)
    at = {sk[name]: np.asarray(xy, np.float64) for name, xy in placed.items()}
    old3 = reference.joints3d[f].astype(np.float64)
    new3, moved = lift_placements(old3, at, K, sk.parents)
    old2 = reference.joints2d[f].astype(np.float64)
    new2 = np.where(moved[:, None], project(new3, K), old2)
    for j, xy in at.items():
        new2[j] = xy  # exactly where placed

    joints3d, joints2d, conf = reference.joints3d.copy(), reference.joints2d.copy(), reference.conf.copy()
    joints3d[f], joints2d[f] = new3, new2
    conf[f, list(at)] = np.maximum(conf[f, list(at)], 1.0)
    changes = {"joints3d": joints3d, "joints2d": joints2d, "conf": conf}

    head = sk.index.get("head")
    if head is not None and moved[head]:
        changes["head_center"] = reference.head_center.copy()
        changes["head_center"][f] += (new3[head] - old3[head]).astype(np.float32)
        changes["face2d"] = _shift_measured(reference.face2d, f, new2[head] - old2[head])
        face3d = reference.get("face3d")
        if face3d is not None:
            face3d = face3d.copy()
            face3d[f, ..., :2] += (new2[head] - old2[head]).astype(face3d.dtype)
            changes["face3d"] = face3d
    wrists = [(h, sk.index.get(w)) for h, w in enumerate(WRISTS)]
    wrists = [(h, w) for h, w in wrists if w is not None and moved[w]]
    if wrists:
        hands2d = reference.hands2d.copy()
        hands3d = reference.get("hands3d")
        hands3d = None if hands3d is None else hands3d.copy()
        for h, w in wrists:
            hands2d[f, h] = _shift_measured(reference.hands2d[f, h][None], 0, new2[w] - old2[w])[0]
            if hands3d is not None and np.any(hands3d[f, h] != 0):
                hands3d[f, h] += (new3[w] - old3[w]).astype(hands3d.dtype)
        changes["hands2d"] = hands2d
        if hands3d is not None:
            changes["hands3d"] = hands3d
    return reference.replace(**changes)


def _shift_measured(points: np.ndarray, f: int, delta: np.ndarray) -> np.ndarray:
    """points (T, N, 2) with frame f moved by delta (2,); a frame never measured (all zeros) stays zeros."""
    out = points.copy()
    if np.any(out[f] != 0):
        out[f] += delta.astype(out.dtype)
    return out
