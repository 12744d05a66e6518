"""DreamActor Sampler + Stitch on real media through a real ComfyUI server.

The whole graph of issue 5's done-when: the sports2d clip (frames 0-99) drives
the astronaut photo with segment length 33 and 5 motion frames (4 segments:
33 + 28 + 28 + 11 new frames); skeleton, head sphere, face crops and the face
motion tokens (Face Encode with the MODEL) are made by the pack; the tiny
random-weight Wan-Animate checkpoint and Wan 2.1 VAE (tests/assets/tiny_wan.py,
real key layouts) are loaded by the core UNETLoader / VAELoader from the
server's models folders; text and CLIP-vision conditioning come from the
test-only node pack (tests/test_nodes_pack), since umt5-xxl and clip_vision_h
cannot be built here. 64x64, 2 euler steps, cfg 2.

The bone retargeting node is not in this graph: the driving motion goes to the
sampler as it is. The face motion encoder (real size, ~2 s per frame on these
CPUs) dominates the run time; ComfyUI's own cache keeps Face Encode's tokens
between the prompts of this module, so they are computed once.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import uuid

import av
import numpy as np
import pytest

from scripts.harness.comfy_server import PromptError
from tests.host.tiny_sampling import sample_stitch_save

pytestmark = [pytest.mark.host, pytest.mark.slow]

FRAMES, LENGTH, MOTION, STEPS = 100, 33, 5, 2
SEGMENTS = 4
PER_SEGMENT = STEPS + 1  # the sampler's progress units per segment (steps + decode and save)
EXTRACT = {"person": 0, "hands": True, "face": True, "smooth": True, "min_cutoff": 1.0, "beta": 1.0, "fill_gaps": 8}


@pytest.fixture(scope="module")
def srv(test_nodes_server):
    """The session server that also loads the test node pack (tests/conftest.py)."""
    return test_nodes_server


@pytest.fixture(scope="module")
def checkpoints(tiny_models):
    """The tiny files in the server's models/diffusion_models and models/vae; their names."""
    return tiny_models


def graph(clip, photo, checkpoints, cache_name, unet="animate", seed=7):
    return {
        "load": {
            "class_type": "DreamActorLoadVideo",
            "inputs": {"video": clip, "start_frame": 0, "frame_count": FRAMES, "every_nth": 1, "fps": 0.0},
        },
        "img": {"class_type": "LoadImage", "inputs": {"image": photo}},
        "skel": {"class_type": "DreamActorSkeletonExtract", "inputs": {"video": ["load", 0], **EXTRACT}},
        "head": {
            "class_type": "DreamActorHeadSphereFit",
            "inputs": {"motion": ["skel", 0], "smoothing": 1.5, "max_hold": 12},
        },
        "face": {
            "class_type": "DreamActorFaceEncode",
            "inputs": {
                "video": ["load", 0],
                "motion": ["head", 0],
                "size": 128,
                "scale": 1.2,
                "smoothing": 2.0,
                "intensity": 1.0,
                "neutral_frame": 0,
                "token_smoothing": 0.0,
                "model": ["unet", 0],
            },
        },
        **sample_stitch_save(
            checkpoints,
            ["img", 0],
            ["head", 0],
            ["face", 0],
            cache_name,
            text="an astronaut dancing on a box",
            seed=seed,
            steps=STEPS,
            cfg=2.0,
            segment_length=LENGTH,
            motion_frames=MOTION,
            unet=unet,
        ),
        "npy": {
            "class_type": "DreamActorTestSaveImages",
            "inputs": {"images": ["stitch", 1], "filename": f"tests/{cache_name}_frames"},
        },
    }


@pytest.fixture(scope="module")
def inputs(srv, media):
    clip = srv.put_input(media("demo.mp4"))
    photo = srv.put_input(media("astronaut.png"))
    return clip, photo


def fresh(name: str) -> str:
    """A cache name no earlier test session used (the cache lives in the shared output folder)."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def cache_folder(entry) -> str:
    return entry["outputs"]["sampler"]["text"][0].splitlines()[-1]


async def _run_and_interrupt(srv, prompt, after_value):
    """Queue ``prompt`` and POST /interrupt once the sampler's progress reaches ``after_value``."""
    import aiohttp

    client_id = uuid.uuid4().hex
    seen = []
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"ws://127.0.0.1:{srv.port}/ws?clientId={client_id}") as ws:
            prompt_id = srv.post("/prompt", {"prompt": prompt, "client_id": client_id})["prompt_id"]
            interrupted = False
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                kind, body = data["type"], data.get("data", {})
                if kind == "progress" and body.get("node") == "sampler":
                    seen.append(body["value"])
                    if not interrupted and body["value"] >= after_value:
                        srv.post("/interrupt", {})
                        interrupted = True
                if (
                    kind in ("execution_interrupted", "execution_success", "execution_error")
                    and body.get("prompt_id") == prompt_id
                ):
                    return kind, prompt_id, seen
    raise AssertionError("the websocket closed before the prompt ended")


def read_frames(srv, entry):
    path = entry["outputs"]["npy"]["text"][0]
    return np.load(path)


def pseudo_reference_pass(prompt, cache_name):
    """``prompt`` plus a second pass: Pseudo References from the first pass's segments -> a sampler
    with those references -> Stitch -> raw frames (node 'npy2')."""
    second = json.loads(json.dumps(prompt))
    second["pseudo"] = {
        "class_type": "DreamActorPseudoReferences",
        "inputs": {
            "segments": ["sampler", 0],
            "motion": ["head", 0],
            "reference": ["img", 0],
            "count": 2,
            "min_angle": 0.0,
        },
    }
    second["sampler2"] = dict(
        second["sampler"], inputs=dict(second["sampler"]["inputs"], reference=["pseudo", 0], cache_name=cache_name)
    )
    second["stitch2"] = dict(second["stitch"], inputs=dict(second["stitch"]["inputs"], segments=["sampler2", 0]))
    second["npy2"] = {
        "class_type": "DreamActorTestSaveImages",
        "inputs": {"images": ["stitch2", 1], "filename": f"tests/{cache_name}_frames"},
    }
    return second


