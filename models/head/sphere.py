"""The 3D head sphere: per-frame head rotation, centre and radius, smoothed over time.

Head frame (the columns of ``Motion.head_rotation``, camera-from-head)
-------------------------------------------------------------------
``x`` towards the subject's RIGHT ear, ``y`` DOWN (forehead to chin), ``z`` FORWARD
out of the face (right-handed; the frame of ``models.head.canonical_face``). A face
looking straight into the camera therefore has ``head_rotation == FACING_CAMERA
== diag(-1, 1, -1)``: its right ear is on the image's left, its nose towards -z.

Angles (``yaw_pitch_roll``) are right-handed turns about the head's own axes,
away from facing the camera, applied yaw, then pitch, then roll:

* yaw   > 0: the head turns to the subject's RIGHT (a frontal nose moves image-left);
* pitch > 0: the head tilts back, looking UP;
* roll  > 0: the head leans towards the subject's RIGHT shoulder.

How a frame is measured (``measure_head_pose``)
-----------------------------------------------
Camera model: the pinhole ``Motion.camera`` (K). The face's landmarks (x, y
pixels; z MediaPipe's relative depth in pixels at the face's scale) are lifted into
camera space, each point on its own pixel ray at the depth its z gives along the
face's line of sight, and aligned to the canonical face (``models.head.canonical_face``,
metric: eye centres 63 mm apart) by a similarity fit on its rigid landmarks. The
face's distance is the one at which the lifted face has the canonical face's size
(a few fixed-point steps from ``fx / pixel scale``), so depth rests on an average
adult face size and on K's focal length. The sphere's centre sits at
``HEAD_CENTRE_IN_HEAD`` in the head frame (2 cm above the eye line, one radius
behind the glabella), its radius is ``HEAD_RADIUS_M`` (0.095 m: a mean adult head
is about 0.19 m long). Without face3d (2D landmarks only) a perspective-n-point
fit of the canonical face does the same job (``measure_head_pose_2d``); the two
agree to about 1.5 degrees on real video.

Over time (``fit_head_sphere``)
-------------------------------
Measured frames are smoothed by Gaussian-weighted local-linear fits (no lag at clip
ends or gap edges; rotations as sign-aligned quaternions, so no flips). Frames without a face: gaps of at most ``max_hold`` frames between
two measured frames are interpolated (slerp); otherwise the nearest measured head
is held for up to ``max_hold`` frames. Where the body is tracked, its head joints
give the centre instead (offset to agree with the face where both were seen) and the
rotation is held or interpolated. Frames beyond every rule have ``head_radius == 0``:
no head to draw. ``head_valid`` is True only where the face was measured. A character fitted to
its silhouette (``fitted_head`` from ``models.extract.stylized``) takes its fitted head's centre
and radius instead (``fitted_heads``): a chibi's head is far larger than ``HEAD_RADIUS_M``.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from ..core.errors import DreamActorError
from ..core.motion import Motion
from ..core.smoothing import smooth_series
from .canonical_face import CANONICAL_FACE, RIGID_LANDMARKS, similarity_fit

HEAD_RADIUS_M = 0.095
HEAD_CENTRE_IN_HEAD = np.array([0.0, -0.02, -0.076])
"""Sphere centre in the head frame (metres from the point between the eye centres):
2 cm up, and 9.5 cm (one radius) behind the canonical glabella (z = +1.9 cm)."""

FACING_CAMERA = np.diag([-1.0, 1.0, -1.0])
"""Camera-from-head rotation of a face looking straight down the camera's -z."""

BODY_HEAD_CONF = 0.3
"""Minimum joint confidence for a body joint to place the head."""


# ------------------------------------------------------------------ angles
def yaw_pitch_roll(rotation: np.ndarray, centre: np.ndarray | None = None) -> np.ndarray:
    """rotation (..., 3, 3) camera-from-head -> (..., 3) yaw, pitch, roll in degrees.

    See the module docstring for the signs: intrinsic Y (yaw), X (pitch), Z (roll)
    away from ``FACING_CAMERA``. With ``centre`` (..., 3) (the head's position in
    camera space) the angles are relative to looking into the lens along the line of
    sight instead of along the camera axis: the pose as a viewer of the frame judges
    it, whatever the camera's field of view.
    """
    R = np.asarray(rotation, np.float64)
    shape = R.shape[:-2]
    R = R.reshape(-1, 3, 3)
    rest = np.broadcast_to(FACING_CAMERA, R.shape)
    if centre is not None:
        c = np.asarray(centre, np.float64).reshape(-1, 3)
        rest = np.stack([line_of_sight_rotation(p) for p in c]) @ FACING_CAMERA
    rel = np.swapaxes(rest, -1, -2) @ R
    return Rotation.from_matrix(rel).as_euler("YXZ", degrees=True).reshape(*shape, 3)


