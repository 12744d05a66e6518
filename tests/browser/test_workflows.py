"""Every example workflow in the real ComfyUI frontend (headless chromium), then on the
real server.

The frontend loads each file (the guidance preview through the template URL that
`make demo` prints): no missing node types, no widget value outside its options except
the model files that are not installed (the missing-models dialog offers exactly those
for download), the graph it exports is the file, and the prompt it queues is the one
scripts/workflows/workflow_format.py makes (so `make demo` runs the file as the browser would).

Then that prompt runs to success on the server, with the real model files mapped to
test stand-ins (``runnable`` below says how) and shrunk for two CPU cores.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid

import av
import pytest

from scripts.workflows.build_workflows import WORKFLOWS, load, names, template_path
from scripts.workflows.workflow_format import MODEL_WIDGETS, to_api_prompt
from scripts.workflows.workflow_specs import MEDIA
from tests.browser.test_frontend import run_node_script

pytestmark = [pytest.mark.browser, pytest.mark.slow]
NAMES = tuple(names())  # tests/host/test_workflows.py checks there are the six of the issue
FRAMES = 9  # one 9-frame segment
LONG_FRAMES = 13  # two segments of 9 that share 5 frames: stitched
SIZE, STEPS = 64, 2
PREVIEW_WIDGET = (
    "video-preview"  # the frontend's <video> widget of an upload node: in the prompt, ignored by the server
)


@pytest.fixture(scope="module")
def srv(test_nodes_server, media):
    for name in MEDIA:
        test_nodes_server.put_input(media(name))
    return test_nodes_server


@pytest.fixture(scope="module")
def frontend(srv, artifacts_dir, tmp_path_factory):
    files = tmp_path_factory.mktemp("workflows") / "files.json"
    files.write_text(json.dumps([[n, os.path.join(WORKFLOWS, n + ".json")] for n in NAMES]))
    result = run_node_script(
        "workflows_check.mjs",
        srv.url,
        template_path("guidance_preview", srv.base),
        str(files),
        artifacts_dir,
        timeout=600,
    )
    assert "error" not in result, result.get("error")
    assert sorted(result["workflows"]) == sorted(NAMES)
    return result


@pytest.fixture(scope="module")
def info(srv):
    return srv.get("/object_info")


def loader_models(wf: dict) -> list[dict]:
    """properties.models entries read by core loader widgets (the frontend checks those; Skeleton
    Extract's MediaPipe files are listed too, and the pack downloads them itself)."""
    folders = set(MODEL_WIDGETS.values())
    return [m for n in wf["nodes"] for m in n.get("properties", {}).get("models", []) if m["directory"] in folders]


def model_files(wf: dict) -> set[str]:
    return {m["name"] for m in loader_models(wf)}


def comparable(wf: dict) -> dict:
    """A workflow without the saved view, which the canvas may round."""
    return {**wf, "extra": {k: v for k, v in wf["extra"].items() if k != "ds"}}


def test_the_template_url_opens_the_guidance_preview(frontend):
    t = frontend["template"]
    assert not t["missingTypes"] and not t["widgetErrors"]
    assert comparable(t["workflow"]) == comparable(load("guidance_preview"))


@pytest.mark.parametrize("name", NAMES)
def test_the_frontend_loads_and_exports_the_file_unchanged(frontend, artifacts_dir, name):
    r, wf = frontend["workflows"][name], load(name)
    assert r["missingTypes"] == [] and r["nodeCount"] == len(wf["nodes"]) and r["dialogsLeft"] == 0
    # only the model files a user has not downloaded yet are "not in the list" ...
    missing = {e.split("=", 1)[1].split(" not in its list")[0].strip('"') for e in r["widgetErrors"]}
    assert all(
        e.endswith("not in its list") and e.split(" ")[0] in {t for t, _ in MODEL_WIDGETS} for e in r["widgetErrors"]
    ), r["widgetErrors"]
    assert missing == model_files(wf)
    # ... and the frontend's missing-models dialog offers each of them for download
    if missing:
        dialog = "\n".join(d for d in r["dialogs"] if "Missing Models" in d)
        for m in loader_models(wf):
            assert f"{m['directory']} / {m['name']}" in dialog, dialog
        assert "Invalid directory" not in dialog and dialog.count("Download") >= len(missing)
    assert comparable(r["workflow"]) == comparable(wf)  # incl. sizes: nothing had to grow to fit
    # and nothing is cut off once the media previews are in (their min width just tracks the node's)
    cut = {i: s for i, s in r["sizes"].items() if s["size"][1] < s["min"][1] - 0.5}
    assert not cut, cut
    assert os.path.getsize(os.path.join(artifacts_dir, f"workflow_{name}.png")) > 30_000


@pytest.mark.parametrize("name", NAMES)
def test_the_frontends_prompt_is_the_python_conversion(frontend, info, name):
    prompt = frontend["workflows"][name]["output"]
    for node in prompt.values():
        node["inputs"].pop(PREVIEW_WIDGET, None)
    assert prompt == to_api_prompt(load(name), info)


def test_no_errors_of_ours_in_the_page(frontend):
    ours = [e for e in frontend["consoleErrors"] if "dreamactor" in e.lower() or "workflow" in e.lower()]
    assert not ours, ours


# ------------------------------------------------------------- on the server


def runnable(prompt: dict, tiny: dict, tag: str, frames: int) -> dict:
    """The frontend's prompt made runnable here, every other node and value as queued:

    - UNETLoader / VAELoader load the tiny random-weight Wan2.2-Animate checkpoint / Wan 2.1
      VAE (tests/assets/tiny_wan.py, real key layouts, through the same host loaders);
    - CLIPLoader + CLIPTextEncode -> DreamActorTestTextConditioning (umt5-xxl-shaped
      CONDITIONING from the same text), CLIPVisionLoader + CLIPVisionEncode ->
      DreamActorTestClipVision (a clip_vision_h-shaped output): tests/test_nodes_pack;
    - DreamActorLoadVideo keeps ``frames`` frames; DreamActorSampler makes 64x64 in 2 steps
      with 9-frame segments (5 motion frames) and a fresh cache_name;
    - DreamActorPseudoReferences takes views 1 degree apart (min_angle): in 9 frames the
      head turns too little for the default 15 to pick any, and then nothing would be tested;
    - DreamActorSaveVideo writes under output/tests/workflows/.
    """
    p = json.loads(json.dumps(prompt))
    for node_id, node in list(p.items()):
        kind, inputs = node["class_type"], node["inputs"]
        inputs.pop(PREVIEW_WIDGET, None)
        if kind == "UNETLoader":
            inputs["unet_name"] = tiny["animate"]
        elif kind == "VAELoader":
            inputs["vae_name"] = tiny["vae"]
        elif kind in ("CLIPLoader", "CLIPVisionLoader"):
            del p[node_id]
        elif kind == "CLIPTextEncode":
            p[node_id] = {
                "class_type": "DreamActorTestTextConditioning",
                "inputs": {"text": inputs["text"], "tokens": 512},
            }
        elif kind == "CLIPVisionEncode":
            p[node_id] = {"class_type": "DreamActorTestClipVision", "inputs": {"seed": 1}}
        elif kind == "DreamActorLoadVideo":
            inputs["frame_count"] = frames
        elif kind == "DreamActorSampler":
            inputs.update(
                width=SIZE,
                height=SIZE,
                steps=STEPS,
                segment_length=9,
                motion_frames=5,
                cache_name=f"{tag}-{inputs['cache_name']}",
            )
        elif kind == "DreamActorPseudoReferences":
            inputs["min_angle"] = 1.0
        elif kind == "DreamActorSaveVideo":
            inputs["filename_prefix"] = f"tests/workflows/{tag}"
    return p


def count_frames(path: str) -> tuple[int, bool]:
    with av.open(path) as c:
        return sum(1 for _ in c.decode(video=0)), bool(c.streams.audio)


@pytest.mark.parametrize("name", NAMES)
def test_the_prompt_runs_on_the_server(frontend, srv, tiny_models, name):
    frames = LONG_FRAMES if name == "long_video" else FRAMES
    tag = f"{name}-{uuid.uuid4().hex[:8]}"
    prompt = runnable(frontend["workflows"][name]["output"], tiny_models, tag, frames)
    entry = srv.run(prompt, timeout=900)
    saves = [i for i, n in prompt.items() if n["class_type"] == "DreamActorSaveVideo"]
    samplers = [i for i, n in prompt.items() if n["class_type"] == "DreamActorSampler"]
    assert saves and (samplers or name == "guidance_preview")
    try:
        for i in saves:
            path = srv.output_path(entry["outputs"][i]["images"][0])
            n, audio = count_frames(path)
            assert n == frames, (name, i, n)
            if "audio" in prompt[i]["inputs"]:
                assert audio  # the driving clip's sound went along
        for i in samplers:
            text = entry["outputs"][i]["text"][0]
            segments = 2 if name == "long_video" else 1
            assert f"{frames} frames in {segments} segment" in text, text
        check_bone_edits_arrived(srv, prompt, entry)
        check_pseudo_references_fed_the_second_pass(prompt, entry)
    finally:
        for i in samplers:
            shutil.rmtree(os.path.dirname(entry["outputs"][i]["text"][0].splitlines()[-1]), ignore_errors=True)
        for i in saves:
            if i in entry["outputs"]:
                os.remove(srv.output_path(entry["outputs"][i]["images"][0]))


def _nodes(prompt: dict, class_type: str) -> list[str]:
    return [i for i, n in prompt.items() if n["class_type"] == class_type]


def check_bone_edits_arrived(srv, prompt: dict, entry: dict) -> None:
    """The retarget ran with the workflow's bone edits (the stylized preset, manual scales and the
    reference joints placed by hand: the server's reference has them exactly there)."""
    for i in _nodes(prompt, "DreamActorBoneRetarget"):
        name = entry["outputs"][i]["dreamactor_retarget"][0]["name"]
        preview = srv.get(f"/dreamactor/retarget_preview?name={name}&frame=0&count=1")
        edits, sent = preview["edits"], json.loads(prompt[i]["inputs"]["bone_edits"])
        assert (edits["preset"], edits["scales"]) == (sent["preset"], sent["scales"])
        placed = sent.get("reference_joints", {})
        assert edits.get("reference_joints", {}) == placed
        for joint, xy in placed.items():
            got = preview["reference"]["joints2d"][preview["joint_names"].index(joint)]
            assert abs(got[0] - xy[0]) < 1e-3 and abs(got[1] - xy[1]) < 1e-3, (joint, got, xy)


def check_pseudo_references_fed_the_second_pass(prompt: dict, entry: dict) -> None:
    """The second sampler got the picture plus the frames Pseudo References picked."""
    for i in _nodes(prompt, "DreamActorPseudoReferences"):
        picked = int(re.match(r"(\d+) extra reference", entry["outputs"][i]["text"][0]).group(1))
        assert picked >= 1, entry["outputs"][i]["text"][0]
        second = [j for j in _nodes(prompt, "DreamActorSampler") if prompt[j]["inputs"]["reference"][0] == i]
        assert len(second) == 1
        assert f"{1 + picked} reference(s)" in entry["outputs"][second[0]]["text"][0]
