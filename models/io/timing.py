"""Which source frames a ``FileVideo`` shows, and when: the file probed by demuxing (frame
timestamps, size, codec; no decoding) and the mapping from a frame range and an output fps to
source frames, keeping a variable-frame-rate clip's timing. Limits on frame size and count
are checked here, before anything is decoded."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from ..core.errors import DreamActorError


@dataclass
class VideoProbe:
    """What a file holds, read by demuxing (cheap: no decoding).

    ``pts`` (n,) int64 are the presentation timestamps of the frames a decoder will
    output, sorted, in the stream's time base: frame ``i`` has timestamp ``pts[i]``.
    Indexing frames through it is exact for variable frame rates and edit lists.
    """

    width: int
    height: int
    fps: float
    pts: np.ndarray
    time_base: float
    has_audio: bool
    codec: str

    @property
    def num_frames(self) -> int:
        return int(len(self.pts))

    def seconds(self, index: int) -> float:
        """Time of source frame ``index``; ``index == num_frames`` is the end of the last frame."""
        if index < self.num_frames:
            return float(self.pts[index]) * self.time_base
        return float(self.pts[-1]) * self.time_base + 1.0 / self.fps


def _frame_timestamps(container, stream, name: str) -> np.ndarray:
    """Sorted pts of the displayable frames. Packets cut by an edit list (pts before the
    stream start, or flagged discard) are never shown by the decoder, so they do not count.
    Frames are found by their timestamps, so a file whose frames share timestamps (a broken
    muxer writes pts 0 on every packet) is refused rather than shown as one frame."""
    start = stream.start_time or 0
    pts = [
        p.pts
        for p in container.demux(stream)
        if p.size > 0 and p.pts is not None and p.pts >= start and not getattr(p, "is_discard", False)
    ]
    unique = np.unique(np.asarray(pts, np.int64))
    repeated = len(pts) - len(unique)
    if repeated > max(1, len(pts) // 100):
        raise DreamActorError(
            f"'{name}' is broken: {len(pts)} frames share {len(unique)} timestamps, so their timing is unknown",
            fix="re-encode the clip so every frame has its own time (e.g. ffmpeg -i in -c:v libx264 out.mp4)",
            input="video",
        )
    return unique


MAX_FRAME_PIXELS = 40_000_000
"""Largest frame accepted (8K is 33 Mpx): one decoded frame is 3 bytes a pixel, and a tiny
image file can declare a huge picture."""
MAX_FRAMES = 2_000_000
"""Most frames a selection may have after resampling (18 hours at 30 fps)."""


def check_frame_size(name: str, width: int, height: int) -> None:
    """Refuse a picture larger than ``MAX_FRAME_PIXELS``, read from the header before decoding."""
    if int(width) < 1 or int(height) < 1:  # FFmpeg leaves 0 when a picture is too large to open
        raise DreamActorError(
            f"'{name}' does not state its frame size (a picture too large to open, or a damaged header)",
            fix="re-export the clip as mp4 (H.264) at a usual size (e.g. 1920 pixels wide)",
            input="video",
        )
    if int(width) * int(height) > MAX_FRAME_PIXELS:
        raise DreamActorError(
            f"'{name}' has {width}x{height} frames ({width * height / 1e6:.0f} Mpx each), above the limit of "
            f"{MAX_FRAME_PIXELS / 1e6:.0f} Mpx per frame",
            fix="scale the clip down (e.g. to 1920 pixels wide) before loading it",
            input="video",
        )


def media_error(e: Exception) -> str:
    """FFmpeg's reason for a failure, without the file's full path (which its message repeats)."""
    return getattr(e, "strerror", None) or type(e).__name__


def _check_still_picture(path: str, name: str) -> None:
    """FFmpeg decodes a still picture (a PNG renamed .mp4) whole while opening it, before its
    size can be checked; the picture's own header states the size, so check it first."""
    from PIL import Image

    try:
        with Image.open(path) as picture:
            width, height = picture.size
    except Image.DecompressionBombError:  # Pillow's own guard: over 179 Mpx
        raise DreamActorError(
            f"'{name}' is a still picture of more than 179 Mpx, above the limit of "
            f"{MAX_FRAME_PIXELS / 1e6:.0f} Mpx per frame",
            fix="choose a video file; for a picture use the core Load Image node (scaled down)",
            input="video",
        ) from None
    except Exception:  # not a picture Pillow knows: a video, left to FFmpeg
        return
    check_frame_size(name, width, height)


