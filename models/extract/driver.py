"""Body, hand and face motion of one person in a real video, with MediaPipe.

(Over 400 lines: the two stages below and the photo entry point share the tracker state
and their results' layout; the detectors, tracker and camera fit already live apart.)

Two stages, so the expensive one can be cached and the cheap one re-tuned:

1. :func:`track_person` walks the video once and records what the detectors
   saw, frame by frame (a :class:`RawTrack`: MediaPipe landmarks, unsmoothed):
   the chosen person's body (``models.extract.tracking``: crops around the person,
   identity gate, re-detection), both hands (``models.extract.hands``: a crop per wrist)
   and the face mesh (``models.extract.face_mesh`` on a crop around the body's head, so
   the small faces of full-body shots are found); the hands run on a second thread,
   behind the body (``models.extract.body_parts``).
2. :func:`motion_from_track` turns it into a :class:`~models.core.motion.Motion`:
   short gaps filled (``models.core.gaps``), One-Euro smoothing (``models.core.smoothing``),
   MediaPipe's 33 landmarks mapped to the 29 ``BODY`` joints
   (``models.extract.body_mapping``) and the metric body placed in the camera
   (``models.extract.camera``, which documents the camera model).

:func:`extract_motion` does both; :func:`extract_image` is the one-photo case
(MediaPipe in static-image mode).

What the Motion holds besides the required keys: ``conf`` is MediaPipe's
landmark visibility (``models.extract.body_mapping``); ``hands_conf`` is 1 for a hand
found on that frame (MediaPipe Hands exposes no per-point or presence score: a
returned hand passed its presence threshold and the side checks of
``models.extract.hands``) and 0 otherwise; ``hands3d`` (T, 2, 21, 3) metres, MediaPipe's
hand world landmarks turned like the body and hung at the body's wrist joint;
``face2d`` / ``face3d`` (T, 478, 2/3): the 478-point mesh (irises included) in
frame pixels, z = MediaPipe's relative depth times the width of the square the
face model looked at, i.e. in the same pixel units as x and y; ``face_valid``,
``filled`` (frames interpolated across a short gap), ``person_box`` (xyxy px of
the visible body), ``face_blendshapes`` (T, 52) and ``face_matrix`` (T, 4, 4) (MediaPipe
Face Landmarker's expression scores and facial transformation matrix, zeros / identity
where no face), ``people_boxes`` (people, 4) xyxy px of everyone found on the frame the person
was chosen on (``people_frame``), counted from the left, ``person_index`` the one followed
among them, and ``info`` (frames tracked, gaps, reprojection error).

Backend: MediaPipe's Tasks API (``models.extract.landmarkers``), Pose + Hand + Face
Landmarker on crops; ``benchmarks/bench_extract_quality.py`` prints what it finds on the
sample clips, ``benchmarks/bench_extract.py`` its speed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Callable

import numpy as np

from ..core.errors import DreamActorError
from ..core.gaps import fill_gaps
from ..core.motion import Motion, default_camera
from ..core.skeleton import BODY
from ..core.smoothing import OneEuroParams, one_euro, runs
from ..io.video import ArrayVideo, LazyVideo
from .body_mapping import body_confidence, to_body
from .body_parts import BodyParts
from .camera import on_rays, place_in_camera, reprojection_error
from .face_mesh import NUM_BLENDSHAPES
from .hands import SIDES
from .landmarkers import NUM_HAND_LANDMARKS, NUM_POSE_LANDMARKS
from .model_files import POSE_MODELS
from .people import left_to_right
from .swaps import undo_swaps
from .tracking import PersonFollower, body_box, pixels_per_metre

NUM_FACE = 478
DEFAULT_FILL_GAPS = 8
BODY_HEIGHT_M = 1.7
"""Metric tracks are smoothed in units of a typical body height, like pixel tracks
in units of the person's pixel size, so one set of One-Euro settings fits both."""


