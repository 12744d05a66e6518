"""The character's silhouette in a picture: from a mask (alpha) or from a plain background.

A stylized character (cartoon, 3D render, pixel art) is usually shown on a flat colour or
comes with an alpha channel. ``foreground`` returns its pixels as a bool (H, W) mask:

* with a ``mask`` (a segmentation, or ComfyUI's LoadImage MASK which is 1 - alpha) the side
  that covers less of the picture's border is the character, so either polarity works;
* without one, the background colour is read from the picture's border (median colour);
  where the border is plain (``PLAIN_SHARE`` of it within ``PLAIN_SPREAD`` of that colour, so a
  character cut off by an edge still counts) pixels far from it are the character, refined by OpenCV's GrabCut; otherwise (a photo's busy
  background) there is no reliable silhouette and ``None`` is returned.

Either way small specks are dropped, holes filled, and the largest blob kept with any blob
at least ``KEEP_BLOB`` of its area (a detached hand or prop).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

BORDER = 0.02
"""Width of the border band read for the background colour, as a fraction of the larger side."""
PLAIN_SPREAD = 18.0
PLAIN_SHARE = 0.6
"""The background is plain when this share of the border lies within ``PLAIN_SPREAD`` (RGB
distance) of the border's median colour (the rest: a character cut off by an edge)."""
MIN_CONTRAST = 30.0
"""Smallest RGB distance from the background colour that marks a character pixel."""
GRABCUT_SIDE = 640
"""GrabCut runs on the picture shrunk to this larger side."""
KEEP_BLOB = 0.15
MIN_AREA = 0.005
"""A silhouette under this fraction of the picture is no character."""


def _border_pixels(rgb: np.ndarray) -> np.ndarray:
    """(N, 3) float pixels of a band along the four edges of rgb (H, W, 3)."""
    H, W = rgb.shape[:2]
    b = max(2, int(round(BORDER * max(H, W))))
    band = np.concatenate(
        [rgb[:b].reshape(-1, 3), rgb[-b:].reshape(-1, 3), rgb[:, :b].reshape(-1, 3), rgb[:, -b:].reshape(-1, 3)]
    )
    return band.astype(np.float32)


def _border_share(mask: np.ndarray) -> float:
    """Fraction of the outermost pixel ring that is True."""
    ring = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
    return float(ring.mean())


def clean(mask: np.ndarray) -> np.ndarray | None:
    """Holes filled, specks dropped: the largest blob and blobs >= KEEP_BLOB of it, or None
    when nothing of at least MIN_AREA of the picture is left."""
    opened = ndimage.binary_opening(np.pad(mask, 1, mode="edge"))[1:-1, 1:-1]  # keeps parts cut by an edge
    filled = ndimage.binary_fill_holes(opened)
    labels, n = ndimage.label(filled)
    if n == 0:
        return None
    areas = ndimage.sum(filled, labels, index=np.arange(1, n + 1))
    keep = np.flatnonzero(areas >= KEEP_BLOB * areas.max()) + 1
    out = np.isin(labels, keep)
    return out if out.mean() >= MIN_AREA else None


def from_mask(mask: np.ndarray) -> np.ndarray | None:
    """The character from a (H, W) mask in [0, 1] of either polarity (see the module docstring)."""
    m = np.asarray(mask, np.float32) >= 0.5
    if _border_share(m) > _border_share(~m):  # e.g. LoadImage's MASK: 1 - alpha
        m = ~m
    return clean(m)


def _grabcut(rgb: np.ndarray, sure: np.ndarray, likely: np.ndarray) -> np.ndarray:
    """GrabCut seeded by colour distance: ``sure`` character, ``likely`` character, the rest
    probable background (background-coloured pixels of the border band: sure background)."""
    import cv2

    H, W = sure.shape
    seed = np.full((H, W), cv2.GC_PR_BGD, np.uint8)
    seed[likely] = cv2.GC_PR_FGD
    seed[sure] = cv2.GC_FGD
    b = max(2, int(round(BORDER * max(H, W))))
    band = np.zeros((H, W), bool)
    band[:b], band[-b:], band[:, :b], band[:, -b:] = True, True, True, True
    seed[band & ~likely] = cv2.GC_BGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)  # GrabCut's k-means start draws from OpenCV's RNG: same picture, same skeleton
    cv2.grabCut(np.ascontiguousarray(rgb[..., ::-1]), seed, None, bgd, fgd, 3, cv2.GC_INIT_WITH_MASK)
    return (seed == cv2.GC_FGD) | (seed == cv2.GC_PR_FGD)


def from_plain_background(rgb: np.ndarray) -> np.ndarray | None:
    """The character against a plain background (see the module docstring), or None."""
    border = _border_pixels(rgb)
    colour = np.median(border, axis=0)
    d = np.linalg.norm(border - colour, axis=1)
    background = d <= PLAIN_SPREAD
    if background.mean() < PLAIN_SHARE:  # a busy border: a photo, or a character filling the frame
        return None
    spread = float(np.percentile(d[background], 95))
    dist = np.linalg.norm(rgb.astype(np.float32) - colour, axis=-1)
    threshold = max(MIN_CONTRAST, 3.0 * spread)
    likely = dist > 0.5 * threshold
    sure = ndimage.binary_erosion(dist > 2.0 * threshold, iterations=2)
    if not likely.any():
        return None
    try:
        cut = _grabcut_small(rgb, sure, likely)
    except Exception:  # GrabCut refuses seeds without both classes: the colour test alone
        cut = dist > threshold
    return clean(cut | sure)


def _grabcut_small(rgb: np.ndarray, sure: np.ndarray, likely: np.ndarray) -> np.ndarray:
    """:func:`_grabcut` on the picture shrunk to at most ``GRABCUT_SIDE`` px (its time grows with
    the pixel count: 6 s at 2048 px), the answer brought back to full size."""
    import cv2

    H, W = sure.shape
    k = GRABCUT_SIDE / max(H, W)
    if k >= 1:
        return _grabcut(rgb, sure, likely)
    size = (max(1, round(W * k)), max(1, round(H * k)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    shrink = lambda m: cv2.resize(m.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0  # noqa: E731
    cut = _grabcut(small, shrink(sure), shrink(likely))
    return cv2.resize(cut.astype(np.uint8), (W, H), interpolation=cv2.INTER_LINEAR) > 0


def foreground(rgb: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray | None, str]:
    """(silhouette (H, W) bool or None, where it came from) for rgb (H, W, 3) uint8."""
    if mask is not None:
        return from_mask(mask), "the mask"
    return from_plain_background(np.asarray(rgb)[..., :3]), "the plain background"
