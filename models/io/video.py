"""``DA_VIDEO``: a lazy video. Frames are decoded a window at a time, never all at once.

A 10-minute 720p clip is 18,000 frames (~200 GB as float32), so every consumer
walks a video with :meth:`LazyVideo.iter_frames` or :meth:`LazyVideo.window`,
which hold one decoded window in memory. Frames are ``uint8`` arrays of shape
``(H, W, 3)``, RGB.

Two sources:
  * :class:`FileVideo`  a file decoded with PyAV, with a frame range
    (start, count, every n-th) and an optional fps resampling;
  * :class:`ArrayVideo` frames already in memory (an IMAGE batch).

Which frames a file shows and when (probing, frame selection, VFR timing) is in
:mod:`models.io.timing`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..core.errors import DreamActorError
from .timing import media_error, probe_file, select_frames


@dataclass
class Audio:
    """Decoded audio: ``waveform`` (C, N) float32 in [-1, 1] at ``sample_rate`` Hz."""

    waveform: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        return self.waveform.shape[-1] / float(self.sample_rate)


class LazyVideo:
    """Base class: ``num_frames`` frames of ``width`` x ``height`` at ``fps``, plus optional audio."""

    fps: float
    num_frames: int
    width: int
    height: int

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    def audio(self) -> Audio | None:
        return None

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        """Yield frames ``start..stop-1`` one by one as (H, W, 3) uint8."""
        raise NotImplementedError

    def window(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start..stop-1`` as one (n, H, W, 3) uint8 array."""
        start, stop = self._check_range(start, stop)
        return self.collect(start, stop, (self.height, self.width, 3))

    def collect(self, start: int, stop: int, shape: tuple[int, ...], convert=None) -> np.ndarray:
        """Frames ``start..stop-1`` decoded one at a time, each passed through
        ``convert(index, frame) -> (*shape) uint8`` (default: the frame itself), stacked as
        (n, *shape) uint8: only the result is held, never the decoded window."""
        out = np.empty((stop - start, *shape), np.uint8)
        n = 0
        for n, frame in enumerate(self.iter_frames(start, stop), 1):
            out[n - 1] = frame if convert is None else convert(start + n - 1, frame)
        if n != stop - start:
            raise DreamActorError(
                f"the video ended after {start + n} of {self.num_frames} frames",
                fix="the file is truncated or damaged; re-export it",
                input="video",
            )
        return out

    def frame(self, index: int) -> np.ndarray:
        return self.window(index, index + 1)[0]

    def windows(self, size: int, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(first_index, frames)`` windows of at most ``size`` frames, decoding once."""
        start, stop = self._check_range(start, stop)
        buf: list[np.ndarray] = []
        first = start
        for i, frame in enumerate(self.iter_frames(start, stop), start):
            buf.append(frame)
            if len(buf) == size:
                yield first, np.stack(buf)
                buf, first = [], i + 1
        if buf:
            yield first, np.stack(buf)

    def _check_range(self, start: int, stop: int | None) -> tuple[int, int]:
        stop = self.num_frames if stop is None else stop
        if not (0 <= start < stop <= self.num_frames):
            raise DreamActorError(
                f"frames {start}..{stop - 1} are outside the video's {self.num_frames} frames",
                fix=f"ask for frames within 0..{self.num_frames - 1}",
                input="video",
            )
        return start, stop

    def describe(self) -> str:
        return f"{self.num_frames} frames, {self.width}x{self.height}, {self.fps:.3f} fps"


# --------------------------------------------------------------------------- files
class FileVideo(LazyVideo):
    """A video file decoded on demand with PyAV.

    ``indices[k]`` is the source frame shown as output frame ``k``. A decoder is kept
    open between calls so consecutive windows stream without seeking again.
    """

    def __init__(self, path: str, start: int = 0, count: int = 0, every_nth: int = 1, fps: float = 0.0):
        self.path = path
        self.info = probe_file(path)
        times = self.info.pts.astype(np.float64) * self.info.time_base
        self.indices, self.fps = select_frames(
            self.info.num_frames, self.info.fps, start, count, every_nth, fps, times=times
        )
        self.num_frames = int(len(self.indices))
        self.width, self.height = self.info.width, self.info.height
        self._reader = None  # (container, frame iterator) of an open decoder
        self._next = None  # source index that decoder yields next

    def __getstate__(self):  # picklable for ComfyUI's caches: drop the open decoder
        d = dict(self.__dict__)
        d["_reader"] = d["_next"] = None
        return d

    def _close(self):
        if self._reader is not None:
            self._reader[0].close()
            self._reader = self._next = None

    def __del__(self):
        try:
            self._close()
        except Exception:
            pass

    def _open_at(self, src_index: int):
        """Start decoding at the keyframe at or before source frame ``src_index``."""
        import av

        self._close()
        container = av.open(self.path)
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if src_index > 0:  # seeking keeps windows late in a long clip fast
            container.seek(int(self.info.pts[src_index]), stream=stream, backward=True, any_frame=False)
        self._reader = (container, container.decode(stream))

    def _next_source(self) -> tuple[int, object]:
        """The next decoded frame and its source index, found from its timestamp."""
        container, frames = self._reader
        try:
            frame = next(frames)
        except StopIteration:
            raise
        except Exception as e:
            raise DreamActorError(
                f"decoding '{os.path.basename(self.path)}' failed ({media_error(e)})",
                fix="the file is truncated or damaged; re-export it",
                input="video",
            ) from None
        idx = int(np.searchsorted(self.info.pts, frame.pts if frame.pts is not None else -1))
        self._next = idx + 1
        return idx, frame

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        start, stop = self._check_range(start, stop)
        wanted = self.indices[start:stop]
        pos = 0
        if (
            self._reader is None
            or self._next is None
            or self._next > wanted[0]
            or wanted[0] - self._next > 2 * self.info.fps
        ):
            self._open_at(int(wanted[0]))
        last: tuple[int, np.ndarray] | None = None
        while pos < len(wanted):
            target = int(wanted[pos])
            if last is not None and last[0] == target:  # fps resampling repeats a frame
                yield last[1]
                pos += 1
                continue
            try:
                src, frame = self._next_source()
            except StopIteration:
                self._close()
                raise DreamActorError(
                    f"'{os.path.basename(self.path)}' ended at source frame {last[0] if last else '?'} "
                    f"before frame {target}",
                    fix="the file is truncated or damaged; re-export it",
                    input="video",
                ) from None
            if src < target:
                continue
            if src > target:  # the seek landed past the target (odd keyframe index): decode from 0
                self._open_at(0)
                continue
            rgb = frame.to_ndarray(format="rgb24")
            last = (src, rgb)
            yield rgb
            pos += 1

    def audio(self) -> Audio | None:
        """The audio under the selected frame range, or None when the file has none."""
        if not self.info.has_audio:
            return None
        t0 = self.info.seconds(int(self.indices[0]))  # output frame k stands at t0 + k / fps
        return decode_audio(self.path, t0, t0 + self.num_frames / self.fps)


AUDIO_PREROLL_S = 1.0
"""Seek this much before the wanted start and drop what comes before it: an AAC decoder
needs several frames after a seek before its output equals a decode from the start
(0.5 s was not always enough on the sample clips; 1 s was bit-exact on all of them)."""


def decode_audio(path: str, t0: float, t1: float) -> Audio | None:
    """Decode the first audio stream between ``t0`` and ``t1`` seconds as float32 (C, N).

    Only that stretch (plus a short pre-roll) is decoded, so cutting a few seconds out
    of a long clip costs a few seconds of decoding, not the whole track. Times are on
    the file's timeline: a track that starts after ``t0`` is led in with silence."""
    import av

    with av.open(path) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        base = float(stream.time_base)
        if t0 > AUDIO_PREROLL_S:
            container.seek(int((t0 - AUDIO_PREROLL_S) / base), stream=stream, backward=True)
        resampler = av.AudioResampler(format="fltp", layout=stream.codec_context.layout.name, rate=rate)
        chunks, first_time = [], None
        for frame in container.decode(stream):
            start = float(frame.pts * frame.time_base) if frame.pts is not None else None
            if first_time is None:
                first_time = start or 0.0
            chunks += [f.to_ndarray() for f in resampler.resample(frame)]
            if start is not None and start >= t1:
                break
        chunks += [f.to_ndarray() for f in resampler.resample(None)]
    if not chunks:
        return None
    wave = np.concatenate(chunks, axis=1).astype(np.float32)
    if first_time > t0:  # the track starts later than the video: keep them in sync with silence
        lead = int(round((first_time - t0) * rate))
        wave = np.concatenate([np.zeros((wave.shape[0], lead), np.float32), wave], axis=1)
        first_time = t0
    a = max(0, int(round((t0 - first_time) * rate)))
    b = min(wave.shape[1], int(round((t1 - first_time) * rate)))
    return Audio(np.ascontiguousarray(wave[:, a:b]), rate)


# -------------------------------------------------------------------------- arrays
class ArrayVideo(LazyVideo):
    """Frames already in memory: an (N, H, W, C) array, float in [0, 1] or uint8."""

    def __init__(self, frames, fps: float, audio: Audio | None = None):
        shape = tuple(frames.shape)
        if len(shape) != 4 or shape[0] < 1 or shape[-1] not in (1, 3, 4):
            raise DreamActorError(
                f"an image batch of shape {shape} is not a video",
                fix="connect an IMAGE batch (frames, height, width, channels)",
                input="images",
            )
        if not (fps > 0):
            raise DreamActorError(
                f"fps {fps} must be positive", fix="set fps to the frame rate of the frames", input="fps"
            )
        self.frames = frames
        self.fps = float(fps)
        self.num_frames, self.height, self.width = shape[0], shape[1], shape[2]
        self._audio = audio

    def audio(self) -> Audio | None:
        return self._audio

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        start, stop = self._check_range(start, stop)
        for i in range(start, stop):
            yield to_uint8_rgb(self.frames[i])


def to_uint8_rgb(frame) -> np.ndarray:
    """One frame (H, W, C) float [0, 1] / uint8, numpy or torch -> (H, W, 3) uint8."""
    a = frame.detach().cpu().numpy() if hasattr(frame, "detach") else np.asarray(frame)
    if a.dtype != np.uint8:
        a = (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, -1)
    elif a.shape[-1] == 4:
        a = a[..., :3]
    return a
