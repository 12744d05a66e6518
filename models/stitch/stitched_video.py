"""Long-video stitching: a segment cache -> one video, every frame exactly once.

Segments (models.dit.segments) overlap: segment s+1's first ``known`` window frames
re-generate the last frames of the video so far. The stitched video takes each
frame from the segment that generated it, and over an overlap cross-fades into
the next segment's version (weight (j + 1) / (known + 1) on its j-th known frame),
so a seam becomes a short blend instead of a jump. The count stays exact.

Colour drift (long chains slowly shift brightness, saturation or tint) is
removed in Oklab, a perceptual space where L is lightness and a, b are the
colour axes:

1. per output frame, the Oklab mean and standard deviation of each channel
   (on a pixel grid subsampled by ``stride``);
2. those series are smoothed over time (Gaussian-weighted local-linear fits,
   sigma ``smoothing`` frames): slow drift is followed, motion and flicker are not;
3. each frame is mapped channel-wise so its smoothed statistics become the
   anchor's (the first segment's frames, or the reference image):
   ``lab' = (lab - mean_t) * clip(std_a / std_t) + mean_a``, blended by ``strength``.

The mapping changes smoothly from frame to frame (no flicker) and puts the
mean lightness back where the anchor has it (no darkening). Memory is one frame
plus (N, 6) statistics: the video is streamed from the cache twice (statistics,
then output). Pure numpy.
"""

from __future__ import annotations

import os

import numpy as np

from ..core.errors import DreamActorError
from ..core.smoothing import smooth_series
from ..dit.segment_cache import load_manifest
from ..dit.segments import Segment
from ..io.video import LazyVideo

ANCHORS = ("first segment", "reference", "off")
MAX_GAIN = 1.5  # std ratios are clipped to [1 / MAX_GAIN, MAX_GAIN]
STD_FLOOR = 1e-3


