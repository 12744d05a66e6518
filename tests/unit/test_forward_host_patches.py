"""The DreamActor forward follows the host: every patch kind the test host (ComfyUI 0.3.75)
supports, installed on the user's MODEL, acts in the DreamActor Sampler's model as in the
host's own Wan-Animate forward; core context windows are refused before any work.

Through the host's sampler (``comfy.sample.sample``: cond + uncond batched, the MODEL's
``model_options``), tiny real-layout checkpoint, fp32 on CPU. Patch kinds:

- ``patches_replace['dit'][('double_block', i)]`` (block replace, ``set_model_patch_replace``);
- ``transformer_options['rope_options']`` (``set_model_rope_options``);
- ``transformer_options['optimized_attention_override']`` (every attention call);
- DIFFUSION_MODEL wrappers added before and after the DreamActor one (TeaCache-style);
- ``patches['double_block']`` after each block, with ``block_index``, ``total_blocks``,
  ``block_type`` and ``grid_sizes`` in transformer_options, as the newest core's
  ``WanModel.forward_orig`` passes them (0.3.75 does not call them: the native side gets
  the same change as a block replace, which the test host runs).
"""

from __future__ import annotations

import sys
import types

import pytest
import torch

from models.dit import forward as daf
from models.dit.conds import empty_latent, reference_concat
from tests.unit import sampler_fixtures as fx

H = W = 4  # latent size
FRAMES = 2  # generated latent frames
PATCHED_BLOCK = 3  # replaced in both forwards
AFTER_BLOCK = 7  # the double_block patch acts here (not a Face Attn block)


@pytest.fixture(scope="module")
def host():
    return fx.host_modules()


@pytest.fixture(scope="module")
def animate():
    return fx.load_tiny("animate")