# ---------------------------------------------------------------------------- raw track
@dataclass
class RawTrack:
    """What the detectors saw, per frame (T frames), unsmoothed, frame pixels.

    pose_image (T, 33, 3) px (z relative, px scale), pose_vis (T, 33), pose_world
    (T, 33, 3) metres hip-centred, body_valid (T,); hand_image (T, 2, 21, 3) px,
    hand_world (T, 2, 21, 3) metres, hand_score (T, 2) in [0, 1], hand_valid (T, 2)
    (index 0 = the person's left); face (T, 478, 3) px, face_valid (T,),
    blendshapes (T, 52), face_matrix (T, 4, 4); box (T, 4) xyxy px. ``person`` is the request ("largest" or a number),
    ``start`` the frame the person was chosen on and ``people`` how many were
    found there; ``people_boxes`` (people, 4) their body boxes (xyxy px) counted from the left
    and ``chosen`` the index among them of the person followed.
    """

    pose_image: np.ndarray
    pose_vis: np.ndarray
    pose_world: np.ndarray
    body_valid: np.ndarray
    hand_image: np.ndarray
    hand_world: np.ndarray
    hand_score: np.ndarray
    hand_valid: np.ndarray
    face: np.ndarray
    face_valid: np.ndarray
    blendshapes: np.ndarray
    face_matrix: np.ndarray
    box: np.ndarray
    start: int = -1
    people: int = 0
    person: str = "largest"
    people_boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    chosen: int = -1

    @classmethod
    def empty(cls, T: int) -> "RawTrack":
        z = np.zeros
        return cls(
            z((T, NUM_POSE_LANDMARKS, 3), np.float32),
            z((T, NUM_POSE_LANDMARKS), np.float32),
            z((T, NUM_POSE_LANDMARKS, 3), np.float32),
            z((T,), bool),
            z((T, 2, NUM_HAND_LANDMARKS, 3), np.float32),
            z((T, 2, NUM_HAND_LANDMARKS, 3), np.float32),
            z((T, 2), np.float32),
            z((T, 2), bool),
            z((T, NUM_FACE, 3), np.float32),
            z((T,), bool),
            z((T, NUM_BLENDSHAPES), np.float32),
            np.tile(np.eye(4, dtype=np.float32), (T, 1, 1)),
            z((T, 4), np.float32),
        )

    @property
    def num_frames(self) -> int:
        return len(self.body_valid)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {f.name: np.asarray(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_arrays(cls, arrays) -> "RawTrack":
        kw = {f.name: np.asarray(arrays[f.name]) for f in fields(cls) if f.name in arrays}  # older: no people_boxes
        kw["start"], kw["people"], kw["person"] = int(kw["start"]), int(kw["people"]), str(kw["person"])
        kw["chosen"] = int(kw.get("chosen", -1))
        return cls(**kw)


# ---------------------------------------------------------------------------- stage 1
def _check_stop(should_stop: Callable[[], object] | None) -> None:
    """``should_stop`` raises to interrupt (ComfyUI's way); a True return also stops."""
    if should_stop is not None and should_stop():
        raise InterruptedError("skeleton extraction was interrupted")


def _check_person(person):
    if person == "largest":
        return person
    try:
        index = int(person)
    except (TypeError, ValueError):
        index = -1
    if index < 0:
        raise DreamActorError(
            f"person {person!r} is neither 'largest' nor a person number",
            fix="use 'largest' or a number: 0 = the leftmost person, 1 = the next...",
            input="person",
        )
    return index


def track_person(
    video: LazyVideo,
    *,
    person="largest",
    hands: bool = True,
    face: bool = True,
    pose_model: str = "full",
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], object] | None = None,
    threaded: bool = True,
) -> RawTrack:
    """Walk ``video`` once and record the chosen person's raw landmarks.

    ``person``: "largest" or the person's number counted from the left, on the
    first frame where anyone is found. ``pose_model``: "full", "heavy" or "lite"
    (``models.extract.model_files.POSE_MODELS``). ``progress(done, total)`` is called after
    every frame; ``should_stop()`` before every frame (it raises to interrupt).
    ``threaded``: the hands on a second thread (``models.extract.body_parts``).
    Raises ``DreamActorError`` when nobody is found in the whole clip."""
    person = _check_person(person)
    if pose_model not in POSE_MODELS:
        raise DreamActorError(
            f"pose model {pose_model!r} is not one of {sorted(POSE_MODELS)}",
            fix="choose full (default), heavy (more accurate, slower) or lite (faster)",
            input="pose_model",
        )
    T = video.num_frames
    video_mode = T > 1  # one frame: MediaPipe's static-image mode
    raw = RawTrack.empty(T)
    raw.person = str(person)
    follower = PersonFollower(person, POSE_MODELS[pose_model])
    parts = BodyParts(raw, hands, face, video_mode, threaded=threaded and video_mode)
    try:
        for t, frame in enumerate(video.iter_frames()):
            _check_stop(should_stop)
            if raw.start < 0:
                pose, people = follower.start(frame)
                if people and pose is None:
                    # worded as the node's widget counts: 1 = the leftmost, 0 = the most prominent
                    raise DreamActorError(
                        f"person {person + 1} (counted from the left) was asked for, but frame {t} (the first "
                        f"with anyone) shows {len(people)} {'person' if len(people) == 1 else 'people'}",
                        fix=f"set person between 1 and {len(people)} (1 = the leftmost), or 0 for the most prominent",
                        input="person",
                    )
                if pose is not None:
                    raw.start, raw.people = t, len(people)
                    ordered = left_to_right(people)
                    raw.people_boxes = np.array([body_box(p) for p in ordered], np.float32).reshape(-1, 4)
                    raw.chosen = next(i for i, p in enumerate(ordered) if p is pose)
            else:
                pose = follower.step(frame)
            if pose is not None:
                raw.pose_image[t], raw.pose_vis[t], raw.pose_world[t] = pose.image, pose.visibility, pose.world
                raw.body_valid[t], raw.box[t] = True, body_box(pose)
                parts.add(t, frame, pose, pixels_per_metre(pose), restarted=t == 0 or not raw.body_valid[t - 1])
            if progress is not None:
                progress(t + 1, T)
        parts.finish()
    finally:
        follower.close()
        parts.close()
    if not raw.body_valid.any():
        raise DreamActorError(
            f"no person was found in any of the {T} frames",
            fix="choose a clip (or frame range) where a person is visible, at least head and shoulders, "
            "facing the camera and not too small",
            input="video",
        )
    return raw


