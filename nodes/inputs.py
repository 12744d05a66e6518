"""Input groups that several nodes share, made in one place so their bounds, defaults and
wording agree (a frame range, a frame rate). Each returns V3 ``io`` inputs for a schema."""

from __future__ import annotations

from comfy_api.latest import io

MAX_FRAMES = 10_000_000
MAX_FPS = 240.0


def frame_range(start_tooltip: str, count_tooltip: str) -> list[io.Int.Input]:
    """``start_frame`` (first frame, 0-based) and ``frame_count`` (0 = to the end)."""
    return [
        io.Int.Input("start_frame", default=0, min=0, max=MAX_FRAMES, tooltip=start_tooltip),
        io.Int.Input("frame_count", default=0, min=0, max=MAX_FRAMES, tooltip=count_tooltip),
    ]


def every_nth(tooltip: str) -> io.Int.Input:
    """``every_nth``: keep one source frame in n."""
    return io.Int.Input("every_nth", default=1, min=1, max=100, tooltip=tooltip)


def fps(tooltip: str, default: float = 24.0, zero_keeps: bool = False) -> io.Float.Input:
    """``fps`` in frames per second; with ``zero_keeps`` 0 is allowed and means "the source's own"."""
    return io.Float.Input(
        "fps", default=default, min=0.0 if zero_keeps else 0.01, max=MAX_FPS, step=0.001, tooltip=tooltip
    )
