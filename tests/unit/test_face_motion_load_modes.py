"""The face encoders with a LoRA give the same output however the host loaded the MODEL.

The host bakes a LoRA into a module's weights only when it loads that module whole. With the
model partially loaded (a 14B model on a 12-24 GB card, ``--lowvram``, ``--novram``) the
modules that do not fit stay unpatched; the host's own cast layers (comfy.ops: the face
encoder, the face adapter, the DiT) get their patches at call time, the motion encoder's
StyleGAN layers (plain modules) do not. The pack's motion encoder call applies what the host
left out, so its output, and so the cache keyed by the LoRA, is the same in every mode.

Tiny real-layout checkpoint + tiny real-layout LoRA (it patches the motion encoder's fully
connected layers and the face encoder's output projection), loaded by the host's loaders;
the host's own ``ModelPatcher.patch_model`` loads it fully, partially and with (almost) no
memory. A real face: the astronaut portrait (scikit-image, 512x512).
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

from models.dit import forward as daf
from tests.assets import tiny_lora, tiny_wan
from tests.unit import sampler_fixtures as fx

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def host():
    return fx.host_modules()


@pytest.fixture(scope="module")
def face_motion():
    fx.pack()
    return importlib.import_module(f"{fx.PACK_NAME}.nodes.face_motion")


@pytest.fixture(scope="module")
def lora(host, tmp_path_factory):
    """A fresh tiny Wan-Animate MODEL with the tiny LoRA, as LoraLoaderModelOnly makes it."""
    import comfy.sd

    host.mm.unload_all_models()
    paths = tiny_wan.ensure_assets()
    path = tiny_lora.write_tiny_lora(paths["animate"], str(tmp_path_factory.mktemp("lora") / "tiny_lora.safetensors"))
    model = comfy.sd.load_lora_for_models(fx.load_tiny("animate"), None, host.utils.load_torch_file(path), 1.0, 0)[0]
    yield model
    model.unpatch_model(device_to=CPU)


@pytest.fixture(scope="module")
def face():
    """The astronaut's face region as one motion-encoder crop (1, 3, 1, 512, 512) in [-1, 1]."""
    from skimage import data

    img = torch.from_numpy(np.ascontiguousarray(data.astronaut())).float() / 127.5 - 1
    return img.permute(2, 0, 1)[None, :, None]


def _encoders(face_motion, model, face):
    """(motion (1, 1, 512) by the pack's motion encoder call, face tokens (1, 1, 5, D))."""
    motion = face_motion.motion_encoder(model, load=False)(face)
    with torch.inference_mode():
        tokens = daf.face_tokens_from_motion(daf.diffusion_model_of(model), motion)
    return motion, tokens


def _in_mode(model, memory: int):
    """Load ``model`` as the host does with ``memory`` bytes for weights (0: whole)."""
    model.unpatch_model(device_to=CPU)
    model.patch_model(device_to=CPU, lowvram_model_memory=memory)


def test_encoders_with_a_lora_match_in_full_partial_and_no_memory_loads(host, lora, face_motion, face):
    prefix = face_motion.MOTION_PREFIX
    assert any(k.startswith(prefix) for k in lora.patches)
    size = lora.model_size()
    key_loaded = face_motion.motion_source(lora)

    _in_mode(lora, 0)  # full load: every patch baked into the weights
    assert not lora.model.model_lowvram and face_motion.unapplied_patches(lora, prefix) == []
    full_motion, full_tokens = _encoders(face_motion, lora, face)

    for memory in (size // 2, 1):  # a partial load, then (almost) no memory for weights
        _in_mode(lora, memory)
        assert lora.model.model_lowvram
        left_out = face_motion.unapplied_patches(lora, prefix)
        assert left_out, "the host left motion encoder patches out of the weights"
        with torch.inference_mode():  # what the motion encoder computes from the weights as loaded
            as_loaded = daf.encode_face_motion(daf.diffusion_model_of(lora), face)
        assert (as_loaded - full_motion).abs().max().item() > 1e-3  # the LoRA would be lost
        motion, tokens = _encoders(face_motion, lora, face)
        assert torch.equal(motion, full_motion), memory
        assert (tokens - full_tokens).abs().max().item() <= 1e-5, memory
        assert face_motion.unapplied_patches(lora, prefix) == left_out  # the model itself untouched
        assert face_motion.motion_source(lora) == key_loaded

    lora.unpatch_model(device_to=CPU)  # not loaded at all: the patches still act
    assert torch.equal(_encoders(face_motion, lora, face)[0], full_motion)


def test_without_a_lora_nothing_is_recomputed(host, face_motion, face):
    plain = fx.load_tiny("animate")
    plain.patch_model(device_to=CPU, lowvram_model_memory=1)
    try:
        assert face_motion.unapplied_patches(plain, face_motion.MOTION_PREFIX) == []
        with torch.inference_mode():
            direct = daf.encode_face_motion(daf.diffusion_model_of(plain), face)
        assert torch.equal(face_motion.motion_encoder(plain, load=False)(face), direct)
    finally:
        plain.unpatch_model(device_to=CPU)
