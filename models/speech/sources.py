"""Where a speech performance's faces come from: a picture (talking picture) or a clip's crops (re-dub)."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..face.crops import FaceTrack, cut_crop, raw_crop_box, to_crop_pixels
from ..io.video import Audio
from .analysis import SpeechFrames
from .performance import SpeechCrops, fit_audio, head_sway, mouth_targets, require_face

PICTURE_CROP_SCALE = 1.6
"""Crop side / the face landmarks' extent for a picture (Face Encode's crops show the
whole head: the landmarks span forehead to chin, ~1.25 of that is the head)."""


def picture_crop(image: np.ndarray, size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """image (H, W, 3) uint8 -> (crop (size, size, 3) uint8, landmarks (478, 2) crop px).
    Raises DreamActorError naming 'picture' when no face is found."""
    from ..extract.face_mesh import FaceMeshDetector

    with FaceMeshDetector(video_mode=False) as det:
        found = det.detect(np.ascontiguousarray(image))
    pts = require_face(None if found is None else found.points2d, "picture")
    box = raw_crop_box(pts, None, PICTURE_CROP_SCALE)
    box[3] = 0.0  # upright, as Face Encode's crops
    return cut_crop(image, box, size), to_crop_pixels(pts, box, size)


def track_points(face: FaceTrack, on_frame: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks of every crop of ``face``: (points (T, 478, 2) crop px, found (T,) bool),
    the landmarker run in video mode over the crops, a window at a time."""
    from ..extract.face_mesh import FaceMeshDetector

    T = face.num_frames
    points = np.zeros((T, 478, 2), np.float32)
    found = np.zeros(T, bool)
    with FaceMeshDetector(video_mode=True) as det:
        for a, crops in face.windows(32):
            for i, crop in enumerate(crops):
                lm = det.detect(crop)
                if lm is not None:
                    points[a + i], found[a + i] = lm.points2d, True
                if on_frame is not None:
                    on_frame(a + i + 1, T)
    require_face(points if found.any() else None, "face crops")
    return points, found


def talking_picture(
    image: np.ndarray,
    speech: SpeechFrames,
    audio: Audio,
    size: int = 512,
    strength: float = 1.0,
    smoothing: float = 1.0,
    offset: int = 0,
    head_motion: float = 0.0,
) -> SpeechCrops:
    """The picture's face speaking ``speech`` (one crop per speech frame)."""
    crop, pts = picture_crop(image, size)
    openness, viseme = mouth_targets(speech, strength, smoothing, offset)
    T = len(openness)
    return SpeechCrops(
        crop,
        pts,
        np.ones(T, bool),
        openness,
        viseme,
        speech.fps,
        fit_audio(audio, T, speech.fps),
        sway=head_sway(openness, head_motion, speech.fps) if head_motion > 0 else None,
    )


def redub(
    face: FaceTrack,
    points: np.ndarray,
    found: np.ndarray,
    speech: SpeechFrames,
    audio: Audio,
    blend: float = 1.0,
    strength: float = 1.0,
    smoothing: float = 1.0,
    offset: int = 0,
) -> SpeechCrops:
    """The clip's own crops with the mouth following ``speech``; ``blend`` 1 = all speech,
    0 = the clip's own mouth. ``speech`` must have the clip's frame count."""
    openness, viseme = mouth_targets(speech, strength, smoothing, offset)
    T = face.num_frames
    return SpeechCrops(
        face, points, found, openness, viseme, face.video.fps, fit_audio(audio, T, face.video.fps), 1.0 - blend
    )


def held_motion(reference, num_frames: int, fps: float):
    """The reference's first frame held for ``num_frames`` at ``fps`` (the body standing
    still in its own pose while the face speaks): a DA_MOTION for picture + audio."""
    import dataclasses

    from ..core.motion import OPTIONAL_PER_FRAME, PER_FRAME

    idx = np.zeros(int(num_frames), np.int64)
    per = {k: getattr(reference, k)[idx] for k in PER_FRAME}
    opt = {k: (v[idx] if k in OPTIONAL_PER_FRAME else v) for k, v in reference.optional.items()}
    return dataclasses.replace(reference, fps=float(fps), optional=opt, **per)
