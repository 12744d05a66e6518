"""A face performance from speech: lazy face crops whose mouth follows an audio track.

Two sources of crops:

* talking picture: one crop of the reference picture, animated (``PictureCrops``);
* re-dub: the driving clip's own crops (a ``FaceTrack``), whose expression, head and
  eyes are kept while the mouth follows the new speech (``source_blend`` keeps part
  of the clip's own mouth).

:class:`SpeechCrops` is a ``LazyVideo`` of the warped crops (square, ``size`` px) that
carries the speech as its audio, so a ``FaceTrack`` over it (identity boxes) is a
``DA_FACE`` the sampler reads like any other, and the segments it makes keep the
sound: frame k shows the speech at k / fps.
"""

from __future__ import annotations

import hashlib
from typing import Iterator

import numpy as np

from ..core.errors import DreamActorError
from ..core.smoothing import smooth_series
from ..face.crops import FaceTrack
from ..io.video import Audio, LazyVideo
from .analysis import SpeechFrames
from .mouth import warp_mouth

WINDOW = 16
"""Source crops decoded per step when re-dubbing."""


def mouth_targets(
    speech: SpeechFrames, strength: float = 1.0, smoothing: float = 0.0, offset: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame (openness (T,) float32, viseme (T,) int64) to drive the mouth.

    strength scales the openness; smoothing is a Gaussian sigma in frames (0 = off);
    offset shifts the mouth later by that many frames (negative: earlier, the lips
    leading the sound, as in real speech), holding the ends."""
    T = speech.num_frames
    src = np.clip(np.arange(T) - int(offset), 0, T - 1)
    openness = speech.openness[src].astype(np.float64)
    viseme = speech.viseme[src]
    openness = smooth_series(openness, smoothing)
    return np.clip(openness * strength, 0.0, 1.0).astype(np.float32), viseme


def require_face(points: np.ndarray | None, what: str) -> np.ndarray:
    """Refuse a face source where no face was found."""
    if points is None:
        raise DreamActorError(
            f"no face was found in the {what}",
            fix="use a picture or clip where one face is clearly visible, front-on, not too small",
            input="picture" if what == "picture" else "face",
        )
    return np.asarray(points, np.float64)


def head_sway(openness: np.ndarray, amount: float, fps: float) -> np.ndarray:
    """(T, 2, 3) affine per frame: a small nod and roll following the speech's rhythm
    (its openness smoothed over ~0.3 s); identity when ``amount`` is 0."""
    T = len(openness)
    out = np.tile(np.array([[1.0, 0, 0], [0, 1.0, 0]]), (T, 1, 1))
    if amount <= 0:
        return out
    env = smooth_series(openness, max(1.0, 0.3 * fps))
    env = env - env.mean()
    out[:, 1, 2] = 6.0 * amount * env  # px nod on a 512 crop
    out[:, 0, 2] = 2.0 * amount * np.sin(np.arange(T) * 2 * np.pi / (4.0 * fps)) * np.abs(env)
    return out


class SpeechCrops(LazyVideo):
    """Warped face crops (T, size, size, 3), one per speech frame, with the speech as audio.

    source: ``FaceTrack`` (re-dub) or one crop (size, size, 3) uint8 (talking picture).
    points: (T, 478, 2) crop-px landmarks of each source crop (re-dub) or (478, 2).
    found: (T,) bool, frames whose source crop had a face (others pass unwarped).
    openness, viseme: (T,) targets. sway: (T, 2, 3) head motion affines or None.
    """

    def __init__(self, source, points, found, openness, viseme, fps, audio: Audio | None, blend=0.0, sway=None):
        self.source, self.points, self.found = source, np.asarray(points, np.float32), np.asarray(found, bool)
        self.openness, self.viseme = np.asarray(openness, np.float32), np.asarray(viseme, np.int64)
        self.fps, self.blend, self.sway, self._audio = float(fps), float(blend), sway, audio
        self.num_frames = int(len(self.openness))
        size = source.size if isinstance(source, FaceTrack) else int(source.shape[0])
        self.width = self.height = int(size)

    def audio(self) -> Audio | None:
        return self._audio

    def describe(self) -> str:
        """Identifies the frames without rendering them (for caches): a digest of every input."""
        h = hashlib.sha256()
        for a in (self.points, self.found, self.openness, self.viseme, self.sway):
            if a is not None:
                h.update(np.ascontiguousarray(a).tobytes())
        if isinstance(self.source, FaceTrack):
            h.update(np.ascontiguousarray(self.source.boxes).tobytes())
            h.update(repr((getattr(self.source.video, "path", None), self.source.video.describe())).encode())
        else:
            h.update(np.ascontiguousarray(self.source).tobytes())
        h.update(repr((self.fps, self.blend)).encode())
        return f"speech crops {self.num_frames} x {self.width}px {h.hexdigest()[:24]}"

    def _points(self, k: int) -> np.ndarray:
        return self.points[k] if self.points.ndim == 3 else self.points

    def _source_windows(self, start: int, stop: int) -> Iterator[np.ndarray]:
        if isinstance(self.source, FaceTrack):
            for _, crops in self.source.windows(WINDOW, start, stop):
                yield from crops
        else:
            for _ in range(start, stop):
                yield self.source

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        import cv2

        start, stop = self._check_range(start, stop)
        for k, crop in enumerate(self._source_windows(start, stop), start):
            if self.found[k]:
                crop, _ = warp_mouth(crop, self._points(k), float(self.openness[k]), int(self.viseme[k]), self.blend)
            if self.sway is not None and not np.allclose(self.sway[k], [[1, 0, 0], [0, 1, 0]]):
                crop = cv2.warpAffine(
                    crop,
                    self.sway[k],
                    (self.width, self.height),
                    flags=cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE,
                )
            yield crop


def as_face_track(crops: SpeechCrops) -> FaceTrack:
    """The ``DA_FACE`` of warped crops: identity boxes over the crop video itself."""
    S = crops.width
    boxes = np.tile(np.array([S / 2.0, S / 2.0, float(S), 0.0], np.float32), (crops.num_frames, 1))
    return FaceTrack(video=crops, boxes=boxes, valid=crops.found.copy(), size=S)


def fit_audio(audio: Audio, num_frames: int, fps: float) -> Audio:
    """The audio cut or padded with silence to exactly ``num_frames / fps`` seconds."""
    n = int(round(num_frames * audio.sample_rate / fps))
    wave = audio.waveform[:, :n]
    if wave.shape[1] < n:
        wave = np.pad(wave, ((0, 0), (0, n - wave.shape[1])))
    return Audio(np.ascontiguousarray(wave, np.float32), audio.sample_rate)
