"""Face crops for implicit-face encoding: a steady square window on the face, per frame.

``DA_FACE`` is a :class:`FaceTrack`: the lazy driving video plus one crop box per
frame. Crops are cut on demand, a window of frames at a time (``crops(start,
stop)``), so the clip is never held in memory.

A crop box is ``(cx, cy, side, angle)`` in source pixels: the square of ``side``
pixels centred on (cx, cy), turned by ``angle`` radians (0 = upright). From the
face landmarks of each frame (``face_crop_boxes``):

* centre: where the canonical face's centroid lands under a similarity fit of the
  canonical face's rigid landmarks, i.e. the centre of the face's landmarks as if
  its expression were neutral (an open mouth does not drag the window down);
* side: ``scale`` times the face's length (forehead top to chin, 0.172 m on the
  canonical face) at the fitted scale, which does not shrink when the head turns;
* angle: 0 by default: upright crops keep the head's roll visible to the motion
  encoder, as in Wan-Animate's training crops. ``follow_roll=True`` turns the window
  with the eye line instead.

The boxes are smoothed over time (Gaussian-weighted local-linear fits, no lag:
``models.core.smoothing.smooth_series``; the side twice as much as the centre, in log
scale: faces change size slowly and size jitter reads as zooming), then
clamped so the unsmoothed centre never drifts more than ``max_offset`` of the side
from the crop centre during fast moves. Frames without a face hold the last
measured box (the first one before any face) and are marked invalid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import DreamActorError
from ..core.motion import Motion
from ..core.smoothing import smooth_series
from ..head.canonical_face import (
    CANONICAL_FACE,
    CHIN,
    FOREHEAD_TOP,
    LEFT_EYE_CORNERS,
    RIGHT_EYE_CORNERS,
    RIGID_LANDMARKS,
    similarity_fit,
)
from ..head.sphere import face_measured
from ..io.video import LazyVideo

FACE_LENGTH_M = float(np.linalg.norm(CANONICAL_FACE[FOREHEAD_TOP] - CANONICAL_FACE[CHIN]))
FACE_CENTRE = CANONICAL_FACE.mean(0)
"""Centroid of the canonical face's 478 points (head frame, metres)."""


# ------------------------------------------------------------------ one frame
def raw_crop_box(face2d: np.ndarray, face3d: np.ndarray | None, scale: float) -> np.ndarray:
    """One frame's unsmoothed box (4,) = cx, cy, side, angle from face2d (F, 2) px and
    optional face3d (F, 3) px. Without face3d: the landmarks' mean and ``scale``
    times their box's larger side; the angle is the eye line's either way."""
    F = face2d.shape[0]
    rigid = RIGID_LANDMARKS[RIGID_LANDMARKS < F]
    if face3d is not None:
        s, R, t = similarity_fit(CANONICAL_FACE[:F][rigid], np.asarray(face3d, np.float64)[rigid])
        cx, cy = (s * R @ FACE_CENTRE + t)[:2]
        side = scale * s * FACE_LENGTH_M
    else:
        (cx, cy), side = face2d.mean(0), scale * float(np.ptp(face2d, axis=0).max())
    pts = np.asarray(face2d, np.float64)
    eye_line = pts[list(LEFT_EYE_CORNERS)].mean(0) - pts[list(RIGHT_EYE_CORNERS)].mean(0)  # her right eye -> left
    angle = float(np.arctan2(eye_line[1], eye_line[0]))
    return np.array([cx, cy, side, angle])


def crop_matrix(box: np.ndarray, size: int) -> np.ndarray:
    """(2, 3) affine mapping source pixels to crop pixels for ``box`` (4,)."""
    cx, cy, side, angle = (float(v) for v in box)
    k = size / side
    c, s = np.cos(angle), np.sin(angle)
    # crop = k * Rot(-angle) @ (p - centre) + size / 2, in pixel-centre coordinates
    A = k * np.array([[c, s], [-s, c]])
    b = np.array([size / 2.0 - 0.5, size / 2.0 - 0.5]) - A @ np.array([cx - 0.5, cy - 0.5])
    return np.hstack([A, b[:, None]])


