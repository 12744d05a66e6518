"""DreamActorBoneRetarget on a real server: real extractions in, guides in both styles out,
bone edits reaching the saved motion, clear errors, and the editor's preview route."""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request

import av
import numpy as np
import pytest

from models.core.motion import Motion
from models.core.skeleton import BODY
from scripts.harness.comfy_server import PromptError
from tests.unit.motion_fixtures import person_motion

pytestmark = pytest.mark.host

EXTRACT = {"person": 0, "hands": True, "face": True, "smooth": True, "min_cutoff": 1.0, "beta": 1.0, "fill_gaps": 8}
FRAMES = 30
FOREARM = "left_wrist"  # the bone elbow -> wrist is named after its child joint
ROUTE = "/dreamactor/retarget_preview"


def retarget_inputs(driving, reference, edits=None, **kw):
    inputs = {
        "driving": driving,
        "reference": reference,
        "framing": "match reference",
        "scale": 1.0,
        "dx": 0.0,
        "dy": 0.0,
        "plant_feet": True,
    }
    if edits is not None:
        inputs["bone_edits"] = json.dumps(edits)
    else:
        inputs["bone_edits"] = json.dumps({"version": 1, "preset": "match reference", "scales": {}, "link_lr": True})
    inputs.update(kw)
    return {"class_type": "DreamActorBoneRetarget", "inputs": inputs}


def _save_motion(src, prefix):
    return {"class_type": "DreamActorSaveMotion", "inputs": {"motion": src, "filename_prefix": prefix}}


def _saved_path(server, text: str) -> str:
    rel = re.search(r"saved (.+?) \[output\]", text).group(1)
    return os.path.join(server.output_dir(), rel)


@pytest.fixture(scope="module")
def chain(server, put_media, media):
    """demo.mp4 frames 0-29 drive astronaut.png: unedited and with a longer forearm, guides in both styles."""
    clip = put_media("demo.mp4")
    photo = server.put_input(media("astronaut.png"))
    prompt = {
        "load": {
            "class_type": "DreamActorLoadVideo",
            "inputs": {"video": clip, "start_frame": 0, "frame_count": FRAMES, "every_nth": 1, "fps": 0.0},
        },
        "skel_d": {"class_type": "DreamActorSkeletonExtract", "inputs": {"video": ["load", 0], **EXTRACT}},
        "head_d": {
            "class_type": "DreamActorHeadSphereFit",
            "inputs": {"motion": ["skel_d", 0], "smoothing": 1.5, "max_hold": 12},
        },
        "img": {"class_type": "LoadImage", "inputs": {"image": photo}},
        "skel_r": {"class_type": "DreamActorSkeletonExtract", "inputs": {"image": ["img", 0], **EXTRACT}},
        "head_r": {
            "class_type": "DreamActorHeadSphereFit",
            "inputs": {"motion": ["skel_r", 0], "smoothing": 1.5, "max_hold": 12},
        },
        "rt": retarget_inputs(["head_d", 0], ["head_r", 0], reference_image=["img", 0]),
        "rt_arm": retarget_inputs(
            ["head_d", 0],
            ["head_r", 0],
            {"version": 1, "preset": "match reference", "scales": {FOREARM: 1.5}, "link_lr": True},
        ),
        "keep": _save_motion(["rt", 0], "tests/retarget"),
        "keep_arm": _save_motion(["rt_arm", 0], "tests/retarget_arm"),
        "rt_now": retarget_inputs(["head_d", 0], ["head_r", 0], ease_in=0.0),
        "keep_now": _save_motion(["rt_now", 0], "tests/retarget_now"),
        "keep_ref": _save_motion(["head_r", 0], "tests/retarget_ref"),
    }
    for style in ("dreamactor", "wan-animate"):
        prompt[f"g_{style}"] = {
            "class_type": "DreamActorRenderGuide",
            "inputs": {
                "motion": ["rt", 0],
                "style": style,
                "width": 256,
                "height": 256,
                "fit": "contain",
                "start_frame": 0,
                "frame_count": 0,
                "background_dim": 0.5,
            },
        }
        prompt[f"s_{style}"] = {
            "class_type": "DreamActorSaveVideo",
            "inputs": {
                "video": [f"g_{style}", 1],
                "fps": 30.0,
                "filename_prefix": f"tests/retarget_{style}",
                "crf": 18,
            },
        }
    entry = server.run(prompt, timeout=600)
    out = entry["outputs"]
    motions = {
        k: Motion.load(_saved_path(server, out[k]["text"][0])) for k in ("keep", "keep_arm", "keep_ref", "keep_now")
    }
    return out, motions