def rotation_from_yaw_pitch_roll(ypr_deg) -> np.ndarray:
    """(..., 3) yaw, pitch, roll in degrees -> (..., 3, 3) camera-from-head rotation."""
    ypr = np.asarray(ypr_deg, np.float64)
    rel = Rotation.from_euler("YXZ", ypr.reshape(-1, 3), degrees=True).as_matrix()
    return (FACING_CAMERA @ rel).reshape(*ypr.shape[:-1], 3, 3)


def line_of_sight_rotation(point: np.ndarray) -> np.ndarray:
    """(3, 3) the smallest rotation taking the camera's +z axis onto the ray to
    ``point`` (3,) in camera space: how an oblique view is turned to camera axes."""
    d = np.asarray(point, np.float64) / np.linalg.norm(point)
    axis = np.cross([0.0, 0.0, 1.0], d)
    sin, cos = np.linalg.norm(axis), d[2]
    if sin < 1e-12:
        return np.eye(3)
    return Rotation.from_rotvec(axis / sin * np.arctan2(sin, cos)).as_matrix()


# ------------------------------------------------------------------ one frame
def _canonical_for(num_points: int) -> tuple[np.ndarray, np.ndarray]:
    """The canonical points and rigid indices for 478 (with irises) or 468 landmarks."""
    if num_points not in (468, 478):
        raise DreamActorError(
            f"the motion has {num_points} face landmarks; the head sphere needs MediaPipe's 468 or 478",
            fix="re-extract the motion with DreamActor Skeleton Extract",
            input="motion",
        )
    return CANONICAL_FACE[:num_points], RIGID_LANDMARKS[RIGID_LANDMARKS < num_points]


def pixel_rays(pixels: np.ndarray, camera: np.ndarray) -> np.ndarray:
    """pixels (..., 2) -> (..., 3) camera-space directions with z = 1."""
    K = np.asarray(camera, np.float64)
    p = np.asarray(pixels, np.float64)
    return np.stack([(p[..., 0] - K[0, 2]) / K[0, 0], (p[..., 1] - K[1, 2]) / K[1, 1], np.ones(p.shape[:-1])], -1)


def unproject_face(face3d: np.ndarray, depth: float, camera: np.ndarray) -> np.ndarray:
    """MediaPipe face points (N, 3) -> camera space (N, 3) metres, with the points'
    centroid at camera depth ``depth``.

    Each point lies on its pixel's ray, at the distance along the face's line of
    sight (the ray through the centroid) that its z gives: MediaPipe's z is depth
    along that line, in pixels at the face's scale ``fx / depth``."""
    p = np.asarray(face3d, np.float64)
    rays = pixel_rays(p[:, :2], camera)
    sight = pixel_rays(p[:, :2].mean(0), camera)
    sight /= np.linalg.norm(sight)
    along = depth / sight[2] + (p[:, 2] - p[:, 2].mean()) * depth / float(np.asarray(camera)[0, 0])
    return rays * (along / (rays @ sight))[:, None]


