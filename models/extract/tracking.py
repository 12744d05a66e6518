"""Following one person through a clip with a one-person-per-image pose model.

MediaPipe's pose model (one pose per call here) finds one person per image: the most prominent
one, and on a wide frame not even that when people are small. So:

* **Finding people** (:func:`find_people`): the frame is cut into overlapping
  squares (side = the frame's short side) plus the whole frame; each square is
  searched, the person found is blacked out and the square searched again, so
  several people come out of one frame. What the blacking out leaves (half a
  body at a square's edge, a guess from the rest of a masked person) is dropped,
  each candidate is looked at again on a clean crop around it, and duplicates
  are merged.
  On the first frame searched, the people this misses are looked for by their faces too
  (``models.extract.face_seeds``): a large person in front is sometimes not found by the
  pose model on the whole frame.
* **Choosing** (``models.extract.people.choose_person``): the most prominent upright person
  (a face in view first), or the n-th upright person from the left, on the first frame
  where anyone is found.
* **Following** (:class:`PersonTrack`, :class:`PersonFollower`): each frame, the
  pose model runs in video mode on a square crop around the person's predicted
  position (1.7 x the body box; the whole frame for close-ups), so the other
  people of the frame are mostly outside the crop and MediaPipe's own tracker
  keeps the same body even upside down. The crop stays put while the person
  moves little (``roi.StickyWindow``), which keeps MediaPipe's tracker steady.
  A result is accepted only if its torso centre is within a gate of the
  prediction (half a body size, widened by the frames lost, capped at 1.5) and
  its scale (pixels per metre) is within 1.6x of the track's: this stops an
  identity swap when someone walks past, and ghosts, which come at another scale.
  When the tracker loses the person or jumps to someone else, the crop is
  searched again with that someone blacked out; after 3 lost frames the whole
  frame is searched for candidates near the last known place; after 15, only
  upright candidates count and the whole-frame search runs every 3rd frame
  (it is the expensive part, and a clip may show nobody for minutes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.roi import SquareCrop, StickyWindow, box_iou
from .face_seeds import FaceFinder, people_by_faces
from .landmarkers import PoseLandmarker, PoseResult
from .people import body_box, body_size, choose_person, torso_center, upright

CROP_MARGIN = 1.7
"""Crop side / body box side: room for one frame of fast motion (a flip)."""
GATE = 0.5
"""A detection belongs to the track when its torso centre is within GATE body sizes."""
GATE_GROWTH = 0.08
"""Body sizes the gate widens by per lost frame (the person may move while unseen)."""
SCALE_GATE = 1.6
"""A detection belongs to the track only if its pixels-per-metre is within this
factor of the track's: the pose detector's ghosts in lettering or clouds come at
another scale (no_face.mp4: 215 px/m ghosts vs 1530 px/m for the real person of
face_noface.mov); a person in a flip keeps theirs (206-310 px/m on demo.mp4)."""
MAX_GATE = 1.5
"""The gate never exceeds this many body sizes: after a long loss the person is
looked for near where it was lost, never across the frame (no identity swap)."""
WIDE_SEARCH_AFTER = 3
"""Lost frames before the whole frame is searched for the person."""
LONG_LOSS = 15
"""Lost frames after which finding the person again is a new start: the whole
frame is searched only every ``SEARCH_EVERY`` frames and only upright people count."""
SEARCH_EVERY = 3
POSE_CROP_SIZE = 384
"""Pixels of the pose crop: the pose models look at 224-256 px, more is wasted."""
WHOLE_FRAME = 0.7
"""A crop at least this fraction of the frame's long side becomes the whole frame."""


def pixels_per_metre(pose: PoseResult) -> float:
    """The body's image scale: the weak-perspective fit of the world landmarks' x, y
    (metres) to the image landmarks (px) over the visible ones. Unlike the box size
    it does not shrink when the body tucks in a flip."""
    sel = pose.visibility >= 0.5
    if sel.sum() < 4:
        sel = np.ones_like(sel)
    p = pose.image[sel, :2] - pose.image[sel, :2].mean(0)
    P = pose.world[sel, :2] - pose.world[sel, :2].mean(0)
    return float(max((p * P).sum() / max((P * P).sum(), 1e-9), 1e-6))


