"""DreamActorBoneRetarget's body_model on a real server: a generated SMPL-X file (real
format, read by the real smplx package) in the server's models/smplx is listed, fitted
to the reference and sets its hidden legs; a broken file is a clear error."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

from models.core.motion import Motion
from models.core.skeleton import BODY
from models.retarget.smplx_body import SmplxBody
from scripts.harness.comfy_server import PromptError
from tests.unit import smplx_fixtures as fx
from tests.unit.motion_fixtures import person_motion

pytestmark = pytest.mark.host

NODE = "DreamActorBoneRetarget"
GOOD, BROKEN = "dreamactor_test_SMPLX_NEUTRAL.npz", "dreamactor_test_SMPLX_BROKEN.npz"
LEGS = ("left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot", "right_foot")
IDX = BODY.index


@pytest.fixture(scope="module")
def smplx_setup(server):
    """The two model files in the server's models/smplx (removed afterwards), a standing driver
    and a reference whose legs are hidden, as .motion.npz in input/."""
    folder = os.path.join(server.base, "models", "smplx")
    os.makedirs(folder, exist_ok=True)
    good = fx.write_npz(os.path.join(folder, GOOD))
    with open(os.path.join(folder, BROKEN), "w") as f:
        f.write("this is not an SMPL-X model\n")
    person_motion(num_frames=4, image_size=(640, 480)).save(os.path.join(server.input_dir(), "smplx_driver.motion.npz"))
    ref = person_motion(num_frames=1, image_size=(512, 512), arms="a")
    ref.conf[:, [IDX[n] for n in (*LEGS, "left_heel", "right_heel")]] = 0.0  # a portrait: no legs
    ref_path = os.path.join(server.input_dir(), "smplx_reference.motion.npz")
    ref.save(ref_path)
    yield good, Motion.load(ref_path)
    for name in (GOOD, BROKEN):
        os.remove(os.path.join(folder, name))


def _prompt(body_model: str | None, prefix: str) -> dict:
    inputs = {
        "driving": ["d", 0],
        "reference": ["r", 0],
        "framing": "match reference",
        "scale": 1.0,
        "dx": 0.0,
        "dy": 0.0,
        "plant_feet": True,
        "bone_edits": '{"version": 1, "preset": "match reference", "scales": {}, "link_lr": true}',
    }
    if body_model is not None:
        inputs["body_model"] = body_model
    return {
        "d": {"class_type": "DreamActorLoadMotion", "inputs": {"file": "smplx_driver.motion.npz"}},
        "r": {"class_type": "DreamActorLoadMotion", "inputs": {"file": "smplx_reference.motion.npz"}},
        "rt": {"class_type": NODE, "inputs": inputs},
        "keep": {"class_type": "DreamActorSaveMotion", "inputs": {"motion": ["rt", 0], "filename_prefix": prefix}},
    }


def _run(server, prompt) -> tuple[str, Motion]:
    out = server.run(prompt)["outputs"]
    rel = re.search(r"saved (.+?) \[output\]", out["keep"]["text"][0]).group(1)
    return out["rt"]["text"][0], Motion.load(os.path.join(server.output_dir(), rel))


def _leg_lengths(m: Motion) -> np.ndarray:
    par = np.asarray(BODY.parents)
    j = [IDX[n] for n in LEGS]
    v = m.valid
    return np.linalg.norm(m.joints3d[v][:, j].astype(np.float64) - m.joints3d[v][:, par[j]], axis=-1)


def test_the_smplx_folder_is_listed_in_the_body_model_combo(server, smplx_setup):
    spec = server.get(f"/object_info/{NODE}")[NODE]["input"]["optional"]["body_model"]
    options = spec[1]["options"] if spec[0] == "COMBO" else spec[0]
    assert options[0] == "none (priors)" and spec[1]["default"] == "none (priors)", spec
    assert GOOD in options and BROKEN in options, options
    assert spec[1].get("tooltip"), spec


def test_a_body_model_sets_the_hidden_legs(server, smplx_setup):
    path, reference = smplx_setup
    text, fitted = _run(server, _prompt(GOOD, "tests/retarget_smplx"))
    plain_text, plain = _run(server, _prompt(None, "tests/retarget_smplx_none"))  # old prompts: no body_model
    assert f"reference lengths from the SMPL-X fit of {GOOD}" in text, text
    assert "SMPL-X" not in plain_text and "anthropometric prior" in plain_text, plain_text
    # the server's legs are the fit's (computed here, in-process, from the same file)
    body = SmplxBody(path)
    L = body.bone_lengths(reference)
    expected = np.array([L[IDX[n]] for n in LEGS])
    got = _leg_lengths(fitted)
    np.testing.assert_allclose(got, np.broadcast_to(expected, got.shape), rtol=1e-4)
    assert np.abs(_leg_lengths(plain)[0] / expected - 1).max() > 0.03  # the priors give other legs
    # everything the reference shows is as before
    for name in ("left_elbow", "left_wrist", "spine2", "neck", "head"):
        j, p = IDX[name], BODY.parents[IDX[name]]
        a = np.linalg.norm(fitted.joints3d[:, j] - fitted.joints3d[:, p], axis=-1)
        b = np.linalg.norm(plain.joints3d[:, j] - plain.joints3d[:, p], axis=-1)
        np.testing.assert_allclose(a, b, rtol=1e-4, err_msg=name)


def test_a_broken_model_file_is_a_clear_error(server, smplx_setup):
    with pytest.raises(PromptError) as e:
        server.run(_prompt(BROKEN, "tests/retarget_smplx_broken"))
    text = str(e.value)
    assert f"[{NODE}, input 'body_model']" in text and BROKEN in text, text
    assert "Fix:" in text and "https://smpl-x.is.tue.mpg.de" in text, text


def test_a_missing_model_file_is_refused_before_running(server, smplx_setup):
    with pytest.raises(PromptError) as e:
        server.run(_prompt("SMPLX_NOT_THERE.npz", "tests/retarget_smplx_missing"))
    assert "body_model" in str(e.value) + str(e.value.details), e.value
