"""Guide rendering, one frame at a time, so a sampler renders only the frames a segment needs.

Styles (``STYLES``):

* ``dreamactor``: 3D skeleton far-to-near with depth shading + head sphere
  (``models.render.dreamactor``).
* ``wan-animate``: the 2D body + hands picture of Wan2.2-Animate's
  preprocessing (``models.render.wan``).
* ``scail``: the 3D skeleton as depth-ordered lit capsules, SCAIL's pose guide for
  core ``WanSCAILToVideo`` (``models.render.scail``).

The motion's source frame (``image_size``) is placed on the ``width`` x
``height`` canvas by ``fit`` (``models.render.fit``): 'contain' letterboxes and
keeps the aspect ratio (default), 'cover' fills and crops, 'stretch' fills and
distorts. Invalid frames are black. Joints below the confidence ``threshold``
are not drawn (None: the style's default, 0.3 for dreamactor, 0.5 for
wan-animate as in Wan's preprocessing).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..core.errors import DreamActorError
from ..core.motion import Motion
from .dreamactor import DREAMACTOR_THRESHOLD, render_dreamactor_frame
from .fit import FrameFit, fit_frame
from .scail import SCAIL_THRESHOLD, render_scail_frame
from .wan import WAN_THRESHOLD, render_wan_frame

STYLES = ("dreamactor", "wan-animate", "scail")
_RENDERERS = {
    "dreamactor": (render_dreamactor_frame, DREAMACTOR_THRESHOLD),
    "wan-animate": (render_wan_frame, WAN_THRESHOLD),
    "scail": (render_scail_frame, SCAIL_THRESHOLD),
}


def _renderer(style: str, threshold: float | None):
    if style not in _RENDERERS:
        raise DreamActorError(f"unknown guide style '{style}'", fix=f"choose one of {', '.join(STYLES)}", input="style")
    draw, default = _RENDERERS[style]
    return draw, (default if threshold is None else float(threshold))


def render_frame(
    motion: Motion,
    t: int,
    width: int,
    height: int,
    style: str = "dreamactor",
    fit: str = "contain",
    threshold: float | None = None,
) -> np.ndarray:
    """Frame ``t`` of ``motion`` as a guide picture -> (height, width, 3) uint8 RGB."""
    T = motion.num_frames
    if not 0 <= int(t) < T:
        raise DreamActorError(
            f"frame {t} is outside the motion's {T} frames", fix=f"choose a frame in 0..{T - 1}", input="frame"
        )
    draw, thr = _renderer(style, threshold)
    return draw(motion, int(t), fit_frame(motion.image_size, width, height, fit), thr)


def render_frames(
    motion: Motion,
    start: int = 0,
    stop: int | None = None,
    width: int = 832,
    height: int = 480,
    style: str = "dreamactor",
    fit: str = "contain",
    threshold: float | None = None,
) -> Iterator[np.ndarray]:
    """Frames ``start:stop`` one by one -> iterator of (height, width, 3) uint8 RGB.

    Arguments are checked before the first frame is drawn; nothing is kept
    between frames, so memory does not grow with the window.
    """
    start, stop = motion.check_range(start, stop)
    draw, thr = _renderer(style, threshold)
    placement: FrameFit = fit_frame(motion.image_size, width, height, fit)

    def frames() -> Iterator[np.ndarray]:
        for t in range(start, stop):
            yield draw(motion, t, placement, thr)

    return frames()