def test_real_retarget_reaches_the_guides_in_both_styles(server, chain):
    out, motions = chain
    text = out["rt"]["text"][0]
    assert f"{FRAMES} frames" in text and "preset 'match reference'" in text, text
    assert "portrait reference: head anchored" in text, text  # astronaut.png shows no legs
    m, ref = motions["keep"], motions["keep_ref"]
    assert m.num_frames == FRAMES and m.valid.sum() >= FRAMES - 2
    assert m.image_size == ref.image_size == (512, 512)
    for style in ("dreamactor", "wan-animate"):
        assert f"{FRAMES} guide frames" in out[f"g_{style}"]["text"][0]
        with av.open(server.output_path(out[f"s_{style}"]["images"][0])) as c:
            frames = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])
        assert frames.shape == (FRAMES, 256, 256, 3), (style, frames.shape)
        lit = frames.reshape(FRAMES, -1).max(1) > 64
        assert lit[m.valid].all(), f"{style}: a frame with a person drew nothing"


def test_a_bone_edit_changes_that_bone_in_the_saved_motion(chain):
    _, motions = chain
    a, b = motions["keep"], motions["keep_arm"]
    v = a.valid & b.valid
    par = np.asarray(BODY.parents)

    def length(m, name):
        j = BODY[name]
        return np.linalg.norm(m.joints3d[v, j].astype(np.float64) - m.joints3d[v, par[j]], axis=-1)

    for bone in (FOREARM, "right_wrist"):  # link_lr: the mirror follows
        ratio = length(b, bone) / length(a, bone)
        np.testing.assert_allclose(ratio, 1.5, rtol=1e-4, err_msg=bone)
    for bone in ("left_elbow", "right_elbow", "spine3", "neck", "head", "left_knee"):
        np.testing.assert_allclose(length(b, bone), length(a, bone), rtol=1e-4, err_msg=bone)
    # visible in the picture too: the wrists moved, the shoulders did not
    j2a, j2b = a.joints2d[v], b.joints2d[v]
    assert np.abs(j2a[:, BODY["left_shoulder"]] - j2b[:, BODY["left_shoulder"]]).max() < 1e-3
    assert np.linalg.norm(j2a[:, BODY[FOREARM]] - j2b[:, BODY[FOREARM]], axis=-1).max() > 3.0


def test_the_guide_eases_in_from_the_pictures_pose(chain):
    """ease_in (default 0.5 s): the first frame is the astronaut's pose, nearer her picture's joints
    than the jumper's pose (ease_in 0); from 0.5 s on the two are the same body."""
    out, motions = chain
    eased, now, ref = motions["keep"], motions["keep_now"], motions["keep_ref"]
    assert "eased in from the reference's pose over 15 frames (0.50 s)" in out["rt"]["text"][0]
    assert "eased" not in out["rt_now"]["text"][0]
    seen = ref.conf[0] > 0.5
    t0 = int(np.flatnonzero(eased.valid)[0])
    off = [np.median(np.linalg.norm(m.joints2d[t0, seen] - ref.joints2d[0, seen], axis=-1)) for m in (eased, now)]
    assert off[0] < 0.6 * off[1], off
    later = np.flatnonzero(eased.valid & (np.arange(FRAMES) >= t0 + 15))
    np.testing.assert_allclose(eased.joints3d[later], now.joints3d[later], atol=1e-4)


# --------------------------------------------------------------------------- errors
@pytest.fixture(scope="module")
def small_motions(server):
    """A short standing motion and a reference with nobody in it, as .motion.npz in input/."""
    person_motion(num_frames=4, image_size=(640, 480)).save(os.path.join(server.input_dir(), "rt_standing.motion.npz"))
    nobody = person_motion(num_frames=1, image_size=(512, 512))
    nobody.valid[:] = False
    nobody.conf[:] = 0.0
    nobody.save(os.path.join(server.input_dir(), "rt_nobody.motion.npz"))
    return "rt_standing.motion.npz", "rt_nobody.motion.npz"