# ---------------------------------------------------------------- Oklab


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((np.maximum(c, 0.04045) + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * np.power(np.maximum(c, 0.0031308), 1 / 2.4) - 0.055)


_M1 = np.array(
    [
        [0.4122214708, 0.5363325363, 0.0514459929],
        [0.2119034982, 0.6806995451, 0.1073969566],
        [0.0883024619, 0.2817188376, 0.6299787005],
    ]
)
_M2 = np.array(
    [
        [0.2104542553, 0.7936177850, -0.0040720468],
        [1.9779984951, -2.4285922050, 0.4505937099],
        [0.0259040371, 0.7827717662, -0.8086757660],
    ]
)
_M1_INV = np.linalg.inv(_M1)
_M2_INV = np.linalg.inv(_M2)


def rgb_to_oklab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (..., 3) in [0, 1] -> Oklab (..., 3) (L in [0, 1], a and b around 0)."""
    lms = srgb_to_linear(np.asarray(rgb, np.float32)) @ _M1.T.astype(np.float32)
    return np.cbrt(lms) @ _M2.T.astype(np.float32)


def oklab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Oklab (..., 3) -> sRGB (..., 3) clipped to [0, 1]."""
    lms = (np.asarray(lab, np.float32) @ _M2_INV.T.astype(np.float32)) ** 3
    return linear_to_srgb(lms @ _M1_INV.T.astype(np.float32)).astype(np.float32)


def lab_stats(frame: np.ndarray, stride: int = 4) -> np.ndarray:
    """(H, W, 3) sRGB in [0, 1] -> (6,) Oklab mean (3) and standard deviation (3)."""
    lab = rgb_to_oklab(frame[::stride, ::stride]).reshape(-1, 3)
    return np.concatenate([lab.mean(0), lab.std(0)])


# ---------------------------------------------------------------- smoothing


def colour_maps(stats: np.ndarray, anchor: np.ndarray, sigma: float, strength: float = 1.0, pinned=None):
    """Per-frame Oklab maps ``lab' = lab * gain + offset`` from statistics.

    stats (T, 6) per-frame mean+std, anchor (6,), sigma in frames, strength in
    [0, 1]; pinned (T,) bool marks frames that ARE the anchor (the first segment):
    their drift is taken as zero before smoothing and their map is the identity.
    The drift (stats - anchor) is smoothed, so a map follows slow changes only.
    Returns gain (T, 3), offset (T, 3).
    """
    drift = np.asarray(stats, np.float64) - anchor
    if pinned is not None:
        drift[pinned] = 0.0
    smooth = anchor + smooth_series(drift, sigma)
    mean, std = smooth[:, :3], np.maximum(smooth[:, 3:], STD_FLOOR)
    gain = np.clip(np.maximum(anchor[3:], STD_FLOOR) / std, 1.0 / MAX_GAIN, MAX_GAIN)
    # full correction: (lab - mean) * gain + anchor_mean; strength blends it with the identity
    gain_s = 1.0 + strength * (gain - 1.0)
    offset_s = strength * (anchor[:3] - gain * mean)
    if pinned is not None:  # identity on the anchor, then a short fade into the corrected frames
        gain_s[pinned], offset_s[pinned] = 1.0, 0.0
        fade = max(1.0, sigma / 8)
        gain_s, offset_s = smooth_series(gain_s, fade), smooth_series(offset_s, fade)
        gain_s[pinned], offset_s[pinned] = 1.0, 0.0
    return gain_s.astype(np.float32), offset_s.astype(np.float32)


# ---------------------------------------------------------------- seams


def segments_of(manifest: dict) -> list[Segment]:
    return [Segment(**{k: s[k] for k in ("index", "start", "known", "new", "pad")}) for s in manifest["segments"]]


def owners(segments: list[Segment], num_frames: int) -> np.ndarray:
    """(N,) index of the segment that generated each frame (each frame has exactly one)."""
    owner = np.full(num_frames, -1, np.int64)
    for s in segments:
        if (owner[s.new_start : s.new_stop] != -1).any():
            raise DreamActorError(
                f"segments overlap at frames {s.new_start}..{s.new_stop - 1}",
                fix="sample again into a fresh cache",
                input="segments",
            )
        owner[s.new_start : s.new_stop] = s.index
    if (owner < 0).any():
        missing = np.nonzero(owner < 0)[0]
        raise DreamActorError(
            f"no segment made frames {missing[0]}..{missing[-1]}",
            fix="run DreamActor Sampler to the end (queue the same prompt again: it resumes)",
            input="segments",
        )
    return owner


class SegmentFrames:
    """Reads window frames of a cache folder; keeps the last two segments' files mapped."""

    def __init__(self, folder: str):
        self.folder = folder
        self._open: dict[int, np.ndarray] = {}

    def get(self, index: int) -> np.ndarray:
        if index not in self._open:
            path = os.path.join(self.folder, f"seg_{index:05d}.frames.npy")
            if not os.path.exists(path):
                raise DreamActorError(
                    f"segment {index} is missing from {self.folder}",
                    fix="queue the sampler again: it resumes and makes the missing segments",
                    input="segments",
                )
            if len(self._open) >= 2:
                self._open.pop(min(self._open))
            try:
                self._open[index] = np.load(path, mmap_mode="r")
            except (OSError, ValueError, EOFError):  # truncated or overwritten after the run
                raise DreamActorError(
                    f"segment {index} in {self.folder} is damaged",
                    fix="queue the sampler again: it re-makes damaged segments and resumes",
                    input="segments",
                ) from None
        return self._open[index]

    def frame(self, index: int, window_index: int) -> np.ndarray:
        return self.get(index)[window_index]


def blend_weight(j: int, known: int) -> float:
    """Weight of the next segment's version on its j-th known frame (0 < w < 1, rising)."""
    return (j + 1) / (known + 1)


def composed_frame(
    reader: SegmentFrames, segments: list[Segment], owner: np.ndarray, t: int, blend: bool = True
) -> np.ndarray:
    """Output frame ``t`` before colour correction: (H, W, 3) float32 in [0, 1]."""
    s = segments[int(owner[t])]
    a = reader.frame(s.index, t - s.start).astype(np.float32) / 255.0
    if blend and s.index + 1 < len(segments):
        nxt = segments[s.index + 1]
        j = t - nxt.start
        if 0 <= j < nxt.known:
            w = blend_weight(j, nxt.known)
            b = reader.frame(nxt.index, j).astype(np.float32) / 255.0
            return (1.0 - w) * a + w * b
    return a


# ---------------------------------------------------------------- the video


class StitchedVideo(LazyVideo):
    """``DA_VIDEO`` streamed from a segment cache: seams blended, colour anchored.

    folder: a DreamActor Sampler cache folder (all segments finished).
    blend: cross-fade over each overlap. anchor: 'first segment', 'reference' or
    'off'. strength: 0..1 of the colour correction. smoothing: sigma in frames of
    the correction over time (0 = auto: one segment's new frames).
    """

    def __init__(
        self,
        folder: str,
        blend: bool = True,
        anchor: str = "first segment",
        strength: float = 1.0,
        smoothing: float = 0.0,
        audio=None,
        stride: int = 4,
        progress=None,
    ):
        if anchor not in ANCHORS:
            raise DreamActorError(
                f"unknown colour anchor '{anchor}'", fix=f"choose one of {', '.join(ANCHORS)}", input="colour_anchor"
            )
        if not 0.0 <= strength <= 1.0:
            raise DreamActorError(
                f"strength {strength} is outside 0..1", fix="use a value from 0 to 1", input="colour_strength"
            )
        manifest = load_manifest(folder)
        info = manifest["info"]
        self.folder = folder
        self.segments = segments_of(manifest)
        self.num_frames = int(info["frames"])
        self.width, self.height = int(info["width"]), int(info["height"])
        self.fps = float(info["fps"])
        self.blend = bool(blend)
        self.anchor = anchor
        self.owner = owners(self.segments, self.num_frames)
        done = set(manifest["done"])
        unfinished = [s.index for s in self.segments if s.index not in done]
        if unfinished:
            raise DreamActorError(
                f"{len(unfinished)} of {len(self.segments)} segments are not finished yet (first: {unfinished[0]})",
                fix="queue the sampler again: it resumes after the last finished segment",
                input="segments",
            )
        self._audio = audio
        self._reader = SegmentFrames(folder)
        self.sigma = float(smoothing) if smoothing > 0 else float(max(1, self.segments[0].new))
        self.gain = self.offset = None
        self.stats = None
        if anchor != "off" and strength > 0:
            self.stats = self._statistics(stride, progress)
            target = self._anchor_stats(stride)
            pinned = None
            if anchor == "first segment":
                pinned = np.zeros(self.num_frames, bool)
                first = self.segments[0]  # up to where the next segment's carried frames blend in
                stop = self.segments[1].start if len(self.segments) > 1 and self.blend else first.new_stop
                pinned[first.new_start : stop] = True
            self.gain, self.offset = colour_maps(self.stats, target, self.sigma, strength, pinned)

    def __getstate__(self):
        d = dict(self.__dict__)
        d["_reader"] = None
        return d

    def __setstate__(self, d):
        self.__dict__.update(d)
        self._reader = SegmentFrames(self.folder)

    def _statistics(self, stride: int, progress) -> np.ndarray:
        stats = np.empty((self.num_frames, 6), np.float64)
        for t in range(self.num_frames):
            stats[t] = lab_stats(composed_frame(self._reader, self.segments, self.owner, t, self.blend), stride)
            if progress is not None:
                progress(t + 1, self.num_frames)
        return stats

    def _anchor_stats(self, stride: int) -> np.ndarray:
        if self.anchor == "reference":
            path = os.path.join(self.folder, "reference.npy")
            if not os.path.exists(path):
                raise DreamActorError(
                    "this cache has no reference image", fix="use the 'first segment' anchor", input="colour_anchor"
                )
            return lab_stats(np.load(path).astype(np.float32) / 255.0, stride)
        first = self.segments[0]
        return self.stats[first.new_start : first.new_stop].mean(0)

    def audio(self):
        return self._audio

    def frame_float(self, t: int) -> np.ndarray:
        """Output frame ``t``: (H, W, 3) float32 in [0, 1]."""
        frame = composed_frame(self._reader, self.segments, self.owner, t, self.blend)
        if self.gain is None:
            return frame
        return oklab_to_rgb(rgb_to_oklab(frame) * self.gain[t] + self.offset[t])

    def iter_frames(self, start: int = 0, stop: int | None = None):
        start, stop = self._check_range(start, stop)
        for t in range(start, stop):
            yield (np.clip(self.frame_float(t), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)

    def describe(self) -> str:
        colour = "colour off" if self.gain is None else f"colour anchored to the {self.anchor}"
        return (
            f"{self.num_frames} frames, {self.width}x{self.height}, {self.fps:.3f} fps, "
            f"{len(self.segments)} segments, seams {'blended' if self.blend else 'cut'}, {colour}"
        )
