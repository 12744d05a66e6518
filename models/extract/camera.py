"""Placing a metric, root-centred body in the camera: rotation and translation per frame.

Camera model (what ``Motion.camera`` means for extracted motion):

* a pinhole with square pixels, principal point at the image centre and a focal
  length of ``models.core.motion.default_camera`` (55 degree field of view across the
  long side), fixed for the whole clip. A single view of a person does not pin
  the focal length down (a farther person with a longer lens looks the same), so
  a typical phone/webcam value is assumed rather than estimated; with the
  rotation solved (below) the fit changes little with it (median reprojection
  error per raw frame of sports2d's demo.mp4: 4.3 / 4.3 / 4.6 px at 40 / 55 / 70
  degrees);
* camera space: x right, y down, z forward (away from the camera), metres.

MediaPipe's ``pose_world_landmarks`` are metres around the mid-hip with axes
roughly parallel to the camera's and no translation. Per frame, the body is
moved where its points project onto the 2D landmarks:

1. translation only (rotation = identity), by weighted linear least squares on
   the pinhole equations ``fx (X + tx) = (u - cx)(Z + tz)``,
   ``fy (Y + ty) = (v - cy)(Z + tz)``;
2. then rotation and translation together (``cv2.solvePnP``, Levenberg-Marquardt
   started from step 1) on the confident points. The small rotation absorbs
   what the hip-centred, crop-based 3D gets wrong about perspective; it matters
   most in close-ups (median reprojection error per raw frame, translation only
   -> with rotation: 57.6 -> 16.5 px on WolfgangLanger_Pexels.mp4, a 640x360
   talking head; 15.5 -> 9.7 px on single_face.mp4; 5.6 -> 4.3 px on the
   full-body demo.mp4). A rotation beyond ``MAX_ROTATION_DEG`` or a fit no
   better than step 1 is refused and step 1 kept.

The same rotation and translation carry the hands (attached at the wrists).

Geometry that agrees with the picture (:func:`on_rays`, DESIGN.md): the rigid placement
above projects a few pixels off the detections (tens on close-ups), and the guide is
drawn from the 3D, so the placed body only gives depths and directions:

* one length per bone for the whole clip: the median over frames of the placed metric
  bone (bones do not change length), averaged with its mirror bone;
* every joint seen on a frame (confidence >= ``SEEN``) lies on its camera ray through its
  2D detection: ``X = d * K^-1 (u, v, 1)``. Where the parent is seen too, d is the parent's
  depth plus the metric model's depth step along the bone (which end is nearer the camera
  comes from the model); where the parent is not seen, d is the placed body's depth.
  Then each seen bone is pulled part of the way towards one length on the rays
  (:func:`depth_at_length`): the median over the clip of its length on the rays (not the
  metric model's, whose scale disagrees with the rays), reached by the root of the quadratic
  along the ray on the prior's side, ``LENGTH_WEIGHT`` = 0.35 of the way, less where the prior
  is near the middle of the two roots, not at all where the ray misses the length. Solving
  for the exact length (all the way, the nearer root) makes the root choice flip from frame
  to frame and turns bones front/back: sports2d same-person 3.40 / 11.37 % of the shoulder
  width but 10.9 / 32.2 degrees (15 bones beyond 90) on ``benchmarks.bench_3d_accuracy``;
  the metric model's lengths instead of the rays': 4.99 / 11.86 % and 12.8 / 33.1 degrees.
  Measured (2 cores) without -> with the pull: same-person median / p90 % sports2d 5.64 /
  15.55 -> 4.74 / 15.27, WolfgangLanger 1.21 / 7.46 -> 0.85 / 7.46, single_face 0.14 / 0.65
  -> 0.11 / 0.52 (``benchmarks.bench_alignment``); limb directions against the every-view
  reference 10.8 / 28.6 -> 10.4 / 28.6 degrees, 5 -> 5 bones beyond 90;
* unseen joints hang from their placed neighbours along the metric model's bone
  directions with the clip lengths (down from a parent, up from a child: a portrait's
  hidden pelvis hangs under its seen neck), so the unseen body keeps its shape.

Projecting ``joints3d`` then gives ``joints2d`` on every seen joint (to float precision);
bones between two seen joints are as long as the 2D, the depth steps and the pull make them, the
unseen ones have their clip length exactly. The inputs are One-Euro smoothed already, so
the placement is per frame and vectorised over frames.

With ``motion_from_track(repair=True)`` (the default: see ``models.extract.swaps``), left/right
label swaps are undone on the raw detections before all this, and the depth steps of seen
bones take their temporally continuous sign.
"""

from __future__ import annotations

import numpy as np

MIN_DEPTH = 0.3
"""Metres: no body point is placed nearer the camera than this."""


