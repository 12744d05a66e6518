"""The ``scail`` guide style on known poses: SCAIL's capsule convention (models.render.scail)."""

from __future__ import annotations

import numpy as np
import pytest

from models.core.skeleton import BODY
from models.render.fit import fit_frame
from models.render.frames import STYLES, render_frame
from models.render.scail import BONES, RADIUS_M, bone_color, depth_range
from tests.unit.motion_fixtures import joint2d, person_motion, reproject, set_joint

W, H = 416, 240


def _mid(m, t, a, b):
    return 0.5 * (joint2d(m, t, a) + joint2d(m, t, b))


def _px(img, xy):
    return img[int(round(xy[1])), int(round(xy[0]))].astype(int)


@pytest.fixture(scope="module")
def standing():
    m = person_motion(2, image_size=(W, H), arms="a", pelvis=(0.0, 0.0, 3.2))
    m.valid[1] = False
    return m


def test_scail_is_a_style():
    assert "scail" in STYLES


def test_colours_are_scails_formula_of_its_base_colours():
    assert np.allclose(bone_color((255, 0, 0)), (1.0, 0.15, 0.15))
    assert np.allclose(bone_color((150, 150, 150)), (0.65, 0.65, 0.65))
    assert len(BONES) == 13  # OpenPose limbs with eyes and ears empty, as SCAIL fills them from SMPL


def test_bones_are_lit_capsules_on_the_2d_joints(standing):
    img = render_frame(standing, 0, W, H, style="scail")
    near, far = depth_range(standing, ["neck", "head", "left_ankle", "right_ankle"], 0.3)
    for a, b, base in BONES:
        colour = _px(img, _mid(standing, 0, a, b))
        # seen head-on at the bone's middle: the base colour fully lit (diffuse ~1) plus at most
        # the white highlight (0.5 * specular), faded by depth
        z = 0.5 * (standing.joints3d[0, BODY[a], 2] + standing.joints3d[0, BODY[b], 2])
        fade = 1 - (z - near) / far
        low, high = (np.clip((bone_color(base) + extra) * fade, 0, 1) * 255 for extra in (-0.03, 0.5))
        assert (colour >= low - 3).all() and (colour <= high + 3).all(), (a, b, colour, low, high)
    # the person's right arm is warm (red > blue), the left cool (blue > red); the head bone grey
    right, left = (_px(img, _mid(standing, 0, f"{s}_elbow", f"{s}_wrist")) for s in ("right", "left"))
    assert right[0] > right[2] + 60 and left[2] > left[0] + 60
    head = _px(img, _mid(standing, 0, "neck", "head"))
    assert head[0] == head[1] == head[2]


def test_capsule_width_is_its_radius_projected(standing):
    img = render_frame(standing, 0, W, H, style="scail")
    knee, ankle = joint2d(standing, 0, "left_knee"), joint2d(standing, 0, "left_ankle")
    mid = 0.5 * (knee + ankle)
    z = standing.joints3d[0, BODY["left_knee"], 2]
    r_px = standing.camera[0, 0] * fit_frame(standing.image_size, W, H).sx * RADIUS_M / z
    row = img[int(round(mid[1]))].max(-1) > 0
    cols = np.nonzero(row)[0]
    segment = cols[np.abs(cols - mid[0]) < 4 * r_px]  # the shin's lit run on this row
    assert abs(len(segment) - 2 * r_px) <= 2.5


def test_nearer_bone_hides_the_farther_one():
    m = person_motion(1, image_size=(W, H), arms="a", pelvis=(0.0, 0.0, 3.2))
    # the right forearm swings across the chest, 30 cm in front of it
    chest = m.joints3d[0, BODY["spine3"]]
    set_joint(m, 0, "right_wrist", chest + (0.10, 0.05, -0.30))
    reproject(m)
    img = render_frame(m, 0, W, H, style="scail")
    # where the forearm crosses the neck -> left hip bone, the forearm's golden orange wins
    a, b = m.joints3d[0, BODY["right_elbow"]], m.joints3d[0, BODY["right_wrist"]]
    probe = a + 0.85 * (b - a)
    xy = m.camera[:2, :2] @ (probe[:2] / probe[2]) + m.camera[:2, 2]
    colour = _px(img, fit_frame(m.image_size, W, H).apply(xy))
    assert colour[0] > 200 and colour[1] > colour[2] + 60  # golden orange (255, 170, 0) lit, not blue


def test_farther_person_is_darker_and_invalid_frames_are_black(standing):
    near = person_motion(2, image_size=(W, H), arms="a", pelvis=(0.0, 0.0, 3.2))
    near.joints3d[1] += (0.0, 0.0, 3.0)  # frame 1: the same pose 3 m farther
    reproject(near)
    grey = [_px(render_frame(near, t, W, H, style="scail"), _mid(near, t, "neck", "head")) for t in (0, 1)]
    assert grey[0][0] == grey[0][2] and grey[1][0] == grey[1][2]  # the grey head bone in both
    assert grey[1][0] < grey[0][0] - 10  # faded with depth
    assert render_frame(standing, 1, W, H, style="scail").max() == 0
