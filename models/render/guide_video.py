"""Rendered guides as a lazy video: each frame is drawn when it is read.

``GuideVideo`` is a :class:`LazyVideo`, so saving or sampling a 10-minute guide
never holds more than one window of pictures. With a ``background`` video (the
driving clip the motion came from) each guide is drawn over its source frame,
placed on the canvas exactly like the skeleton (``models.render.fit``), which is
how artists check the extraction by eye.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
from PIL import Image

from ..core.errors import DreamActorError
from ..core.motion import Motion
from ..io.video import LazyVideo
from .fit import FrameFit, fit_frame
from .frames import render_frames


def place_background(frame: np.ndarray, placement: FrameFit) -> np.ndarray:
    """A source frame (h, w, 3) uint8 drawn on the guide canvas with ``placement`` -> (H, W, 3)."""
    W, H = placement.width, placement.height
    h, w = frame.shape[:2]
    # the scaled frame's corners on the canvas; PIL's affine maps canvas -> source pixels
    img = Image.fromarray(frame)
    coeffs = (
        1.0 / placement.sx,
        0.0,
        -placement.ox / placement.sx,
        0.0,
        1.0 / placement.sy,
        -placement.oy / placement.sy,
    )
    out = img.transform((W, H), Image.AFFINE, coeffs, resample=Image.BILINEAR, fillcolor=(0, 0, 0))
    return np.asarray(out)


def composite(guide: np.ndarray, background: np.ndarray, opacity: float) -> np.ndarray:
    """Guide over a dimmed background: where the guide is black the background shows."""
    drawn = guide.max(axis=-1, keepdims=True) > 8
    dim = (background.astype(np.float32) * (1.0 - opacity)).astype(np.uint8)
    return np.where(drawn, guide, dim)


class GuideVideo(LazyVideo):
    """Frames ``start..start+count-1`` of ``motion`` rendered at ``width`` x ``height`` in ``style``."""

    def __init__(
        self,
        motion: Motion,
        width: int,
        height: int,
        style: str = "dreamactor",
        fit: str = "contain",
        start: int = 0,
        count: int = 0,
        background: LazyVideo | None = None,
        background_dim: float = 0.5,
        audio=None,
    ):
        T = motion.num_frames
        stop = T if count == 0 else start + count
        if not (0 <= start < T) or stop > T:
            raise DreamActorError(
                f"frames {start}..{stop - 1} are outside the motion's {T} frames",
                fix=f"set start_frame in 0..{T - 1} and frame_count at most {T - start} (0 = all)",
                input="frame_count",
            )
        if background is not None and background.num_frames < stop:
            raise DreamActorError(
                f"the background video has {background.num_frames} frames, the motion needs {stop}",
                fix="connect the same clip (same frame range) the motion was extracted from",
                input="background",
            )
        if background is not None and tuple(background.size) != tuple(motion.image_size):
            raise DreamActorError(
                f"the background video is {background.width}x{background.height}, the motion was extracted "
                f"from {motion.image_size[0]}x{motion.image_size[1]} frames",
                fix="connect the clip the motion was extracted from",
                input="background",
            )
        self.motion, self.style, self.fit = motion, style, fit
        self.start, self.num_frames = start, stop - start
        self.width, self.height = int(width), int(height)
        self.fps = motion.fps
        self.background, self.background_dim = background, float(background_dim)
        self.placement = fit_frame(motion.image_size, width, height, fit)
        self._audio = audio
        render_frames(motion, start, start + 1, width, height, style, fit)  # checks style/fit eagerly

    def audio(self):
        return self._audio

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        start, stop = self._check_range(start, stop)
        guides = render_frames(
            self.motion, self.start + start, self.start + stop, self.width, self.height, self.style, self.fit
        )
        if self.background is None:
            yield from guides
            return
        backgrounds = self.background.iter_frames(self.start + start, self.start + stop)
        for guide, frame in zip(guides, backgrounds):
            yield composite(guide, place_background(frame, self.placement), self.background_dim)
