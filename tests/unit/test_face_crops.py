"""Face crops: steady, centred windows on real clips, cut lazily per window."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from models.core.errors import DreamActorError
from models.core.motion import Motion
from models.extract.face_mesh import FaceMeshDetector, detect_faces_in_video
from models.face.crops import FaceTrack, cut_crop, face_crop_boxes, face_track, to_crop_pixels
from models.io.video import ArrayVideo, FileVideo


def face_motion(face2d, face3d, valid, size, fps) -> Motion:
    m = Motion.empty(len(valid), size, fps, num_face=face2d.shape[1])
    return m.replace(face2d=face2d, face3d=face3d, face_valid=valid)


def jitter(x: np.ndarray) -> float:
    """Mean size of the frame-to-frame second difference (T, ...) -> ()."""
    d2 = np.diff(np.asarray(x, np.float64), 2, axis=0).reshape(len(x) - 2, -1)
    return float(np.linalg.norm(d2, axis=1).mean())


@pytest.fixture(scope="module")
def wolfgang(media):
    video = FileVideo(media("WolfgangLanger_Pexels.mp4"))
    face2d, face3d, valid = detect_faces_in_video(video)
    return video, face_motion(face2d, face3d, valid, video.size, video.fps)


@pytest.fixture(scope="module")
def wolfgang_track(wolfgang):
    video, motion = wolfgang
    return face_track(video, motion)


@pytest.fixture(scope="module")
def title_card(media):
    video = FileVideo(media("face_noface.mov"))
    face2d, face3d, valid = detect_faces_in_video(video)
    return video, face_motion(face2d, face3d, valid, video.size, video.fps)


def test_crops_keep_the_face_centred(wolfgang, wolfgang_track):
    _, motion = wolfgang
    track = wolfgang_track
    centroid = np.stack([track.landmarks_in_crop(motion.face2d[t].mean(0), t) for t in range(len(track))])
    off = np.linalg.norm(centroid - track.size / 2, axis=1) / track.size
    assert np.mean(off < 0.05) >= 0.95, np.percentile(off, [50, 95, 100])
    # and the whole face is inside the crop on every frame
    inside = [
        np.all((p := track.landmarks_in_crop(motion.face2d[t], t)) > -0.02 * track.size)
        and np.all(p < 1.02 * track.size)
        for t in range(len(track))
    ]
    assert np.mean(inside) >= 0.95


def test_two_dimensional_landmarks_alone_also_centre_the_face(wolfgang):
    import dataclasses

    _, motion = wolfgang
    flat = dataclasses.replace(motion, optional={k: v for k, v in motion.optional.items() if k != "face3d"})
    boxes, valid = face_crop_boxes(flat)
    assert valid.all()
    centroid = np.stack([to_crop_pixels(motion.face2d[t].mean(0), boxes[t], 512) for t in range(len(boxes))])
    assert np.mean(np.linalg.norm(centroid - 256, axis=1) / 512 < 0.05) >= 0.95


def test_crop_window_jitters_less_than_the_raw_landmark_box(wolfgang, wolfgang_track):
    _, motion = wolfgang
    lo, hi = motion.face2d.min(1), motion.face2d.max(1)
    raw_centre, raw_side = 0.5 * (lo + hi), (hi - lo).max(1)
    boxes = wolfgang_track.boxes
    assert jitter(boxes[:, :2]) < 0.5 * jitter(raw_centre)
    assert jitter(boxes[:, 2]) < 0.5 * jitter(raw_side)


def test_crop_pixel_maths_on_a_dot():
    """A dot at a known pixel lands where ``to_crop_pixels`` says, turned or not, and
    through the area-downscale path for large boxes."""
    image = np.zeros((200, 300, 3), np.uint8)
    image[89:92, 139:142] = 255  # centred on pixel (140, 90): continuous (140.5, 90.5)
    ys, xs = np.mgrid[:128, :128]
    for box in ([150, 100, 60, 0], [150, 100, 60, 0.4], [150, 100, 300, 0.2]):
        crop = cut_crop(image, np.array(box, float), 128)[..., 0].astype(float)
        w = crop / crop.sum()
        seen = np.array([(w * xs).sum() + 0.5, (w * ys).sum() + 0.5])
        assert np.allclose(seen, to_crop_pixels(np.array([140.5, 90.5]), np.array(box, float), 128), atol=0.1)


def test_cut_crops_show_the_face_where_the_boxes_say(wolfgang, wolfgang_track):
    """Run the face mesh again on the cut crops: the face it finds sits where the
    frame's landmarks map to (no hand over the face on these frames)."""
    _, motion = wolfgang
    track = wolfgang_track
    with FaceMeshDetector(video_mode=False) as detector:
        for t in (0, 240, 330, 400):
            found = detector.detect(track.crops(t, t + 1)[0])
            assert found is not None
            diff = found.points2d - track.landmarks_in_crop(motion.face2d[t], t)
            assert np.linalg.norm(diff.mean(0)) < 0.006 * track.size, t  # no shift
            assert np.median(np.linalg.norm(diff, axis=1)) < 0.012 * track.size, t


