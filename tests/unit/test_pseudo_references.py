"""Pseudo multi-reference: picking the most different head views (models.dit.pseudo_references)."""

from __future__ import annotations

import numpy as np
import pytest

from models.core.errors import DreamActorError
from models.core.motion import Motion
from models.dit.pseudo_references import fit_cover, pick_views
from models.extract.face_mesh import detect_faces_in_video
from models.head.sphere import fit_head_sphere, rotation_from_yaw_pitch_roll, yaw_pitch_roll
from models.io.video import FileVideo


def turning_head(yaw_pitch: list[tuple[float, float]], measured=None) -> Motion:
    """A motion whose head looks along the given (yaw, pitch) per frame, straight ahead of the camera."""
    n = len(yaw_pitch)
    m = Motion.empty(n, (640, 360), 25.0)
    m.valid[:] = True
    m.head_center[:] = [0.0, 0.0, 1.5]
    m.head_radius[:] = 0.1
    m.head_rotation[:] = rotation_from_yaw_pitch_roll([(y, p, 0.0) for y, p in yaw_pitch])
    return m.replace(head_valid=np.ones(n, bool) if measured is None else np.asarray(measured))


def test_picks_the_farthest_views_in_turn():
    views = [(0, 0), (10, 0), (50, 5), (48, 0), (-40, 0), (-5, 30), (20, 0)]
    picks, note = pick_views(turning_head(views), 3)
    assert [p.frame for p in picks] == [2, 4, 5]  # right turn, then left, then looking up
    assert picks[0].distance == pytest.approx(np.hypot(50, 5), abs=0.5)
    assert picks[0].yaw == pytest.approx(50, abs=0.5) and "facing the camera" in note


def test_the_reference_own_view_counts_as_covered_and_small_turns_add_nothing():
    views = [(0, 0), (45, 0), (-30, 0), (5, 0)]
    reference = turning_head([(45, 0)])
    picks, note = pick_views(turning_head(views), 3, reference=reference, min_angle=15)
    # 45 deg is the reference's own view; then -30, then 5 (35 deg from both); 0 is within 5 deg of 5
    assert [p.frame for p in picks] == [2, 3]
    assert "measured on the reference" in note


def test_frames_without_a_measured_head_are_never_picked():
    views = [(0, 0), (80, 0), (30, 0)]
    picks, _ = pick_views(turning_head(views, measured=[True, False, True]), 1)
    assert [p.frame for p in picks] == [2]
    with pytest.raises(DreamActorError) as e:
        pick_views(turning_head(views, measured=[False] * 3), 1)
    assert e.value.input == "motion"


def test_real_talking_head_gives_opposite_turns(media):
    video = FileVideo(media("WolfgangLanger_Pexels.mp4"))
    face2d, face3d, valid = detect_faces_in_video(video)
    m = Motion.empty(video.num_frames, video.size, video.fps)
    m.valid[:] = valid
    m = fit_head_sphere(m.replace(face2d=face2d, face3d=face3d, face_valid=valid))
    # 12 degrees apart, not the default 15: MediaPipe 1.x's Face Landmarker sees her turn to
    # her right as about 10 degrees of yaw (the legacy Face Mesh: 13), in IMAGE and VIDEO mode alike.
    picks, _ = pick_views(m, 2, min_angle=12.0)
    ypr = yaw_pitch_roll(m.head_rotation, m.head_center)
    assert len(picks) == 2
    assert np.sign(picks[0].yaw) != np.sign(picks[1].yaw)  # she turns both ways; both are picked
    d = np.hypot(ypr[:, 0], ypr[:, 1])
    assert picks[0].distance == pytest.approx(d[m.get("head_valid")].max(), abs=1e-3)
    print("picked", [(p.frame, round(p.yaw), round(p.pitch)) for p in picks])


def test_fit_cover_fills_the_frame_with_a_centre_crop():
    img = np.zeros((100, 200, 3), np.uint8)
    img[:, 50:150] = 255  # the centre half is white
    out = fit_cover(img, 64, 64)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    assert out[:, 4:60].min() > 200  # the centre fills the square crop
