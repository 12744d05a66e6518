"""Guide rendering (models.render.frames*): pixels, ordering, fits, POSE_KEYPOINT."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

from models.core.errors import DreamActorError
from models.core.motion import project
from models.core.skeleton import BODY
from models.render.fit import fit_frame
from models.render.frames import STYLES, render_frame, render_frames
from models.render.pose_keypoint import OPENPOSE18, to_pose_keypoint
from models.render.wan import COLORS, limb_color, stick_widths
from tests.unit.motion_fixtures import FRONTAL_HEAD, joint2d, person_motion, reproject, set_joint, yaw

SRC = (640, 480)


def px(img: np.ndarray, xy) -> np.ndarray:
    """RGB at canvas point xy (x, y), as ints."""
    return img[int(xy[1]), int(xy[0])].astype(int)


def mid(m, t, a, b) -> np.ndarray:
    return 0.5 * (joint2d(m, t, a) + joint2d(m, t, b))


def lit_box(img: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the non-black pixels."""
    ys, xs = np.nonzero(img.max(-1) > 0)
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


# ---------------------------------------------------------------- wan-animate
def test_wan_right_upper_arm_has_its_limb_colour_and_background_is_black():
    m = person_motion(image_size=SRC)
    img = render_frame(m, 0, *SRC, style="wan-animate")
    assert img.shape == (480, 640, 3) and img.dtype == np.uint8
    # limb 2 = r_shoulder -> r_elbow: (255, 170, 0) at 60 %
    assert limb_color(2) == (153, 102, 0)
    assert tuple(px(img, mid(m, 0, "right_shoulder", "right_elbow"))) == (153, 102, 0)
    # the left upper arm (limb 4) is a different colour: left and right tell apart
    assert tuple(px(img, mid(m, 0, "left_shoulder", "left_elbow"))) == limb_color(4)
    # joints are full-colour circles: r_elbow is OpenPose point 3
    assert tuple(px(img, joint2d(m, 0, "right_elbow"))) == COLORS[3]
    # far from the body: black
    for xy in [(5, 5), (630, 470), (600, 40), (40, 400)]:
        assert tuple(px(img, xy)) == (0, 0, 0)
    # a thin stick figure covers little of the frame
    assert (img.max(-1) > 0).mean() < 0.03


def test_wan_stick_widths_scale_with_canvas_like_wan_v2():
    assert stick_widths(832, 480) == (1, 1)
    assert stick_widths(1280, 720) == (2, 1)
    assert stick_widths(1920, 1080) == (4, 2)
    m = person_motion(image_size=(1280, 720))
    thin = render_frame(m, 0, 1280, 720, style="wan-animate")
    wide = render_frame(m, 0, 1920, 1080, style="wan-animate")
    # the horizontal upper arm: count lit rows in one column
    x = int(mid(m, 0, "right_shoulder", "right_elbow")[0])
    # a horizontal limb's ellipse with half-axis w covers 2w + 1 rows at its middle
    assert (thin[:, x].max(-1) > 0).sum() == 2 * 2 + 1
    assert (wide[:, int(x * 1.5)].max(-1) > 0).sum() == 2 * 4 + 1


def test_wan_draws_hands_without_face_landmarks():
    m = person_motion(image_size=SRC)
    m = m.replace(face2d=np.tile(joint2d(m, 0, "nose")[None, None], (1, 68, 1)).astype(np.float32))
    img = render_frame(m, 0, *SRC, style="wan-animate")
    tip = m.hands2d[0, 0, 8]  # left index tip: a blue point
    assert tuple(px(img, tip)) == (0, 0, 255)
    no_hands = m.replace(hands_conf=np.zeros_like(m.hands_conf))
    assert px(render_frame(no_hands, 0, *SRC, style="wan-animate"), tip).sum() == 0


# ------------------------------------------------------------ both styles
@pytest.mark.parametrize("style", STYLES)
def test_invalid_frame_renders_black(style):
    m = person_motion(2, image_size=SRC)
    m.valid[1] = False
    assert render_frame(m, 0, 320, 240, style=style).any()
    assert not render_frame(m, 1, 320, 240, style=style).any()