def test_crops_are_cut_lazily_per_window(wolfgang, wolfgang_track):
    video, _ = wolfgang
    track = wolfgang_track
    window = track.crops(100, 108)
    assert window.shape == (8, 512, 512, 3) and window.dtype == np.uint8
    assert np.array_equal(window[3], cut_crop(video.frame(103), track.boxes[103], 512))
    starts = [(a, len(crops)) for a, crops in track.windows(25, 0, 60)]
    assert starts == [(0, 25), (25, 25), (50, 10)]
    assert track.tokens is None


def test_preview_and_size_option(wolfgang, wolfgang_track, artifacts_dir):
    video, motion = wolfgang
    preview = wolfgang_track.preview(16)
    assert preview.shape == (16, 512, 512, 3) and preview.dtype == np.uint8
    Image.fromarray(np.concatenate(list(preview[::2]), axis=1)).resize((8 * 128, 128)).save(
        f"{artifacts_dir}/face_crops_preview.png"
    )
    small = face_track(video, motion, size=256)
    assert small.preview(3).shape == (3, 256, 256, 3)
    assert np.allclose(small.boxes, wolfgang_track.boxes)


def test_follow_roll_levels_the_eyes(wolfgang):
    _, motion = wolfgang
    t = 404  # head leant ~25 degrees towards her right shoulder
    upright, _ = face_crop_boxes(motion)
    level, _ = face_crop_boxes(motion, follow_roll=True)

    def eye_line_deg(box):
        right, left = (to_crop_pixels(motion.face2d[t][list(ix)].mean(0), box, 512) for ix in ((33, 133), (263, 362)))
        d = left - right
        return abs(np.degrees(np.arctan2(d[1], d[0])))

    assert eye_line_deg(upright[t]) > 15
    assert eye_line_deg(level[t]) < 3


def test_large_faces_are_area_downscaled_consistently(media):
    """A 4x upscaled photo cropped to 128 px (the area-resize path) matches the crop of
    the original photo (the plain warp)."""
    image = np.asarray(Image.open(media("astronaut.png")).convert("RGB"))
    face2d, face3d, valid = detect_faces_in_video(ArrayVideo(image[None], 1.0))
    assert valid.all()
    boxes, _ = face_crop_boxes(face_motion(face2d, face3d, valid, (512, 512), 1.0))
    big = np.asarray(Image.fromarray(image).resize((2048, 2048), Image.BICUBIC))
    box_big = boxes[0] * np.array([4, 4, 4, 1], np.float32)
    a = cut_crop(image, boxes[0], 128).astype(float)
    b = cut_crop(big, box_big, 128).astype(float)
    assert np.abs(a - b).mean() < 4.0


def test_lost_face_holds_the_last_window_and_is_marked(title_card):
    video, motion = title_card
    track = face_track(video, motion, size=128)
    assert track.valid[:72].all() and not track.valid[72:].any()
    assert np.all(track.boxes[72:] == track.boxes[71])
    assert track.crops(160, 164).shape == (4, 128, 128, 3)


def test_errors_are_clear(wolfgang):
    video, motion = wolfgang
    with pytest.raises(DreamActorError, match="no face"):
        face_track(video, Motion.empty(len(motion), motion.image_size, motion.fps, num_face=478))
    with pytest.raises(DreamActorError, match="frames"):
        face_track(video, motion.slice(0, 100))
    with pytest.raises(DreamActorError, match="crop size"):
        face_track(video, motion, size=4)
    with pytest.raises(DreamActorError):
        FaceTrack(video=video, boxes=np.zeros((3, 4), np.float32), valid=np.zeros(3, bool))


def test_detector_finds_a_small_face_in_a_full_body_shot_only_with_a_head_box(media):
    """demo.mp4 frame 0: a man standing on a shed, his head about 40 px tall in a
    1768x994 frame (head box picked by looking at the frame)."""
    frame = FileVideo(media("demo.mp4")).frame(0)
    head = np.array([628, 70, 672, 122])
    with FaceMeshDetector(video_mode=False) as detector:
        assert detector.detect(frame) is None
        found = detector.detect(frame, roi=head)
    assert found is not None and 0.5 < found.score <= 1.0
    assert found.points2d.shape == (478, 2) and found.points3d.shape == (478, 3)
    centre = found.points2d.mean(0)
    assert head[0] < centre[0] < head[2] and head[1] < centre[1] < head[3]
    assert np.allclose(found.points3d[:, :2], found.points2d)
    width = np.ptp(found.points2d[:, 0])
    assert 0.2 * width < np.ptp(found.points3d[:, 2]) < 2 * width  # z at the same pixel scale