def search_crops(width: int, height: int) -> list[SquareCrop]:
    """The whole frame, then overlapping squares (side = short side) along the long side."""
    crops = [SquareCrop.whole(width, height, max_size=1024)]
    short, long_ = min(width, height), max(width, height)
    if long_ > 1.3 * short:
        n = int(np.ceil(2 * long_ / short - 1))
        for k in range(n):
            a = (long_ - short) * k / (n - 1) + short / 2
            c = (a, height / 2) if width >= height else (width / 2, a)
            crops.append(SquareCrop.around(c, short, max_size=1024))
    return crops


TILE_LEVELS = (2, 4, 6)
"""When the first search finds nobody, the frame is searched again in overlapping squares of
the short side / each of these (each square is enlarged to the detector's input): a person
small in a wide frame is missed by the whole-frame pass. In a 1600x1200 grey photo, sports2d's
jumper 160 px tall is found at / 2, 90 px at / 4, 70 px at / 6 (60 px would need / 8, which
costs 2.7 s instead of 1.7 s on a photo with nobody; ordinary photos never get here)."""
MIN_TILE = 120
"""Pixels: smaller tiles are not searched. A person below about 60 px is not found at any tile
size (sports2d's jumper 50 px tall: not in 60, 90 or 135 px tiles; 60 px: found in 150 px
tiles; 70 px: in 135-200 px tiles), so smaller tiles only cost time (1.3 s on no_face.mp4)."""


FACE_LEVELS = (2, 3)
"""The face-seeded search looks for faces in the long side's squares and in squares of the
short side / each of these: MediaPipe's face detector finds a face of about a sixth of its
square or more (bus.jpg's 40 px faces at / 3, t1.jpg's 100-130 px ones at / 2)."""


def tile_crops(width: int, height: int, parts: int) -> list[SquareCrop]:
    """Squares of side short side / ``parts``, overlapping by half, covering the frame."""
    side = min(width, height) / parts
    xs = np.linspace(side / 2, width - side / 2, max(1, int(np.ceil(2 * width / side - 1))))
    ys = np.linspace(side / 2, height - side / 2, max(1, int(np.ceil(2 * height / side - 1))))
    return [SquareCrop.around((x, y), side, max_size=1024) for y in ys for x in xs]


def _grow(box: np.ndarray, factor: float) -> np.ndarray:
    c, half = (box[:2] + box[2:]) / 2, (box[2:] - box[:2]) / 2 * factor
    return np.concatenate([c - half, c + half])


def find_people(
    frame: np.ndarray, detector: PoseLandmarker, crops=None, per_crop: int = 3, mask_boxes=()
) -> list[PoseResult]:
    """Every person the static ``detector`` finds in ``frame`` (H, W, 3), searching
    ``crops`` (default :func:`search_crops`) and blacking out each person found.

    Ghosts are dropped: a body cut by a crop edge inside the frame (half a person
    in one square is seen whole in another), and a body found mostly where an
    earlier one was blacked out (the detector's guess from what remains)."""
    H, W = frame.shape[:2]
    found: list[PoseResult] = []
    for crop in crops if crops is not None else search_crops(W, H):
        masks = [np.asarray(b, np.float64) for b in mask_boxes]
        for _ in range(per_crop):
            pose = detector.process(frame, crop, masks)
            if pose is None:
                break
            box = body_box(pose)
            ghost = _cut_by_crop(box, crop, W, H) or any(_covered(box, m) > 0.3 for m in masks)
            masks.append(_grow(box, 1.1))
            if not ghost:
                found.append(pose)
    return _merge([c for c in (_confirm(frame, detector, p) for p in _merge(found)) if c is not None])


def _confirm(frame: np.ndarray, detector: PoseLandmarker, pose: PoseResult) -> PoseResult | None:
    """Look again on a clean crop around a candidate; a real person is found there
    again (better framed), a ghost of the masking is not (or turns into the real one)."""
    box = body_box(pose)
    crop = SquareCrop.around((box[:2] + box[2:]) / 2, CROP_MARGIN * body_size(pose), size=POSE_CROP_SIZE)
    return detector.process(frame, crop)