def solve_translation(points: np.ndarray, pixels: np.ndarray, weights: np.ndarray, camera: np.ndarray) -> np.ndarray:
    """(3,) translation t so that ``points + t`` (N, 3) metres project onto ``pixels`` (N, 2).

    ``weights`` (N,) >= 0: confidence per point (0 = ignored). Needs 2 weighted points."""
    K = np.asarray(camera, np.float64)
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    P = np.asarray(points, np.float64)
    du = np.asarray(pixels, np.float64)[:, 0] - cx
    dv = np.asarray(pixels, np.float64)[:, 1] - cy
    w = np.sqrt(np.clip(np.asarray(weights, np.float64), 0, None))
    zeros, ones = np.zeros_like(du), np.ones_like(du)
    A = np.concatenate([np.stack([fx * ones, zeros, -du], 1), np.stack([zeros, fy * ones, -dv], 1)])
    b = np.concatenate([du * P[:, 2] - fx * P[:, 0], dv * P[:, 2] - fy * P[:, 1]])
    ww = np.concatenate([w, w])
    t, *_ = np.linalg.lstsq(A * ww[:, None], b * ww, rcond=None)
    # Never behind or inside the camera (degenerate input, e.g. all points on one pixel).
    t[2] = max(t[2], MIN_DEPTH - P[:, 2].min())
    return t


MAX_ROTATION_DEG = 45.0
"""A PnP rotation larger than this is a wrong local minimum, not a perspective correction."""


