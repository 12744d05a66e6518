"""Left/right swaps and depth-sign flips: found from temporal continuity and the face, undone.

MediaPipe's pose model labels each landmark left or right per frame. It sometimes gets that
wrong for a few frames: a limb's points jump to where its mirror limb was and back, or the
whole body is labelled as seen from behind while the person faces the camera. Its depth is a
guess too: whether a forearm points toward or away from the camera is ambiguous from the 2D,
and the guessed sign of a bone's depth step can flip for a few frames.

Model (all on raw, unsmoothed detections, so that smoothing never blends a swapped frame):

* **Label swaps** (:func:`label_swaps`): for a group of mirrored landmark pairs, a hidden
  state per frame, keep (0) or swap (1) MediaPipe's labels. The cost of a sequence of
  states is the 2D motion of the relabelled points between consecutive valid frames (pixel
  step of both sides in torso lengths, averaged over the pairs weighted by how far apart a
  pair's sides usually are: an eye pair 10 px apart says little, the shoulders much), plus
  ``SWAP_COST`` per swapped frame (without evidence MediaPipe's labels stand), plus the face
  cue. The cheapest sequence is found exactly by dynamic programming over the frames (two
  states, vectorised over groups). A stretch of swapped frames is undone when jumping into
  and out of it costs more than ``SWAP_COST`` per frame: a limb that truly crosses its
  mirror moves smoothly and is kept. Groups, in order: the whole body (judged on the torso
  and face pairs, with the face cue; every pair is swapped), then the arms (elbow, wrist,
  hand points) and the legs (knee, ankle, heel, toe), each against the repaired torso.
* **The face cue** (:func:`face_says_swapped`): where the face mesh was found, the face
  faces the camera and its own left eye is the person's left (the mesh is fitted to the
  face's appearance, it cannot be mirrored); a pose whose "left eye" sits on the mesh's
  right eye is labelled from behind: ``FACE_COST`` is charged for keeping those labels.
* The hands are given sides by their nearness to the pose's wrists, so their sides follow
  the pose labels: a swap of the arms or the body swaps them too. Their handedness labels
  are not recorded (``RawTrack``), so they cannot vote.
* **Depth-sign flips** (:func:`continuous_signs`): per bone, the same two-state dynamic
  programme on the sign of the metric model's depth step between the bone's two ends; the
  cost is the change of the signed step between frames (in bone lengths) plus
  ``FLIP_COST`` per flipped frame. A step that changes sign through zero (a forearm
  passing through the picture's plane) costs nothing and is kept; a step that jumps from
  +d to -d and back is flipped back.

Measured (``motion_from_track(repair=True)``, the default since the retarget follows the driver
at one length per bone, ``models.retarget.clip_fit``):

* sports2d's demo.mp4 (200 frames): MediaPipe labels the jumper from behind on frames 68-72
  of his flip (shoulders ~70 px and wrists ~280 px on the mirror's place, back on 73) and on
  frame 17 (left shoulder 686 -> 618 -> 636 px); found and undone, as are flickering leg
  labels on 105-137. WolfgangLanger, single_face, face_noface: nothing found (the face agrees
  with the pose on every face frame). About 5 ms for 200 frames.
* Against the four-view reference (``benchmarks/bench_3d_accuracy.py``) it changes no
  all-view figure of the person scored (cam01's median 12.6 -> 12.4); on the second person
  (a leave-one-out reference from the other views, not in the benchmark) bones beyond 90
  degrees went 204 -> 217 of ~2000. The depth-sign programme flips one step of the scored
  person (cam01, frame 46; 68 bone-frames of demo.mp4's 200 frames x 28 bones): the metric
  model's steps are mostly smooth, their size is what is off.
* The retarget: while it followed the extracted ``joints3d``, the repair made the demo.mp4
  jumper's left foot slide 1.3-1.7 cm in one landing (``tests/unit/test_retarget.py``, bound
  1 cm) and stayed off; following the clip fit, those tests pass with it on. Same-person
  sports2d (``benchmarks.bench_alignment``) 2.48 / 7.00 -> 2.36 / 6.80 % of the shoulder width
  (the talking heads unchanged); body jitter on sports2d (``benchmarks.bench_extract_quality``)
  raw 9.18 -> 8.34 px, smoothed 2.67 -> 2.48 px (the swapped frames no longer jump).
"""

from __future__ import annotations

import numpy as np

from .body_mapping import MP, MP_NAMES

