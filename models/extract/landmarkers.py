"""MediaPipe's body, hand and face landmark models (Tasks API), run on square crops.

Thin wrappers over ``mediapipe.tasks.python.vision``'s ``PoseLandmarker``,
``HandLandmarker`` and ``FaceLandmarker`` (MediaPipe 0.10.30+ / 1.x, numpy 2), with
their ``.task`` model files from ``models.extract.model_files``. Each call takes a frame
and a :class:`SquareCrop` and returns landmarks already mapped back to frame pixels,
so callers never see MediaPipe's normalised crop coordinates.

``video_mode=True`` is MediaPipe's VIDEO running mode: after a detection the landmark
model follows its previous ROI (inside the crop), which is what keeps a body tracked
through a flip where the detector alone fails. Feed frames in order (each call gets the
next timestamp); :meth:`reset` starts a fresh task (the Tasks API has no reset of its
own; a task is built from model bytes held in memory, about 60 ms). ``video_mode=False``
is the IMAGE mode: every call is an independent detection (photos, searching).

Every image goes to ``mp.Image`` C-contiguous: PyAV's frames of 1080-pixel-wide video
carry row padding, and ``mp.Image`` silently reads such an array as garbage.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

from ..core.roi import SquareCrop
from .model_files import model_path

NUM_POSE_LANDMARKS = 33
NUM_HAND_LANDMARKS = 21
FRAME_MS = 33
"""Timestamp step between calls in VIDEO mode (MediaPipe wants them increasing)."""


@dataclass
class PoseResult:
    """One body. ``image`` (33, 3): frame px x, y and MediaPipe's relative depth z in
    the same px scale; ``visibility`` (33,) in [0, 1]; ``world`` (33, 3) metres,
    hip-centred, camera-aligned axes (x right, y down, z away from the camera)."""

    image: np.ndarray
    visibility: np.ndarray
    world: np.ndarray
    crop: SquareCrop


@dataclass
class HandResult:
    """One hand. ``image`` (21, 3) frame px (z relative, px scale); ``world`` (21, 3)
    metres around the hand's centre; ``label`` MediaPipe's handedness label, which
    assumes a mirrored (selfie) image, and ``score`` its probability."""

    image: np.ndarray
    world: np.ndarray
    label: str
    score: float


def landmark_array(landmarks, fields=("x", "y", "z")) -> np.ndarray:
    """A list of MediaPipe landmarks -> (N, len(fields)) float64 (missing values 0)."""
    return np.array([[getattr(p, f) or 0.0 for f in fields] for p in landmarks], np.float64)


@functools.lru_cache(maxsize=8)
def _model_bytes(path: str, mtime: float) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def load_model(name: str) -> bytes:
    """The bytes of model file ``name`` (downloaded on first use), read once per process."""
    path = model_path(name)
    return _model_bytes(path, os.path.getmtime(path))


def to_mp_image(rgb: np.ndarray):
    """(H, W, 3) uint8 RGB -> ``mp.Image`` (copied C-contiguous first)."""
    import mediapipe as mp

    return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb, dtype=np.uint8))


class TaskRunner:
    """One MediaPipe vision task, in VIDEO or IMAGE mode, rebuilt by :meth:`reset`.

    ``make(vision, base_options, running_mode)`` returns the task."""

    def __init__(self, model: str, video_mode: bool, make):
        self.model, self.video_mode, self._make = model, bool(video_mode), make
        self._task, self._time = None, 0
        self._still: TaskRunner | None = None

    def _ensure(self):
        if self._task is None:
            from mediapipe.tasks.python import BaseOptions, vision

            mode = vision.RunningMode.VIDEO if self.video_mode else vision.RunningMode.IMAGE
            self._task = self._make(vision, BaseOptions(model_asset_buffer=load_model(self.model)), mode)
        return self._task

    def run(self, rgb: np.ndarray):
        """The task's result on ``rgb`` (H, W, 3) uint8."""
        task, image = self._ensure(), to_mp_image(rgb)
        if not self.video_mode:
            return task.detect(image)
        self._time += FRAME_MS
        return task.detect_for_video(image, self._time)

    def run_still(self, rgb: np.ndarray):
        """The same task in IMAGE mode on ``rgb``: a fresh detection, the tracking state untouched.

        Why the hand and face models call it: in VIDEO mode a landmark model follows its
        target from the previous frame's landmarks and runs its detector only on the frame
        after it lost it, so the frame where a track breaks (fast motion, a crop that moved)
        comes back empty even where the detector sees the target. On that one frame the same
        image goes to this IMAGE-mode twin. Measured on demo.mp4 (full resolution): faces
        on 63 -> 74 frames for one extra detection per broken track."""
        if self._still is None:
            self._still = TaskRunner(self.model, False, self._make)
        return self._still.run(rgb)

    def reset(self) -> None:
        """Forget the previous frames (a fresh task on the next call)."""
        if self._task is not None:
            self._task.close()
            self._task = None

    def close(self) -> None:
        self.reset()
        if self._still is not None:
            self._still.close()
            self._still = None


