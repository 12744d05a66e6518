"""How a source frame (the motion's ``image_size``) is placed on a guide canvas.

Three fits, all centred:

* ``contain`` (letterbox): one uniform scale so the whole source fits; the
  aspect ratio is kept and the spare band (left/right or top/bottom) stays black.
  Sizes are rounded exactly like Wan2.2-Animate's ``padding_resize``
  (``wan/modules/animate/preprocess/utils.py``): the scaled side is
  ``int(dst / src * other)`` and the pad ``int((dst - scaled) / 2)``, so a guide
  lines up pixel for pixel with a reference image letterboxed the Wan way.
* ``cover``: one uniform scale so the source fills the canvas; the aspect ratio
  is kept and the overflow is cropped evenly on both sides.
* ``stretch``: x and y scaled independently to fill the canvas; circles become
  ellipses.

A ``FrameFit`` maps source pixels to canvas pixels: ``dst = src * scale + offset``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import DreamActorError

FITS = ("contain", "cover", "stretch")


@dataclass(frozen=True)
class FrameFit:
    """Source pixels -> canvas pixels: ``dst = src * (sx, sy) + (ox, oy)``."""

    sx: float
    sy: float
    ox: float
    oy: float
    width: int
    height: int

    @property
    def length_scale(self) -> float:
        """Scale for lengths with no direction (stroke widths, radii): the geometric
        mean of sx and sy, equal to both for 'contain' and 'cover'."""
        return float(np.sqrt(self.sx * self.sy))

    def apply(self, points: np.ndarray) -> np.ndarray:
        """(..., 2) source pixels -> (..., 2) canvas pixels (float64)."""
        p = np.asarray(points, np.float64)
        return p * (self.sx, self.sy) + (self.ox, self.oy)

    def invert(self, points: np.ndarray) -> np.ndarray:
        """(..., 2) canvas pixels -> (..., 2) source pixels (float64)."""
        p = np.asarray(points, np.float64)
        return (p - (self.ox, self.oy)) / (self.sx, self.sy)


def check_canvas(width: int, height: int) -> tuple[int, int]:
    """Validate a requested canvas size; returns it as ints."""
    w, h = int(width), int(height)
    if w < 1 or h < 1:
        raise DreamActorError(
            f"guide size {w}x{h} is empty", fix="set width and height to at least 1 pixel", input="width/height"
        )
    return w, h


def fit_frame(source_size: tuple[int, int], width: int, height: int, fit: str = "contain") -> FrameFit:
    """The placement of a ``source_size`` = (W, H) frame on a ``width`` x ``height`` canvas."""
    W, H = check_canvas(width, height)
    sw, sh = float(source_size[0]), float(source_size[1])
    if sw <= 0 or sh <= 0:
        raise DreamActorError(f"motion image size {sw:g}x{sh:g} is empty", fix="re-extract the motion", input="motion")
    if fit == "stretch":
        return FrameFit(W / sw, H / sh, 0.0, 0.0, W, H)
    if fit == "contain":
        if sh / sw > H / W:  # taller than the canvas: full height, bands left and right
            s = H / sh
            pad = int((W - int(H / sh * sw)) / 2)
            return FrameFit(s, s, float(pad), 0.0, W, H)
        s = W / sw
        pad = int((H - int(W / sw * sh)) / 2)
        return FrameFit(s, s, 0.0, float(pad), W, H)
    if fit == "cover":
        s = max(W / sw, H / sh)
        return FrameFit(s, s, (W - sw * s) / 2.0, (H - sh * s) / 2.0, W, H)
    raise DreamActorError(f"unknown fit '{fit}'", fix=f"choose one of {', '.join(FITS)}", input="fit")
