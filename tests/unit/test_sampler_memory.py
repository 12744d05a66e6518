"""The DreamActor Sampler on the host's memory rules (tiny checkpoints, CPU, in-process).

A MODEL with a LoRA (tests/assets/tiny_lora.py: real Wan LoRA key layout, loaded as core
``LoraLoaderModelOnly`` loads it) is patched by the host only while it is loaded, and the
host restores the original weights on unload. So:

- a run that unloads every model between segments (``unload_all_models``: what a VAE
  load or ``--disable-smart-memory`` does to the DiT) gives the frames of a plain run:
  the face encoder is called with the model loaded, its LoRA applied;
- the run key does not depend on whether the model happened to be loaded (patched) when
  the run started: both runs land in the same cache folder, and a stop-and-resume after an
  unload reuses the finished segment;
- the face modules are loaded once per segment with their memory reserved, never per batch.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
import torch

from tests.assets import tiny_lora, tiny_wan
from tests.unit import sampler_fixtures as fx

W, H = 64, 48
N, LENGTH, CARRY = 6, 5, 1  # two segments


@pytest.fixture(scope="module")
def host():
    return fx.host_modules()


@pytest.fixture(scope="module")
def vae():
    return fx.load_tiny("vae")


@pytest.fixture(scope="module")
def plain():
    return fx.load_tiny("animate")


@pytest.fixture(scope="module")
def lora(plain, tmp_path_factory):
    import comfy.sd
    import comfy.utils

    paths = tiny_wan.ensure_assets()
    path = tiny_lora.write_tiny_lora(paths["animate"], str(tmp_path_factory.mktemp("lora") / "tiny_lora.safetensors"))
    sd = comfy.utils.load_torch_file(path)
    assert any(k.endswith(".lora_down.weight") and ".motion_encoder." in k for k in sd)
    return comfy.sd.load_lora_for_models(plain, None, sd, 1.0, 0)[0]


@pytest.fixture(scope="module")
def face_motion():
    fx.pack()
    import importlib

    return importlib.import_module(f"{fx.PACK_NAME}.nodes.face_motion")


@pytest.fixture(scope="module")
def lora_face(lora, face_motion):
    """DA_FACE carrying per-frame face motion (N, 512) marked as made by the LoRA MODEL's motion
    encoder, as Face Encode hands it over (the values are random: the motion encoder costs ~1.5 s
    a crop here; the sampler still runs it on its blank negative face, and the face encoder)."""
    rows = np.random.default_rng(5).normal(size=(N, 512)).astype(np.float32)
    return dataclasses.replace(fx.face_track(N), tokens=rows, tokens_source=face_motion.motion_source(lora))


def _run(model, face, name, root, face_strength=1.0, on_segment=None):
    engine = fx.engine_module()
    with torch.inference_mode():
        return engine.sample_segments(
            model,
            fx.load_tiny("vae"),
            fx.text_conditioning(1),
            fx.text_conditioning(2),
            fx.reference_image(),
            fx.moving_person(N),
            face,
            7,
            2,
            1.5,
            "euler",
            "simple",
            W,
            H,
            segment_length=LENGTH,
            motion_frames=CARRY,
            face_strength=face_strength,
            cache_name=name,
            cache_root=str(root),
            on_segment=on_segment,
        )


def _frames(handle):
    return [np.load(os.path.join(handle.folder, f"seg_{i:05d}.frames.npy")) for i in range(2)]


@pytest.fixture(scope="module")
def plain_run(host, lora, lora_face, tmp_path_factory):
    """The LoRA run without unloads, started with the model unloaded."""
    host.mm.unload_all_models()
    root = tmp_path_factory.mktemp("runs")
    handle, _ = _run(lora, lora_face, "plain", root)
    return root, handle


def test_unloading_every_model_between_segments_gives_the_same_frames(
    host, lora, lora_face, face_motion, plain_run, monkeypatch
):
    root, plain_handle = plain_run
    assert lora.backup, "the LoRA model stays loaded (patched) after a run: the next run starts loaded"
    face_loads = []
    load = host.mm.load_models_gpu

    def spy(models, memory_required=0, **kw):
        face_loads.append(memory_required)
        return load(models, memory_required=memory_required, **kw)

    monkeypatch.setattr(host.mm, "load_models_gpu", spy)
    handle, _ = _run(lora, lora_face, "unloads", root, on_segment=lambda i: host.mm.unload_all_models())
    assert os.path.basename(handle.folder) == os.path.basename(plain_handle.folder)  # same key, loaded or not
    for a, b in zip(_frames(plain_handle), _frames(handle)):
        assert np.array_equal(a, b)
    face_memory = face_motion.face_memory(lora)
    assert face_memory > 0 and face_loads.count(face_memory) == 2  # once per segment, with its memory reserved


def test_the_lora_is_applied(lora, plain, plain_run, tmp_path):
    with_lora, _ = _run(lora, fx.face_track(N), "lora", tmp_path, face_strength=0.0)
    without, _ = _run(plain, fx.face_track(N), "plain", tmp_path, face_strength=0.0)
    assert os.path.basename(with_lora.folder) != os.path.basename(without.folder)
    assert np.abs(_frames(with_lora)[0].astype(int) - _frames(without)[0].astype(int)).max() > 2


def test_stop_and_resume_with_a_lora_reuses_the_cache(host, lora, lora_face, face_motion, plain_run):
    root, plain_handle = plain_run

    class Stop(Exception):
        pass

    def stop_after_first(i):
        if i == 0:
            raise Stop

    host.mm.unload_all_models()
    with pytest.raises(Stop):
        _run(lora, lora_face, "resume", root, on_segment=stop_after_first)
    loaded_source = face_motion.motion_source(lora)  # the model is loaded (patched) now
    host.mm.unload_all_models()  # as a restart leaves it
    assert face_motion.motion_source(lora) == loaded_source == lora_face.tokens_source
    handle, summary = _run(lora, lora_face, "resume", root)
    assert "1 from the cache, 1 sampled now" in summary
    for a, b in zip(_frames(plain_handle), _frames(handle)):
        assert np.array_equal(a, b)


def test_tiled_vae_option_runs_the_hosts_tiled_calls(plain, tmp_path, monkeypatch):
    """The Sampler node's ``tiled_vae`` switch reaches the engine: the host's tiled calls run."""
    import importlib

    import folder_paths

    vae = fx.load_tiny("vae")
    calls = []
    for name in ("encode_tiled", "decode_tiled"):
        real = getattr(vae, name)
        monkeypatch.setattr(vae, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    monkeypatch.setattr(folder_paths, "output_directory", str(tmp_path))
    engine = fx.engine_module()
    node = importlib.import_module(f"{fx.PACK_NAME}.nodes.sampler").DreamActorSampler
    args = (plain, vae, fx.text_conditioning(1), fx.text_conditioning(2), fx.reference_image())
    rest = (fx.moving_person(5), fx.face_track(5), 7, 1, 1.0, "euler", "simple", W, H)
    with torch.inference_mode():
        out = node.execute(
            plain, vae, *args[2:], *rest[:2], seed=7, steps=1, cfg=1.0, cfg_on="text and face",
            sampler_name="euler", scheduler="simple", width=W, height=H, segment_length=5, motion_frames=0,
            face_strength=0.0, pose_strength=1.0, guide_style="wan-animate", cache_name="tiled", tiled_vae=True,
        )  # fmt: skip
        tiled = out.result[0]
        untiled, _ = engine.sample_segments(
            *args, *rest, segment_length=5, motion_frames=0, face_strength=0.0, cache_root=str(tmp_path)
        )
    assert "decode_tiled" in calls and calls.count("encode_tiled") >= 3  # reference, pose, window
    assert os.path.basename(tiled.folder) != os.path.basename(untiled.folder)
    a, b = (np.load(os.path.join(h.folder, "seg_00000.frames.npy")).astype(int) for h in (tiled, untiled))
    assert a.shape == b.shape and np.abs(a - b).mean() < 8  # one tile at this size: nearly the same frames
