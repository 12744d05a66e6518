"""DA_MOTION <-> .motion.npz through the real server: round trip and bad files."""

from __future__ import annotations

import os

import numpy as np
import pytest

from models.core.motion import FORMAT_VERSION, Motion
from scripts.harness.comfy_server import PromptError

pytestmark = pytest.mark.host


def _sample_motion(T=12) -> Motion:
    rng = np.random.default_rng(0)
    m = Motion.empty(T, (640, 360), 23.976, num_face=478)
    m.joints2d[:] = rng.uniform(0, 360, m.joints2d.shape)
    m.joints3d[:] = rng.normal(0, 0.3, m.joints3d.shape) + [0, 0, 3]
    m.conf[:] = rng.uniform(0, 1, m.conf.shape)
    m.valid[:] = True
    m.valid[3] = False
    m.head_radius[:] = 0.1
    return m.replace(filled=np.zeros(T, bool), info=np.asarray("synthetic"))


def _roundtrip(name):
    return {
        "1": {"class_type": "DreamActorLoadMotion", "inputs": {"file": name}},
        "2": {"class_type": "DreamActorSaveMotion", "inputs": {"motion": ["1", 0], "filename_prefix": "tests/motion"}},
    }


def test_motion_roundtrip_through_the_server(server):
    original = _sample_motion()
    original.save(os.path.join(server.input_dir(), "sample.motion.npz"))
    entry = server.run(_roundtrip("sample.motion.npz"))
    text = entry["outputs"]["2"]["text"][0]
    assert "12 frames" in text and "head sphere" in text
    back = Motion.load(server.saved_motion_path(entry, "2"))
    a, b = original.to_arrays(), back.to_arrays()
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_saved_motion_is_listed_for_loading(server):
    _sample_motion().save(os.path.join(server.input_dir(), "listed.motion.npz"))
    server.run(_roundtrip("listed.motion.npz"))
    spec = server.get("/object_info/DreamActorLoadMotion")["DreamActorLoadMotion"]["input"]["required"]["file"]
    options = spec[1]["options"]  # V3 combos: ["COMBO", {"options": [...]}]
    assert "listed.motion.npz" in options
    assert any(o.startswith("tests/motion") and o.endswith("[output]") for o in options)


def _write(name, arrays, server):
    np.savez(os.path.join(server.input_dir(), name), **arrays)
    return name


@pytest.mark.parametrize(
    "case,needle",
    [
        ("newer_version", "format version"),
        ("missing_keys", "lacks the keys"),
        ("not_npz", "cannot be read"),
        ("bad_shape", "has shape"),
    ],
)
def test_bad_motion_files(server, case, needle):
    arrays = _sample_motion().to_arrays()
    name = f"bad_{case}.motion.npz"
    if case == "newer_version":
        arrays["format_version"] = np.asarray(FORMAT_VERSION + 1)
        _write(name, arrays, server)
    elif case == "missing_keys":
        del arrays["joints3d"], arrays["camera"]
        _write(name, arrays, server)
    elif case == "bad_shape":
        arrays["conf"] = arrays["conf"][:, :5]
        _write(name, arrays, server)
    else:
        with open(os.path.join(server.input_dir(), name), "wb") as f:
            f.write(b"PK\x03\x04 broken zip")
    with pytest.raises(PromptError) as e:
        server.run(_roundtrip(name))
    text = str(e.value)
    assert "DreamActorLoadMotion" in text and "'file'" in text and needle in text and "Fix:" in text, text
