"""The ``scail`` guide: the 3D skeleton as SCAIL / SCAIL-2 render it (core ``WanSCAILToVideo``).

Read from SCAIL's public pose rendering (zai-org/SCAIL-Pose, ``render_nlf_as_images`` /
``render_whole``) and written here in numpy:

- 13 bones of an OpenPose-ordered 3D skeleton, each a **capsule** (a cylinder with round
  ends) of radius 21.5 mm around the segment between two camera-space joints: neck to
  each shoulder, upper and lower arms, neck to each hip, thighs and shins, neck to head.
  SCAIL fills the OpenPose slots from SMPL joints (its ``process_data_to_COCO_format``):
  the "nose" slot is the SMPL head joint, the neck is the SMPL neck, the hips are the
  SMPL hips, the ankles the SMPL ankles; eyes and ears stay empty, so their bones are not
  drawn. This pack's skeleton has those SMPL-X joints by name.
- **Occlusion by depth**: each pixel's camera ray hits the nearest capsule (SCAIL ray
  marches a signed distance field; here the ray-capsule intersection is solved exactly).
- **Colours**: warm on the person's right, cool on the left, grey to the head, each
  ``c / 300 + 0.15`` of its 0-255 base (``ordered_colors_255``).
- **Shading**: ``colour * (0.3 + 0.7 * diffuse) * depth + 0.5 * specular * depth``: light
  along the view axis, Blinn-Phong exponent 32, ``depth = 1 - (z - near) / (far - 0.1 mm)``
  with ``near`` the clip's nearest joint depth and ``far = min(farthest + 6 m, 20 m)``.
- The 2D hands are drawn over the capsules in the DWPose hand convention, as SCAIL's
  pipeline overlays its 2D hand keypoints (``dw_hand``).

The camera is the motion's own (``Motion.camera``, 55 degrees across the long side, the
field of view SCAIL's renderer assumes too), mapped onto the canvas by the frame fit, so
the capsules land on the 2D joints. ``WanSCAILToVideo`` takes the pose video at any size
and halves it itself (area resize) to half the generated video's width and height.
"""

from __future__ import annotations

import numpy as np

from ..core.motion import Motion
from .fit import FrameFit
from .pose_keypoint import hand_keypoints
from .wan import draw_hand, stick_widths

SCAIL_THRESHOLD = 0.3
RADIUS_M = 0.0215
SHININESS = 32
DEPTH_SPAN_M = 6.0  # far = min(farthest joint + 6 m, 20 m), as SCAIL's renderer (in mm there)
DEPTH_LIMIT_M = 20.0
ZNEAR_M = 1e-4

# (start joint, end joint, 0-255 base colour), in SCAIL's drawing order (from the neck out)
BONES = (
    ("neck", "right_shoulder", (255, 0, 0)),  # red
    ("right_shoulder", "right_elbow", (255, 85, 0)),  # orange
    ("right_elbow", "right_wrist", (255, 170, 0)),  # golden orange
    ("neck", "left_shoulder", (0, 255, 255)),  # cyan
    ("left_shoulder", "left_elbow", (0, 170, 255)),  # sky blue
    ("left_elbow", "left_wrist", (0, 85, 255)),  # medium blue
    ("neck", "right_hip", (180, 255, 0)),  # yellow-green
    ("right_hip", "right_knee", (0, 255, 0)),  # bright green
    ("right_knee", "right_ankle", (0, 255, 85)),  # light green-blue
    ("neck", "left_hip", (0, 0, 255)),  # pure blue
    ("left_hip", "left_knee", (85, 0, 255)),  # purple-blue
    ("left_knee", "left_ankle", (170, 0, 255)),  # medium purple
    ("neck", "head", (150, 150, 150)),  # grey
)


def bone_color(base) -> np.ndarray:
    """SCAIL's unlit colour of a bone, RGB in [0, 1]: ``c / 300 + 0.15`` per channel."""
    return np.asarray(base, np.float64) / 300.0 + 0.15