@pytest.mark.parametrize("style", STYLES)
def test_low_confidence_joint_is_not_drawn(style):
    m = person_motion(image_size=SRC)
    m.hands_conf[:] = 0.0
    forearm = mid(m, 0, "right_elbow", "right_wrist")
    assert px(render_frame(m, 0, *SRC, style=style), forearm).sum() > 0
    m.conf[0, BODY["right_wrist"]] = 0.2
    assert px(render_frame(m, 0, *SRC, style=style), forearm).sum() == 0
    # the threshold is a parameter
    assert px(render_frame(m, 0, *SRC, style=style, threshold=0.1), forearm).sum() > 0


@pytest.mark.parametrize("style", STYLES)
def test_rendering_a_window_equals_rendering_each_frame(style):
    m = person_motion(5, image_size=SRC)
    for t in range(5):  # the right arm swings down, the head turns
        set_joint(m, t, "right_wrist", m.joints3d[t, BODY["right_wrist"]] + (0.0, 0.1 * t, -0.05 * t))
        m.head_rotation[t] = yaw(20 * t) @ FRONTAL_HEAD
    window = list(render_frames(m, 1, 4, 416, 240, style=style))
    assert len(window) == 3
    for t, img in zip(range(1, 4), window):
        assert np.array_equal(img, render_frame(m, t, 416, 240, style=style))
    assert not np.array_equal(window[0], window[2])


def test_bad_arguments_raise_user_errors():
    m = person_motion(3, image_size=SRC)
    with pytest.raises(DreamActorError, match="style"):
        render_frame(m, 0, 64, 64, style="openpose")
    with pytest.raises(DreamActorError, match="fit"):
        render_frame(m, 0, 64, 64, fit="zoom")
    with pytest.raises(DreamActorError, match="outside"):
        render_frame(m, 3, 64, 64)
    with pytest.raises(DreamActorError, match="outside"):
        render_frames(m, 2, 5, 64, 64)
    with pytest.raises(DreamActorError, match="empty"):
        render_frame(m, 0, 0, 64)


# ------------------------------------------------------------------- fits
def test_fit_frame_numbers():
    c = fit_frame((640, 480), 832, 480, "contain")
    assert (c.sx, c.sy, c.ox, c.oy) == (1.0, 1.0, 96.0, 0.0)
    c = fit_frame((480, 640), 832, 480, "contain")  # portrait in landscape: bands left/right
    assert (c.sx, c.ox, c.oy) == (0.75, 236.0, 0.0)
    c = fit_frame((1280, 720), 832, 832, "contain")  # landscape in square: bands top/bottom
    assert (c.sx, c.ox, c.oy) == (0.65, 0.0, 182.0)
    c = fit_frame((640, 480), 832, 480, "cover")
    assert (c.sx, c.ox, c.oy) == (1.3, 0.0, -72.0)
    s = fit_frame((640, 480), 832, 480, "stretch")
    assert (s.sx, s.sy, s.ox, s.oy) == (1.3, 1.0, 0.0, 0.0)
    assert np.allclose(c.invert(c.apply([[10.0, 20.0]])), [[10.0, 20.0]])


@pytest.mark.parametrize("style", STYLES)
def test_contain_keeps_aspect_and_stretch_does_not(style):
    m = person_motion(image_size=SRC)
    native = lit_box(render_frame(m, 0, *SRC, style=style))
    boxed = render_frame(m, 0, 832, 480, style=style, fit="contain")
    stretched = lit_box(render_frame(m, 0, 832, 480, style=style, fit="stretch"))

    def aspect(b):
        return (b[2] - b[0]) / (b[3] - b[1])

    assert abs(aspect(lit_box(boxed)) / aspect(native) - 1) < 0.03
    assert abs(aspect(stretched) / aspect(native) - 1.3) < 0.05
    # contain: the same picture shifted into the middle, nothing in the bands
    assert lit_box(boxed)[0] - native[0] in (95, 96, 97)
    assert not boxed[:, :96].any() and not boxed[:, 736:].any()


# ------------------------------------------------------------ dreamactor
def test_dreamactor_left_and_right_limbs_are_warm_and_cool():
    m = person_motion(image_size=SRC)
    img = render_frame(m, 0, *SRC, style="dreamactor")
    r = px(img, mid(m, 0, "right_shoulder", "right_elbow"))
    l = px(img, mid(m, 0, "left_shoulder", "left_elbow"))
    assert r[0] > r[2] + 80, r
    assert l[2] > l[0] + 80, l
    for xy in [(5, 5), (630, 470), (600, 400)]:
        assert tuple(px(img, xy)) == (0, 0, 0)


