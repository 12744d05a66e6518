"""models.core.motion: the DA_MOTION data model and the .motion.npz format."""

from __future__ import annotations

import numpy as np
import pytest

from models.core.errors import DreamActorError
from models.core.motion import FORMAT_VERSION, REQUIRED_KEYS, Motion, default_camera, project
from models.core.skeleton import BODY, HAND, SkeletonDef


def _motion(T=10):
    m = Motion.empty(T, (640, 480), 30.0, num_face=478)
    m.joints3d[:] = np.random.default_rng(1).normal(0, 0.3, m.joints3d.shape) + [0, 0, 3]
    m.joints2d[:] = project(m.joints3d, m.camera)
    m.valid[:] = True
    return m


def test_skeleton_is_a_tree_in_fk_order():
    assert BODY.num_joints == 29 and BODY.joint_names[0] == "pelvis"
    assert BODY.joint_names[:22][-1] == "right_wrist"
    for p, c in BODY.bones:
        assert p < c
    assert BODY.mirror("left_elbow") == "right_elbow" and BODY.mirror("neck") is None
    assert HAND.num_joints == 21 and HAND.parents[4] == 3
    with pytest.raises(ValueError):
        SkeletonDef("bad", ("a", "b"), (-1, 2))


def test_npz_roundtrip_keeps_every_key(tmp_path):
    m = _motion().replace(filled=np.zeros(10, bool), note=np.asarray("extra keys survive"))
    p = str(tmp_path / "a.motion.npz")
    m.save(p)
    back = Motion.load(p)
    assert back.skeleton is BODY
    assert str(back.get("note")) == "extra keys survive"
    with np.load(p) as z:
        assert set(REQUIRED_KEYS) <= set(z.files)
        assert int(z["format_version"]) == FORMAT_VERSION
        assert z["joints2d"].shape == (10, 29, 2) and z["hands2d"].shape == (10, 2, 21, 2)
    np.testing.assert_array_equal(back.joints3d, m.joints3d)


def test_slice_divides_fps_and_slices_optional_keys():
    m = _motion(10).replace(filled=np.arange(10) % 2 == 0)
    s = m.slice(2, 10, 2)
    assert s.num_frames == 4 and s.fps == 15.0
    np.testing.assert_array_equal(s.joints2d, m.joints2d[2:10:2])
    assert s.get("filled").tolist() == [True] * 4
    with pytest.raises(DreamActorError):
        m.slice(5, 20)


def test_replace_never_mutates():
    m = _motion()
    r = m.replace(fps=12.0, filled=np.ones(10, bool))
    assert m.fps == 30.0 and "filled" not in m.optional and r.get("filled").all()


def test_validate_catches_bad_values():
    m = _motion()
    m.conf[0, 0] = 1.5
    with pytest.raises(DreamActorError, match="outside"):
        m.validate()
    m = _motion()
    m.joints3d[1, 1, 1] = np.nan
    with pytest.raises(DreamActorError, match="NaN"):
        m.validate()
    with pytest.raises(DreamActorError, match="shape"):
        _motion().replace(filled=np.zeros(3, bool)).validate()


def test_projection_matches_intrinsics():
    K = default_camera(640, 480)
    p = project(np.array([[0.0, 0.0, 2.0], [0.1, -0.2, 1.0]]), K)
    assert np.allclose(p[0], [320, 240])
    assert np.allclose(p[1], [320 + K[0, 0] * 0.1, 240 - K[1, 1] * 0.2])
