"""The driver at one length per bone on its own camera rays: what the retarget follows.

Model. The extracted ``joints3d`` (``models.extract.camera``) puts every seen joint on its
camera ray at a depth from the metric body model, so its bones change length from frame to
frame (std / mean 12-26 % on sports2d's arms and hips). The retarget keeps each bone's
direction at one length, so a bone the extraction made short on a frame comes out longer
than the picture's: on sports2d's jumping jacks the wrists land 12 % of the shoulder width
off the driver's (median; p90 30 %). Here, per bone,

* one length for the clip (``LENGTH_PERCENTILE``): a bone shows its full length only when it
  lies across the image, so the length is a high percentile over the clip of the shortest
  bone that reaches the child's ray from the parent, and no less than the bone's median
  on-ray length; over a clip averaged with its mirror bone (left and right legs of different
  lengths made the planting jump: ``tests/unit/test_retarget.py``), on a photo not (its one
  measurement per side is kept, so a photo retargeted onto itself gives back its own skeleton;
  averaged, its joints moved by up to 1.9 % of the shoulder width at p90); a bone never seen
  takes its mirror's;
* each frame the child goes on its ray at that distance from the (already fitted) parent:
  the quadratic ``|d ray - parent| = length`` has a near and a far root (the bone points
  towards or away from the camera). Which one is a choice per frame that the picture cannot
  make; it is made for the whole clip by a two-state Viterbi pass per bone: each frame costs
  how far the root is from the extraction's depth (``models.extract.camera``: the metric
  model's), in bone lengths, and a change of root costs ``TURN_COST`` x the (squared) gap
  between the two roots' directions (:func:`choose_sides`), so the bone does not flip
  front/back from frame to frame but may pass through the image plane, where the roots meet;
* where the ray passes farther from the parent than the length (the bone looks longer than
  its clip length) the child keeps the extraction's depth; a joint not fitted on a frame
  moves with its parent, keeping the extraction's bone vector.

So the fitted skeleton projects onto ``joints2d`` wherever a joint was seen (to float
precision) and has one length per bone wherever the ray reaches it; the root, and joints that
do not lie on their ray in the input (a motion not made by the extractor), keep their bone
vectors.

Measured against following the extraction's ``joints3d`` (``benchmarks.bench_alignment``, same
media, 2 cores, the swap repair off in both), same-person median / p90 % of the shoulder width:
sports2d 4.74 / 15.27 -> 2.48 / 7.00, WolfgangLanger 0.85 / 7.46 -> 0.71 / 7.40, single_face
0.11 / 0.53 -> 0.10 / 0.44; self-retarget stays exact. The price, in
``benchmarks.bench_3d_accuracy``: the fitted limbs are further from the multi-view reference
(10.4 / 28.6 -> 10.7 / 31.6 degrees, bones beyond 90: 5 -> 6), since a
length turns 2D noise on a bone lying across the image into depth. That is why the
extraction's ``joints3d`` keeps the metric model's depths and only the retarget uses this.
Speed: ``benchmarks.bench_retarget`` 14,216 frames/s with planting (goal 5,000).
"""

from __future__ import annotations

import numpy as np

from ..core.motion import Motion, project
from ..extract.camera import MIN_DEPTH, pixel_rays, ray_quadratic

LENGTH_PERCENTILE = 95.0
"""A bone's clip length is at least this percentile over the clip of the shortest bone that
reaches its child's ray (its extent across the image), and at least its median on-ray length.
Measured 85 / 90 / 95 on the sample clips: same-person sports2d 2.88 / 8.48, 2.33 / 8.49,
2.36 / 6.80 %; WolfgangLanger p90 7.46 / 7.45 / 7.40 %."""

TURN_COST = 20.0
"""Price of a front/back switch against the depth prior (:func:`choose_sides`). Measured 0 -> 20
(``benchmarks.bench_3d_accuracy``, the fitted limbs against the every-view / 15 px references):
bones beyond 90 degrees 19 -> 6 and 60 -> 34, p90 31.8 -> 31.6 degrees; sports2d same-person
2.57 / 7.81 -> 2.36 / 6.80 %."""

KEPT = ("neck", "left_collar", "right_collar", "head")
"""Bones (named by their child joint) that keep the extraction's 3D: the neck and collars hang
from a spine point derived from hips a portrait may not show, and seen end-on their on-ray
lengths have outliers a length percentile takes for the bone (a talking head's neck 0.21 ->
0.28 m, pulled 13 cm towards the camera: WolfgangLanger same-person p90 7.40 -> 36.4 %; fitting
the collars: -> 11.68 %). Spine, hips, shoulders, limbs, feet and face bones are fitted; keeping
the spine too: sports2d p90 6.80 -> 9.92 %."""

ON_RAY_PX = 0.5
"""A seen joint whose 3D projects farther than this from its 2D is not on its ray: left alone."""


def _depth_levels(parents: np.ndarray) -> list[np.ndarray]:
    """Joints grouped by their distance from the root (parents before children)."""
    level = np.zeros(len(parents), int)
    for j in range(1, len(parents)):
        level[j] = level[parents[j]] + 1
    return [np.flatnonzero(level == k) for k in range(1, level.max() + 1)]