def _cut_by_crop(box: np.ndarray, crop: SquareCrop, width: int, height: int, margin: float = 0.02) -> bool:
    """Does the body ``box`` touch an edge of ``crop`` that lies inside the frame?"""
    c, m = crop.box, margin * crop.side
    return bool(
        (c[0] > 0 and box[0] < c[0] + m)
        or (c[1] > 0 and box[1] < c[1] + m)
        or (c[2] < width and box[2] > c[2] - m)
        or (c[3] < height and box[3] > c[3] - m)
    )


def _covered(box: np.ndarray, mask: np.ndarray) -> float:
    """Fraction of ``box`` inside ``mask`` (both xyxy)."""
    ix = max(0.0, min(box[2], mask[2]) - max(box[0], mask[0]))
    iy = max(0.0, min(box[3], mask[3]) - max(box[1], mask[1]))
    area = max((box[2] - box[0]) * (box[3] - box[1]), 1e-9)
    return float(ix * iy / area)


def _merge(people: list[PoseResult]) -> list[PoseResult]:
    """Drop duplicates (same body found in two crops), keeping the most visible one.
    Same body: overlapping boxes, or noses closer than 15 % of the body size."""
    people = sorted(people, key=lambda p: -float(p.visibility.mean()))
    kept: list[PoseResult] = []
    for p in people:
        same = any(
            box_iou(body_box(p), body_box(q)) > 0.4
            or np.linalg.norm(p.image[0, :2] - q.image[0, :2]) < 0.15 * max(body_size(p), body_size(q))
            for q in kept
        )
        if not same:
            kept.append(p)
    return kept


@dataclass
class PersonTrack:
    """The tracked person's last known place and size, and how long it has been lost."""

    center: np.ndarray  # (2,) torso centre, frame px
    velocity: np.ndarray  # (2,) px per frame
    box: np.ndarray  # (4,) xyxy visible body box
    size: float  # body size, a running estimate robust to a tucked flip
    lost: int = 0
    sizes: list = field(default_factory=list)
    scales: list = field(default_factory=list)

    @classmethod
    def start(cls, pose: PoseResult) -> "PersonTrack":
        s = body_size(pose)
        return cls(torso_center(pose), np.zeros(2), body_box(pose), s, 0, [s], [pixels_per_metre(pose)])

    @property
    def scale(self) -> float:
        """Typical pixels per metre of the person lately."""
        return float(np.median(self.scales))

    def predicted(self) -> np.ndarray:
        # Extrapolate at most two frames: a person unseen for long has stopped
        # falling or turned, and the growing gate covers the rest.
        return self.center + self.velocity * min(1 + self.lost, 2)

    def gate(self) -> float:
        return self.size * min(GATE + GATE_GROWTH * self.lost, MAX_GATE)

    def accepts(self, pose: PoseResult) -> bool:
        """Is ``pose`` this person: near the predicted place, at the same scale?"""
        ratio = pixels_per_metre(pose) / self.scale
        return bool(
            np.linalg.norm(torso_center(pose) - self.predicted()) <= self.gate()
            and 1 / SCALE_GATE <= ratio <= SCALE_GATE
        )

    def crop(self, width: int, height: int) -> SquareCrop:
        """Where to look next: around the prediction, never smaller than the usual body;
        the whole frame when that is nearly as big (close-ups, portraits)."""
        b = self.box
        side = CROP_MARGIN * max(b[2] - b[0], b[3] - b[1], 0.8 * self.size) * (1 + 0.25 * min(self.lost, 4))
        if side >= WHOLE_FRAME * max(width, height):
            return SquareCrop.whole(width, height, max_size=POSE_CROP_SIZE)
        box_center = (b[:2] + b[2:]) / 2 + self.velocity * min(1 + self.lost, 2)
        return SquareCrop.around(box_center, side, size=POSE_CROP_SIZE)

    def update(self, pose: PoseResult) -> None:
        c = torso_center(pose)
        self.velocity = 0.5 * self.velocity + 0.5 * (c - self.center) / (1 + self.lost)
        self.center, self.box, self.lost = c, body_box(pose), 0
        # The size is the median of recent sizes: a tucked body in a flip or a
        # one-frame outlier must not shrink the crop and the gate.
        self.sizes = (self.sizes + [body_size(pose)])[-30:]
        self.size = float(np.median(self.sizes))
        self.scales = (self.scales + [pixels_per_metre(pose)])[-30:]

    def miss(self) -> None:
        self.lost += 1


