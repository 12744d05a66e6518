"""A reference posed by hand (models/retarget/reference_pose.py), on the real astronaut photo
extracted by Skeleton Extract + Head Sphere Fit and the real sports2d clip: placed joints land
exactly where placed in 2D, on their camera rays in 3D at the reference's bone lengths (or
as long as an out-of-reach placement demands), children ride along, the head sphere follows,
and the retarget uses the placement."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from models.core.errors import DreamActorError
from models.core.motion import project
from models.core.skeleton import BODY
from models.extract.camera import pixel_rays
from models.retarget.bone_edits import BoneEdits, parse_bone_edits
from models.retarget.preview import PreviewRequestError
from models.retarget.preview_inputs import load_inputs, parse_repose_request, save_inputs
from models.retarget.reference_pose import frame_of, pose_reference
from models.retarget.transfer import retarget_details
from tests.unit import alignment_measure as am

PAR = np.asarray(BODY.parents)
IX = BODY.index


@pytest.fixture(scope="module")
def astronaut():
    return am.photo_motion("astronaut.png")


def _xy(m, name):
    return m.joints2d[0, IX[name]].astype(np.float64)


def _length(joints, name):
    j = IX[name]
    return float(np.linalg.norm(joints[j].astype(np.float64) - joints[PAR[j]]))


def _placements(m):
    """Reachable moves of the elbow (the upper arm swung up, shorter on screen) and the head
    (tilted 20 degrees about the neck), an out-of-reach wrist (dragged far past the forearm)
    and, with ``pelvis``, the whole body shifted first."""
    elbow, shoulder = _xy(m, "left_elbow"), _xy(m, "left_shoulder")
    neck, head = _xy(m, "neck"), _xy(m, "head")
    a = np.radians(20.0)
    tilt = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ (head - neck)
    return {
        "left_elbow": (shoulder + 0.8 * np.array([elbow[1] - shoulder[1], -(elbow[0] - shoulder[0])])).tolist(),
        "right_wrist": (_xy(m, "right_wrist") + [0.0, 260.0]).tolist(),
        "head": (neck + tilt).tolist(),
    }


def _with_pelvis(m):
    return {**_placements(m), "pelvis": (_xy(m, "pelvis") + [-20.0, 10.0]).tolist()}


def test_placed_joints_land_exactly_and_lie_on_their_rays(astronaut):
    m = astronaut
    placed = _placements(m)
    p = pose_reference(m, BoneEdits(reference_joints={k: tuple(v) for k, v in placed.items()}))
    assert frame_of(m) == 0
    K = m.camera
    for name, xy in placed.items():
        j = IX[name]
        assert p.joints2d[0, j].tolist() == pytest.approx(xy, abs=1e-3), name  # exactly (float32 storage)
        np.testing.assert_allclose(project(p.joints3d[0, j].astype(np.float64), K), xy, atol=1e-3, err_msg=name)
        assert p.conf[0, j] >= 1.0
    # the lift: a reachable joint keeps the reference's bone length; the root keeps its depth
    root = pose_reference(m, {"pelvis": tuple(_with_pelvis(m)["pelvis"])})
    assert root.joints3d[0, 0, 2] == pytest.approx(m.joints3d[0, 0, 2], abs=1e-6)
    assert root.joints2d[0, 0].tolist() == pytest.approx(_with_pelvis(m)["pelvis"], abs=1e-3)
    for name in ("left_elbow", "head"):
        assert _length(p.joints3d[0], name) == pytest.approx(_length(m.joints3d[0], name), rel=1e-5), name
    # out of reach: the bone grows to the ray's closest point from the elbow, no longer
    j = IX["right_wrist"]
    parent = p.joints3d[0, PAR[j]].astype(np.float64)
    ray = pixel_rays(np.asarray(placed["right_wrist"]), K)
    closest = ray * (ray @ parent) / (ray @ ray)
    np.testing.assert_allclose(p.joints3d[0, j], closest, atol=1e-5)
    assert _length(p.joints3d[0], "right_wrist") > 1.5 * _length(m.joints3d[0], "right_wrist")


def test_unplaced_joints_ride_with_their_parents_and_the_head_sphere_follows(astronaut):
    m = astronaut
    placed = _with_pelvis(m)
    p = pose_reference(m, {k: tuple(v) for k, v in placed.items()})
    old, new = m.joints3d[0].astype(np.float64), p.joints3d[0].astype(np.float64)
    for name in ("left_wrist", "nose", "left_eye", "spine1", "left_knee"):  # children of moved joints
        j = IX[name]
        np.testing.assert_allclose(new[j] - new[PAR[j]], old[j] - old[PAR[j]], atol=1e-5, err_msg=name)
        np.testing.assert_allclose(p.joints2d[0, j], project(new[j], m.camera), atol=1e-3, err_msg=name)
    every = [n for n in BODY.joint_names if n != "pelvis"]
    for name in every:  # every bone but the out-of-reach forearm (and maybe the head) keeps its length
        if name not in ("right_wrist", "head"):
            assert _length(new, name) == pytest.approx(_length(old, name), rel=1e-4), name
    head = IX["head"]
    np.testing.assert_allclose(p.head_center[0] - m.head_center[0], new[head] - old[head], atol=1e-5)
    assert p.head_radius[0] == m.head_radius[0]
    # nothing placed: the same motion back; older JSON without the key places nothing
    assert pose_reference(m, None) is m and pose_reference(m, parse_bone_edits('{"preset": "heroic"}')) is m


def test_a_self_retarget_of_the_posed_reference_reproduces_the_placed_2d(astronaut):
    placed = _with_pelvis(astronaut)
    p = pose_reference(astronaut, {k: tuple(v) for k, v in placed.items()})
    out = retarget_details(p, p).motion
    for name, xy in placed.items():
        np.testing.assert_allclose(out.joints2d[0, IX[name]], xy, atol=0.05, err_msg=name)
    seen = p.conf[0] >= 0.5
    err = np.linalg.norm(out.joints2d[0] - p.joints2d[0], axis=-1)[seen]
    assert err.max() < 0.05, err.max()


def test_the_retarget_follows_a_placed_head(astronaut):
    """The sports2d jumper onto the astronaut portrait (framed on the head): the head placed
    40 px to the right puts the output's head 40 px to the right on the first frame. Eased in
    (the default), that first frame is the picture's pose: the head is turned there and the
    shoulders stay on the picture's; without the ease the whole guide moves with the head."""
    driving = am.clip_motion("demo.mp4", 0, 30)
    h = _xy(astronaut, "head")
    spec = json.dumps({"reference_joints": {"head": [h[0] + 40.0, h[1]]}})
    shoulders = [IX["left_shoulder"], IX["right_shoulder"]]
    for ease in (0.5, 0.0):
        plain = retarget_details(driving, astronaut, ease_in=ease).motion
        posed = retarget_details(driving, astronaut, spec, ease_in=ease)
        shift = posed.motion.joints2d[:, IX["head"]] - plain.joints2d[:, IX["head"]]
        np.testing.assert_allclose(shift[0], [40.0, 0.0], atol=0.05)
        torso = np.abs(posed.motion.joints2d[0, shoulders] - plain.joints2d[0, shoulders]).max()
        if ease:
            assert torso < 8.0, torso  # near the picture's shoulders: the head turned (measured 5.5 px: the
            # placed head's depth changes the framing's scale a little)
        else:
            assert torso > 30.0 and np.all(np.abs(shift[:, 0] - 40.0) < 5.0)  # the framing holds, the body turns
    assert "reference posed by hand: head placed" in posed.info
    assert posed.reference.joints2d[0, IX["head"]].tolist() == pytest.approx([h[0] + 40.0, h[1]], abs=1e-3)