def _forearm_across_the_body(dz: float):
    """A motion whose right forearm lies horizontally across the spine, dz metres off the body plane."""
    m = person_motion(image_size=SRC, head=False)
    m.hands_conf[:] = 0.0
    pelvis = m.joints3d[0, BODY["pelvis"]].astype(np.float64)
    y = pelvis[1] - 0.28  # between spine2 and spine3
    set_joint(m, 0, "right_elbow", (pelvis[0] - 0.3, y, pelvis[2] + dz))
    set_joint(m, 0, "right_wrist", (pelvis[0] + 0.3, y, pelvis[2] + dz))
    crossing = project(np.array([pelvis[0], y, pelvis[2] + dz]), m.camera)
    return m, crossing


def test_dreamactor_paints_far_to_near():
    near, xy = _forearm_across_the_body(-0.4)
    rgb = px(render_frame(near, 0, *SRC, style="dreamactor"), xy)
    assert rgb[0] - rgb[2] > 100, rgb  # the orange forearm, in front
    far, xy = _forearm_across_the_body(+0.4)
    rgb = px(render_frame(far, 0, *SRC, style="dreamactor"), xy)
    assert rgb.min() > 100 and rgb.max() - rgb.min() < 10, rgb  # the grey spine, in front


def test_dreamactor_nearer_bones_are_brighter_and_thicker():
    m = person_motion(image_size=SRC, head=False)
    m.hands_conf[:] = 0.0
    base = render_frame(m, 0, *SRC, style="dreamactor")
    for name in ("left_shoulder", "left_elbow", "left_wrist"):
        set_joint(m, 0, name, m.joints3d[0, BODY[name]] + (0.0, 0.0, -0.5))
    near = render_frame(m, 0, *SRC, style="dreamactor")
    x_base = int(mid(person_motion(image_size=SRC), 0, "left_elbow", "left_wrist")[0])
    x_near = int(mid(m, 0, "left_elbow", "left_wrist")[0])
    column_base, column_near = base[:, x_base], near[:, x_near]
    assert (column_near.max(-1) > 0).sum() > (column_base.max(-1) > 0).sum() + 2
    assert column_near.max() > column_base.max() + 40


def test_dreamactor_hands_from_2d_when_there_is_no_3d():
    m = person_motion(image_size=SRC, with_hands3d=False)
    tip = 0.5 * (m.hands2d[0, 1, 11] + m.hands2d[0, 1, 12])  # right middle finger, last bone
    assert px(render_frame(m, 0, *SRC, style="dreamactor"), tip).sum() > 0
    m.hands_conf[0, 1] = 0.0
    assert px(render_frame(m, 0, *SRC, style="dreamactor"), tip).sum() == 0


def _sphere_pixels(img, m):
    c = project(m.head_center[0].astype(np.float64), m.camera)
    r = int(m.camera[0, 0] * m.head_radius[0] / m.head_center[0, 2]) - 2
    ys, xs = np.mgrid[-r : r + 1, -r : r + 1]
    inside = xs**2 + ys**2 <= r * r
    return img[int(c[1]) + ys[inside], int(c[0]) + xs[inside]].astype(float), c


def test_sphere_colours_follow_the_head_rotation():
    m = person_motion(3, image_size=SRC)
    m.conf[:] = 0.0  # the sphere alone
    m.hands_conf[:] = 0.0
    m.head_rotation[1] = yaw(90) @ FRONTAL_HEAD
    m.head_rotation[2] = yaw(-90) @ FRONTAL_HEAD
    frames = [render_frame(m, t, *SRC, style="dreamactor") for t in range(3)]
    pix = [_sphere_pixels(f, m)[0] for f in frames]
    assert all((p.max(-1) > 0).all() for p in pix)  # a filled disc every time
    means = [p.mean(0) for p in pix]
    assert np.abs(means[0] - means[1]).max() > 30, means
    assert np.abs(means[1] - means[2]).max() > 30, means  # turning left != turning right
    # the face spot is white at the centre when facing the camera, gone when turned
    _, c = _sphere_pixels(frames[0], m)
    assert px(frames[0], c).min() > 235
    assert px(frames[1], c).min() < 200
    # nothing outside the sphere
    assert not frames[0][:, : int(c[0]) - 40].any()