class PersonFollower:
    """Runs the detectors to follow one chosen person frame by frame (see module docstring)."""

    def __init__(self, person="largest", model: str = "pose_landmarker_full.task", faces: bool = True):
        self.person = person
        self.faces = FaceFinder() if faces else None  # the face-seeded search of the first frame
        # Thresholds measured on the sample clips (MediaPipe's are 0.5): presence 0.3 and
        # detection 0.4 keep demo.mp4's jumper through the flip landing; a 0.3 detection also
        # found "people" in face_noface.mov's title lettering. The gate below still decides.
        self.tracker = PoseLandmarker(
            video_mode=True, model=model, min_detection_confidence=0.4, min_presence_confidence=0.3
        )
        self.detector = PoseLandmarker(video_mode=False, model=model)
        self.track: PersonTrack | None = None
        self.window = StickyWindow()
        self.frames_searched = 0

    def start(self, frame: np.ndarray) -> tuple[PoseResult | None, list[PoseResult]]:
        """Look for everyone on ``frame``; choose the person. Returns (chosen or None, everyone)."""
        self.frames_searched += 1
        if self.frames_searched > SEARCH_EVERY and self.frames_searched % SEARCH_EVERY:
            return None, []  # nobody for a while: search every few frames only
        people = upright(find_people(frame, self.detector))
        if self.faces is not None and self.frames_searched == 1:
            people = _merge(people + upright(self.by_faces(frame, people)))
        levels = [n for n in TILE_LEVELS if min(frame.shape[:2]) / n >= MIN_TILE]
        for parts in levels if not people and self.frames_searched == 1 else ():
            people = upright(find_people(frame, self.detector, tile_crops(frame.shape[1], frame.shape[0], parts), 1))
            if people:
                break
        chosen = choose_person(people, self.person, (frame.shape[1], frame.shape[0]))
        if chosen is not None:
            self.track = PersonTrack.start(chosen)
            self.tracker.reset()
            self.window.reset()
        return chosen, people

    def by_faces(self, frame: np.ndarray, known: list[PoseResult]) -> list[PoseResult]:
        """The people whose faces are found (``face_seeds``) and who are not in ``known``."""
        H, W = frame.shape[:2]
        squares = search_crops(W, H)
        squares = squares[1:] or squares  # the squares along the long side, or the square frame
        squares += [c for n in FACE_LEVELS if min(W, H) / n >= MIN_TILE for c in tile_crops(W, H, n)]
        return people_by_faces(frame, self.detector, self.faces.boxes(frame, squares), known)

    def step(self, frame: np.ndarray) -> PoseResult | None:
        """The tracked person on the next frame, or None when not found."""
        track = self.track
        crop = self.window.update(track.crop(frame.shape[1], frame.shape[0]))
        pose = self.tracker.process(frame, crop)
        long_loss = track.lost >= LONG_LOSS
        if pose is not None and track.accepts(pose) and (not long_loss or upright([pose])):
            track.update(pose)
            return pose
        # Lost or someone else: search the crop again with the impostor hidden.
        masks = [_grow(body_box(pose), 1.1)] if pose is not None else []
        found = [p for p in find_people(frame, self.detector, [crop], 2, masks) if track.accepts(p)]
        if not found and track.lost >= WIDE_SEARCH_AFTER and not (long_loss and track.lost % SEARCH_EVERY):
            found = [p for p in find_people(frame, self.detector) if track.accepts(p)]
        if long_loss:
            found = upright(found)
        if pose is not None:  # its ROI is on someone else (a tracker that found nobody holds no ROI)
            self.tracker.reset()  # a Tasks reset rebuilds the task (about 0.1-0.2 s): only when needed
        self.window.reset()
        if found:
            best = min(found, key=lambda p: np.linalg.norm(torso_center(p) - track.predicted()))
            track.update(best)
            return best
        track.miss()
        return None

    def close(self) -> None:
        self.tracker.close()
        self.detector.close()
        if self.faces is not None:
            self.faces.close()
