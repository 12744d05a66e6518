"""The ``wan-animate`` guide: the 2D pose picture the public Wan2.2-Animate weights saw.

Matched conventions, read from Wan2.2 (github.com/Wan-Video/Wan2.2)
``wan/modules/animate/preprocess/``: ``process_pipepline.py`` draws every pose
frame with ``draw_aapose_by_meta_new`` (``human_visualization.py``, default
``stickwidth_type="v2"``, ``threshold=0.5``, hands on, head on, no face
landmarks) on a black canvas; ``pose2d_utils.py`` builds the 20 body points.

* Points: OpenPose-18 (neck = mid-shoulder) + left toe + right toe (see
  ``models.render.pose_keypoint``); both hands, 21 points each; no face landmarks.
* Limbs (0-based point pairs, in drawing order): neck-r_shoulder,
  neck-l_shoulder, r_shoulder-r_elbow, r_elbow-r_wrist, l_shoulder-l_elbow,
  l_elbow-l_wrist, neck-r_hip, r_hip-r_knee, r_knee-r_ankle, neck-l_hip,
  l_hip-l_knee, l_knee-l_ankle, neck-nose, nose-r_eye, r_eye-r_ear, nose-l_eye,
  l_eye-l_ear, l_ankle-l_toe, r_ankle-r_toe. Limb i has colour ``COLORS[i]``
  scaled by 0.6 (``int(c * 0.6)``), drawn as a filled ellipse polygon along the
  limb (``cv2.ellipse2Poly`` with 1-degree steps, half-axes ``length / 2`` and
  the stick width, centre and angle truncated to int).
* Joints: after all limbs, point i is a filled circle of radius = stick width
  in the full ``COLORS[i]``.
* Hands: after the body, left then right; edge e (wrist-to-tip per finger,
  thumb first) is a line of the hand stick width in HSV hue e/20 at full
  saturation and value; then each point is a filled circle of that radius in
  pure blue (0, 0, 255). A hand edge or point is skipped when its truncated
  pixel coordinates are not > 0.01 (the detector's "missing" zeros).
* Sizes scale with the canvas: body stick width ``max(int(min(H, W) / 200) - 1, 1)``,
  hand ``max(max(int(min(H, W) / 200) - 1, 1) // 2, 1)`` (1/1 px at 832x480,
  2/1 px at 1280x720).
* A limb or joint is drawn when its confidence (both ends for a limb) is at
  least ``threshold`` (0.5 by default, as Wan). Colours are RGB: Wan draws on
  frames decoded as RGB (decord) and writes them as RGB video.
* Drawing is aliased (OpenCV's default 8-connected lines), as in Wan.

Where this differs: Wan's animation mode draws at the driving video's own
resolution and then letterboxes the picture to the reference size
(``padding_resize``), so there widths follow the source size and are resampled;
its retarget and replacement modes draw at the target size directly. Here the
pose is placed on the target canvas first (``models.render.fit``; 'contain'
rounds like ``padding_resize``) and drawn there, like those two modes.
"""

from __future__ import annotations

import colorsys
import math

import cv2
import numpy as np

from ..core.motion import Motion
from .fit import FrameFit
from .pose_keypoint import hand_keypoints, openpose_body

WAN_THRESHOLD = 0.5

LIMBS = (
    (1, 2),
    (1, 5),
    (2, 3),
    (3, 4),
    (5, 6),
    (6, 7),
    (1, 8),
    (8, 9),
    (9, 10),
    (1, 11),
    (11, 12),
    (12, 13),
    (1, 0),
    (0, 14),
    (14, 16),
    (0, 15),
    (15, 17),
    (13, 18),
    (10, 19),
)
COLORS = (
    (255, 0, 0),
    (255, 85, 0),
    (255, 170, 0),
    (255, 255, 0),
    (170, 255, 0),
    (85, 255, 0),
    (0, 255, 0),
    (0, 255, 85),
    (0, 255, 170),
    (0, 255, 255),
    (0, 170, 255),
    (0, 85, 255),
    (0, 0, 255),
    (85, 0, 255),
    (170, 0, 255),
    (255, 0, 255),
    (255, 0, 170),
    (255, 0, 85),
    (200, 200, 0),
    (100, 100, 0),
)
LIMB_SHADE = 0.6
HAND_EDGES = tuple((0 if k % 4 == 0 else k, k + 1) for k in range(20))
"""(wrist, thumb_cmc), (thumb_cmc, thumb_mcp), ..., (wrist, pinky_mcp), ... (pinky_dip, pinky_tip)."""
HAND_POINT_COLOR = (0, 0, 255)
_EPS = 0.01