def _roots(parent: np.ndarray, ray: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(..., 2) near and far depths on ``ray`` (..., 3; z = 1) at ``length`` (...) from
    ``parent`` (..., 3), and (...) bool: the ray reaches that far."""
    mid, half, reaches = ray_quadratic(parent, ray, length)
    return np.stack([mid - half, mid + half], -1), reaches


def choose_sides(directions: np.ndarray, prior_cost: np.ndarray, linked: np.ndarray, turn_cost: float) -> np.ndarray:
    """(T, B) int 0/1: per bone, the state sequence of least total cost (Viterbi).

    directions (T, B, 2, 3) unit bone direction of each state; prior_cost (T, B, 2) per-frame
    cost of each state; linked (T, B) bool: frame t continues frame t-1's run (else the
    chain restarts there, no step cost). Changing state between two frames costs ``turn_cost``
    x the square of the smaller squared distance between the two states' directions on those
    frames: a flip between distant roots is dear, while a bone crossing the image plane (its
    roots meet between the frames) changes side almost for free."""
    T, B = prior_cost.shape[:2]
    cost = np.zeros((T, B, 2))
    back = np.zeros((T, B, 2), int)
    cost[0] = prior_cost[0]
    jump = np.sum((directions[:, :, 0] - directions[:, :, 1]) ** 2, -1)  # (T, B) what a flip moves the bone
    switch = 1.0 - np.eye(2)
    for t in range(1, T):
        # a bone crosses between frames: the nearer of the two frames' root gaps prices the switch
        step = (turn_cost * np.minimum(jump[t - 1], jump[t]) ** 2 * linked[t])[:, None, None] * switch
        total = cost[t - 1][:, :, None] + step
        back[t] = np.argmin(total, 1)
        cost[t] = np.take_along_axis(total, back[t][:, None], 1)[:, 0] + prior_cost[t]
    side = np.zeros((T, B), int)
    side[-1] = np.argmin(cost[-1], -1)
    for t in range(T - 1, 0, -1):
        restart = np.argmin(cost[t - 1], -1)
        side[t - 1] = np.where(linked[t], np.take_along_axis(back[t], side[t][:, None], 1)[:, 0], restart)
    return side


def fit_clip_lengths(motion: Motion, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(joints (T, J, 3) camera space, lengths (J,) metres, NaN where never measured): the
    driver at one length per bone on its rays (module docstring). ``seen`` (T, J) bool."""
    J3 = np.asarray(motion.joints3d, np.float64)
    par = np.asarray(motion.skeleton.parents)
    sk = motion.skeleton
    mirror = np.array([sk.index.get(sk.mirror(n) or n, j) for j, n in enumerate(sk.joint_names)])
    on_ray = seen & (np.linalg.norm(project(J3, motion.camera) - motion.joints2d, axis=-1) <= ON_RAY_PX)
    both = on_ray & on_ray[:, np.maximum(par, 0)]
    both[:, [0] + [sk[n] for n in KEPT if n in sk.index]] = False
    rays = pixel_rays(motion.joints2d, motion.camera)
    lengths = np.full(len(par), np.nan)
    parent = J3[:, np.maximum(par, 0)]
    ray_len = np.linalg.norm(J3 - parent, axis=-1)
    along = np.sum(rays * parent, -1) / np.sum(rays * rays, -1)
    closest = np.linalg.norm(along[..., None] * rays - parent, axis=-1)  # the shortest bone that meets the ray
    for j in np.flatnonzero(both.any(0)):
        sel = both[:, j]
        lengths[j] = max(np.median(ray_len[sel, j]), np.percentile(closest[sel, j], LENGTH_PERCENTILE))
    if motion.valid.sum() > 1:  # a clip: a person's left and right bones match (a photo: see the docstring)
        lengths = np.where(np.isfinite(lengths[mirror]), 0.5 * (lengths + lengths[mirror]), lengths)
    lengths = np.where(np.isfinite(lengths), lengths, lengths[mirror])

    # front/back per bone for the whole clip, judged with the extraction's parents
    B = np.flatnonzero(both.any(0))
    cand, reach = _roots(J3[:, par[B]], rays[:, B], lengths[B])  # (T, B, 2), (T, B)
    dirs = cand[..., None] * rays[:, B, None] - J3[:, par[B], None]
    dirs /= np.maximum(np.linalg.norm(dirs, axis=-1, keepdims=True), 1e-9)
    prior = np.abs(cand - J3[:, B, 2:3]) / np.maximum(lengths[B], 1e-9)[:, None]
    linked = np.zeros_like(both[:, B])
    linked[1:] = both[1:, B] & both[:-1, B] & reach[1:] & reach[:-1]
    side = np.zeros(both.shape, int)
    side[:, B] = choose_sides(dirs, np.where(reach[..., None], prior, 0.0), linked, TURN_COST)

    # then placed from the root out, each child from its fitted parent; a joint not fitted on
    # a frame moves with its parent (its bone keeps the extraction's vector)
    out = J3.copy()
    for level in _depth_levels(par):
        out[:, level] = out[:, par[level]] + (J3[:, level] - J3[:, par[level]])
        for j in level[both[:, level].any(0)]:
            sel = both[:, j]
            roots, ok = _roots(out[sel, par[j]], rays[sel, j], np.full(int(sel.sum()), lengths[j]))
            depth = np.where(ok, np.take_along_axis(roots, side[sel, j][:, None], 1)[:, 0], J3[sel, j, 2])
            out[sel, j] = np.maximum(depth, MIN_DEPTH)[:, None] * rays[sel, j]
    return out, lengths