def _small_prompt(driving_file, reference_file, edits=None, **kw):
    return {
        "d": {"class_type": "DreamActorLoadMotion", "inputs": {"file": driving_file}},
        "r": {"class_type": "DreamActorLoadMotion", "inputs": {"file": reference_file}},
        "rt": retarget_inputs(["d", 0], ["r", 0], edits, **kw),
        "keep": _save_motion(["rt", 0], "tests/retarget_small"),
    }


def _error_text(e: PromptError) -> str:
    return str(e) + json.dumps(e.details)


def test_reference_photo_with_nobody_is_a_clear_error(server, media, small_motions):
    from PIL import Image

    from models.io.video import FileVideo

    frame = FileVideo(media("no_face.mp4"), start=40, count=1).frame(0)
    Image.fromarray(frame).save(os.path.join(server.input_dir(), "rt_nobody.png"))
    prompt = {
        "d": {"class_type": "DreamActorLoadMotion", "inputs": {"file": small_motions[0]}},
        "img": {"class_type": "LoadImage", "inputs": {"image": "rt_nobody.png"}},
        "skel": {"class_type": "DreamActorSkeletonExtract", "inputs": {"image": ["img", 0], **EXTRACT}},
        "rt": retarget_inputs(["d", 0], ["skel", 0], reference_image=["img", 0]),
        "keep": _save_motion(["rt", 0], "tests/retarget_nobody"),
    }
    with pytest.raises(PromptError) as e:
        server.run(prompt, timeout=300)
    text = str(e.value)
    assert "DreamActorSkeletonExtract" in text and "Fix:" in text, text


def test_reference_motion_without_a_person_is_a_clear_error(server, small_motions):
    with pytest.raises(PromptError) as e:
        server.run(_small_prompt(*small_motions))
    text = str(e.value)
    assert "[DreamActorBoneRetarget, input 'reference']" in text and "no valid person" in text, text
    assert "Fix:" in text


def test_small_motion_runs(server, small_motions):
    out = server.run(_small_prompt(small_motions[0], small_motions[0]))["outputs"]
    assert "4 frames" in out["rt"]["text"][0]
    assert re.fullmatch(r"retarget_rt_[0-9a-f]{12}", out["rt"]["dreamactor_retarget"][0]["name"])


@pytest.mark.parametrize(
    "edits, words",
    [
        ({"version": 1, "scales": {"left_tail": 1.2}}, ["unknown bone 'left_tail'", "left_wrist"]),
        ({"version": 1, "scales": {FOREARM: 9.0}}, [f"'{FOREARM}'", "valid range [0.25, 4.0]"]),
        ({"version": 1, "preset": "superhero"}, ["unknown preset 'superhero'", "heroic"]),
    ],
    ids=["unknown bone", "bone scale", "preset"],
)
def test_bad_bone_edits_are_clear_errors(server, small_motions, edits, words):
    with pytest.raises(PromptError) as e:
        server.run(_small_prompt(small_motions[0], small_motions[0], edits))
    text = _error_text(e.value)
    assert "[DreamActorBoneRetarget, input 'bone_edits']" in text and "Fix:" in text, text
    for w in words:
        assert w in text, (w, text)


@pytest.mark.parametrize("key, value", [("scale", 50.0), ("scale", 0.0), ("dx", 3.0)])
def test_framing_out_of_range_is_a_clear_error(server, small_motions, key, value):
    """The host checks the declared ranges (once: one error, naming the input)."""
    with pytest.raises(PromptError) as e:
        server.run(_small_prompt(small_motions[0], small_motions[0], framing="manual", **{key: value}))
    errors = [err for ne in e.value.details["node_errors"].values() for err in ne["errors"]]
    assert len(errors) == 1 and errors[0]["type"] in ("value_bigger_than_max", "value_smaller_than_min"), errors
    assert errors[0]["extra_info"]["input_name"] == key, errors


def test_ease_in_out_of_range_or_nan_is_a_clear_error(server, small_motions):
    with pytest.raises(PromptError) as e:
        server.run(_small_prompt(small_motions[0], small_motions[0], ease_in=-1.0))
    errors = [err for ne in e.value.details["node_errors"].values() for err in ne["errors"]]
    assert errors[0]["type"] == "value_smaller_than_min" and errors[0]["extra_info"]["input_name"] == "ease_in"
    with pytest.raises(PromptError) as e:
        server.run(_small_prompt(small_motions[0], small_motions[0], ease_in=float("nan")))
    text = _error_text(e.value)
    assert "[DreamActorBoneRetarget, input 'ease_in']" in text and "Fix:" in text, text


