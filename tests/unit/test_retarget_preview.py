"""The bone editor's preview (models/retarget/preview.py): what it holds, the request checks,
the folder it lives in, and the shared vectors the JS prediction is tested against."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from models.retarget.bone_edits import parse_bone_edits
from models.retarget.preview import (
    KEEP_PREVIEWS,
    MAX_FRAMES_PER_REQUEST,
    PreviewRequestError,
    PreviewStore,
    build_preview,
    check_name,
    framed_joints2d,
    new_preview_name,
    parse_request,
    preview_folder,
    save_preview,
)
from models.retarget.transfer import retarget_details

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "vectors", "bone_editor_vectors.json")


@pytest.fixture(scope="module")
def maker():
    from tests.vectors import make_bone_editor_vectors

    return make_bone_editor_vectors


@pytest.fixture(scope="module")
def walk(maker):
    return maker.driver(), maker.reference(False)


def _preview(walk, edits="{}", framing="match reference", manual=(1.0, 0.0, 0.0)):
    drv, ref = walk
    e = parse_bone_edits(edits)
    res = retarget_details(drv, ref, e, framing, manual)
    return res, build_preview(res, drv, ref, e, framing, manual)


def test_the_preview_reproduces_the_nodes_output(walk):
    res, arrays = _preview(walk, '{"preset": "heroic", "scales": {"left_wrist": 1.3}}', "manual", (0.9, 0.1, 0.0))
    meta = json.loads(str(arrays["meta"]))
    m = res.motion
    v = m.valid
    np.testing.assert_allclose(framed_joints2d(arrays["pose3d"][v].astype(np.float64), meta), m.joints2d[v], atol=1e-3)
    assert meta["edits"] == {"version": 1, "preset": "heroic", "scales": {"left_wrist": 1.3}, "link_lr": True}
    assert meta["framing"]["mode"] == "manual" and meta["framing"]["manual"] == [0.9, 0.1, 0.0]
    assert meta["image_size"] == list(m.image_size) and meta["num_frames"] == m.num_frames
    np.testing.assert_allclose(meta["target_lengths"], res.target_lengths)
    assert not arrays["valid"][17] and arrays["root_lever"][17].tolist() == [0.0, 0.0, 0.0]
    x0, y0, x1, y1 = meta["bounds"]
    assert x0 <= m.joints2d[v, :, 0].min() and y1 >= m.joints2d[v, :, 1].max()


@pytest.mark.parametrize("plant", [False, True], ids=["about the middle", "about the floor under the contacts"])
def test_root_lever_is_the_servers_root_path(walk, plant):
    """Two leg ratios: the server's roots differ by (r1 - r0) x lever, up to the pelvis lowering of planting."""
    from models.retarget.lengths import leg_length as _leg_length

    drv, ref = walk
    # no ease: over the ease the root also keeps the eased feet on the floor, which the lever leaves out
    a = retarget_details(drv, ref, "{}", plant=plant, ease_in=0.0)
    b = retarget_details(drv, ref, '{"scales": {"left_knee": 1.4}}', plant=plant, ease_in=0.0)
    assert a.contacts.any() == plant
    lever = build_preview(a, drv, ref, parse_bone_edits("{}"), "match reference")["root_lever"]
    ratio = lambda r: _leg_length(r.target_lengths, drv.skeleton) / _leg_length(r.driver_lengths, drv.skeleton)  # noqa: E731
    dr = ratio(b) - ratio(a)
    v = drv.valid
    assert abs(dr) > 0.05
    lowered = (a.plant.lowered_cm + b.plant.lowered_cm) / 100
    err = np.linalg.norm(b.motion.joints3d[v, 0] - (a.motion.joints3d[v, 0] + dr * lever[v]), axis=-1)
    assert err.max() <= lowered + 1e-5, (err.max(), lowered)
    # without the lever (the root path left as it was) the error is far larger
    naive = np.linalg.norm(b.motion.joints3d[v, 0] - a.motion.joints3d[v, 0], axis=-1).max()
    assert naive > 0.05 and naive > 5 * err.max(), (naive, err.max())


