"""Move a face crop's mouth to a target opening and shape by warping it by its landmarks.

The lips are moved, not pasted: a smooth displacement field, zero outside an ellipse
around the mouth and chin, lifts the upper lip a little and drops the lower lip and
jaw more (as a jaw opens), and pulls the mouth corners in (rounded vowels) or out
(spread vowels). The crop is resampled through the inverse of that field, so the
lips, skin and stubble keep their own texture. Where the lips part, the stretched
lip seam is covered by a mouth cavity drawn inside the moved inner lip contour: a
dark throat with a soft hint of upper teeth, feathered at its edge.

Landmarks are MediaPipe face-mesh indices (478-point topology), in crop pixels.
"""

from __future__ import annotations

import numpy as np

from .visemes import FV, ROUNDED, SPREAD

UPPER_INNER = np.array([78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308])
LOWER_INNER = np.array([78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308])
UPPER_OUTER = np.array([61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291])
LOWER_OUTER = np.array([61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291])
MOUTH_CORNERS = (61, 291)
INNER_MID = (13, 14)  # upper and lower inner lip, middle
EYE_CORNERS = (33, 263)
NOSE_TIP, CHIN = 1, 152
KEPT = np.unique(np.concatenate([UPPER_INNER, LOWER_INNER, UPPER_OUTER, LOWER_OUTER, [33, 263, 1, 152]]))
"""The landmarks a warp needs (kept per frame instead of all 478)."""

MAX_GAP = 0.5
"""Inner-lip gap of a fully open mouth (openness 1), as a fraction of the mouth's width."""
CAVITY = np.array([45.0, 18.0, 22.0])
TEETH = np.array([215.0, 208.0, 196.0])
ITERATIONS = 8
"""Fixed-point steps inverting the field (closing an open mouth compresses, which converges slowly)."""


