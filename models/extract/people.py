"""Which person: the body measures used to find, follow and choose people in a frame.

MediaPipe's pose model gives one body per call (``models.extract.tracking`` searches crops to
find several). Among the people found on the first frame with anyone, the choice
(:func:`choose_person`) is:

* only **upright** bodies count (torso within ``MAX_TILT_DEG`` of vertical): the pose
  detector also "sees" people in clouds and lettering (no_face.mp4, face_noface.mov's title
  card), lying flat in every case seen;
* **"largest"** (the automatic choice) is the most prominent person, judged by what is
  visible: a person whose face is fully in the frame (:func:`face_in_view`) beats one whose face
  is cut off, whatever their body sizes; among equals, :func:`prominence` decides: the area of
  the box of visible landmarks inside the frame, weighed down by the box's distance from the
  frame's centre (``CENTRE_WEIGHT``). The pose model keeps a cut-off face's
  landmarks at full visibility, squeezed against the frame's edge, so "in view" is judged
  from where they lie: the face box with a margin of ``FACE_MARGIN`` of its size for the
  forehead and chin must lie inside the frame. (A face covered by something is not a case:
  the pose detector starts from the face and finds no such body at all.)
* a number n: the n-th upright person counted from the left (torso centres).
"""

from __future__ import annotations

import numpy as np

from ..core.roi import box_of
from .landmarkers import PoseResult

# MediaPipe pose landmark indices used for the body's centre, extent and face.
_SHOULDERS = (11, 12)
_HIPS = (23, 24)
_FACE = tuple(range(11))  # nose, eyes, ears, mouth corners

MAX_TILT_DEG = 50.0
"""A new track starts only on a body whose torso is within this of vertical. The
pose detector also "sees" people in clouds and lettering (no_face.mp4), always
lying flat; a real clip's person starts upright (a flip or a fall mid-track is
followed by the tracker, which does not apply this rule)."""
CENTRE_WEIGHT = 0.5
"""How much a person's distance from the frame's centre counts against their size (the
automatic choice): a person in a corner needs twice the visible box of a centred one."""
FACE_MARGIN = 0.5
"""Fraction of the face landmarks' box added on every side for the forehead and chin
before asking whether the face is inside the frame: a face cut at the eyes has its eye
landmarks 2-6 px inside the edge (sports2d's jumper, 33 px face box)."""


def torso_center(pose: PoseResult) -> np.ndarray:
    """(2,) mean of shoulders and hips, frame px: stable under arm and leg motion."""
    return pose.image[list(_SHOULDERS + _HIPS), :2].mean(0)


def body_box(pose: PoseResult) -> np.ndarray:
    """(4,) xyxy around the landmarks MediaPipe sees (visibility >= 0.5)."""
    return box_of(pose.image, pose.visibility, 0.5)


def body_size(pose: PoseResult) -> float:
    """Larger side of the body box, px."""
    b = body_box(pose)
    return float(max(b[2] - b[0], b[3] - b[1], 1.0))


def torso_tilt(pose: PoseResult) -> float:
    """Degrees between the image's up and the mid-hip -> mid-shoulder vector."""
    up = pose.image[list(_SHOULDERS), :2].mean(0) - pose.image[list(_HIPS), :2].mean(0)
    return float(np.degrees(np.arctan2(abs(up[0]), -up[1])))


def upright(people: list[PoseResult]) -> list[PoseResult]:
    return [p for p in people if torso_tilt(p) <= MAX_TILT_DEG]


def face_in_view(pose: PoseResult, width: int, height: int) -> bool:
    """Is the face seen (its landmarks visible) and whole inside the ``width`` x ``height``
    frame, forehead and chin included (``FACE_MARGIN``)?"""
    face = list(_FACE)
    if float(pose.visibility[face].min()) < 0.5:
        return False
    p = pose.image[face, :2]
    lo, hi = p.min(0), p.max(0)
    pad = FACE_MARGIN * (hi - lo).max()
    return bool(lo[0] - pad >= 0 and lo[1] - pad >= 0 and hi[0] + pad <= width and hi[1] + pad <= height)


def prominence(pose: PoseResult, size: tuple[int, int] | None = None) -> float:
    """How much a person stands out in a ``size`` = (width, height) frame: px² of the visible
    body box inside the frame times ``1 - CENTRE_WEIGHT * d``, d the box centre's distance from
    the frame centre in half diagonals (0 centred, 1 in a corner). Without ``size``: the box's
    area. (The box alone would favour a person whose legs the pose model guesses below the
    frame: t1.jpg's woman at the left edge, 700 px of box for 580 px in the picture.)"""
    b = body_box(pose)
    if size is None:
        return float(np.prod(np.maximum(b[2:] - b[:2], 0.0)))
    frame = np.array([size[0], size[1]], np.float64)
    b = np.concatenate([np.clip(b[:2], 0, frame), np.clip(b[2:], 0, frame)])
    d = np.linalg.norm((b[:2] + b[2:]) / 2 - frame / 2) / max(np.linalg.norm(frame / 2), 1e-9)
    return float(np.prod(b[2:] - b[:2]) * (1.0 - CENTRE_WEIGHT * d))


def left_to_right(people: list[PoseResult]) -> list[PoseResult]:
    """``people`` ordered by torso centre x: the order the ``person`` numbers count in."""
    return sorted(people, key=lambda p: float(torso_center(p)[0]))


def choose_person(people: list[PoseResult], person, size: tuple[int, int] | None = None) -> PoseResult | None:
    """``person``: "largest" (the most prominent: a face in view first, then :func:`prominence`;
    ``size`` = the frame's (width, height), None = every face counts as in view) or an int index
    counted left to right. None when the index is out of range."""
    if not people:
        return None
    if person == "largest":
        return max(people, key=lambda p: (size is None or face_in_view(p, *size), prominence(p, size)))
    ordered = left_to_right(people)
    index = int(person)
    return ordered[index] if 0 <= index < len(ordered) else None