SWAP_COST = 0.05
"""Torso lengths per swapped frame: a stretch of n swapped frames is undone when jumping in
and out of it moves the points more than n x this."""
FACE_COST = 1.0
"""Torso lengths charged per frame for keeping labels the face contradicts."""
FLIP_COST = 0.05
"""Bone lengths per frame whose depth-step sign is flipped."""

PAIRS = [(i, MP["right" + n[4:]]) for i, n in enumerate(MP_NAMES) if n.startswith("left")]
PAIRS += [(MP["mouth_left"], MP["mouth_right"])]
"""Every mirrored (left, right) pair of MediaPipe's 33 pose landmarks."""
ARM = [p for p in PAIRS if MP_NAMES[p[0]][5:] in ("elbow", "wrist", "pinky", "index", "thumb")]
LEG = [p for p in PAIRS if MP_NAMES[p[0]][5:] in ("knee", "ankle", "heel", "foot_index")]
TORSO = [p for p in PAIRS if p not in ARM + LEG]
"""Shoulders, hips, eyes, ears, mouth: the pairs that say which way the whole body is labelled."""
MESH_LEFT_EYE, MESH_RIGHT_EYE = 263, 33
"""Face mesh: the outer corners of the person's left and right eyes."""
EYES_MATCH = 0.5
"""The face mesh votes only where its outer eye corners are the pose's: midpoints within
this many eye spans, spans within this factor of each other."""


def cheapest_states(unary: np.ndarray, step: np.ndarray) -> np.ndarray:
    """The cheapest two-state sequence: unary (T, G, 2) cost of each state per frame and group,
    step (T-1, G, 2, 2) cost of going from state a at t to b at t+1 -> (T, G) states 0/1."""
    T, G = unary.shape[:2]
    total = unary[0].copy()
    back = np.zeros((T, G, 2), np.int8)
    for t in range(1, T):
        via = total[:, :, None] + step[t - 1]  # (G, from, to)
        back[t] = np.argmin(via, axis=1)
        total = np.min(via, axis=1) + unary[t]
    states = np.zeros((T, G), np.int8)
    states[-1] = np.argmin(total, axis=1)
    for t in range(T - 1, 0, -1):
        states[t - 1] = back[t, np.arange(G), states[t]]
    return states


def _relabelled(points: np.ndarray, pairs) -> np.ndarray:
    """(T, 2, P, 2): the pairs' points as labelled (state 0) and swapped (state 1)."""
    left, right = points[:, [a for a, _ in pairs]], points[:, [b for _, b in pairs]]
    return np.stack([np.concatenate([left, right], 1), np.concatenate([right, left], 1)], 1)


def torso_length(image: np.ndarray, valid: np.ndarray) -> float:
    """Median mid-shoulder to mid-hip distance over the valid frames (image (T, 33, 2+) px)."""
    sh = image[valid][:, [MP["left_shoulder"], MP["right_shoulder"]], :2].mean(1)
    hip = image[valid][:, [MP["left_hip"], MP["right_hip"]], :2].mean(1)
    return float(max(np.median(np.linalg.norm(sh - hip, axis=-1)), 1.0)) if len(sh) else 1.0


def _separation(points: np.ndarray, valid: np.ndarray, pairs) -> np.ndarray:
    """(P,) median distance between each pair's two sides over the valid frames, px."""
    a, b = [p for p, _ in pairs], [q for _, q in pairs]
    gap = np.linalg.norm(points[valid][:, a] - points[valid][:, b], axis=-1)
    return np.median(gap, axis=0) if len(gap) else np.ones(len(pairs))


def label_swaps(image: np.ndarray, valid: np.ndarray, groups, face_cue: np.ndarray | None = None) -> np.ndarray:
    """(T, G) True where group g's labels are swapped. image (T, 33, 2+) px, valid (T,);
    groups: G lists of (left, right) landmark pairs; face_cue (T,) +1 / -1 / 0 (labels from
    behind / from the front / no face), charged to keeping group 0's labels."""
    pts = np.asarray(image, np.float64)[..., :2]
    v = np.asarray(valid, bool)
    scale = torso_length(pts, v)
    T, G = len(v), len(groups)
    unary = np.zeros((T, G, 2))
    unary[:, :, 1] = SWAP_COST
    if face_cue is not None:
        unary[:, 0, 0] += FACE_COST * (np.asarray(face_cue) > 0)
        unary[:, 0, 1] += FACE_COST * (np.asarray(face_cue) < 0)
    step = np.zeros((max(T - 1, 0), G, 2, 2))
    both = (v[1:] & v[:-1])[:, None, None]
    for g, pairs in enumerate(groups):
        lab = _relabelled(pts, pairs)  # (T, 2, 2P, 2)
        w = np.tile(_separation(pts, v, pairs), 2)  # a pair votes by how far apart its sides are
        d = np.linalg.norm(lab[1:, None, :] - lab[:-1, :, None], axis=-1) @ (w / max(w.sum(), 1e-9))
        step[:, g] = np.where(both, d / scale, 0.0)
    return cheapest_states(unary, step).astype(bool)