def probe_file(path: str) -> VideoProbe:
    """Open ``path`` and index its video frames by demuxing. Raises a clear error for
    missing, unreadable, truncated or frameless files."""
    import av

    name = os.path.basename(path)
    if not os.path.isfile(path):
        raise DreamActorError(
            f"video file '{name}' does not exist",
            fix="upload the clip with the node's upload button or put it in ComfyUI's input folder",
            input="video",
        )
    _check_still_picture(path, name)
    try:
        with av.open(path) as container:
            if not container.streams.video:
                raise DreamActorError(
                    f"'{name}' has no video stream", fix="choose a video file (mp4, mov, webm, mkv)", input="video"
                )
            stream = container.streams.video[0]
            check_frame_size(name, stream.codec_context.width, stream.codec_context.height)
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            fps = float(rate) if rate else 0.0
            pts = _frame_timestamps(container, stream, name)
            time_base = float(stream.time_base)
            codec = stream.codec_context.name
            width, height = stream.codec_context.width, stream.codec_context.height
            has_audio = bool(container.streams.audio)
    except DreamActorError:
        raise
    except Exception as e:  # av.error.*: not a media file, damaged header, ...
        raise DreamActorError(
            f"'{name}' cannot be read as a video ({media_error(e)})",
            fix="the file is damaged or not a video; re-export it as mp4 (H.264)",
            input="video",
        ) from None
    if len(pts) == 0:
        raise DreamActorError(
            f"'{name}' contains no video frames", fix="the file is empty or truncated; re-export it", input="video"
        )
    if not (fps > 0 and math.isfinite(fps)):
        raise DreamActorError(
            f"'{name}' does not state its frame rate",
            fix="set the node's fps input to the clip's real frame rate",
            input="fps",
        )
    return VideoProbe(width, height, fps, pts, time_base, has_audio, codec)


def select_frames(
    total: int,
    src_fps: float,
    start: int,
    count: int,
    every_nth: int,
    fps: float,
    times: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Map output frames to source frames.

    ``start``/``count``/``every_nth`` pick a range (count 0 = to the end); ``fps`` > 0
    then resamples that range in time to ``fps``. ``times`` (total,) are the source
    frames' timestamps in seconds (None: evenly spaced at ``src_fps``): output frame k
    stands at ``times[first] + k / fps`` and shows the selected frame nearest that time,
    so a variable-frame-rate clip keeps its timing; with ``fps`` 0 such a clip is
    resampled to its highest steady rate. Returns (source indices (n,) int64, output fps).
    """
    if start < 0 or start >= total:
        raise DreamActorError(
            f"start frame {start} is outside the clip's {total} frames",
            fix=f"set start_frame between 0 and {total - 1}",
            input="start_frame",
        )
    if count < 0 or every_nth < 1:
        raise DreamActorError(
            f"frame_count {count} / every_nth {every_nth} are invalid",
            fix="use frame_count >= 0 (0 = all) and every_nth >= 1",
            input="frame_count",
        )
    stop = total if count == 0 else start + count * every_nth
    if stop > total:
        raise DreamActorError(
            f"frames {start}..{stop - 1} (count {count}, every {every_nth}) run past the clip's {total} frames",
            fix=f"lower frame_count to at most {(total - start + every_nth - 1) // every_nth} or set it to 0 for all",
            input="frame_count",
        )
    if not (math.isfinite(fps) and fps >= 0):
        raise DreamActorError(
            f"fps {fps} is not a frame rate", fix="set fps to 0 (the clip's own) or more", input="fps"
        )
    idx = np.arange(start, stop, every_nth, dtype=np.int64)
    out_fps = src_fps / every_nth
    t = (np.asarray(times, np.float64) if times is not None else np.arange(total) / src_fps)[idx]
    steady = _steady(t, out_fps)
    want = float(fps) if fps > 0 else (out_fps if steady else _highest_rate(t))
    if steady and abs(want - out_fps) <= 1e-6:
        return idx, float(out_fps)
    span = t[-1] - t[0] + (float(np.median(np.diff(t))) if len(t) > 1 else 1.0 / out_fps)
    n = int(round(span * want))
    if n < 1:
        raise DreamActorError(
            f"fps {fps:g} gives no frame over the selected {span:.3f} s",
            fix=f"set fps to at least {1.0 / span:.3f} (or 0 for the clip's own rate)",
            input="fps",
        )
    check_frame_count(n, "fps")
    grid = t[0] + np.arange(n) / want
    right = np.clip(np.searchsorted(t, grid), 1, len(t) - 1) if len(t) > 1 else np.zeros(n, np.int64)
    left = np.maximum(right - 1, 0)
    pick = np.where(np.abs(t[right] - grid) < np.abs(grid - t[left]) - 1e-9, right, left)
    return idx[pick], want


def check_frame_count(n: int, input: str) -> None:
    if n > MAX_FRAMES:
        raise DreamActorError(
            f"the selection would have {n} frames, above the limit of {MAX_FRAMES}",
            fix="pick a shorter range (frame_count) or a lower fps",
            input=input,
        )


def _steady(t: np.ndarray, rate: float) -> bool:
    """True when timestamps ``t`` (n,) seconds sit within a quarter frame of an even ``rate`` grid."""
    return len(t) < 2 or bool(np.max(np.abs(t - t[0] - np.arange(len(t)) / rate)) <= 0.25 / rate)


def _highest_rate(t: np.ndarray) -> float:
    """A variable-rate clip's highest steady rate (from its shortest usual frame interval),
    so resampling to it drops no frame."""
    d = np.diff(t)
    d = d[d > 0]
    return float(min(240.0, round(1.0 / np.percentile(d, 10), 3))) if len(d) else 1.0
