"""Numbered boxes around the people found in a picture, for the extraction's preview.

Every person found on the frame the extraction chose on gets a box and the number that the
Skeleton Extract node's ``person`` input uses for them (1 = the leftmost); the person followed
is drawn in another colour with a thicker line. The numbers sit in a filled tag at the box's
top-left corner, kept inside the picture.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CHOSEN = (255, 200, 0)
OTHERS = (90, 200, 255)


def scale_boxes(boxes: np.ndarray, source: tuple[int, int], target: tuple[int, int]) -> np.ndarray:
    """(N, 4) xyxy px of a ``source`` (width, height) frame -> px of a ``target`` (width, height)
    picture of the whole frame (stretched: the preview's fit), clipped to it."""
    s = np.array([target[0] / source[0], target[1] / source[1]] * 2, np.float64)
    b = np.asarray(boxes, np.float64).reshape(-1, 4) * s
    return np.clip(b, 0, [target[0] - 1, target[1] - 1] * 2)


def _font(size: int):
    """Pillow's default font at ``size`` px; older Pillow (< 10.1, no sized default) its bitmap font."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()


def draw_people(image: np.ndarray, boxes: np.ndarray, chosen: int) -> np.ndarray:
    """``image`` (H, W, 3) uint8 with boxes (N, 4) xyxy px numbered 1..N; box ``chosen`` (0-based)
    highlighted. Returns a new array."""
    pic = Image.fromarray(np.ascontiguousarray(image, np.uint8))
    draw = ImageDraw.Draw(pic)
    H, W = image.shape[:2]
    size = max(12, round(min(W, H) / 22))
    font = _font(size)
    for i, box in enumerate(np.asarray(boxes, np.float64).reshape(-1, 4)):
        colour, width = (CHOSEN, 3) if i == chosen else (OTHERS, 2)
        x0, y0, x1, y1 = (float(v) for v in box)
        draw.rectangle((x0, y0, x1, y1), outline=colour, width=width)
        label = str(i + 1)
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        tw, th = right - left + 6, bottom - top + 6
        tx, ty = min(max(x0, 0), W - tw), min(max(y0, 0), H - th)
        draw.rectangle((tx, ty, tx + tw, ty + th), fill=colour)
        draw.text((tx + 3 - left, ty + 3 - top), label, fill=(0, 0, 0), font=font)
    return np.asarray(pic)