class PoseLandmarker:
    """MediaPipe Pose Landmarker (BlazePose lite/full/heavy) for one person per crop."""

    def __init__(
        self,
        video_mode: bool,
        model: str = "pose_landmarker_full.task",
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        min_presence_confidence: float = 0.5,
    ):
        def make(vision, base, mode):
            return vision.PoseLandmarker.create_from_options(
                vision.PoseLandmarkerOptions(
                    base_options=base,
                    running_mode=mode,
                    num_poses=1,
                    min_pose_detection_confidence=min_detection_confidence,
                    min_pose_presence_confidence=min_presence_confidence,
                    min_tracking_confidence=min_tracking_confidence,
                )
            )

        self._runner = TaskRunner(model, video_mode, make)

    def process(self, frame: np.ndarray, crop: SquareCrop, mask_boxes=()) -> PoseResult | None:
        """The body MediaPipe finds in ``crop`` of ``frame`` (H, W, 3) uint8 RGB, or None."""
        out = self._runner.run(crop.take(frame, mask_boxes))
        if not out.pose_landmarks or not out.pose_world_landmarks:
            return None
        norm = landmark_array(out.pose_landmarks[0], ("x", "y", "z", "visibility"))
        return PoseResult(
            image=crop.to_frame(norm[:, :3]),
            visibility=np.clip(norm[:, 3], 0.0, 1.0),
            world=landmark_array(out.pose_world_landmarks[0]),
            crop=crop,
        )

    def reset(self) -> None:
        """Forget the previous frame's ROI (the next crop shows another place)."""
        self._runner.reset()

    def close(self) -> None:
        self._runner.close()


class HandLandmarker:
    """MediaPipe Hand Landmarker on a crop (VIDEO mode: a broken track is retried, :meth:`TaskRunner.run_still`)."""

    def __init__(
        self,
        video_mode: bool,
        max_hands: int = 1,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ):
        def make(vision, base, mode):
            return vision.HandLandmarker.create_from_options(
                vision.HandLandmarkerOptions(
                    base_options=base,
                    running_mode=mode,
                    num_hands=max_hands,
                    min_hand_detection_confidence=min_detection_confidence,
                    min_hand_presence_confidence=min_detection_confidence,
                    min_tracking_confidence=min_tracking_confidence,
                )
            )

        self._runner = TaskRunner("hand_landmarker.task", video_mode, make)
        self._tracking = False  # the last call found a hand (the task's own or the retry)
        self._holds_roi = False  # the VIDEO task itself found one: it follows that ROI next

    def process(self, frame: np.ndarray, crop: SquareCrop) -> list[HandResult]:
        """The hands MediaPipe finds in ``crop`` of ``frame``, in frame pixels."""
        image = crop.take(frame)
        out = self._runner.run(image)
        self._holds_roi = bool(out.hand_landmarks)
        if not out.hand_landmarks and self._tracking:
            out = self._runner.run_still(image)  # the track broke on this frame
        self._tracking = self._runner.video_mode and bool(out.hand_landmarks)
        found = []
        for lm, world, hd in zip(out.hand_landmarks or [], out.hand_world_landmarks or [], out.handedness or []):
            c = hd[0]
            found.append(
                HandResult(
                    image=crop.to_frame(landmark_array(lm)),
                    world=landmark_array(world),
                    label=str(c.category_name),
                    score=float(c.score),
                )
            )
        return found

    def reset(self) -> None:
        """Forget the previous hands. A task that found none on its last frame holds no ROI
        (it runs its detector next anyway), so it is kept: rebuilding one costs ~50 ms."""
        if self._holds_roi:
            self._runner.reset()
        self._tracking = self._holds_roi = False

    def close(self) -> None:
        self._runner.close()
