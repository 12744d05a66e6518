"""The geometry under extraction, on exact synthetic data (fast, no media, no MediaPipe runs):
body mapping, camera placement, crops."""

from __future__ import annotations

import numpy as np
import pytest

from models.core.motion import default_camera, project
from models.core.roi import SquareCrop, StickyWindow
from models.core.skeleton import BODY
from models.extract.body_mapping import MP, WEIGHTS, body_confidence, to_body
from models.extract.camera import (
    LENGTH_WEIGHT,
    MAX_ROTATION_DEG,
    depth_at_length,
    place_in_camera,
    reprojection_error,
    solve_translation,
)


def standing_landmarks() -> np.ndarray:
    """(33, 3) a rough upright person, metres, hip-centred, y down."""
    p = np.zeros((33, 3))
    table = {
        "nose": (0, -0.62, -0.08),
        "left_eye": (0.03, -0.66, -0.06),
        "right_eye": (-0.03, -0.66, -0.06),
        "left_ear": (0.07, -0.64, 0),
        "right_ear": (-0.07, -0.64, 0),
        "left_shoulder": (0.18, -0.45, 0),
        "right_shoulder": (-0.18, -0.45, 0),
        "left_elbow": (0.22, -0.18, 0.02),
        "right_elbow": (-0.22, -0.18, 0.02),
        "left_wrist": (0.24, 0.07, -0.05),
        "right_wrist": (-0.24, 0.07, -0.05),
        "left_hip": (0.1, 0, 0),
        "right_hip": (-0.1, 0, 0),
        "left_knee": (0.1, 0.42, -0.02),
        "right_knee": (-0.1, 0.42, -0.02),
        "left_ankle": (0.1, 0.82, 0.03),
        "right_ankle": (-0.1, 0.82, 0.03),
        "left_heel": (0.1, 0.86, 0.07),
        "right_heel": (-0.1, 0.86, 0.07),
        "left_foot_index": (0.11, 0.88, -0.12),
        "right_foot_index": (-0.11, 0.88, -0.12),
    }
    for name, xyz in table.items():
        p[MP[name]] = xyz
    for i in range(33):  # the rest (inner/outer eyes, mouth, fingers) near their neighbours
        if not p[i].any():
            p[i] = p[MP["nose"]] if i < 11 else p[MP["left_wrist" if i % 2 else "right_wrist"]]
    return p


def test_every_joint_is_an_affine_mix_of_landmarks():
    assert WEIGHTS.shape == (BODY.num_joints, 33)
    assert np.allclose(WEIGHTS.sum(1), 1.0)  # so the mapping commutes with moving the body
    lm = standing_landmarks()
    j = to_body(lm)
    assert np.allclose(j[BODY["pelvis"]], lm[[MP["left_hip"], MP["right_hip"]]].mean(0))
    assert np.allclose(j[BODY["head"]], lm[[MP["left_ear"], MP["right_ear"]]].mean(0))
    assert np.allclose(j[BODY["left_foot"]], lm[MP["left_foot_index"]])
    mid_shoulder = lm[[MP["left_shoulder"], MP["right_shoulder"]]].mean(0)
    assert j[BODY["neck"], 1] < mid_shoulder[1]  # raised above the shoulder line (y down)
    spine_y = [j[BODY[n], 1] for n in ("pelvis", "spine1", "spine2", "spine3", "neck")]
    assert np.all(np.diff(spine_y) < 0)  # climbing from the pelvis to the neck
    shifted = to_body(lm + [1.0, 2.0, 3.0])
    assert np.allclose(shifted, j + [1.0, 2.0, 3.0])


def test_confidence_of_a_head_and_shoulders_shot():
    vis = np.ones(33)
    vis[[MP[n] for n in ("left_hip", "right_hip", "left_knee", "right_knee")]] = 0.05  # below the frame
    conf = body_confidence(vis)
    for name in ("neck", "left_collar", "spine3", "head", "left_shoulder"):
        assert conf[BODY[name]] == 1.0, name  # seen: the hips only nudge them
    for name in ("pelvis", "spine1", "spine2", "left_knee"):
        assert conf[BODY[name]] == 0.05, name