def test_the_spec_keeps_old_json_and_checks_placements():
    old = '{"link_lr": true, "preset": "chibi", "scales": {"head": 1.4}, "version": 1}'
    e = parse_bone_edits(old)
    assert e.reference_joints == {} and e.to_json() == old  # byte-identical round trip
    new = parse_bone_edits({"preset": "chibi", "reference_joints": {"left_wrist": [212.5, 140]}})
    assert new.reference_joints == {"left_wrist": (212.5, 140.0)}
    assert json.loads(new.to_json())["reference_joints"] == {"left_wrist": [212.5, 140.0]}
    for bad, words in (
        ({"reference_joints": {"left_wirst": [1, 2]}}, ["unknown joint 'left_wirst'", "left_wrist"]),
        ({"reference_joints": {"head": [1]}}, ["'head'", "[x, y]"]),
        ({"reference_joints": {"head": [1, float("nan")]}}, ["'head'", "[x, y]"]),
        ({"reference_joints": {"head": [1, True]}}, ["'head'"]),
        ({"reference_joints": {"head": [1, 1e9]}}, ["'head'"]),
        ({"reference_joints": [[1, 2]]}, ["reference_joints must be an object"]),
    ):
        with pytest.raises(DreamActorError) as err:
            parse_bone_edits(bad)
        for w in words:
            assert w in str(err.value), (bad, str(err.value))


def test_stored_inputs_round_trip_and_repose_requests_are_checked(astronaut, tmp_path):
    run = "retarget_7_0123456789ab"
    settings = {
        "framing": "match reference",
        "manual": [1.0, 0.0, 0.0],
        "plant": True,
        "body_model": None,
        "image": None,
    }
    save_inputs(str(tmp_path), run, astronaut, astronaut, settings)
    d, r, s = load_inputs(str(tmp_path), run)
    assert s == settings and d.num_frames == 1
    np.testing.assert_array_equal(r.joints3d, astronaut.joints3d)
    np.testing.assert_array_equal(r.head_center, astronaut.head_center)
    with pytest.raises(PreviewRequestError) as err:
        load_inputs(str(tmp_path), "retarget_7_ffffffffffff")
    assert err.value.status == 404
    name, edits = parse_repose_request({"name": run, "bone_edits": '{"reference_joints": {"head": [3, 4]}}'})
    assert name == run and edits.reference_joints == {"head": (3.0, 4.0)}
    for bad in (
        [],
        {"name": run},
        {"name": "../x", "bone_edits": "{}"},
        {"name": run, "bone_edits": "{}", "frame": 1},
        {"name": run, "bone_edits": '{"reference_joints": {"hed": [1, 2]}}'},
    ):
        with pytest.raises(PreviewRequestError) as err:
            parse_repose_request(bad)
        assert err.value.status == 400
    assert os.listdir(tmp_path / "dreamactor_retarget") == [run + ".inputs.npz"]
