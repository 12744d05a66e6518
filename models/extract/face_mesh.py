"""The face-landmark detector: MediaPipe Face Landmarker (478 points with irises), Comfy-free.

One face per frame. Landmarks come back in full-frame pixels:

* ``points2d`` (478, 2): x right, y down, pixels;
* ``points3d`` (478, 3): the same x, y plus MediaPipe's relative depth z (smaller =
  nearer the camera), converted to the same pixel scale as x and y, so the cloud
  is a scaled-orthographic picture of the face in camera axes;
* ``blendshapes`` (52,): MediaPipe's ARKit-style expression scores in [0, 1], in
  :data:`BLENDSHAPE_NAMES` order;
* ``matrix`` (4, 4): MediaPipe's facial transformation matrix (its canonical face, cm,
  to the camera of the square it looked at);
* ``score``: 1.0. The Tasks API reports no face score: a returned face passed the face
  detector (``min_detection_confidence``) and, while tracked, the landmark model's own
  presence threshold (``min_tracking_confidence``).

Every image handed to MediaPipe is made square by zero padding: its landmark
projection is exact only for square inputs (it warns otherwise), and its face
detector letterboxes to a square anyway, so the padding costs nothing.
With an ``roi`` (a person's head box) the detector runs on a padded square crop
around it, so that small faces in full-body shots fill enough of the detector's
128 px input to be found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..core.errors import DreamActorError
from .landmarkers import TaskRunner

NUM_FACE_LANDMARKS = 478
"""468 mesh points + 2 x 5 iris points."""
NUM_BLENDSHAPES = 52

ROI_PAD = 1.0
"""An ``roi`` is grown by this fraction of its larger side on every side before
cropping: the crop is 3x the head box, room for the detector and head motion."""


@dataclass
class FaceLandmarks:
    """One detected face in full-frame pixels (see the module docstring)."""

    points2d: np.ndarray  # (478, 2) float32
    points3d: np.ndarray  # (478, 3) float32
    score: float
    blendshapes: np.ndarray  # (52,) float32
    matrix: np.ndarray  # (4, 4) float32


class FaceMeshDetector:
    """MediaPipe Face Landmarker, one face, 478 landmarks, blendshapes, transformation matrix.

    ``video_mode=True`` tracks landmarks from frame to frame (faster, steadier) and
    runs the face detector only when the track is lost; feed frames in order.
    ``video_mode=False`` detects every image independently (photos, shuffled frames).
    """

    def __init__(
        self, video_mode: bool = True, min_detection_confidence: float = 0.6, min_tracking_confidence: float = 0.5
    ):
        # 0.6, not MediaPipe's 0.5: face_noface.mov's title card shows a 0.5-0.6 "face" in its lettering.
        def make(vision, base, mode):
            return vision.FaceLandmarker.create_from_options(
                vision.FaceLandmarkerOptions(
                    base_options=base,
                    running_mode=mode,
                    num_faces=1,
                    min_face_detection_confidence=min_detection_confidence,
                    min_face_presence_confidence=min_tracking_confidence,
                    min_tracking_confidence=min_tracking_confidence,
                    output_face_blendshapes=True,
                    output_facial_transformation_matrixes=True,
                )
            )

        self._runner: TaskRunner | None = TaskRunner("face_landmarker.task", video_mode, make)
        self.video_mode = bool(video_mode)
        self._tracking = False

    # ------------------------------------------------------------------ detect
    def detect(self, frame: np.ndarray, roi: np.ndarray | None = None) -> FaceLandmarks | None:
        """The face in ``frame`` (H, W, 3) uint8 RGB, or None.

        ``roi`` (4,) xyxy pixels: look only in a padded square around this box
        (e.g. the head of a tracked body); landmarks are still full-frame pixels.
        """
        if self._runner is None:
            raise RuntimeError("FaceMeshDetector is closed")
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise DreamActorError(
                f"a frame of shape {frame.shape} and dtype {frame.dtype} is not an RGB image",
                fix="pass (H, W, 3) uint8 RGB frames",
                input="video",
            )
        H, W = frame.shape[:2]
        x0, y0, side = square_around(roi, W, H)
        image = padded_square(frame, x0, y0, side)
        result = self._runner.run(image)
        if not result.face_landmarks and self._tracking:
            result = self._runner.run_still(image)  # the track broke on this frame: TaskRunner.run_still
        self._tracking = self.video_mode and bool(result.face_landmarks)
        if not result.face_landmarks:
            return None
        lm = result.face_landmarks[0]
        norm = np.array([(p.x, p.y, p.z) for p in lm[:NUM_FACE_LANDMARKS]], np.float32)  # normalised to the square
        pts = norm * np.float32(side)
        pts[:, 0] += x0
        pts[:, 1] += y0
        shapes = np.zeros(NUM_BLENDSHAPES, np.float32)
        if result.face_blendshapes:
            shapes[:] = [c.score for c in result.face_blendshapes[0][:NUM_BLENDSHAPES]]
        matrix = np.eye(4, dtype=np.float32)
        if result.facial_transformation_matrixes:
            matrix[:] = np.asarray(result.facial_transformation_matrixes[0], np.float32).reshape(4, 4)
        return FaceLandmarks(pts[:, :2].copy(), pts, 1.0, shapes, matrix)

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    def __enter__(self) -> "FaceMeshDetector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def square_around(roi: np.ndarray | None, width: int, height: int) -> tuple[int, int, int]:
    """The square (x0, y0, side) in pixels that MediaPipe sees.

    Without ``roi``: the whole frame, padded to a square. With ``roi`` (4,) xyxy: a
    square centred on it, ``1 + 2 * ROI_PAD`` times its larger side (at least 64 px).
    The square may stick out of the frame; the outside is zero padding.
    """
    if roi is None:
        side = max(width, height)
        return (width - side) // 2, (height - side) // 2, side
    x1, y1, x2, y2 = (float(v) for v in np.asarray(roi, np.float64).reshape(4))
    if not np.all(np.isfinite([x1, y1, x2, y2])) or x2 <= x1 or y2 <= y1:
        side = max(width, height)
        return (width - side) // 2, (height - side) // 2, side
    side = int(round(max(x2 - x1, y2 - y1) * (1.0 + 2.0 * ROI_PAD)))
    side = max(side, 64)
    cx, cy = 0.5 * (x1 + x2), 0.5 * (y1 + y2)
    return int(round(cx - side / 2)), int(round(cy - side / 2)), side


def padded_square(frame: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """frame[y0:y0+side, x0:x0+side] (side, side, 3) uint8, zero where it leaves the frame."""
    H, W = frame.shape[:2]
    if x0 == 0 and y0 == 0 and side == W == H:
        return np.ascontiguousarray(frame)
    out = np.zeros((side, side, 3), np.uint8)
    ax, ay = max(x0, 0), max(y0, 0)
    bx, by = min(x0 + side, W), min(y0 + side, H)
    if bx > ax and by > ay:
        out[ay - y0 : by - y0, ax - x0 : bx - x0] = frame[ay:by, ax:bx]
    return out


def detect_faces_in_video(
    video,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Face landmarks of every frame of a face-only clip (portraits, talking heads).

    video: a ``LazyVideo``; decoded one frame at a time.
    progress(done, total): called every few frames. should_stop(): polled every
    frame; when it returns True the walk stops with ``InterruptedError``.
    Returns face2d (T, 478, 2) px, face3d (T, 478, 3) px, face_valid (T,) bool;
    frames without a face are zeros with face_valid False.
    """
    T = int(video.num_frames)
    face2d = np.zeros((T, NUM_FACE_LANDMARKS, 2), np.float32)
    face3d = np.zeros((T, NUM_FACE_LANDMARKS, 3), np.float32)
    valid = np.zeros((T,), bool)
    with FaceMeshDetector(video_mode=T > 1) as detector:
        for t, frame in enumerate(video.iter_frames()):
            if should_stop is not None and should_stop():
                raise InterruptedError("face landmark detection was cancelled")
            found = detector.detect(frame)
            if found is not None:
                face2d[t], face3d[t], valid[t] = found.points2d, found.points3d, True
            if progress is not None and ((t + 1) % 16 == 0 or t + 1 == T):
                progress(t + 1, T)
    return face2d, face3d, valid