# ---------------------------------------------------------------------------- stage 2
def _smooth(x: np.ndarray, valid: np.ndarray, scale: float, fps: float, params: OneEuroParams) -> np.ndarray:
    """One-Euro on ``x`` (T, ...) in units of ``scale`` (a body or face size), so the
    filter settings mean the same at any resolution and distance."""
    return one_euro(x / scale, fps, params, valid) * scale


def _typical_size(box: np.ndarray, valid: np.ndarray) -> float:
    """Median larger side of the boxes (T, 4) on valid frames, px."""
    sides = np.maximum(box[valid, 2] - box[valid, 0], box[valid, 3] - box[valid, 1])
    return float(max(np.median(sides), 1.0)) if len(sides) else 1.0


def _body_in_camera(
    world: np.ndarray, pixels: np.ndarray, conf: np.ndarray, valid: np.ndarray, camera: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame rotation (T, 3, 3) and translation (T, 3) placing root-centred joints
    (T, J, 3) onto pixels (T, J, 2) (``models.extract.camera``). Both inputs are smoothed
    already; smoothing R and t again was measured to pull the 3D off the 2D
    (median reprojection error 4.1 -> 6.2 px on demo.mp4), so they are not."""
    T = len(valid)
    rot, t = np.tile(np.eye(3), (T, 1, 1)), np.zeros((T, 3))
    for i in np.flatnonzero(valid):
        w = conf[i] if np.count_nonzero(conf[i] >= 0.5) >= 4 else conf[i] + 1e-3
        rot[i], t[i] = place_in_camera(world[i], pixels[i], w, camera)
    return rot, t


def motion_from_track(
    raw: RawTrack,
    fps: float,
    image_size: tuple[int, int],
    *,
    smoothing: OneEuroParams = OneEuroParams(),
    fill_gaps_max: int = DEFAULT_FILL_GAPS,
    camera: np.ndarray | None = None,
    repair: bool = True,
) -> Motion:
    """Build the :class:`Motion` from a raw track (see the module docstring).

    ``fill_gaps_max``: gaps of at most this many frames are interpolated and marked in
    ``filled``; ``smoothing``: One-Euro settings (``enabled=False`` keeps the raw detections);
    ``repair``: undo left/right swaps and depth-sign flips (``models.extract.swaps``)."""
    T = raw.num_frames
    W, H = int(image_size[0]), int(image_size[1])
    camera = default_camera(W, H) if camera is None else np.asarray(camera, np.float64)
    raw = undo_swaps(raw)[0] if repair else raw

    # Body: fill short gaps, then smooth image points (in body sizes) and world points (metres).
    body, filled = fill_gaps(
        {"image": raw.pose_image, "world": raw.pose_world, "vis": raw.pose_vis, "box": raw.box},
        raw.body_valid,
        fill_gaps_max,
    )
    valid = raw.body_valid | filled
    size = _typical_size(body["box"], valid)
    image = _smooth(body["image"], valid, size, fps, smoothing)
    world = _smooth(body["world"], valid, BODY_HEIGHT_M, fps, smoothing)

    m = Motion.empty(T, (W, H), fps, BODY, num_face=NUM_FACE, camera=camera)
    m.valid[:] = valid
    joints2d, world_j = to_body(image[..., :2]), to_body(world)
    conf = np.where(valid[:, None], body_confidence(body["vis"]), 0.0)
    rot, trans = _body_in_camera(world_j, joints2d, conf, valid, camera)
    m.joints2d[valid] = joints2d[valid]
    placed = np.einsum("tij,tkj->tki", rot, world_j) + trans[:, None]
    m.joints3d[valid] = on_rays(placed, joints2d, conf, valid, camera, BODY, repair)[valid]  # 3D agrees with the 2D
    m.conf[:] = np.clip(conf, 0.0, 1.0)

    # Hands: per side, gaps filled only where the body is there; 3D attached at the wrist joint.
    hands3d = np.zeros((T, 2, NUM_HAND_LANDMARKS, 3), np.float32)
    for k, side in enumerate(SIDES):
        hv = raw.hand_valid[:, k] & valid
        h, hfilled = fill_gaps(
            {"image": raw.hand_image[:, k], "world": raw.hand_world[:, k], "score": raw.hand_score[:, k]},
            hv,
            fill_gaps_max,
        )
        hv = (hv | hfilled) & valid
        h_img = _smooth(h["image"][..., :2], hv, size, fps, smoothing)
        h_world = _smooth(h["world"] - h["world"][:, :1], hv, BODY_HEIGHT_M, fps, smoothing)
        h_world = np.einsum("tij,tkj->tki", rot, h_world)  # the body's camera rotation
        wrist = m.joints3d[:, BODY[f"{side}_wrist"]]
        m.hands2d[hv, k] = h_img[hv]
        m.hands_conf[hv, k] = np.clip(h["score"][hv], 0.0, 1.0)[:, None]
        hands3d[hv, k] = (h_world + wrist[:, None])[hv]

    # Face: gaps filled within the body track; smoothed in units of the face's size.
    fv = raw.face_valid & valid
    f, ffilled = fill_gaps({"face": raw.face}, fv, fill_gaps_max)
    fv = (fv | ffilled) & valid
    face = np.zeros((T, NUM_FACE, 3), np.float32)
    if fv.any():
        extent = f["face"][fv, :, :2].max(1) - f["face"][fv, :, :2].min(1)
        face[fv] = _smooth(f["face"], fv, float(max(np.median(extent.max(-1)), 1.0)), fps, smoothing)[fv]
    m.face2d[:] = face[..., :2]
    # Expression scores and the face matrix as measured (not filled or smoothed): the head
    # sphere and expression stages decide how to use them.
    measured = raw.face_valid & valid
    shapes = np.where(measured[:, None], raw.blendshapes, 0.0).astype(np.float32)
    matrix = np.where(measured[:, None, None], raw.face_matrix, np.eye(4, dtype=np.float32)).astype(np.float32)

    box = np.where(valid[:, None], body["box"], 0.0)
    return m.replace(
        hands3d=hands3d,
        face3d=face,
        face_valid=fv,
        face_blendshapes=shapes,
        face_matrix=matrix,
        filled=filled,
        person_box=box.astype(np.float32),
        people_boxes=np.asarray(raw.people_boxes, np.float32).reshape(-1, 4),
        person_index=np.asarray(raw.chosen, np.int32),
        people_frame=np.asarray(raw.start, np.int32),
        info=_summary(raw, valid, filled, fv, m),
    ).validate()


def _summary(raw: RawTrack, valid: np.ndarray, filled: np.ndarray, face_valid: np.ndarray, m: Motion) -> str:
    """A short human-readable account for ``Motion.optional['info']``."""
    T = raw.num_frames
    who = "the most prominent" if raw.person == "largest" else f"number {raw.person} from the left"
    notes = [
        f"body tracked on {int(raw.body_valid.sum())}/{T} frames ({who} of {raw.people} "
        f"{'person' if raw.people == 1 else 'people'} found on frame {raw.start})"
    ]
    gaps = runs(filled)
    if gaps:
        notes.append(f"{len(gaps)} short gaps filled ({int(filled.sum())} frames)")
    lost = runs(~valid)
    if lost:
        spans = ", ".join(f"{a}-{b - 1}" if b - a > 1 else f"{a}" for a, b in lost[:6])
        notes.append(f"no body on frames {spans}{' ...' if len(lost) > 6 else ''}")
    hands = [int((m.hands_conf[:, k].max(-1) > 0).sum()) for k in range(2)]
    notes.append(f"hands on {hands[0]} (left) / {hands[1]} (right) frames; face on {int(face_valid.sum())} frames")
    err = median_reprojection_error(m)
    if np.isfinite(err):
        notes.append(f"median 3D->2D reprojection error {err:.1f} px")
    return "; ".join(notes)


def median_reprojection_error(m: Motion, min_conf: float = 0.5) -> float:
    """Median px distance between projected ``joints3d`` and ``joints2d`` over confident joints."""
    sel = m.valid[:, None] & (m.conf >= min_conf)
    if not sel.any():
        return float("nan")
    return float(np.median(reprojection_error(m.joints3d[sel], m.joints2d[sel], m.camera)))


# ---------------------------------------------------------------------------- entry points
def extract_motion(
    video: LazyVideo,
    *,
    person="largest",
    min_cutoff: float = 1.0,
    beta: float = 1.0,
    d_cutoff: float = 1.0,
    smoothing: bool = True,
    fill_gaps_max: int = DEFAULT_FILL_GAPS,
    hands: bool = True,
    face: bool = True,
    pose_model: str = "full",
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], object] | None = None,
    threaded: bool = True,
) -> Motion:
    """One person's motion in ``video``: body joints 2D/3D, hands, face mesh.

    ``person``: "largest" or a number counted from the left on the first frame
    with anyone. One-Euro ``min_cutoff`` (Hz), ``beta``, ``d_cutoff`` (Hz) in body
    sizes per second (``smoothing=False``: raw detections). ``fill_gaps_max``:
    longest gap (frames) bridged by interpolation. ``threaded``: see :func:`track_person`."""
    for name, value, low in (("min_cutoff", min_cutoff, 0.0), ("d_cutoff", d_cutoff, 0.0)):
        if not value > low:
            raise DreamActorError(f"{name} {value} must be above 0 Hz", fix=f"set {name} to e.g. 1.0", input=name)
    if beta < 0 or fill_gaps_max < 0:
        raise DreamActorError(
            f"beta {beta} / fill_gaps_max {fill_gaps_max} must not be negative",
            fix="use beta >= 0 (e.g. 1.0) and fill_gaps_max >= 0 frames",
            input="beta",
        )
    raw = track_person(
        video,
        person=person,
        hands=hands,
        face=face,
        pose_model=pose_model,
        progress=progress,
        should_stop=should_stop,
        threaded=threaded,
    )
    params = OneEuroParams(min_cutoff, beta, d_cutoff, enabled=smoothing)
    return motion_from_track(raw, video.fps, video.size, smoothing=params, fill_gaps_max=fill_gaps_max)


def extract_image(
    image: np.ndarray, *, person="largest", hands: bool = True, face: bool = True, pose_model: str = "full"
) -> Motion:
    """A one-frame Motion from a photo (H, W, 3) uint8 RGB (MediaPipe static-image mode)."""
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise DreamActorError(
            f"an image of shape {a.shape} is not an RGB picture",
            fix="connect one image (height, width, 3)",
            input="image",
        )
    video = ArrayVideo(a[None, ..., :3], fps=1.0)
    try:
        return extract_motion(video, person=person, hands=hands, face=face, pose_model=pose_model, smoothing=False)
    except DreamActorError as e:
        if e.input != "video":
            raise
        raise DreamActorError(  # the one-frame video is how a photo is read: blame the photo
            "no person was found in the picture" if e.what.startswith("no person") else e.what,
            fix="use a photo where the character is visible, at least head and shoulders, facing the camera",
            input="image",
        ) from None
