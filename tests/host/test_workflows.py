"""The example workflows in workflows/ against the code, through a real server: one file
per spec and none stale, every node type / input / widget value known to /object_info
(checked independently of the generator), and the files served as templates."""

from __future__ import annotations

import copy
import os

import pytest

from scripts.harness.fetch_media import MEDIA
from scripts.workflows.build_workflows import WORKFLOWS, build_all, load, names, pack_folder_name, stale
from scripts.workflows.workflow_check import check_workflow
from scripts.workflows.workflow_format import MODEL_WIDGETS

pytestmark = pytest.mark.host
NAMES = (
    "guidance_preview",
    "full_body_animation",
    "portrait_animation",
    "long_video",
    "stylized_character",
    "pseudo_multi_reference",
    "talking_character",
    "redub",
)
SAMPLER_WORKFLOWS = NAMES[1:]


@pytest.fixture(scope="module")
def info(server):
    return server.get("/object_info")


def test_one_file_per_spec():
    files = sorted(f[:-5] for f in os.listdir(WORKFLOWS) if f.endswith(".json"))
    assert files == sorted(NAMES)
    assert names() == list(NAMES)


def test_committed_workflows_are_what_the_current_code_builds(server):
    texts = build_all(server)
    assert len(texts) == len(NAMES)
    assert not stale(texts), "workflows/ is stale: run `make workflows` and commit the result"


@pytest.mark.parametrize("name", NAMES)
def test_every_node_input_and_value_is_known_to_object_info(info, name):
    wf = load(name)
    assert check_workflow(wf, info, tuple(MEDIA)) == []
    types = {n["type"] for n in wf["nodes"]}
    assert "MarkdownNote" in types and len(wf["groups"]) >= 3 and wf["links"]
    if name in SAMPLER_WORKFLOWS:  # the four host loaders, each with its download entry
        loaders = [n for n in wf["nodes"] if n["type"] in {t for t, _ in MODEL_WIDGETS}]
        assert sorted(n["properties"]["models"][0]["directory"] for n in loaders) == sorted(MODEL_WIDGETS.values())
        assert "DreamActorSampler" in types and "DreamActorStitch" in types


def _first(wf: dict, node_type: str) -> dict:
    return next(n for n in wf["nodes"] if n["type"] == node_type)


def test_the_check_catches_drift(info):
    """Each kind of drift the check exists for, made on purpose in a copy."""
    base = load("full_body_animation")
    media = tuple(MEDIA)

    def problems(edit) -> str:
        wf = copy.deepcopy(base)
        edit(wf)
        return "\n".join(check_workflow(wf, info, media))

    assert "DreamActorGone is not in /object_info" in problems(
        lambda wf: _first(wf, "DreamActorStitch").update(type="DreamActorGone")
    )
    assert "input 'drivng' is no longer an input" in problems(
        lambda wf: _first(wf, "DreamActorBoneRetarget")["inputs"][0].update(name="drivng")
    )
    assert "widget 'steps': 0 is outside [1, " in problems(
        lambda wf: _first(wf, "DreamActorSampler")["widgets_values"].__setitem__(2, 0)
    )
    assert "'smooth-ish' is not an option" in problems(
        lambda wf: _first(wf, "DreamActorSampler")["widgets_values"].__setitem__(4, "smooth-ish")
    )
    assert "is not a BOOLEAN" in problems(lambda wf: _first(wf, "DreamActorStitch")["widgets_values"].__setitem__(0, 1))
    assert "widget values for" in problems(lambda wf: _first(wf, "DreamActorStitch")["widgets_values"].pop())
    assert "not in the node's properties.models for models/diffusion_models" in problems(
        lambda wf: _first(wf, "UNETLoader")["widgets_values"].__setitem__(0, "other.safetensors")
    )
    assert "not one of the sample media files" in problems(
        lambda wf: _first(wf, "DreamActorLoadVideo")["widgets_values"].__setitem__(0, "mine.mp4")
    )
    assert "required input 'face' is not connected" in problems(
        lambda wf: next(i for i in _first(wf, "DreamActorSampler")["inputs"] if i["name"] == "face").update(link=None)
    )


def test_workflows_are_served_as_the_packs_templates(server):
    pack = pack_folder_name(server.base)
    listed = server.get("/workflow_templates")
    assert sorted(listed.get(pack, [])) == sorted(NAMES), listed
    for name in NAMES:
        assert server.get(f"/api/workflow_templates/{pack}/{name}.json") == load(name)