def to_crop_pixels(points: np.ndarray, box: np.ndarray, size: int) -> np.ndarray:
    """points (..., 2) source px -> (..., 2) px in the crop of ``box`` (both continuous
    coordinates: a pixel's centre is at index + 0.5, as MediaPipe reports)."""
    cx, cy, side, angle = (float(v) for v in box)
    c, s = np.cos(angle), np.sin(angle)
    A = (size / side) * np.array([[c, s], [-s, c]])
    return (np.asarray(points, np.float64) - [cx, cy]) @ A.T + size / 2.0


def cut_crop(frame: np.ndarray, box: np.ndarray, size: int) -> np.ndarray:
    """frame (H, W, 3) uint8 -> (size, size, 3) uint8 crop of ``box``; black outside
    the frame. Large faces are area-downscaled first so the crop does not alias."""
    import cv2

    cx, cy, side, angle = (float(v) for v in box)
    shrink = side / size
    if shrink > 1.5:
        # Cut the axis-aligned square holding the turned box, area-resize it, then warp.
        half = 0.5 * side * (abs(np.cos(angle)) + abs(np.sin(angle))) + 2
        x0, y0 = int(np.floor(cx - half)), int(np.floor(cy - half))
        x1, y1 = int(np.ceil(cx + half)), int(np.ceil(cy + half))
        H, W = frame.shape[:2]
        region = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
        ax, ay, bx, by = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
        if bx > ax and by > ay:
            region[ay - y0 : by - y0, ax - x0 : bx - x0] = frame[ay:by, ax:bx]
        f = 1.0 / shrink
        small = cv2.resize(
            region,
            (max(1, round(region.shape[1] * f)), max(1, round(region.shape[0] * f))),
            interpolation=cv2.INTER_AREA,
        )
        fx, fy = small.shape[1] / region.shape[1], small.shape[0] / region.shape[0]
        frame = small
        box = np.array([(cx - x0) * fx, (cy - y0) * fy, side * 0.5 * (fx + fy), angle])
    return cv2.warpAffine(
        np.ascontiguousarray(frame),
        crop_matrix(box, size),
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )


