"""The run key changes whenever a patch on the MODEL would change the frames.

Patch functions are hashed with what they captured: closure cells, defaults, functools.partial
arguments and keywords, a bound method's object, a callable object's attributes (private ones
too). Before, a function was hashed by its name only: a strength held in a closure changed
nothing, and a resume after changing it reused the frames of the old strength.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest
import torch

from models.dit import forward as daf
from models.dit.content_key import content_key
from tests.unit import sampler_fixtures as fx

W, H = 64, 48
N = 5  # one segment


def scale_patch(strength: float):
    """A patches['double_block'] patch holding its strength in a closure (as most nodes do)."""

    def patch(args):
        return {"img": args["img"] * strength if args["block_index"] == 4 else args["img"]}

    return patch


def scaled(args, strength=1.0):
    return {"img": args["img"] * strength if args["block_index"] == 4 else args["img"]}


class Scaler:
    """A callable patch object keeping its strength private."""

    def __init__(self, strength):
        self._strength = strength

    def __call__(self, args):
        return {"img": args["img"] * self._strength if args["block_index"] == 4 else args["img"]}

    def method(self, args):
        return self(args)


def scaling_wrapper(executor, *args, strength=1.0, **kwargs):
    return executor(*args, **kwargs) * strength


def test_content_key_sees_captured_state():
    assert content_key(scale_patch(0.5)) == content_key(scale_patch(0.5))  # rebuilt alike: same key
    assert content_key(scale_patch(0.5)) != content_key(scale_patch(0.7))  # closure cell
    assert content_key(functools.partial(scaled, strength=0.5)) != content_key(functools.partial(scaled, strength=0.7))
    assert content_key(functools.partial(scaled, 1)) != content_key(functools.partial(scaled, 2))  # partial args
    assert content_key(Scaler(0.5)) != content_key(Scaler(0.7))  # callable object, private attribute
    assert content_key(Scaler(0.5).method) != content_key(Scaler(0.7).method)  # bound method's object
    assert content_key(Scaler(0.5).method) == content_key(Scaler(0.5).method)

    def other_body(args):  # same name, another computation
        return {"img": args["img"] * 2}

    def same_name(args):
        return {"img": args["img"]}

    other_body.__qualname__ = same_name.__qualname__
    assert content_key(other_body) != content_key(same_name)


@pytest.fixture(scope="module")
def engine():
    return fx.engine_module()


@pytest.fixture(scope="module")
def animate():
    return fx.load_tiny("animate")


@pytest.fixture(scope="module")
def vae():
    return fx.load_tiny("vae")


def _key(engine, model, vae):
    return engine.run_key(
        model,
        vae,
        fx.text_conditioning(1),
        fx.text_conditioning(2),
        None,
        fx.reference_image(),
        fx.moving_person(N),
        fx.face_track(N),
        {"seed": 1},
    )


def _with(animate, patch=None, wrapper=None):
    model = animate.clone()
    if patch is not None:
        model.set_model_double_block_patch(patch)
    if wrapper is not None:
        model.add_wrapper_with_key(daf.DIFFUSION_MODEL_WRAPPER, "test-scale", wrapper)
    return model


def test_run_key_follows_patch_strengths(engine, animate, vae):
    half = _key(engine, _with(animate, scale_patch(0.5)), vae)
    assert half == _key(engine, _with(animate, scale_patch(0.5)), vae)  # a resume finds its folder
    assert half != _key(engine, _with(animate, scale_patch(0.7)), vae)
    assert half != _key(engine, animate, vae)
    part = _key(engine, _with(animate, functools.partial(scaled, strength=0.5)), vae)
    assert part != _key(engine, _with(animate, functools.partial(scaled, strength=0.7)), vae)
    wrapped = _key(engine, _with(animate, wrapper=functools.partial(scaling_wrapper, strength=0.9)), vae)
    assert wrapped != _key(engine, _with(animate, wrapper=functools.partial(scaling_wrapper, strength=1.1)), vae)
    assert wrapped != _key(engine, animate, vae)  # DIFFUSION_MODEL wrappers count too


def _shifted(animate, shift: float):
    """The MODEL with a flow shift, as core ModelSamplingSD3 makes it (an object patch)."""
    import comfy.model_sampling as ms

    class ModelSamplingAdvanced(ms.ModelSamplingDiscreteFlow, ms.CONST):
        pass

    sampling = ModelSamplingAdvanced(animate.model.model_config)
    sampling.set_parameters(shift=shift, multiplier=1000)
    model = animate.clone()
    model.add_object_patch("model_sampling", sampling)
    return model


def test_run_key_follows_object_patches(engine, animate, vae):
    five = _key(engine, _shifted(animate, 5.0), vae)
    assert five == _key(engine, _shifted(animate, 5.0), vae)
    assert five != _key(engine, _shifted(animate, 8.0), vae) and five != _key(engine, animate, vae)


def holding(model):
    """A patch that keeps the MODEL itself (as patch nodes that look up its model sampling do)."""

    def patch(args):
        return {"img": args["img"] * (1.0 if model.model_options is not None else 0.0)}

    return patch


def test_a_patch_holding_the_model_keys_alike_loaded_or_not(engine, animate, vae, tmp_path):
    """The MODEL captured by a patch counts by its weights as loaded from the file and its
    patches, not by whether the host has baked its LoRA in right now."""
    import comfy.sd

    from tests.assets import tiny_lora, tiny_wan

    path = tiny_lora.write_tiny_lora(tiny_wan.ensure_assets()["animate"], str(tmp_path / "lora.safetensors"))
    lora = comfy.sd.load_lora_for_models(
        fx.load_tiny("animate"), None, fx.host_modules().utils.load_torch_file(path), 1.0, 0
    )[0]
    model = _with(animate, holding(lora))
    unloaded = _key(engine, model, vae)
    lora.patch_model(device_to=torch.device("cpu"), lowvram_model_memory=0)
    try:
        assert lora.backup  # the LoRA is in the live weights now
        assert _key(engine, model, vae) == unloaded
    finally:
        lora.unpatch_model(device_to=torch.device("cpu"))
    assert unloaded != _key(engine, _with(animate, holding(fx.load_tiny("animate"))), vae)  # another MODEL held


def _run(engine, model, vae, root):
    with torch.inference_mode():
        return engine.sample_segments(
            model,
            vae,
            fx.text_conditioning(1),
            fx.text_conditioning(2),
            fx.reference_image(),
            fx.moving_person(N),
            fx.face_track(N),
            3,
            1,
            1.5,
            "euler",
            "simple",
            W,
            H,
            segment_length=N,
            motion_frames=1,
            face_strength=0.0,
            cache_name="strength",
            cache_root=str(root),
        )


def test_a_new_closure_strength_samples_again(engine, animate, vae, tmp_path):
    first, summary = _run(engine, _with(animate, scale_patch(1.3)), vae, tmp_path)
    assert "0 from the cache, 1 sampled now" in summary
    again, summary = _run(engine, _with(animate, scale_patch(1.3)), vae, tmp_path)
    assert again.folder == first.folder and "1 from the cache, 0 sampled now" in summary
    other, summary = _run(engine, _with(animate, scale_patch(0.6)), vae, tmp_path)
    assert other.folder != first.folder and "0 from the cache, 1 sampled now" in summary
    a, b = (np.load(os.path.join(h.folder, "seg_00000.frames.npy")) for h in (first, other))
    assert np.abs(a.astype(int) - b.astype(int)).max() > 2  # the strength changes the frames