def test_face_spot_axis_agrees_with_the_head_sphere_convention():
    from models.head.sphere import FACING_CAMERA
    from models.render.sphere import FACE_AXIS

    assert np.allclose(FACING_CAMERA, FRONTAL_HEAD)
    # a head facing the camera points its face axis at the camera (-z in camera space)
    assert np.allclose(FACING_CAMERA @ FACE_AXIS, [0.0, 0.0, -1.0])


def test_held_head_without_measurement_is_still_drawn():
    m = person_motion(image_size=SRC)
    m.conf[:] = 0.0
    m.hands_conf[:] = 0.0
    m = m.replace(head_valid=np.zeros(1, bool))  # held / interpolated, radius still > 0
    assert render_frame(m, 0, *SRC, style="dreamactor").any()
    m.head_radius[:] = 0.0  # no head at all
    assert not render_frame(m, 0, *SRC, style="dreamactor").any()


def test_dreamactor_without_3d_joints_says_so():
    m = person_motion(image_size=SRC, head=False)
    m.joints3d[:] = 0.0
    with pytest.raises(DreamActorError, match="3D"):
        render_frame(m, 0, 64, 64, style="dreamactor")


# ---------------------------------------------------------- POSE_KEYPOINT
def test_pose_keypoint_round_trip():
    m = person_motion(3, image_size=SRC)
    m.valid[2] = False
    m.conf[1, BODY["left_knee"]] = 0.1
    frames = json.loads(json.dumps(to_pose_keypoint(m)))
    assert len(frames) == 3
    f0 = frames[0]
    assert (f0["canvas_width"], f0["canvas_height"]) == SRC
    pose = np.array(f0["people"][0]["pose_keypoints_2d"]).reshape(18, 3)
    for i, name in enumerate(OPENPOSE18):
        if name == "neck":
            expect = mid(m, 0, "left_shoulder", "right_shoulder")
        else:
            expect = joint2d(m, 0, name)
        assert np.allclose(pose[i, :2], expect, atol=1e-4), name
    assert (pose[:, 2] == 1.0).all()
    left = np.array(f0["people"][0]["hand_left_keypoints_2d"]).reshape(21, 3)
    right = np.array(f0["people"][0]["hand_right_keypoints_2d"]).reshape(21, 3)
    assert np.allclose(left[:, :2], m.hands2d[0, 0], atol=1e-4)
    assert np.allclose(right[:, :2], m.hands2d[0, 1], atol=1e-4)
    assert f0["people"][0]["face_keypoints_2d"] == [0.0] * 210  # no 68/70-point face: zero confidence
    knee = np.array(frames[1]["people"][0]["pose_keypoints_2d"]).reshape(18, 3)[OPENPOSE18.index("left_knee")]
    assert knee.tolist() == [0.0, 0.0, 0.0]
    assert frames[2]["people"] == []


def test_pose_keypoint_follows_the_canvas_fit():
    m = person_motion(image_size=SRC)
    f = to_pose_keypoint(m, 0, 1, width=832, height=480, fit="contain")[0]
    assert (f["canvas_width"], f["canvas_height"]) == (832, 480)
    pose = np.array(f["people"][0]["pose_keypoints_2d"]).reshape(18, 3)
    assert np.allclose(pose[OPENPOSE18.index("right_wrist"), :2], joint2d(m, 0, "right_wrist") + (96, 0), atol=1e-4)


# ------------------------------------------------------------- artifacts
def test_sample_renders_for_people_to_look_at(artifacts_dir):
    m = person_motion(3, image_size=(832, 480), arms="a", pelvis=(0.0, 0.0, 3.8))
    ix = BODY.index
    # frame 1: right arm reaching to the camera across the body, head turned 45 degrees
    for name, d in (("right_elbow", (0.12, 0.05, -0.35)), ("right_wrist", (0.45, -0.05, -0.55))):
        set_joint(m, 1, name, m.joints3d[1, ix[name]] + d)
    m.optional["hands3d"][1, 1] += m.joints3d[1, ix["right_wrist"]] - m.joints3d[0, ix["right_wrist"]]
    reproject(m)
    m.head_rotation[1] = yaw(45) @ FRONTAL_HEAD
    m.head_rotation[2] = yaw(-70) @ FRONTAL_HEAD
    row = []
    for style in STYLES:
        row.append(np.concatenate([render_frame(m, t, 832, 480, style=style) for t in range(3)], 1))
    sheet = np.concatenate(row, 0)
    path = os.path.join(artifacts_dir, "render_styles.png")
    Image.fromarray(sheet).save(path)
    assert os.path.getsize(path) > 1000