# ------------------------------------------------------------------ over time
def hold_last(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """values (T, ...) with invalid frames replaced by the last valid one (the first
    valid one before any)."""
    idx = np.where(valid, np.arange(len(valid)), -1)
    idx = np.maximum.accumulate(idx)
    idx[idx < 0] = np.argmax(valid)
    return values[idx]


def face_crop_boxes(
    motion: Motion, scale: float = 1.2, smoothing: float = 2.0, max_offset: float = 0.03, follow_roll: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Steady crop boxes from a motion's face landmarks.

    scale: crop side / face length (forehead top to chin). smoothing: Gaussian sigma
    in frames for the centre and angle (the side uses twice it; 0 = off).
    max_offset: largest distance, as a fraction of the side, between the smoothed and
    the measured centre. Returns boxes (T, 4) = cx, cy, side, angle and valid (T,).
    """
    valid = face_measured(motion)
    if not valid.any():
        raise DreamActorError(
            "no face was found on any frame of the motion, so there is nothing to crop",
            fix="use a driving clip where the face is visible, and run DreamActor Skeleton Extract on it "
            "(with face landmarks) first",
            input="motion",
        )
    face3d = motion.get("face3d")
    raw = np.zeros((motion.num_frames, 4))
    for t in np.nonzero(valid)[0]:
        raw[t] = raw_crop_box(motion.face2d[t], None if face3d is None else face3d[t], scale)
    if not follow_roll:
        raw[:, 3] = 0.0
    raw[valid, 3] = np.unwrap(raw[valid, 3])
    box = raw.copy()
    box[:, [0, 1, 3]] = smooth_series(raw[:, [0, 1, 3]], smoothing, valid)
    box[:, 2] = np.exp(smooth_series(np.log(np.maximum(raw[:, 2], 1e-6)), 2.0 * smoothing, valid))
    # Never let smoothing leave the face off-centre in a fast move.
    limit = max_offset * box[:, 2:3]
    box[:, :2] = raw[:, :2] + np.clip(box[:, :2] - raw[:, :2], -limit, limit)
    box = hold_last(box, valid)
    return box.astype(np.float32), valid


# ------------------------------------------------------------------ DA_FACE
@dataclass
class FaceTrack:
    """``DA_FACE``: lazy face crops of a driving video.

    video: the ``LazyVideo`` the boxes were measured on.
    boxes: (T, 4) float32 cx, cy, side, angle per frame (source px, radians).
    valid: (T,) bool, False where the face was lost (the box is held).
    size: crop side in pixels (square crops).
    tokens: optional per-frame implicit face motion (T, 512) float32 from Face Encode
        with a MODEL (the motion encoder's output, expression controls applied).
    tokens_source: fingerprint of the motion encoder that made ``tokens``, so the
        sampler can refuse tokens from another model.
    """

    video: LazyVideo
    boxes: np.ndarray
    valid: np.ndarray
    size: int = 512
    tokens: np.ndarray | None = None
    tokens_source: str | None = None

    def __post_init__(self):
        T = int(self.video.num_frames)
        if self.boxes.shape != (T, 4) or self.valid.shape != (T,):
            raise DreamActorError(
                f"face track has boxes {self.boxes.shape} and valid {self.valid.shape} for a {T}-frame video",
                fix="build the face crops from the same video and motion",
                input="face",
            )

    @property
    def num_frames(self) -> int:
        return int(self.boxes.shape[0])

    def __len__(self) -> int:
        return self.num_frames

    def crops(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Frames ``start..stop-1`` as (n, size, size, 3) uint8 face crops."""
        stop = self.num_frames if stop is None else stop

        def cut(t: int, frame: np.ndarray) -> np.ndarray:
            return cut_crop(frame, self.boxes[t], self.size)

        return self.video.collect(start, stop, (self.size, self.size, 3), cut)

    def windows(self, length: int, start: int = 0, stop: int | None = None):
        """Yield ``(first_index, crops)`` windows of at most ``length`` frames."""
        stop = self.num_frames if stop is None else stop
        for a in range(start, stop, length):
            yield a, self.crops(a, min(a + length, stop))

    def preview_indices(self, max_frames: int = 16) -> np.ndarray:
        """Up to ``max_frames`` frame indices spread evenly over the clip."""
        n = max(1, min(int(max_frames), self.num_frames))
        return np.unique(np.round(np.linspace(0, self.num_frames - 1, n)).astype(int))

    def preview(self, max_frames: int = 16) -> np.ndarray:
        """(n, size, size, 3) uint8 crops of frames spread over the clip, for an IMAGE preview."""
        return np.stack([self.crops(int(i), int(i) + 1)[0] for i in self.preview_indices(max_frames)])

    def landmarks_in_crop(self, points: np.ndarray, t: int) -> np.ndarray:
        """points (..., 2) source px on frame ``t`` -> crop px."""
        return to_crop_pixels(points, self.boxes[t], self.size)


def face_track(video: LazyVideo, motion: Motion, size: int = 512, **box_options) -> FaceTrack:
    """The ``DA_FACE`` of ``video`` from the face landmarks of ``motion`` (measured on it).
    ``box_options`` go to :func:`face_crop_boxes`."""
    if int(video.num_frames) != motion.num_frames:
        raise DreamActorError(
            f"the video has {video.num_frames} frames but the motion {motion.num_frames}",
            fix="connect the motion extracted from this same video (same frame range and fps)",
            input="motion",
        )
    if tuple(video.size) != tuple(motion.image_size):
        raise DreamActorError(
            f"the video is {video.width}x{video.height} but the motion was measured on "
            f"{motion.image_size[0]}x{motion.image_size[1]} frames",
            fix="connect the motion extracted from this same video",
            input="motion",
        )
    if not 16 <= int(size) <= 2048:
        raise DreamActorError(
            f"crop size {size} is out of range", fix="choose a size from 16 to 2048 (512 for Wan-Animate)", input="size"
        )
    boxes, valid = face_crop_boxes(motion, **box_options)
    return FaceTrack(video=video, boxes=boxes, valid=valid, size=int(size))
