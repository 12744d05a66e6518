"""Skeleton extraction (models.extract.driver) on the real sample media.

The expensive walks (demo.mp4's 230 frames, face_noface.mov) run once per
module; the smoothed and the raw motion are both built from the same raw track
(``motion_from_track`` with smoothing on and off), so the comparison costs nothing.

Reference positions below were measured with plain MediaPipe Pose (static
mode, on the full frame or a square tile, none of the pack's tracking code) and
checked by eye on the frames.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from models.core.errors import DreamActorError
from models.core.motion import Motion
from models.core.skeleton import BODY
from models.core.smoothing import OneEuroParams, runs
from models.extract.driver import (
    RawTrack,
    extract_image,
    extract_motion,
    median_reprojection_error,
    motion_from_track,
    track_person,
)
from models.io.video import ArrayVideo, FileVideo

# demo.mp4: the man standing on the box at frame 0 (hip centre, px), and the
# woman walking below him, who must never be the tracked person.
MAN_HIPS_FRAME0 = (655.0, 271.0)
WOMAN_HIPS = {90: (1118, 715), 120: (822, 724), 150: (543, 722), 170: (326, 737), 180: (193, 743), 190: (100, 730)}
DEMO_VISIBLE = 227  # frames 0..226 show him; from 227 he is behind the tree trunk
FLIP_LANDING = slice(175, 200)  # coming down from the flip: the fastest motion of the clip
FACE_FRAMES, TITLE_FRAMES = range(0, 72), range(73, 120)  # face_noface.mov: the cut is at 72 (a black frame)


def lag_frames(reference: np.ndarray, signal: np.ndarray, max_lag: float = 4.0) -> float:
    """Frames by which ``signal`` (T, C) trails ``reference`` (T, C), in 0.1 steps."""
    t = np.arange(len(reference), dtype=float)
    edge = int(np.ceil(max_lag))

    def err(k):
        shifted = np.stack([np.interp(t + k, t, signal[:, c]) for c in range(signal.shape[1])], 1)
        return np.mean((reference[edge:-edge] - shifted[edge:-edge]) ** 2)

    return float(min(np.arange(-max_lag, max_lag + 1e-9, 0.1), key=err))


def body_size(m: Motion) -> float:
    b = m.get("person_box")[m.valid]
    return float(np.median(np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])))


# ---------------------------------------------------------------------------- demo.mp4
@pytest.fixture(scope="module")
def demo(media):
    video = FileVideo(media("demo.mp4"))
    raw = track_person(video)
    smooth = motion_from_track(raw, video.fps, video.size)
    rough = motion_from_track(raw, video.fps, video.size, smoothing=OneEuroParams(enabled=False))
    return raw, smooth, rough


def test_demo_body_is_tracked_where_visible(demo):
    raw, m, _ = demo
    assert m.num_frames == 230 and m.image_size == (1768, 994)
    assert raw.body_valid[:DEMO_VISIBLE].mean() >= 0.95  # measured, not interpolated
    assert m.valid[:DEMO_VISIBLE].mean() >= 0.95
    assert not m.get("filled")[raw.body_valid].any()
    assert "frames" in m.get("info")


def test_demo_follows_the_same_person(demo):
    _, m, _ = demo
    size = body_size(m)
    pelvis = m.joints2d[:, BODY["pelvis"]]
    assert np.linalg.norm(pelvis[0] - MAN_HIPS_FRAME0) < 0.15 * size  # the man on the box
    # never a jump to someone else: the root moves less than a third of a body per frame
    both = m.valid[1:] & m.valid[:-1]
    jumps = np.linalg.norm(np.diff(pelvis, axis=0), axis=-1)[both]
    assert jumps.max() < 0.35 * size
    # and never onto the woman walking below him
    for t, hips in WOMAN_HIPS.items():
        if m.valid[t]:
            assert np.linalg.norm(pelvis[t] - hips) > 0.8 * size, t
    # at the end he runs out on the right; she left on the left
    last = np.flatnonzero(m.valid)[-1]
    assert last >= 220 and pelvis[last, 0] > 1300


def test_demo_smoothing_removes_jitter(demo):
    _, smooth, rough = demo
    ok = smooth.valid[2:] & smooth.valid[1:-1] & smooth.valid[:-2]

    def jitter(m):
        return np.abs(m.joints2d[2:] - 2 * m.joints2d[1:-1] + m.joints2d[:-2])[ok].mean()

    assert jitter(smooth) < 0.5 * jitter(rough)


def test_demo_smoothing_keeps_the_flip_on_time(demo):
    raw, smooth, rough = demo
    assert raw.body_valid[FLIP_LANDING].all()
    for name in ("pelvis", "left_wrist", "right_ankle", "head"):
        j = BODY[name]
        assert abs(lag_frames(rough.joints2d[FLIP_LANDING, j], smooth.joints2d[FLIP_LANDING, j])) <= 1.0, name
    # the fall is not flattened: the pelvis drops as far as in the raw track
    drop = lambda m: np.ptp(m.joints2d[FLIP_LANDING, BODY["pelvis"], 1])  # noqa: E731
    assert drop(smooth) > 0.9 * drop(rough)


def test_demo_3d_projects_onto_2d(demo):
    _, m, _ = demo
    err = median_reprojection_error(m)
    assert err < 0.02 * body_size(m)  # about 4 px on a 350 px person
    depth = m.joints3d[m.valid, BODY["pelvis"], 2]
    assert np.all(depth > 1.0) and 3.0 < np.median(depth) < 20.0  # metres, a person across a lawn
    # metric body: shoulder width of an adult
    sw = np.linalg.norm(
        m.joints3d[m.valid, BODY["left_shoulder"]] - m.joints3d[m.valid, BODY["right_shoulder"]], axis=-1
    )
    assert 0.2 < np.median(sw) < 0.5


def test_demo_hands_sit_at_their_own_wrists(demo):
    _, m, _ = demo
    hands3d = m.get("hands3d")
    checked = 0
    for k, side in enumerate(("left", "right")):
        other = ("right", "left")[k]
        seen = (
            (m.hands_conf[:, k, 0] > 0)
            & (m.conf[:, BODY[f"{side}_wrist"]] >= 0.5)
            & (m.conf[:, BODY[f"{other}_wrist"]] >= 0.5)
        )
        wrist = m.hands2d[seen, k, 0]
        own = np.linalg.norm(wrist - m.joints2d[seen, BODY[f"{side}_wrist"]], axis=-1)
        far = np.linalg.norm(wrist - m.joints2d[seen, BODY[f"{other}_wrist"]], axis=-1)
        assert (own < far).mean() >= 0.9, side
        checked += int(seen.sum())
        # 3D hands hang at the body's wrist joint
        found = m.hands_conf[:, k, 0] > 0
        assert np.allclose(hands3d[found, k, 0], m.joints3d[found, BODY[f"{side}_wrist"]], atol=1e-4)
    assert checked >= 50


def test_demo_motion_saves_and_loads(demo, tmp_path):
    _, m, _ = demo
    path = m.save(str(tmp_path / "demo.motion.npz"))
    back = Motion.load(path)
    assert np.array_equal(back.joints2d, m.joints2d)
    assert back.get("face3d").shape == (230, 478, 3)
    assert str(back.get("info")) == m.get("info")


# ---------------------------------------------------------------------------- portraits
@pytest.fixture(scope="module")
def portrait(media):
    return extract_motion(FileVideo(media("single_face.mp4")))


def test_portrait_upper_body_and_face(portrait):
    m = portrait
    assert m.valid.all()
    for name in ("left_shoulder", "right_shoulder", "neck", "head", "nose", "left_eye", "right_eye"):
        assert (m.conf[:, BODY[name]] >= 0.5).mean() >= 0.9, name
    for name in ("left_knee", "right_knee", "left_ankle", "right_ankle"):  # below the frame
        assert (m.conf[:, BODY[name]] < 0.5).mean() >= 0.9, name
    face_valid = m.get("face_valid")
    assert face_valid.mean() >= 0.9
    W, H = m.image_size
    f = m.face2d[face_valid]
    assert np.all((f[..., 0] > 0) & (f[..., 0] < W) & (f[..., 1] > 0) & (f[..., 1] < H))
    # the mesh is on this person's face: the body's nose lies inside it
    nose = m.joints2d[face_valid, BODY["nose"]]
    assert np.all((nose > f.min(1)) & (nose < f.max(1)))


def test_a_photo_gives_one_confident_frame(media):
    image = np.asarray(Image.open(media("astronaut.png")).convert("RGB"))
    m = extract_image(image)
    assert m.num_frames == 1 and m.valid[0] and m.image_size == (512, 512)
    for name in (
        "left_shoulder",
        "right_shoulder",
        "left_elbow",
        "right_elbow",
        "head",
        "nose",
        "left_eye",
        "right_eye",
    ):
        assert m.conf[0, BODY[name]] >= 0.5, name
    # her left shoulder is on the image's right: MediaPipe's left is the person's left
    assert m.joints2d[0, BODY["left_shoulder"], 0] > m.joints2d[0, BODY["right_shoulder"], 0]
    assert m.get("face_valid")[0]
    face = m.face2d[0]
    assert face.shape == (478, 2) and np.all((face > 0) & (face < 512))
    assert np.all((m.joints2d[0, BODY["nose"]] > face.min(0)) & (m.joints2d[0, BODY["nose"]] < face.max(0)))


def test_a_one_frame_video_works(media):
    m = extract_motion(FileVideo(media("single_face.mp4"), count=1))
    assert m.num_frames == 1 and m.valid[0] and m.get("face_valid")[0]


# ---------------------------------------------------------------------------- bad input, gaps
def test_no_person_anywhere_is_a_user_error(media):
    with pytest.raises(DreamActorError) as e:
        track_person(FileVideo(media("no_face.mp4")), hands=False, face=False)
    assert "no person" in str(e.value) and "person is visible" in e.value.fix


def test_a_person_number_beyond_those_present_is_a_user_error(media):
    with pytest.raises(DreamActorError) as e:
        extract_motion(FileVideo(media("demo.mp4"), count=1), person=3)
    assert e.value.input == "person" and "between 1 and 1" in e.value.fix  # as the node's widget counts
    with pytest.raises(DreamActorError):
        extract_motion(FileVideo(media("demo.mp4"), count=1), person="tallest")


@pytest.fixture(scope="module")
def face_then_title(media):
    return extract_motion(FileVideo(media("face_noface.mov"), count=120))


def test_face_is_lost_at_the_cut(face_then_title):
    m = face_then_title
    face_valid = m.get("face_valid")
    assert face_valid[list(FACE_FRAMES)].mean() >= 0.95
    assert not face_valid[list(TITLE_FRAMES)].any()
    assert not m.valid[list(TITLE_FRAMES)].any()  # nobody on the title card (no ghosts in the lettering)
    assert "no body on frames 72" in m.get("info")


def _small(frames: list[np.ndarray]) -> np.ndarray:
    return np.stack([cv2.resize(f, (480, 270), interpolation=cv2.INTER_AREA) for f in frames])


def test_face_comes_back_after_the_title(media):
    """The clip never cuts back, so splice it: face, title card, face again."""
    video = FileVideo(media("face_noface.mov"), count=120)
    frames = _small(list(video.iter_frames()))
    spliced = np.concatenate([frames[10:40], frames[80:120], frames[40:70]])
    m = extract_motion(ArrayVideo(spliced, fps=25.0), hands=False)
    face_valid = m.get("face_valid")
    assert face_valid[:30].mean() >= 0.9 and face_valid[70:].mean() >= 0.9
    assert not face_valid[30:70].any()
    assert runs(m.valid)[-1][1] == 100  # found again and kept to the end


def test_progress_and_interrupt(media):
    seen = []

    def stop_after_three():
        if len(seen) >= 3:
            raise InterruptedError("stop")

    with pytest.raises(InterruptedError):
        extract_motion(
            FileVideo(media("single_face.mp4"), count=10),
            progress=lambda d, t: seen.append((d, t)),
            should_stop=stop_after_three,
        )
    assert seen == [(1, 10), (2, 10), (3, 10)]


def test_raw_track_round_trips_through_arrays(portrait, media):
    raw = track_person(FileVideo(media("single_face.mp4"), count=3), hands=False)
    again = RawTrack.from_arrays(raw.to_arrays())
    assert np.array_equal(again.pose_image, raw.pose_image) and again.start == raw.start


def test_an_error_on_the_hands_thread_reaches_the_caller():
    """BodyParts runs the hand models on its worker thread; what they raise comes out of finish()
    (here a body whose points are NaN: the hand crop around it cannot be placed)."""
    from models.extract.body_parts import BodyParts
    from models.extract.landmarkers import PoseResult

    parts = BodyParts(RawTrack.empty(2), hands=True, face=False, video_mode=True)
    pose = PoseResult(np.full((33, 3), np.nan), np.ones(33), np.zeros((33, 3)), None)
    try:
        parts.add(0, np.zeros((100, 100, 3), np.uint8), pose, 500.0, restarted=True)  # queued: no error yet
        with pytest.raises(ValueError):
            parts.finish()
    finally:
        parts.close()