def limb_color(i: int) -> tuple[int, int, int]:
    """Fill colour of limb ``i``: its palette colour at 60 %, truncated like Wan."""
    return tuple(int(float(c) * LIMB_SHADE) for c in COLORS[i])


def hand_edge_color(e: int) -> tuple[int, int, int]:
    """Colour of hand edge ``e`` (0..19): HSV hue e/20, rounded to the nearest level."""
    return tuple(int(round(c * 255)) for c in colorsys.hsv_to_rgb(e / len(HAND_EDGES), 1.0, 1.0))


def stick_widths(width: int, height: int) -> tuple[int, int]:
    """(body, hand) stick widths in pixels for a ``width`` x ``height`` canvas."""
    body = max(int(min(height, width) / 200) - 1, 1)
    return body, max(body // 2, 1)


def _draw_limb(canvas: np.ndarray, a: np.ndarray, b: np.ndarray, half_width: int, color) -> None:
    """A filled ellipse from a to b (canvas px), half-axes (length/2, half_width)."""
    length = math.hypot(a[0] - b[0], a[1] - b[1])
    angle = math.degrees(math.atan2(a[1] - b[1], a[0] - b[0]))
    centre = (int((a[0] + b[0]) / 2), int((a[1] + b[1]) / 2))
    poly = cv2.ellipse2Poly(centre, (int(length / 2), half_width), int(angle), 0, 360, 1)
    cv2.fillConvexPoly(canvas, poly, color)


def draw_body(canvas: np.ndarray, body: np.ndarray, threshold: float, width: int) -> None:
    """Body limbs then joints. body (20, 3) [x, y, conf] in canvas px."""
    for i, (p, q) in enumerate(LIMBS):
        if body[p, 2] >= threshold and body[q, 2] >= threshold:
            _draw_limb(canvas, body[p], body[q], width, limb_color(i))
    for i, (x, y, c) in enumerate(body):
        if c >= threshold:
            cv2.circle(canvas, (int(x), int(y)), width, COLORS[i], thickness=-1)


def draw_hand(canvas: np.ndarray, hand: np.ndarray, threshold: float, width: int) -> None:
    """One hand: edges then points. hand (21, 3) [x, y, conf] in canvas px."""
    pts = [(int(x), int(y)) for x, y, _ in hand]
    shown = [c >= threshold and x > _EPS and y > _EPS for (x, y), c in zip(pts, hand[:, 2])]
    for e, (p, q) in enumerate(HAND_EDGES):
        if shown[p] and shown[q]:
            cv2.line(canvas, pts[p], pts[q], hand_edge_color(e), thickness=width)
    for pt, ok in zip(pts, shown):
        if ok:
            cv2.circle(canvas, pt, width, HAND_POINT_COLOR, thickness=-1)


def render_wan_frame(motion: Motion, t: int, fit: FrameFit, threshold: float = WAN_THRESHOLD) -> np.ndarray:
    """Frame ``t`` as Wan-Animate draws it -> (H, W, 3) uint8 RGB; black when the frame is invalid."""
    canvas = np.zeros((fit.height, fit.width, 3), np.uint8)
    if not bool(motion.valid[t]):
        return canvas
    body_w, hand_w = stick_widths(fit.width, fit.height)
    body = openpose_body(motion, t, with_toes=True)
    body[:, :2] = fit.apply(body[:, :2])
    draw_body(canvas, body, threshold, body_w)
    hands = hand_keypoints(motion, t)
    hands[..., :2] = fit.apply(hands[..., :2])
    for hand in hands:  # person's left first, as Wan draws kps_lhand first
        draw_hand(canvas, hand, threshold, hand_w)
    return canvas