def test_framing_nan_is_a_clear_error(server, small_motions):
    with pytest.raises(PromptError) as e:
        server.run(_small_prompt(small_motions[0], small_motions[0], framing="manual", dx=float("nan")))
    text = _error_text(e.value)
    assert "[DreamActorBoneRetarget, input 'dx']" in text and "Fix:" in text, text


# --------------------------------------------------------------------------- the preview route
def _get(server, path: str):
    try:
        with urllib.request.urlopen(server.url + path, timeout=30) as r:
            return r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers.get("Content-Type", "")


def _post(server, path: str, body: bytes):
    req = urllib.request.Request(server.url + path, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _query(**params) -> str:
    return ROUTE + "?" + urllib.parse.urlencode(params)


def test_preview_route_serves_what_the_node_made(server, chain):
    out, motions = chain
    name = out["rt"]["dreamactor_retarget"][0]["name"]
    status, body, _ = _get(server, _query(name=name, frame=3, count=5))
    assert status == 200, body[:300]
    p = json.loads(body)
    m = motions["keep"]
    assert p["num_frames"] == FRAMES and p["image_size"] == [512, 512] and p["joint_names"] == list(BODY.joint_names)
    assert [f["index"] for f in p["frames"]] == [3, 4, 5, 6, 7]
    assert len(p["reference"]["joints2d"]) == BODY.num_joints and len(p["reference"]["lengths"]) == BODY.num_joints
    assert p["edits"]["preset"] == "match reference" and p["framing"]["kind"] == "portrait"
    # the preview's poses and camera are the saved motion's
    f = p["frames"][0]
    assert f["valid"] == bool(m.valid[3])
    np.testing.assert_allclose(np.array(f["pose3d"]), m.joints3d[3], atol=1e-6)
    np.testing.assert_allclose(np.array(p["camera"]), m.camera, atol=1e-9)
    # the same through POST and the host's /api mirror
    status, body2 = _post(server, ROUTE, json.dumps({"name": name, "frame": 3, "count": 5}).encode())
    assert status == 200 and json.loads(body2)["frames"] == p["frames"]
    assert _get(server, "/api" + _query(name=name))[0] == 200
    # the reference picture is served by the host's /view from the temp folder
    img = p["image"]
    assert img["type"] == "temp" and img["width"] == 512
    status, png, ctype = _get(
        server,
        "/view?" + urllib.parse.urlencode({"filename": img["filename"], "subfolder": img["subfolder"], "type": "temp"}),
    )
    assert status == 200 and png[:8] == b"\x89PNG\r\n\x1a\n", (status, ctype)
    # the last frame and a request running past the end (clipped to the motion)
    status, body, _ = _get(server, _query(name=name, frame=FRAMES - 2, count=10))
    assert status == 200 and [f["index"] for f in json.loads(body)["frames"]] == [FRAMES - 2, FRAMES - 1]


@pytest.mark.parametrize(
    "params, words",
    [
        ({}, "'name' is missing"),
        ({"name": "../../user/default/comfy.settings"}, "not a preview name"),
        ({"name": "/etc/passwd"}, "not a preview name"),
        ({"name": "retarget_rt_0123456789ab.npz"}, "not a preview name"),
        ({"name": "retarget_rt_0123456789ab/../../x"}, "not a preview name"),
        ({"name": "retarget_rt_zzzzzzzzzzzz"}, "not a preview name"),
        ({"name": "x" * 500}, "not a preview name"),
        ({"name": "@valid", "frame": "abc"}, "'frame' must be an integer"),
        ({"name": "@valid", "frame": "1e3"}, "'frame' must be an integer"),
        ({"name": "@valid", "frame": -1}, "'frame' -1 is negative"),
        ({"name": "@valid", "frame": FRAMES}, f"past the motion's last frame {FRAMES - 1}"),
        ({"name": "@valid", "frame": 10**12}, "'frame' must be an integer"),
        ({"name": "@valid", "count": 0}, "'count' 0 is outside [1, 240]"),
        ({"name": "@valid", "count": 241}, "'count' 241 is outside [1, 240]"),
        ({"name": "@valid", "path": "/etc/passwd"}, "unknown parameter(s) ['path']"),
    ],
    ids=lambda v: str(v)[:40] if isinstance(v, str) else None,
)
def test_preview_route_rejects_bad_requests(server, chain, params, words):
    name = chain[0]["rt"]["dreamactor_retarget"][0]["name"]
    params = {k: (name if v == "@valid" else v) for k, v in params.items()}
    for status, body in (_get(server, _query(**params))[:2], _post(server, ROUTE, json.dumps(params).encode())):
        assert status == 400, (params, status, body[:300])
        assert words in json.loads(body)["error"], body


def test_preview_route_rejects_bad_bodies_and_unknown_previews(server, chain):
    name = chain[0]["rt"]["dreamactor_retarget"][0]["name"]
    for body, code, words in (
        (b"not json", 400, "not JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"name": 7}', 400, "not a preview name"),
        (json.dumps({"name": name, "frame": True}).encode(), 400, "must be an integer"),
        (b'{"name": "' + b"a" * 5000 + b'"}', 413, "larger than"),
    ):
        status, got = _post(server, ROUTE, body)
        assert status == code and words in json.loads(got)["error"], (body[:40], status, got[:200])
    status, got, _ = _get(server, ROUTE + f"?name={name}&name={name}")
    assert status == 400 and "once" in json.loads(got)["error"]
    status, got, _ = _get(server, _query(name="retarget_rt_0123456789ab"))
    assert status == 404 and "queue the prompt" in json.loads(got)["error"]


REPOSE = "/dreamactor/retarget_repose"


def test_repose_route_retargets_the_run_again_with_placed_reference_joints(server, chain):
    """The editor's 'Pose reference': the node's stored inputs retargeted again with a joint of the
    reference placed by hand; the new preview's reference has it exactly there."""
    name = chain[0]["rt"]["dreamactor_retarget"][0]["name"]
    first = json.loads(_get(server, _query(name=name))[1])
    head = BODY["head"]
    placed = [first["reference"]["joints2d"][head][0] + 25.0, first["reference"]["joints2d"][head][1] - 10.0]
    edits = json.dumps({"preset": "heroic", "reference_joints": {"head": placed}})
    status, body = _post(server, "/api" + REPOSE, json.dumps({"name": name, "bone_edits": edits}).encode())
    assert status == 200, body[:300]
    new = json.loads(body)["name"]
    assert new != name and new.startswith("retarget_")
    p = json.loads(_get(server, _query(name=new))[1])
    assert p["edits"]["reference_joints"] == {"head": placed} and p["edits"]["preset"] == "heroic"
    np.testing.assert_allclose(p["reference"]["joints2d"][head], placed, atol=1e-3)
    assert "reference posed by hand: head placed" in p["info"] and p["inputs"] == first["inputs"]
    assert p["image"]["filename"] == new + ".png"  # its own picture: pruning the run's keeps it
    # the portrait is framed on the head: the retarget's head moved with it on the framing frame
    t = first["framing"]["t0"]
    a, b = (json.loads(_get(server, _query(name=n, frame=t))[1]) for n in (name, new))
    shift = np.asarray(b["frames"][0]["pose3d"][head]) - np.asarray(a["frames"][0]["pose3d"][head])
    assert np.linalg.norm(shift) > 0.01
    # a repose of a repose starts again from the run's inputs
    status, body = _post(server, REPOSE, json.dumps({"name": new, "bone_edits": "{}"}).encode())
    again = json.loads(_get(server, _query(name=json.loads(body)["name"]))[1])
    np.testing.assert_allclose(again["reference"]["joints2d"], first["reference"]["joints2d"], atol=1e-4)
    for req, code, words in (
        (b"not json", 400, "not JSON"),
        (json.dumps({"name": name}).encode(), 400, "'bone_edits' must be"),
        (json.dumps({"name": name, "bone_edits": '{"reference_joints": {"hed": [1, 2]}}'}).encode(), 400, "'hed'"),
        (json.dumps({"name": name, "bone_edits": "{}", "frame": 0}).encode(), 400, "unknown parameter"),
        (json.dumps({"name": "../x", "bone_edits": "{}"}).encode(), 400, "not a preview name"),
        (json.dumps({"name": "retarget_rt_0123456789ab", "bone_edits": "{}"}).encode(), 404, "queue the prompt"),
        (b'{"name": "' + b"a" * 40000 + b'"}', 413, "larger than"),
    ):
        status, got = _post(server, REPOSE, req)
        assert status == code and words in json.loads(got)["error"], (req[:60], status, got[:300])
