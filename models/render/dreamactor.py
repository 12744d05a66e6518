"""The ``dreamactor`` guide: the 3D skeleton drawn far-to-near, and the head sphere.

DreamActor-M1 (arXiv 2504.01724) guides its DiT with a rendered 3D body
skeleton plus a colour-coded head sphere instead of 2D face landmarks. Its
renderer was not released; this is the pack's own convention:

* Bones are the skeleton's parent-child pairs, projected from ``joints3d`` with
  the motion's camera. Hands come from ``hands3d`` when present, else from
  ``hands2d`` at the depth of the body's wrist.
* Painter's order: every bone, hand bone and the head sphere is one item at
  its mean camera depth; items are painted from far to near, so a near limb
  covers a far one where they cross.
* Depth cues, relative to the pelvis (stable over time, unlike a per-frame
  min/max): a bone nearer than the pelvis is brighter and thicker, a farther
  one darker and thinner. Width = perspective width of a ``BONE_WIDTH_M`` tube,
  exaggerated by ``(z_ref / z) ** 2``.
* Colours: the person's right side warm (red/orange arm, magenta/pink leg),
  left side cool (blue/cyan arm, green/lime leg), the spine white, so the
  sides stay apart even in a back view; fingers one hue each, warm on the
  right hand, cool on the left.
* With a head sphere on the frame (``head_radius > 0``) the sphere stands for
  the head: the bones to head, nose, eyes and ears are left out. Without one
  they are drawn.
* Anti-aliased: each bone is one convex capsule polygon filled by OpenCV with
  ``LINE_AA`` at 1/16-pixel precision (sub-pixel positions and widths, so
  slow motion does not jitter); the sphere's outline has analytic coverage.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..core.errors import DreamActorError
from ..core.motion import Motion, project
from ..core.skeleton import HAND
from .fit import FrameFit
from .sphere import FACE_AXIS, draw_sphere

DREAMACTOR_THRESHOLD = 0.3
BONE_WIDTH_M = 0.05
HAND_WIDTH_M = 0.016
MIN_DEPTH_M = 0.05
"""Joints nearer than this (or behind the camera) cannot be projected and are skipped."""
HEAD_PARTS = ("head", "nose", "left_eye", "right_eye", "left_ear", "right_ear")

_SHIFT = 4
_ONE = 1 << _SHIFT

BONE_COLORS = {  # by child joint name, RGB
    "spine1": (235, 235, 235),
    "spine2": (235, 235, 235),
    "spine3": (235, 235, 235),
    "neck": (235, 235, 235),
    "head": (255, 240, 150),
    "nose": (255, 240, 150),
    "right_eye": (255, 150, 110),
    "right_ear": (255, 110, 80),
    "left_eye": (110, 190, 255),
    "left_ear": (80, 150, 255),
    "right_collar": (255, 150, 150),
    "right_shoulder": (255, 150, 150),
    "right_elbow": (255, 45, 45),
    "right_wrist": (255, 150, 0),
    "left_collar": (150, 175, 255),
    "left_shoulder": (150, 175, 255),
    "left_elbow": (45, 95, 255),
    "left_wrist": (0, 215, 255),
    "right_hip": (255, 140, 220),
    "right_knee": (235, 0, 190),
    "right_ankle": (255, 100, 170),
    "right_foot": (255, 190, 130),
    "right_heel": (255, 190, 130),
    "left_hip": (150, 235, 170),
    "left_knee": (0, 200, 80),
    "left_ankle": (150, 255, 60),
    "left_foot": (190, 255, 170),
    "left_heel": (190, 255, 170),
}
DEFAULT_BONE_COLOR = (200, 200, 200)
FINGER_COLORS = (  # thumb, index, middle, ring, pinky
    ((60, 120, 255), (40, 190, 255), (40, 240, 210), (120, 110, 255), (175, 90, 255)),  # person's left
    ((255, 60, 60), (255, 135, 40), (255, 205, 40), (255, 90, 150), (235, 60, 230)),  # person's right
)


def depth_factor(z: float, z_ref: float) -> tuple[float, float]:
    """(brightness, width factor) for an item at depth z with the pelvis at z_ref (metres)."""
    brightness = float(np.clip(0.72 - 1.0 * (z - z_ref), 0.3, 1.0))
    width = float(np.clip((z_ref / z) ** 2, 0.5, 2.0))
    return brightness, width


def _capsule_polygon(a: np.ndarray, b: np.ndarray, radius: float) -> np.ndarray:
    """Convex outline (N, 2) of the stadium of ``radius`` around segment a-b (canvas px)."""
    seg = b - a
    length = float(np.hypot(*seg))
    u = seg / length if length > 1e-6 else np.array([1.0, 0.0])
    n = np.array([-u[1], u[0]])
    steps = int(np.clip(radius, 3, 10))
    ang = np.linspace(-np.pi / 2, np.pi / 2, steps + 1)[:, None]
    cap_b = b + radius * (np.cos(ang) * u + np.sin(ang) * n)  # from -n round +u to +n
    cap_a = a + radius * (-np.cos(ang) * u - np.sin(ang) * n)  # from +n round -u to -n
    return np.concatenate([cap_b, cap_a], 0)


def draw_capsule(canvas: np.ndarray, a: np.ndarray, b: np.ndarray, radius: float, color) -> None:
    """Anti-aliased filled capsule a-b with sub-pixel precision, in place."""
    poly = np.round(_capsule_polygon(np.asarray(a, float), np.asarray(b, float), max(radius, 0.5)) * _ONE)
    cv2.fillConvexPoly(canvas, poly.astype(np.int32), color, cv2.LINE_AA, _SHIFT)


def _shade(color, brightness: float) -> tuple[int, int, int]:
    return tuple(int(round(c * brightness)) for c in color)


def _reference_depth(motion: Motion, t: int, usable: np.ndarray) -> float:
    """The pelvis depth, or the median depth of the usable joints when the pelvis is not usable."""
    z = motion.joints3d[t, :, 2]
    root = 0  # the skeleton's root (pelvis for BODY)
    return float(z[root]) if usable[root] else float(np.median(z[usable]))


def _has_sphere(motion: Motion, t: int) -> bool:
    """A head to draw: a positive radius (``models.head.sphere`` zeroes it where it has
    no head; ``head_valid`` only says "measured", and held or interpolated heads
    are drawn too) and the sphere wholly in front of the camera."""
    r = float(motion.head_radius[t])
    return r > 0 and float(motion.head_center[t, 2]) > r


def _body_items(motion: Motion, t: int, fit: FrameFit, usable: np.ndarray, z_ref: float, skip_head: bool) -> list:
    """(depth, draw-callable) for each drawable body bone."""
    sk = motion.skeleton
    P = motion.joints3d[t].astype(np.float64)
    uv = fit.apply(project(P, motion.camera))
    px_per_m = float(np.asarray(motion.camera)[0, 0]) * fit.length_scale
    items = []
    for p, c in sk.bones:
        name = sk.joint_names[c]
        if not (usable[p] and usable[c]) or (skip_head and name in HEAD_PARTS):
            continue
        z = 0.5 * (P[p, 2] + P[c, 2])
        bright, widen = depth_factor(z, z_ref)
        radius = 0.5 * BONE_WIDTH_M * px_per_m / z * widen
        color = _shade(BONE_COLORS.get(name, DEFAULT_BONE_COLOR), bright)
        items.append((z, draw_capsule, (uv[p], uv[c], radius, color)))
    return items


def _hand_items(motion: Motion, t: int, fit: FrameFit, threshold: float, usable: np.ndarray, z_ref: float) -> list:
    """(depth, draw-callable) for each drawable hand bone of both hands."""
    hands3d = motion.get("hands3d")
    px_per_m = float(np.asarray(motion.camera)[0, 0]) * fit.length_scale
    sk = motion.skeleton
    items = []
    for side in (0, 1):
        conf_ok = motion.hands_conf[t, side] >= threshold
        if hands3d is not None and np.all(np.asarray(hands3d)[t, side, :, 2] > MIN_DEPTH_M):
            P = np.asarray(hands3d, np.float64)[t, side]
            uv = fit.apply(project(P, motion.camera))
            depth = P[:, 2]
        else:
            uv = fit.apply(motion.hands2d[t, side])
            wrist = sk.index.get(("left_wrist", "right_wrist")[side])
            z = float(motion.joints3d[t, wrist, 2]) if wrist is not None and usable[wrist] else z_ref
            depth = np.full(HAND.num_joints, z)
        for p, c in HAND.bones:
            if not (conf_ok[p] and conf_ok[c]):
                continue
            z = 0.5 * (depth[p] + depth[c])
            bright, widen = depth_factor(z, z_ref)
            radius = 0.5 * HAND_WIDTH_M * px_per_m / z * widen
            finger = (c - 1) // 4
            color = _shade(FINGER_COLORS[side][finger], bright)
            # Slightly nearer than the wrist so fingers cover the forearm's end.
            items.append((z - 1e-3, draw_capsule, (uv[p], uv[c], radius, color)))
    return items


def render_dreamactor_frame(
    motion: Motion, t: int, fit: FrameFit, threshold: float = DREAMACTOR_THRESHOLD, face_axis: np.ndarray = FACE_AXIS
) -> np.ndarray:
    """Frame ``t`` as the DreamActor guide -> (H, W, 3) uint8 RGB; black when the frame is invalid."""
    canvas = np.zeros((fit.height, fit.width, 3), np.uint8)
    if not bool(motion.valid[t]):
        return canvas
    confident = motion.conf[t] >= threshold
    usable = confident & (motion.joints3d[t, :, 2] > MIN_DEPTH_M)
    if confident.any() and not usable.any():
        raise DreamActorError(
            f"frame {t} has 2D joints but no 3D joints in front of the camera",
            fix="use the 'wan-animate' style, or extract the motion again so it has 3D joints",
            input="motion",
        )
    sphere = _has_sphere(motion, t)
    if not (usable.any() or sphere):
        return canvas
    z_ref = _reference_depth(motion, t, usable) if usable.any() else float(motion.head_center[t, 2])
    items = _body_items(motion, t, fit, usable, z_ref, skip_head=sphere)
    items += _hand_items(motion, t, fit, threshold, usable, z_ref)
    if sphere:
        args = (
            motion.head_center[t],
            float(motion.head_radius[t]),
            motion.head_rotation[t],
            motion.camera,
            fit,
            face_axis,
        )
        items.append((float(motion.head_center[t, 2]), draw_sphere, args))
    for _, draw, args in sorted(items, key=lambda item: -item[0]):
        draw(canvas, *args)
    return canvas