@pytest.mark.parametrize(
    "params, words",
    [
        ({}, "'name' is missing"),
        ({"name": "../etc/passwd"}, "not a preview name"),
        ({"name": "retarget_1_0123456789ab.npz"}, "not a preview name"),
        ({"name": "retarget_1_0123456789AB"}, "not a preview name"),
        ({"name": ["retarget_1_0123456789ab"]}, "not a preview name"),
        ({"name": "retarget_1_0123456789ab", "frame": "x"}, "'frame' must be an integer"),
        ({"name": "retarget_1_0123456789ab", "frame": 1.5}, "'frame' must be an integer"),
        ({"name": "retarget_1_0123456789ab", "frame": True}, "'frame' must be an integer"),
        ({"name": "retarget_1_0123456789ab", "frame": -3}, "negative"),
        ({"name": "retarget_1_0123456789ab", "count": MAX_FRAMES_PER_REQUEST + 1}, "outside [1, 240]"),
        ({"name": "retarget_1_0123456789ab", "extra": 1}, "unknown parameter(s) ['extra']"),
    ],
)
def test_bad_requests_are_rejected(params, words):
    with pytest.raises(PreviewRequestError) as e:
        parse_request(params)
    assert words in str(e.value) and e.value.status == 400


def test_good_requests_and_names():
    assert parse_request({"name": "retarget_12_0123456789ab"}) == ("retarget_12_0123456789ab", 0, 1)
    assert parse_request({"name": "retarget_5-3_0123456789ab", "frame": "7", "count": "30"})[1:] == (7, 30)
    name = new_preview_name("5:3")
    assert check_name(name) == name and name.startswith("retarget_5-3_")
    assert check_name(new_preview_name(None)).startswith("retarget_node_")
    assert new_preview_name(1) != new_preview_name(1)
    assert check_name(new_preview_name("../../" + "x" * 100))


def test_store_reads_by_name_prunes_and_answers_404(walk, tmp_path):
    _, arrays = _preview(walk)
    names = [f"retarget_1_{i:012x}" for i in range(KEEP_PREVIEWS + 3)]
    for i, name in enumerate(names):
        path = save_preview(arrays, str(tmp_path), name)
        open(path[:-4] + ".png", "wb").close()
        os.utime(path, (time.time() - 1000 + i, time.time() - 1000 + i))
    save_preview(arrays, str(tmp_path), names[-1])  # pruning runs on every save
    left = sorted(os.listdir(preview_folder(str(tmp_path))))
    assert len([f for f in left if f.endswith(".npz")]) == KEEP_PREVIEWS
    assert names[0] + ".npz" not in left and names[0] + ".png" not in left and names[-1] + ".png" in left
    store = PreviewStore(lambda: str(tmp_path))
    got = store.answer({"name": names[-1], "frame": "16", "count": "3"})
    assert [f["index"] for f in got["frames"]] == [16, 17, 18] and got["frames"][1]["valid"] is False
    assert got["frames"][0]["pose3d"] == arrays["pose3d"][16].astype(np.float64).tolist()
    assert store.load(names[-1]) is store.load(names[-1])  # cached while the file is unchanged
    with pytest.raises(PreviewRequestError) as e:
        store.answer({"name": names[0]})
    assert e.value.status == 404
    with pytest.raises(PreviewRequestError) as e:
        store.answer({"name": names[-1], "frame": 30})
    assert e.value.status == 400 and "last frame 29" in str(e.value)


def test_the_vector_file_is_fresh(maker):
    with open(VECTORS) as f:
        stored = json.load(f)
    rebuilt = json.loads(json.dumps(maker.build()))
    assert len(rebuilt["previews"]) == len(stored["previews"])
    for a, b in zip(rebuilt["previews"], stored["previews"]):
        pa, pb = a["preview"], b["preview"]
        for key in ("joint_names", "parents", "edits", "framing", "image_size", "driver_size", "face_bones"):
            assert pa[key] == pb[key], key
        for key in ("leg_ratio", "target_lengths", "driver_lengths", "camera", "camera_driver", "bounds"):
            np.testing.assert_allclose(pa[key], pb[key], atol=1e-9, err_msg=key)
        for fa, fb in zip(pa["frames"], pb["frames"]):
            assert fa["valid"] == fb["valid"]
            if fa["valid"]:
                np.testing.assert_allclose(fa["pose3d"], fb["pose3d"], atol=1e-7)
                np.testing.assert_allclose(fa["root_lever"], fb["root_lever"], atol=1e-7)
        for ca, cb in zip(a["cases"], b["cases"]):
            assert ca["edits"] == cb["edits"] and ca["exact"] == cb["exact"] and ca["valid"] == cb["valid"]
            np.testing.assert_allclose(ca["joints2d"], cb["joints2d"], atol=1e-3)