def mouth_frame(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """points (478, 2) crop px -> (centre (2,), across (2,) unit, down (2,) unit, width px):
    the mouth's centre and the face's axes (along the eye line and perpendicular, down)."""
    across = points[EYE_CORNERS[1]] - points[EYE_CORNERS[0]]
    across = across / (np.linalg.norm(across) + 1e-9)
    down = np.array([-across[1], across[0]])
    centre = 0.5 * (points[INNER_MID[0]] + points[INNER_MID[1]])
    width = float(np.linalg.norm(points[MOUTH_CORNERS[1]] - points[MOUTH_CORNERS[0]]))
    return centre, across, down, width


def mouth_opening(points: np.ndarray) -> float:
    """Inner-lip gap over the eye-corner distance (the measure used to check warps):
    0 for closed lips, ~0.3-0.4 for a wide-open mouth."""
    gap = float(np.linalg.norm(points[INNER_MID[1]] - points[INNER_MID[0]]))
    return gap / float(np.linalg.norm(points[EYE_CORNERS[1]] - points[EYE_CORNERS[0]]) + 1e-9)


def target_gap(openness: float, width: float) -> float:
    """Inner-lip gap in px for ``openness`` in [0, 1] on a mouth ``width`` px wide."""
    return float(np.clip(openness, 0.0, 1.0)) * MAX_GAP * width


def _lip_profiles(points: np.ndarray, centre, across, down):
    """The inner lips as functions of s (along the eye line from the mouth centre): returns
    (s_upper, t_upper, s_lower, t_lower), each sorted by s (t: px down from the centre)."""
    up = _sorted_profile(points[UPPER_INNER], centre, across, down)
    lo = _sorted_profile(points[LOWER_INNER], centre, across, down)
    return up[0], up[1], lo[0], lo[1]


def _field(coords: np.ndarray, points: np.ndarray, want: float, d_width: float) -> np.ndarray:
    """Displacement (..., 2) px at ``coords`` (..., 2) that gives the inner lips a gap of
    ``want`` px in the middle (an elliptic opening, whatever the source mouth's own shape) and
    widens the mouth by ``d_width`` px. Zero outside the mouth ellipse (``mouth_region``)."""
    centre, across, down, width = mouth_frame(points)
    rel = coords - centre
    s, t = rel @ across, rel @ down
    su, tu, sl, tl = _lip_profiles(points, centre, across, down)
    top, bottom = np.interp(s, su, tu), np.interp(s, sl, tl)
    gap_s = np.maximum(bottom - top, 0.0)  # the source's own opening along the mouth
    half = max(0.5 * (su[-1] - su[0]), 1.0)
    shape = np.sqrt(np.clip(1.0 - (s / half) ** 2, 0.0, 1.0))
    d_lips = want * shape - gap_s  # per column: how much the inner lips must part (or close)
    d_jaw = want - float(np.interp(0.0, sl, tl) - np.interp(0.0, su, tu))  # the jaw follows the middle
    chin = max(float((points[CHIN] - centre) @ down), 0.6 * width)
    nose = max(float((centre - points[NOSE_TIP]) @ down), 0.3 * width)
    # which side of the lip line: -1 above (upper lip), +1 below (lower lip, jaw); scaled so the
    # inner lip points move by the full amount (the lips meet when closing)
    mid = 0.5 * (top + bottom)
    h = np.maximum(np.maximum(0.5 * gap_s, 0.04 * width), 1.0)
    side = np.clip(np.tanh((t - mid) / h) / np.tanh(np.maximum(0.5 * gap_s, 1e-3) / h), -1.0, 1.0)
    lower = 0.5 * (1 + side)
    # near the lip line each column moves by its own amount, further away the jaw moves as a whole
    near = np.exp(-(((t - mid) / (0.25 * width)) ** 2))
    reach_x = np.clip(1.0 - (s / (0.95 * width)) ** 2, 0.0, 1.0) ** 2
    d = near * d_lips + (1 - near) * d_jaw * reach_x
    # vertical reach: the lower half moves down to the chin and fades below it, the upper half fades to the nose
    reach_lo = np.clip(1.0 - np.maximum(t, 0) / (1.25 * chin), 0.0, 1.0) ** 2
    reach_up = np.clip(1.0 - np.maximum(-t, 0) / (0.9 * nose), 0.0, 1.0) ** 2
    dy = d * (0.8 * lower * reach_lo - 0.2 * (1 - lower) * reach_up)
    # corners move with the width change, fading towards the middle and away from the lip line
    dx = 0.5 * d_width * np.clip(s / (0.5 * width), -1.0, 1.0) * reach_x * np.exp(-((t / (0.45 * width)) ** 2))
    return dx[..., None] * across + dy[..., None] * down


def mouth_region(points: np.ndarray, size: int) -> np.ndarray:
    """(size, size) bool: the ellipse a warp may change (mouth, lips, chin), crop px."""
    centre, across, down, width = mouth_frame(points)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    rel = np.stack([xx, yy], -1) - centre
    s, t = rel @ across, rel @ down
    chin = max(float((points[CHIN] - centre) @ down), 0.6 * width)
    nose = max(float((centre - points[NOSE_TIP]) @ down), 0.3 * width)
    reach_t = np.where(t > 0, 1.25 * chin, 0.9 * nose)
    return (s / (0.95 * width)) ** 2 + (t / reach_t) ** 2 <= 1.0


def warp_mouth(
    crop: np.ndarray, points: np.ndarray, openness: float, viseme: int, source_blend: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """crop (S, S, 3) uint8 + its landmarks ``points`` (478, 2) crop px -> (warped crop
    (S, S, 3) uint8, moved landmarks (478, 2)).

    openness in [0, 1] and viseme (``models.speech.visemes``) are the target;
    source_blend in [0, 1] keeps that share of the crop's own mouth opening (re-dub)."""
    import cv2

    S = crop.shape[0]
    centre, across, down, width = mouth_frame(points)
    gap_now = float(np.linalg.norm(points[INNER_MID[1]] - points[INNER_MID[0]]))
    want = (1.0 - source_blend) * target_gap(openness, width) + source_blend * gap_now
    shape = {ROUNDED: -0.16, SPREAD: 0.06, FV: 0.02}.get(int(viseme), 0.0)
    d_width = (1.0 - source_blend) * shape * width * min(1.0, 2.0 * float(openness) + 0.3)
    if abs(want - gap_now) < 0.05 and abs(d_width) < 0.05:
        return crop.copy(), points.copy()
    # the field is zero outside the mouth ellipse: resample only the square holding it
    chin = max(float((points[CHIN] - centre) @ down), 0.6 * width)
    nose = max(float((centre - points[NOSE_TIP]) @ down), 0.3 * width)
    reach = max(0.95 * width, 1.25 * chin, 0.9 * nose) + 2.0
    x0, y0 = (max(0, int(np.floor(c - reach))) for c in centre)
    x1, y1 = (min(S, int(np.ceil(c + reach))) for c in centre)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32) + 0.5
    grid = np.stack([xx, yy], -1)
    src = grid.copy()
    for _ in range(ITERATIONS):  # invert p = q + D(q) by fixed-point steps: q = p - D(q)
        src = grid - _field(src, points, want, d_width).astype(np.float32)
    out = crop.copy()
    out[y0:y1, x0:x1] = cv2.remap(
        crop, src[..., 0] - 0.5, src[..., 1] - 0.5, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    moved = points + _field(points, points, want, d_width)
    if want > 1.0:
        out = _paint_cavity(out, moved, want, width)
    elif gap_now > 1.0:  # closed over an open source mouth: the squeezed teeth line takes the lips' colour
        out = _seal_lips(out, crop, points, moved)
    return out, moved


def _seal_lips(img: np.ndarray, crop: np.ndarray, points: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """Cover the thin band left between the moved inner lips with the source's lip colour."""
    import cv2

    S = img.shape[0]
    lips = np.zeros((S, S), np.uint8)
    cv2.fillPoly(
        lips, [np.round(np.concatenate([points[LOWER_INNER], points[LOWER_OUTER][::-1]]) - 0.5).astype(np.int32)], 1
    )
    colour = crop[lips.astype(bool)].mean(0) if lips.any() else np.array([150.0, 90.0, 90.0])
    band = np.zeros((S, S), np.uint8)
    poly = np.concatenate([moved[UPPER_INNER], moved[LOWER_INNER][::-1]])
    cv2.polylines(band, [np.round((poly - 0.5) * 4).astype(np.int32)], True, 255, 2, cv2.LINE_AA, shift=2)
    cv2.fillPoly(band, [np.round((poly - 0.5) * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2)
    alpha = cv2.GaussianBlur(band.astype(np.float32) / 255.0, (0, 0), 1.0)[..., None]
    out = img.astype(np.float32) * (1 - alpha) + colour * 0.85 * alpha  # a shade darker: the lip line
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _paint_cavity(img: np.ndarray, moved: np.ndarray, gap: float, width: float) -> np.ndarray:
    """Fill the moved inner lip contour: dark throat, a soft band of upper teeth, feathered edge."""
    import cv2

    S = img.shape[0]
    poly = np.concatenate([moved[UPPER_INNER], moved[LOWER_INNER][::-1]])
    scale = 4  # sub-pixel polygon edges
    mask = np.zeros((S, S), np.uint8)
    cv2.fillPoly(mask, [np.round((poly - 0.5) * scale).astype(np.int32)], 255, cv2.LINE_AA, shift=2)
    feather = max(0.6, 0.05 * gap)
    alpha = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), feather)[..., None]
    # teeth: strongest just under the upper lip, fading over ~a quarter of the gap
    centre, across, down, _ = mouth_frame(moved)
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float32) + 0.5
    rel = np.stack([xx, yy], -1) - centre
    s = rel @ across
    upper_edge = np.interp(s, *_sorted_profile(moved[UPPER_INNER], centre, across, down))
    depth = (rel @ down) - upper_edge
    teeth = np.clip(1.0 - depth / max(0.28 * gap, 1.0), 0.0, 1.0) * np.clip(1.0 - np.abs(s) / (0.4 * width), 0.0, 1.0)
    teeth = (0.7 * np.clip(gap / (0.12 * width), 0.0, 1.0) * teeth)[..., None]
    fill = CAVITY * (1 - teeth) + TEETH * teeth
    out = img.astype(np.float32) * (1 - alpha) + fill * alpha
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _sorted_profile(pts: np.ndarray, centre, across, down) -> tuple[np.ndarray, np.ndarray]:
    """A lip contour as (s, t) along/down the face axes, sorted by s (for np.interp)."""
    rel = pts - centre
    s, t = rel @ across, rel @ down
    order = np.argsort(s)
    return s[order], t[order]