def _randn(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _conds():
    """Host-style positive/negative of one window (WanAnimateToVideo's values, no face)."""
    image, mask = reference_concat(_randn(1, 16, 1, H, W, seed=18), _randn(1, 16, FRAMES, H, W, seed=19), 0)
    values = dict(concat_latent_image=image, concat_mask=mask, pose_video_latent=_randn(1, 16, FRAMES, H, W, seed=4))
    return [[_randn(1, 8, 4096, seed=2), dict(values)]], [[_randn(1, 8, 4096, seed=3), dict(values)]]


def _sample(host, patcher):
    latent = empty_latent(1, 1, FRAMES, H, W)
    noise = host.sample.prepare_noise(latent, 42)
    pos, neg = _conds()
    with torch.inference_mode():
        return host.sample.sample(
            patcher, noise, 1, 2.5, "euler", "simple", pos, neg, latent, disable_pbar=True, seed=42
        )


def recorder():
    """Patches and wrappers that change the result and record how they were called. Plain
    functions (closures), not bound methods: the host deep-copies model_options on clone,
    which would copy a method's object and its records with it."""
    calls = {"replace": 0, "attention": 0, "outer": 0, "inner": 0, "after": []}

    def replace(args, extra):
        calls["replace"] += 1
        return {"img": extra["original_block"](args)["img"] * 0.9}

    def emulated_after(args, extra):  # the native side of the double_block patch
        return {"img": extra["original_block"](args)["img"] * 1.05}

    def after(args):
        to = args["transformer_options"]
        calls["after"].append((args["block_index"], to["block_index"], to["total_blocks"], to["block_type"]))
        calls["grid"] = tuple(to["grid_sizes"])
        calls["x_input"] = tuple(args["x"].shape)
        return {"img": args["img"] * 1.05 if args["block_index"] == AFTER_BLOCK else args["img"]}

    def attention(func, *args, **kwargs):
        calls["attention"] += 1
        return func(*args, **kwargs) * 0.98

    def outer(executor, *args, **kwargs):
        calls["outer"] += 1
        return executor(*args, **kwargs) * 1.01

    def inner(executor, *args, **kwargs):
        calls["inner"] += 1
        return executor(*args, **kwargs) + 0.01

    return types.SimpleNamespace(
        calls=calls, **{f.__name__: f for f in (replace, emulated_after, after, attention, outer, inner)}
    )


def _patched(host, animate, rec, native: bool):
    """The user's MODEL with every patch kind; the DreamActor clone of it unless ``native``."""
    model = animate.clone()
    model.set_model_patch_replace(rec.replace, "dit", "double_block", PATCHED_BLOCK)
    model.set_model_rope_options(1.0, 0.5, 1.0, 0.25, 1.0, 0.0)
    model.model_options["transformer_options"]["optimized_attention_override"] = rec.attention
    model.add_wrapper_with_key(daf.DIFFUSION_MODEL_WRAPPER, "test-outer", rec.outer)
    if native:
        model.set_model_patch_replace(rec.emulated_after, "dit", "double_block", AFTER_BLOCK)
    else:
        model.set_model_double_block_patch(rec.after)
        model = daf.install_dreamactor(model, daf.DreamActorSettings())
    model.add_wrapper_with_key(daf.DIFFUSION_MODEL_WRAPPER, "test-inner", rec.inner)  # after ours: inner
    return model


def test_every_host_patch_kind_acts_as_in_the_native_forward(host, animate):
    plain_native, plain_ours = (
        _sample(host, animate),
        _sample(host, daf.install_dreamactor(animate, daf.DreamActorSettings())),
    )
    assert (plain_ours - plain_native).abs().max().item() <= 1e-5

    theirs, ours = recorder(), recorder()
    native = _sample(host, _patched(host, animate, theirs, native=True))
    mine = _sample(host, _patched(host, animate, ours, native=False))
    assert (native - plain_native).abs().max().item() > 1e-2  # the patches change the result
    assert (mine - native).abs().max().item() <= 1e-5
    for kind in ("replace", "attention", "outer", "inner"):
        assert ours.calls[kind] == theirs.calls[kind] > 0, kind
    blocks = len(animate.model.diffusion_model.blocks)
    assert ours.calls["after"] == [(i, i, blocks, "double") for i in range(blocks)]  # one model call (cond+uncond)
    assert ours.calls["grid"] == (1 + FRAMES, H // 2, W // 2)
    assert ours.calls["x_input"] == (2, 36, 1 + FRAMES, H, W)


def _context_windows_node():
    """Core ``ContextWindowsManual`` (comfy_extras.nodes_context_windows imports the host's
    top-level ``nodes``, whose name is also this pack's folder: lent while it imports)."""
    wan = fx.core_wan_nodes()
    if "comfy_extras.nodes_context_windows" not in sys.modules:
        saved = sys.modules.get("nodes")
        sys.modules["nodes"] = wan.nodes
        try:
            import comfy_extras.nodes_context_windows  # noqa: F401
        finally:
            if saved is not None:
                sys.modules["nodes"] = saved
            else:
                sys.modules.pop("nodes", None)
    return sys.modules["comfy_extras.nodes_context_windows"].ContextWindowsManualNode


def test_core_context_windows_are_refused_before_any_work(animate, tmp_path):
    node = _context_windows_node()
    windowed = node.execute(animate, 16, 4, "standard_static", 1, False, "pyramid", 0).result[0]
    assert windowed.model_options.get("context_handler") is not None
    engine = fx.engine_module()
    with pytest.raises(Exception) as err:
        engine.sample_segments(
            windowed,
            fx.load_tiny("vae"),
            fx.text_conditioning(1),
            fx.text_conditioning(2),
            fx.reference_image(),
            fx.moving_person(5),
            fx.face_track(5),
            0,
            1,
            1.0,
            "euler",
            "simple",
            64,
            48,
            cache_root=str(tmp_path),
        )
    assert type(err.value).__name__ == "DreamActorError"
    assert "Context Windows (Manual)" in str(err.value) and "input 'model'" in str(err.value)
    assert not (tmp_path / "dreamactor_segments").exists()