def camera_rays(motion: Motion, fit: FrameFit) -> np.ndarray:
    """Unit view rays (H, W, 3) through the canvas pixel centres, in the motion's camera space."""
    ys, xs = np.mgrid[0 : fit.height, 0 : fit.width].astype(np.float64)
    src = fit.invert(np.stack([xs, ys], -1))  # canvas px -> source px
    K = np.asarray(motion.camera, np.float64)
    d = np.stack([(src[..., 0] - K[0, 2]) / K[0, 0], (src[..., 1] - K[1, 2]) / K[1, 1], np.ones_like(xs)], -1)
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def capsule_hits(rays: np.ndarray, a: np.ndarray, b: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Nearest hit of rays from the origin with the capsule a-b.

    rays (..., 3) unit; a, b (3,). Returns (t (...) distance along the ray, inf where
    missed; normal (..., 3) unit surface normal at the hit).
    """
    ba, oa = b - a, -a
    baba, baoa, oaoa = ba @ ba, ba @ oa, oa @ oa
    bard, rdoa = rays @ ba, rays @ oa
    qa = baba - bard * bard
    qb = baba * rdoa - baoa * bard
    qc = baba * oaoa - baoa * baoa - radius * radius * baba
    h = qb * qb - qa * qc
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (-qb - np.sqrt(h)) / qa
        y = baoa + t * bard
        side = (h >= 0) & (qa > 1e-12) & (y > 0) & (y < baba)
        t = np.where(side, t, np.inf)
        for centre in (a, b):  # the round ends
            oc = -centre
            hb = rays @ oc
            hc = oc @ oc - radius * radius
            hh = hb * hb - hc
            tc = -hb - np.sqrt(np.maximum(hh, 0.0))
            t = np.where(~side & (hh >= 0) & (tc > 0) & (tc < t), tc, t)
    p = rays * np.where(np.isfinite(t), t, 0.0)[..., None]
    s = np.clip(((p - a) @ ba) / max(baba, 1e-12), 0.0, 1.0)
    normal = p - (a + s[..., None] * ba)
    normal /= np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), 1e-12)
    return t, normal


def depth_range(motion: Motion, joints: list[str], threshold: float) -> tuple[float, float]:
    """(near, far) in metres for the depth fade, over the whole clip's drawn joints."""
    idx = [motion.skeleton[j] for j in joints]
    z = motion.joints3d[:, idx, 2][(motion.conf[:, idx] >= threshold) & motion.valid[:, None]]
    z = z[z > ZNEAR_M]
    if z.size == 0:
        return ZNEAR_M, DEPTH_LIMIT_M
    return max(float(z.min()), ZNEAR_M), min(float(z.max()) + DEPTH_SPAN_M, DEPTH_LIMIT_M)


def shade(color: np.ndarray, normal: np.ndarray, rays: np.ndarray, z: np.ndarray, near: float, far: float):
    """SCAIL's lit colour (..., 3) in [0, 1] at hits with ``normal``, seen along ``rays``, depth ``z``."""
    light = np.array([0.0, 0.0, -1.0])  # towards the camera (SCAIL: -light_dir)
    diffuse = np.maximum(normal @ light, 0.0)
    half = -rays + light
    half /= np.linalg.norm(half, axis=-1, keepdims=True)
    specular = np.maximum(np.sum(normal * half, -1), 0.0) ** SHININESS
    fade = np.clip(1.0 - (z - near) / (far - ZNEAR_M), 0.0, 1.0)
    lit = color * (0.3 + 0.7 * diffuse)[..., None] + 0.5 * specular[..., None]
    return np.clip(lit * fade[..., None], 0.0, 1.0)


def render_scail_frame(motion: Motion, t: int, fit: FrameFit, threshold: float = SCAIL_THRESHOLD) -> np.ndarray:
    """Frame ``t`` as SCAIL's pose guide -> (H, W, 3) uint8 RGB; black when the frame is invalid."""
    canvas = np.zeros((fit.height, fit.width, 3), np.uint8)
    if not bool(motion.valid[t]):
        return canvas
    sk, j3, conf = motion.skeleton, motion.joints3d[t].astype(np.float64), motion.conf[t]
    usable = lambda name: conf[sk[name]] >= threshold and j3[sk[name], 2] > ZNEAR_M  # noqa: E731
    bones = [(sk[a], sk[b], base) for a, b, base in BONES if usable(a) and usable(b)]
    if bones:
        rays = camera_rays(motion, fit)
        near, far = depth_range(motion, sorted({n for a, b, _ in BONES for n in (a, b)}), threshold)
        best = np.full(rays.shape[:2], np.inf)
        image = np.zeros(rays.shape)
        for a, b, base in bones:
            hit, normal = capsule_hits(rays, j3[a], j3[b], RADIUS_M)
            nearer = hit < best
            if nearer.any():
                best[nearer] = hit[nearer]
                z = hit[nearer] * rays[nearer][:, 2]
                image[nearer] = shade(bone_color(base), normal[nearer], rays[nearer], z, near, far)
        canvas[:] = (image * 255.0 + 0.5).astype(np.uint8)
    hands = hand_keypoints(motion, t)
    hands[..., :2] = fit.apply(hands[..., :2])
    for hand in hands:
        draw_hand(canvas, hand, threshold, stick_widths(fit.width, fit.height)[1])
    return canvas
