"""The shared retarget test vectors: the Python side.

tests/vectors/retarget_vectors.json is written from the Python implementation by
tests/vectors/make_retarget_vectors.py and read by the JS twin's test
(tests/js/retarget_geometry.test.mjs). Here: the file is well formed, matches the
current Python implementation (a stale file fails), and says what it claims.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from models.core.errors import DreamActorError
from models.core.motion import project
from models.core.skeleton import BODY
from models.retarget.bone_edits import PRESETS, SCALE_RANGE, parse_bone_edits
from models.retarget.kinematics import drag_along_bone, retarget_pose

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "vectors", "retarget_vectors.json")


@pytest.fixture(scope="module")
def vectors():
    with open(VECTORS) as f:
        return json.load(f)


def test_skeleton_and_presets_are_the_current_ones(vectors):
    assert vectors["joint_names"] == list(BODY.joint_names)
    assert vectors["parents"] == list(BODY.parents)
    assert vectors["presets"] == PRESETS
    assert vectors["scale_range"] == list(SCALE_RANGE)


def test_every_case_matches_the_python_retarget(vectors):
    base = np.asarray(vectors["base_lengths"])
    cameras = [np.asarray(c) for c in vectors["cameras"]]
    assert len(vectors["cases"]) >= 20 and {c["edits"] for c in vectors["cases"]} == set(range(len(vectors["edits"])))
    for case in vectors["cases"]:
        pose = vectors["poses"][case["pose"]]
        scales = parse_bone_edits(vectors["edits"][case["edits"]]).bone_scales(BODY)
        np.testing.assert_allclose(scales, case["scales"], atol=1e-12)
        root = None if pose["root"] is None else np.asarray(pose["root"])
        joints = retarget_pose(np.asarray(pose["driver"]), base * scales, BODY.parents, root)
        np.testing.assert_allclose(joints, case["joints"], atol=1e-9)
        np.testing.assert_allclose(project(joints, cameras[case["camera"]]), case["projected"], atol=1e-7)
        # and the vectors say what they claim: lengths are base x scale, directions the driver's
        got = np.linalg.norm(joints - joints[np.maximum(BODY.parents, 0)], axis=-1)[1:]
        driver = np.asarray(pose["driver"])
        drv = driver - driver[np.maximum(BODY.parents, 0)]
        seen = np.linalg.norm(drv, axis=-1)[1:] > 1e-9
        np.testing.assert_allclose(got[seen], (base * scales)[1:][seen], rtol=1e-9)
        if pose["name"] == "zero-length heel":  # the degenerate case really has a zero-length bone
            assert not seen[BODY["left_heel"] - 1]


def test_drags_match_and_cover_the_clamps(vectors):
    scales = []
    for d in vectors["drags"]:
        got = drag_along_bone(d["parent"], d["child"], np.asarray(d["camera"]), d["drag"], d["base_length"])
        assert got == pytest.approx(d["scale"], abs=1e-9)
        scales.append(got)
    lo, hi = SCALE_RANGE
    assert hi in scales and any(lo < s < hi for s in scales)


def test_errors_are_rejected_with_their_words(vectors):
    assert len(vectors["errors"]) >= 10
    for e in vectors["errors"]:
        with pytest.raises(DreamActorError) as info:
            parse_bone_edits(e["spec"])
        for w in e["words"]:
            assert w in str(info.value), (w, str(info.value))


def test_the_file_is_fresh(vectors):
    from tests.vectors import make_retarget_vectors as maker

    rebuilt = json.loads(json.dumps(maker.build()))
    assert rebuilt.keys() == vectors.keys()
    for key in ("joint_names", "parents", "presets", "edits", "errors", "scale_range"):
        assert rebuilt[key] == vectors[key], key
    for a, b in zip(rebuilt["cases"], vectors["cases"]):
        np.testing.assert_allclose(a["joints"], b["joints"], atol=1e-12)
    for a, b in zip(rebuilt["drags"], vectors["drags"]):
        assert a["scale"] == pytest.approx(b["scale"], abs=1e-12)