def place_in_camera(
    points: np.ndarray, pixels: np.ndarray, weights: np.ndarray, camera: np.ndarray, min_weight: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Rotation R (3, 3) and translation t (3,) with ``points @ R.T + t`` (N, 3) projecting
    onto ``pixels`` (N, 2). ``weights`` (N,): per-point confidence; the rotation is
    fitted on the points with ``weights >= min_weight`` (at least 4 of them)."""
    import cv2

    P = np.asarray(points, np.float64)
    p = np.asarray(pixels, np.float64)
    K = np.asarray(camera, np.float64)
    t = solve_translation(P, p, weights, K)
    R = np.eye(3)
    sel = np.asarray(weights) >= min_weight
    if sel.sum() < 4:
        return R, t
    ok, rvec, tvec = cv2.solvePnP(
        P[sel],
        p[sel],
        K,
        None,
        np.zeros((3, 1)),
        t.reshape(3, 1).copy(),
        useExtrinsicGuess=True,
        flags=cv2.SOLVEPNP_ITERATIVE,
    )
    if not ok or np.degrees(np.linalg.norm(rvec)) > MAX_ROTATION_DEG:
        return R, t
    R2, t2 = cv2.Rodrigues(rvec)[0], tvec.ravel()
    placed = P @ R2.T + t2
    if placed[sel, 2].min() < MIN_DEPTH:  # unseen points (a close-up's legs) may come near
        return R, t
    before = np.median(reprojection_error(P[sel] + t, p[sel], K))
    after = np.median(reprojection_error(placed[sel], p[sel], K))
    return (R2, t2) if after < before else (R, t)


def reprojection_error(points3d: np.ndarray, pixels: np.ndarray, camera: np.ndarray) -> np.ndarray:
    """Pixel distance (...,) between ``project(points3d)`` (..., 3) and ``pixels`` (..., 2)."""
    from ..core.motion import project

    return np.linalg.norm(project(points3d, camera) - np.asarray(pixels, np.float64), axis=-1)


# ---------------------------------------------------------------------------- on the rays
SEEN = 0.5
"""A joint with this confidence is 'seen': its 3D point goes on its camera ray."""


def pixel_rays(pixels: np.ndarray, camera: np.ndarray) -> np.ndarray:
    """(..., 3) rays with z = 1 through ``pixels`` (..., 2): ``depth * ray`` projects onto the pixel."""
    K = np.asarray(camera, np.float64)
    p = np.asarray(pixels, np.float64)
    return np.stack([(p[..., 0] - K[0, 2]) / K[0, 0], (p[..., 1] - K[1, 2]) / K[1, 1], np.ones(p.shape[:-1])], -1)


def clip_bone_lengths(placed: np.ndarray, seen: np.ndarray, valid: np.ndarray, parents, mirror) -> np.ndarray:
    """(J,) one length per bone for the whole clip (0 at the root): the median of the metric
    model's bone over the frames where both ends are seen (all valid frames if never),
    averaged with its mirror bone (a person's left and right bones match)."""
    par = np.asarray(parents)
    n = np.linalg.norm(placed - placed[:, np.maximum(par, 0)], axis=-1)  # (T, J)
    both = seen & seen[:, np.maximum(par, 0)]
    L = np.zeros(len(par))
    for j in range(1, len(par)):
        sel = both[:, j] if both[:, j].any() else valid
        L[j] = float(np.median(n[sel, j])) if sel.any() else 0.0
    return 0.5 * (L + L[np.asarray(mirror)])


LENGTH_WEIGHT = 0.35
"""How far a seen child's depth moves from the metric prior towards its clip length (1 = all
the way): 0.35 measured best of 0.25 / 0.35 / 0.5 / 1 against both ``benchmarks.bench_alignment``
and ``benchmarks.bench_3d_accuracy`` (module docstring)."""


def ray_quadratic(parent: np.ndarray, ray: np.ndarray, length) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where a child on ``ray`` (..., 3; z = 1) is ``length`` (...) from ``parent`` (..., 3):
    ``|d ray - parent| = length`` has the roots ``mid +- half`` (depths, (...) each); ``reaches``
    (...) bool is False where the ray passes farther from the parent than ``length``."""
    a = np.sum(ray * ray, -1)
    mid = np.sum(ray * parent, -1) / a
    disc = mid * mid - (np.sum(parent * parent, -1) - length * length) / a
    return mid, np.sqrt(np.maximum(disc, 0.0)), disc > 0


def depth_at_length(parent: np.ndarray, ray: np.ndarray, length: float, prior: np.ndarray) -> np.ndarray:
    """(N,) depths of a child on its ray (N, 3; z = 1), moved from ``prior`` (N,) towards the
    depth that gives its bone from ``parent`` (N, 3) the clip ``length``.

    ``|d ray - parent| = length`` is a quadratic in d with roots ``mid +- half``. Its root on the
    prior's side of ``mid`` is the target; the move is ``LENGTH_WEIGHT`` of the way, scaled down
    to 0 as the prior nears ``mid`` (the model cannot tell which end is nearer the camera, and
    the root choice would flip from frame to frame). Where the ray passes farther from the
    parent than ``length`` (no root) the prior is kept."""
    mid, half, reaches = ray_quadratic(parent, ray, length)
    target = mid + np.where(prior >= mid, half, -half)
    sure = np.clip(np.abs(prior - mid) / np.maximum(half, 1e-9), 0.0, 1.0)
    return prior + np.where(reaches, LENGTH_WEIGHT * sure, 0.0) * (target - prior)


def on_rays(
    placed: np.ndarray,
    pixels: np.ndarray,
    conf: np.ndarray,
    valid: np.ndarray,
    camera: np.ndarray,
    skeleton,
    continuous: bool = False,
) -> np.ndarray:
    """Camera-space joints (T, J, 3) that agree with the 2D (the model of the module's last section).

    placed (T, J, 3): the metric body placed by :func:`place_in_camera`; pixels (T, J, 2) the
    2D joints; conf (T, J); valid (T,). Every seen joint lies on its camera ray; unseen bones
    have their clip length (:func:`clip_bone_lengths`). ``continuous``: the depth steps of seen
    bones take the temporally continuous sign (``models.extract.swaps.continuous_signs``)."""
    from .swaps import continuous_signs

    P = np.asarray(placed, np.float64)
    T, J = P.shape[:2]
    par = np.asarray(skeleton.parents)
    mirror = [skeleton.index.get(skeleton.mirror(n) or n, j) for j, n in enumerate(skeleton.joint_names)]
    seen = (np.asarray(conf) >= SEEN) & np.asarray(valid, bool)[:, None]
    L = clip_bone_lengths(P, seen, np.asarray(valid, bool), par, mirror)
    rays = pixel_rays(pixels, camera)
    X = np.where(seen[..., None], P[..., 2:3] * rays, 0.0)  # seen: on the ray at the model's depth
    done = seen.copy()
    both = seen & seen[:, np.maximum(par, 0)]
    steps = P[..., 2] - P[:, np.maximum(par, 0), 2]  # (T, J) the model's depth step along each bone
    if continuous:
        steps = steps * continuous_signs(steps, np.maximum(L, 1e-6), both)
    for j in range(1, J):  # a seen bone: the child's depth is the parent's plus the model's depth step
        sel = both[:, j]
        X[sel, j] = np.maximum(X[sel, par[j], 2] + steps[sel, j], MIN_DEPTH)[:, None] * rays[sel, j]
    ray_lengths = clip_bone_lengths(X, seen, np.asarray(valid, bool), par, mirror)
    for j in range(1, J):  # then moved towards the bone's clip length on the rays (depth_at_length)
        sel = both[:, j]
        prior = X[sel, par[j], 2] + steps[sel, j]
        depth = depth_at_length(X[sel, par[j]], rays[sel, j], ray_lengths[j], prior)
        X[sel, j] = np.maximum(depth, MIN_DEPTH)[:, None] * rays[sel, j]
    unit = P - P[:, np.maximum(par, 0)]
    unit /= np.maximum(np.linalg.norm(unit, axis=-1, keepdims=True), 1e-9)
    children = [np.flatnonzero(par == j) for j in range(J)]
    for _ in range(J):  # unseen joints hang from placed neighbours along the model's directions
        before = done.sum()
        for j in range(1, J):  # down from a placed parent
            sel = ~done[:, j] & done[:, par[j]]
            X[sel, j] = X[sel, par[j]] + L[j] * unit[sel, j]
            done[:, j] |= sel
        for j in reversed(range(J)):  # up from a placed child
            for c in children[j]:
                sel = ~done[:, j] & done[:, c]
                X[sel, j] = X[sel, c] - L[c] * unit[sel, c]
                done[:, j] |= sel
        if done.sum() == before:
            break
    return np.where(done[..., None], X, P)