@pytest.mark.parametrize("rot_deg", [0.0, 12.0])
def test_camera_placement_recovers_a_known_pose(rot_deg):
    rng = np.random.default_rng(3)
    K = default_camera(1280, 720)
    body = to_body(standing_landmarks())
    axis = np.array([0.3, 1.0, 0.1]) / np.linalg.norm([0.3, 1.0, 0.1])
    a = np.radians(rot_deg)
    Kx = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    R = np.eye(3) + np.sin(a) * Kx + (1 - np.cos(a)) * Kx @ Kx
    t = np.array([0.4, -0.1, 4.0])
    pixels = project(body @ R.T + t, K)
    R2, t2 = place_in_camera(body, pixels, np.ones(len(body)), K)
    assert np.median(reprojection_error(body @ R2.T + t2, pixels, K)) < 0.05
    assert np.allclose(t2, t, atol=0.02)
    if rot_deg == 0:
        assert np.allclose(solve_translation(body, pixels, np.ones(len(body)), K), t, atol=1e-6)
    # noisy 2D: still close, never behind the camera
    R3, t3 = place_in_camera(body, pixels + rng.normal(0, 2.0, pixels.shape), np.ones(len(body)), K)
    assert abs(t3[2] - 4.0) < 0.3 and np.degrees(np.arccos((np.trace(R3) - 1) / 2)) <= MAX_ROTATION_DEG


def test_seen_child_depth_is_pulled_towards_the_clip_length():
    """The child's ray x = 0.1 z passes 0.1 m from a parent at (0, 0, 2) (metres)."""
    parent = np.array([[0.0, 0.0, 2.0]] * 3)
    ray = np.array([[0.1, 0.0, 1.0]] * 3)
    length = 0.3  # roots: |d ray - parent| = 0.3 at d = mid +- half
    mid = 2.0 / 1.01
    half = np.sqrt(mid**2 - (4.0 - length**2) / 1.01)
    prior = np.array([mid + 2 * half, mid - 2 * half, mid + 0.5 * half])  # far side, near side, unsure
    d = depth_at_length(parent, ray, length, prior)
    assert d[0] == pytest.approx(prior[0] - LENGTH_WEIGHT * half)  # towards the far root
    assert d[1] == pytest.approx(prior[1] + LENGTH_WEIGHT * half)  # towards the near root
    assert d[2] == pytest.approx(prior[2] + 0.5 * LENGTH_WEIGHT * 0.5 * half)  # half as sure
    kept = depth_at_length(parent[:1], ray[:1], 0.05, prior[:1])  # the ray never comes 0.05 m near
    assert kept == pytest.approx(prior[:1])


def test_square_crop_maps_back_to_the_frame():
    frame = np.zeros((300, 500, 3), np.uint8)
    frame[120, 410] = 255
    crop = SquareCrop.around((400, 100), 120, size=240)  # frame x 340..460, y 40..160, upsampled 2x
    img = crop.take(frame)
    assert img.shape == (240, 240, 3)
    y, x = np.unravel_index(img[..., 0].argmax(), img.shape[:2])
    back = crop.to_frame(np.array([(x + 0.5) / 240, (y + 0.5) / 240]))
    assert np.allclose(back, (410.5, 120.5), atol=1.0)
    edge = SquareCrop.around((10, 10), 100, size=100).take(frame)  # outside the frame: black
    assert edge[:40, :40].max() == 0


def test_sticky_window_holds_still_then_follows():
    w = StickyWindow(shift=0.1, resize=0.15)
    first = w.update(SquareCrop.around((100, 100), 200, size=200))
    assert w.update(SquareCrop.around((110, 105), 210, size=200)) is first  # small move: kept
    moved = w.update(SquareCrop.around((150, 100), 200, size=200))
    assert moved is not first and moved.x0 == 50
