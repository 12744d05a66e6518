"""MediaPipe's bundled body and hand landmark models, run on square crops.

Thin wrappers over the legacy solutions of ``mediapipe==0.10.21`` (the last
release whose wheel ships the models): ``Pose`` (model_complexity=1, the only
bundled one) and ``Hands``. Each call takes a frame and a :class:`SquareCrop`
and returns landmarks already mapped back to frame pixels, so callers never see
MediaPipe's normalised crop coordinates.

``video_mode=True`` keeps MediaPipe's own tracker: after a detection the
landmark model follows its previous ROI (inside the crop), which is what keeps
a body tracked through a flip where the detector alone fails. Feed frames in
order; call :meth:`reset` when the crop jumps to another place.
MediaPipe's own landmark smoothing is off: smoothing is done afterwards, on
the whole track (``models.core.smoothing``), where it can be measured and tuned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.roi import SquareCrop

NUM_POSE_LANDMARKS = 33
NUM_HAND_LANDMARKS = 21


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
    """A MediaPipe landmark list -> (N, len(fields)) float64."""
    return np.array([[getattr(p, f) for f in fields] for p in landmarks.landmark], np.float64)


class PoseLandmarker:
    """MediaPipe Pose (BlazePose full) for one person per crop."""

    def __init__(self, video_mode: bool, min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5):
        from mediapipe.python.solutions import pose

        self._solution = pose.Pose(
            static_image_mode=not video_mode,
            model_complexity=1,
            smooth_landmarks=False,
            enable_segmentation=False,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )

    def process(self, frame: np.ndarray, crop: SquareCrop, mask_boxes=()) -> PoseResult | None:
        """The body MediaPipe finds in ``crop`` of ``frame`` (H, W, 3) uint8 RGB, or None."""
        out = self._solution.process(crop.take(frame, mask_boxes))
        if out.pose_landmarks is None or out.pose_world_landmarks is None:
            return None
        norm = landmark_array(out.pose_landmarks, ("x", "y", "z", "visibility"))
        return PoseResult(
            image=crop.to_frame(norm[:, :3]),
            visibility=np.clip(norm[:, 3], 0.0, 1.0),
            world=landmark_array(out.pose_world_landmarks),
            crop=crop,
        )

    def reset(self) -> None:
        """Forget the previous frame's ROI (the next crop shows another place)."""
        self._solution.reset()

    def close(self) -> None:
        self._solution.close()


class HandLandmarker:
    """MediaPipe Hands (full model) on a crop."""

    def __init__(
        self,
        video_mode: bool,
        max_hands: int = 1,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ):
        from mediapipe.python.solutions import hands

        self._solution = hands.Hands(
            static_image_mode=not video_mode,
            max_num_hands=max_hands,
            model_complexity=1,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )

    def process(self, frame: np.ndarray, crop: SquareCrop) -> list[HandResult]:
        """The hands MediaPipe finds in ``crop`` of ``frame``, in frame pixels."""
        out = self._solution.process(crop.take(frame))
        found = []
        for lm, world, hd in zip(
            out.multi_hand_landmarks or [], out.multi_hand_world_landmarks or [], out.multi_handedness or []
        ):
            c = hd.classification[0]
            found.append(
                HandResult(
                    image=crop.to_frame(landmark_array(lm)),
                    world=landmark_array(world),
                    label=str(c.label),
                    score=float(c.score),
                )
            )
        return found

    def reset(self) -> None:
        self._solution.reset()

    def close(self) -> None:
        self._solution.close()