def face_says_swapped(pose_image: np.ndarray, face: np.ndarray, face_valid: np.ndarray) -> np.ndarray:
    """(T,) +1 where the face mesh's left-to-right eye direction opposes the pose's (the pose is
    labelled from behind), -1 where they agree, 0 where there is no vote: no face, or a mesh
    that is not on the pose's eyes (a mesh fitted to the back of a head or to someone else's
    face, seen on Pose2Sim's Demo_MultiPerson: ``EYES_MATCH``). pose_image (T, 33, 2+), face
    (T, 478, 2+) px."""
    pose = np.asarray(pose_image, np.float64)[:, [MP["left_eye_outer"], MP["right_eye_outer"]], :2]
    mesh = np.asarray(face, np.float64)[:, [MESH_LEFT_EYE, MESH_RIGHT_EYE], :2]
    span_p, span_m = pose[:, 0] - pose[:, 1], mesh[:, 0] - mesh[:, 1]
    size_p, size_m = np.linalg.norm(span_p, axis=-1), np.linalg.norm(span_m, axis=-1)
    apart = np.linalg.norm(pose.mean(1) - mesh.mean(1), axis=-1)
    same_eyes = (apart <= EYES_MATCH * size_m) & (size_p >= EYES_MATCH * size_m) & (size_m >= EYES_MATCH * size_p)
    vote = -np.sign(np.sum(span_p * span_m, -1))
    return np.where(np.asarray(face_valid, bool) & same_eyes, vote, 0.0)


def _swap(arrays: list[np.ndarray], frames: np.ndarray, pairs) -> None:
    """Exchange the pairs' landmarks (axis 1) of every array on ``frames`` (T,) in place."""
    a, b = [p for p, _ in pairs], [q for _, q in pairs]
    rows = np.flatnonzero(frames)[:, None]
    for x in arrays:
        x[rows, a + b] = x[rows, b + a]


def undo_swaps(raw) -> tuple[object, int]:
    """A copy of the ``RawTrack`` with label swaps undone (pose image, world, visibility; hand
    sides with the arms), and how many frame-groups were swapped back."""
    from dataclasses import replace

    image, world, vis = raw.pose_image.copy(), raw.pose_world.copy(), raw.pose_vis.copy()
    hands = [raw.hand_image.copy(), raw.hand_world.copy(), raw.hand_score.copy(), raw.hand_valid.copy()]
    cue = face_says_swapped(image, raw.face, raw.face_valid & raw.body_valid)
    body = label_swaps(image, raw.body_valid, [TORSO], cue)[:, 0]
    _swap([image, world, vis], body, PAIRS)
    for h in hands:
        h[body] = h[body][:, ::-1]
    parts = label_swaps(image, raw.body_valid, [ARM, LEG])
    for g, pairs in enumerate([ARM, LEG]):
        _swap([image, world, vis], parts[:, g], pairs)
    for h in hands:
        h[parts[:, 0]] = h[parts[:, 0]][:, ::-1]
    out = replace(raw, pose_image=image, pose_world=world, pose_vis=vis, hand_image=hands[0])
    out = replace(out, hand_world=hands[1], hand_score=hands[2], hand_valid=hands[3])
    return out, int(body.sum() + parts.sum())


def continuous_signs(steps: np.ndarray, lengths: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """(T, B) +1 / -1 per bone: the signs that make the depth steps (T, B) metres temporally
    continuous, in units of the bones' lengths (B,); seen (T, B) bones measured on that frame."""
    s = np.asarray(steps, np.float64) / np.maximum(np.asarray(lengths, np.float64), 1e-6)
    T, B = s.shape
    unary = np.zeros((T, B, 2))
    unary[:, :, 1] = FLIP_COST
    sign = np.array([1.0, -1.0])
    change = np.abs(
        s[1:, :, None, None] * sign[None, None, None, :] - s[:-1, :, None, None] * sign[None, None, :, None]
    )
    both = (seen[1:] & seen[:-1])[..., None, None]
    return np.where(cheapest_states(unary, np.where(both, change, 0.0)) == 1, -1.0, 1.0)