def measure_head_pose(
    face3d: np.ndarray,
    camera: np.ndarray,
    iterations: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """One frame: face3d (F, 3) px (x, y, MediaPipe z at pixel scale), camera (3, 3)
    -> rotation (3, 3) camera-from-head, sphere centre (3,) metres camera space.

    The landmarks are lifted into camera space (``unproject_face``) and the rigid ones
    aligned to the canonical face; the depth starts from the face's pixel size and is
    refined until the lifted face has the canonical face's (metric) size. Treating z
    as depth along the line of sight (not along the camera axis) is what agrees with
    a perspective-n-point fit of the 2D points alone, which needs no z."""
    canon, rigid = _canonical_for(face3d.shape[0])
    src, pts = canon[rigid].astype(np.float64), np.asarray(face3d, np.float64)
    scale_px, _, _ = similarity_fit(src, pts[rigid])  # pixels per metre
    depth = float(np.asarray(camera)[0, 0]) / scale_px
    for _ in range(iterations):
        s, R, t = similarity_fit(src, unproject_face(pts, depth, camera)[rigid])
        depth /= s  # the lifted face is s times too big: it is s times nearer
    s, R, t = similarity_fit(src, unproject_face(pts, depth, camera)[rigid])
    return R, t / s + R @ HEAD_CENTRE_IN_HEAD


def measure_head_pose_2d(face2d: np.ndarray, camera: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Like ``measure_head_pose`` from 2D landmarks only (F, 2) px: a perspective-n-point
    fit of the canonical face. None when the solver fails."""
    import cv2

    canon, rigid = _canonical_for(face2d.shape[0])
    obj = canon[rigid].astype(np.float64)
    img = np.asarray(face2d, np.float64)[rigid]
    ok, rvec, tvec = cv2.solvePnP(obj, img, np.asarray(camera, np.float64), None, flags=cv2.SOLVEPNP_SQPNP)
    if not ok or tvec[2, 0] <= 0:
        return None
    R = cv2.Rodrigues(rvec)[0]
    return R, tvec[:, 0] + R @ HEAD_CENTRE_IN_HEAD


# ------------------------------------------------------------------ time series
def continuous_quaternions(rotations: np.ndarray) -> np.ndarray:
    """(T, 3, 3) -> (T, 4) quaternions with each one's sign chosen nearest the previous,
    so that averaging neighbours never crosses the q / -q double cover."""
    q = Rotation.from_matrix(rotations).as_quat()
    for t in range(1, len(q)):
        if q[t] @ q[t - 1] < 0:
            q[t] = -q[t]
    return q


def smooth_rotations(rotations: np.ndarray, weights: np.ndarray, sigma: float) -> np.ndarray:
    """(T, 3, 3) rotations -> smoothed (T, 3, 3), listening only to weighted frames."""
    keep = np.asarray(weights) > 0
    out = np.array(rotations, np.float64)
    if sigma <= 0 or keep.sum() < 2:
        return out
    q = np.zeros((len(out), 4))
    q[keep] = continuous_quaternions(out[keep])
    q = smooth_series(q, sigma, keep)
    out[keep] = Rotation.from_quat(q[keep] / np.linalg.norm(q[keep], axis=1, keepdims=True)).as_matrix()
    return out


# ------------------------------------------------------------------ inputs
def face_measured(motion: Motion) -> np.ndarray:
    """(T,) bool: frames whose face landmarks were measured."""
    if motion.face2d.shape[1] == 0:
        return np.zeros(motion.num_frames, bool)
    fv = motion.get("face_valid")
    if fv is not None:
        return np.asarray(fv, bool).copy()
    return np.any(motion.face2d != 0, axis=(1, 2))


def body_head_centres(motion: Motion) -> tuple[np.ndarray, np.ndarray]:
    """Head centre from the body's 3D joints: the ears' midpoint, else the ``head``
    joint, else the nose. Returns centres (T, 3) metres and ok (T,) bool."""
    sk, j3, conf = motion.skeleton, np.asarray(motion.joints3d, np.float64), np.asarray(motion.conf)
    T = motion.num_frames
    centres, ok = np.zeros((T, 3)), np.zeros(T, bool)

    def joint(name):
        if name not in sk.index:
            return None, np.zeros(T, bool)
        j = sk[name]
        return j3[:, j], conf[:, j] >= BODY_HEAD_CONF

    (le, le_ok), (re, re_ok) = joint("left_ear"), joint("right_ear")
    candidates = []
    if le is not None and re is not None:
        candidates.append((0.5 * (le + re), le_ok & re_ok))
    for name in ("head", "nose"):
        p, p_ok = joint(name)
        if p is not None:
            candidates.append((p, p_ok))
    for p, p_ok in candidates:
        use = p_ok & ~ok & np.asarray(motion.valid, bool) & np.all(np.isfinite(p), 1) & (p[:, 2] > 0)
        centres[use], ok[use] = p[use], True
    return centres, ok


# ------------------------------------------------------------------ the fit
def measure_faces(motion: Motion) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame face measurements: rotations (T, 3, 3), centres (T, 3), measured (T,)."""
    T = motion.num_frames
    rotations = np.tile(np.eye(3), (T, 1, 1))
    centres = np.zeros((T, 3))
    measured = face_measured(motion)
    face3d = motion.get("face3d")
    for t in np.nonzero(measured)[0]:
        if face3d is not None:
            pose = measure_head_pose(np.asarray(face3d[t]), motion.camera)
        else:
            pose = measure_head_pose_2d(np.asarray(motion.face2d[t]), motion.camera)
        if pose is None or not np.all(np.isfinite(pose[1])) or pose[1][2] <= 0:
            measured[t] = False
            continue
        rotations[t], centres[t] = pose
    return rotations, centres, measured


def _nearest(index: np.ndarray, T: int) -> tuple[np.ndarray, np.ndarray]:
    """For every frame, the previous and next index in ``index`` (-1 / T when none)."""
    marks = np.zeros(T, bool)
    marks[index] = True
    prev = np.maximum.accumulate(np.where(marks, np.arange(T), -1))
    nxt = np.minimum.accumulate(np.where(marks, np.arange(T), T)[::-1])[::-1]
    return prev, nxt


def fill_face_gaps(
    rot: np.ndarray, ctr: np.ndarray, measured: np.ndarray, body_ctr: np.ndarray, body_ok: np.ndarray, max_hold: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heads for every frame from the measured ones (at least one).

    rot (T, 3, 3), ctr (T, 3): smoothed face measurements, used where ``measured``.
    body_ctr (T, 3), body_ok (T,): body head centres, already shifted onto the face's.
    Returns rotation (T, 3, 3), centre (T, 3), radius (T,) (0 = no head)."""
    T = len(measured)
    rotation, centre, radius = rot.copy(), ctr.copy(), np.where(measured, HEAD_RADIUS_M, 0.0)
    prev, nxt = _nearest(np.nonzero(measured)[0], T)
    for t in np.nonzero(~measured)[0]:
        p, n = prev[t], nxt[t]
        if p >= 0 and n < T and n - p - 1 <= max_hold:  # a short gap: interpolate
            a = (t - p) / (n - p)
            rotation[t] = Slerp([0.0, 1.0], Rotation.from_matrix(np.stack([rot[p], rot[n]])))(a).as_matrix()
            centre[t], radius[t] = (1 - a) * ctr[p] + a * ctr[n], HEAD_RADIUS_M
            continue
        near = p if (n >= T or (p >= 0 and t - p <= n - t)) else n
        rotation[t], centre[t] = rot[near], ctr[near]  # held (finite even where radius is 0)
        if body_ok[t]:
            centre[t], radius[t] = body_ctr[t], HEAD_RADIUS_M
        elif abs(t - near) <= max_hold:
            radius[t] = HEAD_RADIUS_M
    return rotation, centre, radius


def heads_from_body(
    body_ctr: np.ndarray,
    body_ok: np.ndarray,
    max_hold: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """No face on any frame: the body's head centre (at least one frame), facing the
    camera, held up to ``max_hold`` frames. Returns rotation, centre, radius as above."""
    T = len(body_ok)
    prev, nxt = _nearest(np.nonzero(body_ok)[0], T)
    frames = np.arange(T)
    near = np.where((nxt >= T) | ((prev >= 0) & (frames - prev <= nxt - frames)), prev, nxt)
    centre = body_ctr[near]
    rotation = np.stack([line_of_sight_rotation(c) @ FACING_CAMERA for c in centre])
    radius = np.where(np.abs(frames - near) <= max_hold, HEAD_RADIUS_M, 0.0)
    return rotation, centre, radius


def fitted_heads(motion: Motion, centre: np.ndarray, radius: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A character fitted to its silhouette (``models.extract.stylized``) carries its head
    circle as ``fitted_head`` (T, 4): centre xyz and radius in metres on the fitted body's
    scale. It sizes and places the sphere (a chibi's head is far above an adult's 0.095 m);
    a face mesh found on it still turns the sphere."""
    fitted = motion.get("fitted_head")
    if fitted is None:
        return centre, radius
    fitted = np.asarray(fitted, np.float64)
    use = np.asarray(motion.valid, bool) & (fitted[:, 3] > 0)
    return np.where(use[:, None], fitted[:, :3], centre), np.where(use, fitted[:, 3], radius)


def fit_head_sphere(motion: Motion, smoothing: float = 1.5, max_hold: int = 12) -> Motion:
    """The head sphere of every frame (see the module docstring). Never mutates ``motion``.

    smoothing: Gaussian sigma in frames for rotations and centres (0 = off).
    max_hold: longest face gap (frames) bridged by interpolation, and how long the
      last head is held where neither the face nor the body is seen.
    Returns ``motion.replace(head_center, head_radius, head_rotation, head_valid)``.
    """
    max_hold = max(0, int(max_hold))
    rot_meas, ctr_meas, measured = measure_faces(motion)
    body_ctr, body_ok = body_head_centres(motion)
    if not measured.any() and not body_ok.any():
        raise DreamActorError(
            "no face and no body was found on any frame, so there is no head to fit",
            fix="use a clip where the person's face or upper body is visible, and run "
            "DreamActor Skeleton Extract on it first",
            input="motion",
        )
    both = measured & body_ok
    if both.any():  # the body's depth comes from another model: shift it onto the face's
        body_ctr = body_ctr + np.median((ctr_meas - body_ctr)[both], axis=0)
    body_ctr = smooth_series(body_ctr, smoothing, body_ok)
    if measured.any():
        rotation, centre, radius = fill_face_gaps(
            smooth_rotations(rot_meas, measured, smoothing),
            smooth_series(ctr_meas, smoothing, measured),
            measured,
            body_ctr,
            body_ok,
            max_hold,
        )
    else:
        rotation, centre, radius = heads_from_body(body_ctr, body_ok, max_hold)
    centre, radius = fitted_heads(motion, centre, radius)
    return motion.replace(
        head_center=centre.astype(np.float32),
        head_radius=radius.astype(np.float32),
        head_rotation=rotation.astype(np.float32),
        head_valid=measured,
    )