def test_whole_graph_is_repeatable_resumes_after_a_stop_and_takes_pseudo_references(srv, inputs, checkpoints):
    clip, photo = inputs
    first = srv.run(graph(clip, photo, checkpoints, fresh("whole")), timeout=1500)
    frames = read_frames(srv, first)
    assert frames.shape == (FRAMES, 64, 64, 3) and frames.dtype == np.float32  # exactly 100 frames
    assert np.isfinite(frames).all() and frames.std() > 0.01
    text = first["outputs"]["sampler"]["text"][0]
    assert f"{FRAMES} frames in {SEGMENTS} segments" in text and f"{SEGMENTS} sampled now" in text
    assert "face motion tokens" in first["outputs"]["face"]["text"][0]
    folder = cache_folder(first)
    manifest = json.load(open(os.path.join(folder, "manifest.json")))
    assert manifest["done"] == list(range(SEGMENTS))
    assert [s["new"] for s in manifest["segments"]] == [33, 28, 28, 11]
    for i in range(SEGMENTS):
        assert np.isfinite(np.load(os.path.join(folder, f"seg_{i:05d}.latent.npy"))).all()
    with av.open(srv.output_path(first["outputs"]["mp4"]["images"][0])) as c:
        assert sum(1 for _ in c.decode(video=0)) == FRAMES  # exactly N frames in the saved video too
        assert c.streams.audio  # the driving clip's audio went along

    # one seed, two runs (another cache, so nothing is reused): the same frames
    twice = srv.run(graph(clip, photo, checkpoints, fresh("twice")), timeout=1500)
    assert f"{SEGMENTS} sampled now" in twice["outputs"]["sampler"]["text"][0]
    assert np.array_equal(read_frames(srv, twice), frames)

    # the same prompt into another cache: stopped once the first segment is on disk, queued again
    name = fresh("stopped")
    prompt = graph(clip, photo, checkpoints, name)
    kind, _, seen = asyncio.run(_run_and_interrupt(srv, prompt, after_value=PER_SEGMENT))
    assert kind == "execution_interrupted", (kind, seen)
    stopped_folder = os.path.join(srv.output_dir(), "dreamactor_segments", name, os.path.basename(folder))
    done = json.load(open(os.path.join(stopped_folder, "manifest.json")))["done"]
    assert 1 <= len(done) < SEGMENTS, done  # stopped after the first segment, before the end
    print(f"interrupted at progress {seen[-1]}/{SEGMENTS * PER_SEGMENT}: {len(done)} of {SEGMENTS} segments on disk")
    resumed = srv.run(prompt, timeout=1500)
    assert cache_folder(resumed) == stopped_folder
    assert f"{len(done)} from the cache, {SEGMENTS - len(done)} sampled now" in resumed["outputs"]["sampler"]["text"][0]
    again = read_frames(srv, resumed)
    assert again.shape == frames.shape and np.array_equal(again, frames)  # same seed, same frames, resumed
    for i in range(SEGMENTS):
        a = np.load(os.path.join(folder, f"seg_{i:05d}.latent.npy"))
        b = np.load(os.path.join(stopped_folder, f"seg_{i:05d}.latent.npy"))
        assert np.array_equal(a, b), i

    # pseudo multi-reference: two extra views picked from the first pass, then a second pass with them
    second = srv.run(
        pseudo_reference_pass(graph(clip, photo, checkpoints, cache_folder(first).split(os.sep)[-2]), fresh("pseudo")),
        timeout=1500,
    )
    picked = second["outputs"]["pseudo"]
    print(picked["text"][0])
    assert len(picked["images"]) == 3 and picked["text"][0].startswith("2 extra reference(s)")
    assert "3 reference(s)" in second["outputs"]["sampler2"]["text"][0]
    refined = np.load(second["outputs"]["npy2"]["text"][0])
    assert refined.shape == frames.shape and np.isfinite(refined).all()
    assert not np.array_equal(refined, frames)  # the extra references change the video
    for entry in (first, twice, resumed):  # the caches and raw frames live in the shared output folder
        shutil.rmtree(os.path.dirname(cache_folder(entry)))
        os.remove(entry["outputs"]["npy"]["text"][0])
        os.remove(srv.output_path(entry["outputs"]["mp4"]["images"][0]))
    shutil.rmtree(os.path.dirname(second["outputs"]["sampler2"]["text"][0].splitlines()[-1]))
    os.remove(second["outputs"]["npy2"]["text"][0])
    for saved in second["outputs"].get("mp4", {}).get("images", []):
        os.remove(srv.output_path(saved))


def test_text_to_video_checkpoint_names_the_file_to_get(srv, inputs, checkpoints):
    clip, photo = inputs
    prompt = graph(clip, photo, checkpoints, fresh("t2v"), unet="t2v")
    for node in ("DreamActorFaceEncode", "DreamActorSampler"):  # Face Encode with the model, then without
        with pytest.raises(PromptError) as e:
            srv.run(prompt, timeout=600)
        text = str(e.value)
        assert node in text and "input 'model'" in text
        assert "wan2.2_animate_14B_bf16.safetensors" in text and "ComfyUI/models/diffusion_models" in text
        prompt["face"]["inputs"].pop("model", None)
