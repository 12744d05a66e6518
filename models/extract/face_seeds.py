"""Finding the people the whole-frame search misses, by their faces.

The pose model's whole-frame pass (``models.extract.tracking.find_people``) finds one body per
call and sometimes not the large one in front: in a crowded photo, t1.jpg (insightface's group
photo) cut to its right half gives only the seated man and misses the tall one standing in the
middle; sports2d's frame with a person from t1.jpg pasted 700 px tall in front gives only the
small jumper in the background. Their faces are still there to be found, so:

1. :class:`FaceFinder` looks for faces with MediaPipe's face landmarker in overlapping squares
   of the frame (its face detector, made for faces that fill a fair part of its input, finds
   nothing in a whole 1280x720 frame whose faces are 150 px; in squares of a half and a third
   of the short side it finds them: 100-160 px faces in t1.jpg and zidane.jpg, 40 px in bus.jpg);
2. :func:`people_by_faces` runs the pose model on a square grown from each face not already
   explained by a person found (``BODY_CROP``: the upper body below the face) and keeps the
   body whose nose lies in that face, looking again with the wrong one blacked out when the
   crop shows someone else first.
"""

from __future__ import annotations

import numpy as np

from ..core.roi import SquareCrop, box_iou
from .landmarkers import PoseLandmarker, PoseResult, TaskRunner
from .people import body_box, body_size

FACE_TILE_SIZE = 256
"""Pixels the face model sees per square: its detector looks at 128-192 px, more is wasted."""
MAX_FACES = 4
"""Faces per square (a square of a third of the short side rarely holds more)."""
MIN_FACE_SCORE = 0.6
"""Face detection threshold: face_noface.mov's title card shows a 0.5-0.6 "face" in its lettering."""
BODY_CROP = (1.5, 5.0)
"""The square searched for a face's body: centred this many face sizes below the face's
centre, this many face sizes wide (head, shoulders and chest for a speaker behind a podium,
the upper body of a standing person; the pose model guesses the rest). Measured on t1.jpg,
bus.jpg and zidane.jpg: it finds the face's own body for 7 of 8 faces, where a full-body
square (3.5 below, 10 wide) finds 3 and a 2.5 / 7 one 5."""
TRIES = 2
"""Pose searches per face: the second one with whoever the first found blacked out."""


class FaceFinder:
    """Every face MediaPipe's face landmarker finds in a set of squares of a frame (IMAGE mode)."""

    def __init__(self, max_faces: int = MAX_FACES, min_score: float = MIN_FACE_SCORE):
        def make(vision, base, mode):
            return vision.FaceLandmarker.create_from_options(
                vision.FaceLandmarkerOptions(
                    base_options=base,
                    running_mode=mode,
                    num_faces=max_faces,
                    min_face_detection_confidence=min_score,
                    min_face_presence_confidence=min_score,
                )
            )

        self._runner = TaskRunner("face_landmarker.task", False, make)

    def boxes(self, frame: np.ndarray, crops: list[SquareCrop]) -> list[np.ndarray]:
        """(4,) xyxy frame px around each face's landmarks, one per face (found in several squares:
        the first one kept)."""
        faces: list[np.ndarray] = []
        for crop in crops:
            small = SquareCrop(crop.x0, crop.y0, crop.side, min(crop.size, FACE_TILE_SIZE))
            for lm in self._runner.run(small.take(frame)).face_landmarks:
                p = small.to_frame(np.array([(q.x, q.y, q.z) for q in lm], np.float64))[:, :2]
                box = np.concatenate([p.min(0), p.max(0)])
                if not any(box_iou(box, f) > 0.3 or _inside((box[:2] + box[2:]) / 2, f) for f in faces):
                    faces.append(box)
        return faces

    def close(self) -> None:
        self._runner.close()


def _inside(point: np.ndarray, box: np.ndarray) -> bool:
    return bool(box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3])


def owns_face(pose: PoseResult, face: np.ndarray) -> bool:
    """Is ``face`` (xyxy) this body's face: its nose landmark inside the face box?"""
    return _inside(pose.image[0, :2], face)


def body_crop(face: np.ndarray) -> SquareCrop:
    """The square searched for the body below ``face`` (``BODY_CROP``)."""
    size = float((face[2:] - face[:2]).max())
    center = (face[:2] + face[2:]) / 2 + (0.0, BODY_CROP[0] * size)
    return SquareCrop.around(center, BODY_CROP[1] * size, size=384)


def people_by_faces(
    frame: np.ndarray, detector: PoseLandmarker, faces: list[np.ndarray], known: list[PoseResult]
) -> list[PoseResult]:
    """The bodies of ``faces`` (xyxy each) that no one in ``known`` owns, searched with the
    static ``detector`` on :func:`body_crop` squares of ``frame`` (H, W, 3)."""
    found: list[PoseResult] = []
    for face in faces:
        if any(owns_face(p, face) for p in known + found):
            continue
        crop, masks = body_crop(face), []
        for _ in range(TRIES):
            pose = detector.process(frame, crop, masks)
            if pose is None:
                break
            if owns_face(pose, face):
                found.append(_reframed(frame, detector, pose, face))
                break
            box = body_box(pose)
            if _inside((face[:2] + face[2:]) / 2, box):
                break  # hiding that body would hide this face too
            masks.append(box)
    return found


def _reframed(frame: np.ndarray, detector: PoseLandmarker, pose: PoseResult, face: np.ndarray) -> PoseResult:
    """The body looked at again on a square around its whole box (the face's square cuts a
    standing person's legs); the first result when that one is someone else."""
    box = body_box(pose)
    crop = SquareCrop.around((box[:2] + box[2:]) / 2, 1.7 * body_size(pose), size=384)
    again = detector.process(frame, crop)
    return again if again is not None and owns_face(again, face) else pose
