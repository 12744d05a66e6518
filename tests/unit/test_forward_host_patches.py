"""The DreamActor forward against the host's OWN Wan-Animate forward (ComfyUI 0.3.75's
``AnimateWanModel``, tiny real-layout checkpoint loaded by the host's loader), both run by the
host's sampler (``comfy.sample.sample``: cond + uncond batched, the MODEL's ``model_options``)
with the same patches, fp32 on CPU, with 1 and 3 reference frames. Core context windows are
refused before any work.

Patch kinds, on the user's MODEL before the DreamActor clone is made:

- ``patches_replace['dit'][('double_block', i)]`` (block replace);
- ``transformer_options['rope_options']`` and ``['optimized_attention_override']``;
- DIFFUSION_MODEL wrappers before and after the DreamActor one (TeaCache-style);
- a ``model_function_wrapper`` (the sampler-level unet wrapper);
- a Uni3C-style ``patches['double_block']`` after block 7 that adds a projection of the
  patch's ``x`` (the video part of the model input) to the tokens from ``img_offset`` on.
  No core Wan-Animate forward calls these (0.3.75 and the newest core alike; the newest
  base WanModel and Wan-Animate-2 do, with ``x`` the video input and ``img_offset`` the
  reference slot's token count). The host side gets the same residual from a block replace
  that computes it from the host's own input (seen by an outer DIFFUSION_MODEL wrapper) at
  the host's own token layout (k reference frames of H/2 * W/2 tokens first): if the pack
  passed other frames or another offset, the outputs would differ.

k reference frames: the host's Wan-Animate forward knows one reference frame (pose from
latent frame 1 on, one zero face-token frame). For k = 3 the host's forward is run as it is,
only its own ``after_patch_embedding`` called on the frames from k - 1 on (its pose and face
offsets then fall on frame k) and its face tokens given k - 1 more zero frames in front: the
blocks, Face Attn, patches, head and sampler are the host's.
"""

from __future__ import annotations

import contextlib
import sys
import types

import pytest
import torch
import torch.nn.functional as F

from models.dit import forward as daf
from models.dit.conds import empty_latent, reference_concat
from tests.unit import sampler_fixtures as fx

H = W = 4  # latent size
HW = (H // 2) * (W // 2)  # tokens per latent frame
FRAMES = 2  # generated latent frames
PATCHED_BLOCK = 3  # replaced in both forwards
AFTER_BLOCK = 7  # the double_block patch acts here (not a Face Attn block)
ATOL = 1e-5


@pytest.fixture(scope="module")
def host():
    return fx.host_modules()


@pytest.fixture(scope="module")
def animate():
    return fx.load_tiny("animate")


def _randn(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _conds(k: int, face: bool = True):
    """Host-style positive/negative of one window with k references (WanAnimateToVideo's values;
    one 512x512 face crop each: the host's negative face is all -1)."""
    image, mask = reference_concat(_randn(1, 16, k, H, W, seed=18), _randn(1, 16, FRAMES, H, W, seed=19), 0)
    values = dict(concat_latent_image=image, concat_mask=mask, pose_video_latent=_randn(1, 16, FRAMES, H, W, seed=4))
    crop = torch.rand(1, 3, 1, 512, 512, generator=torch.Generator().manual_seed(6)) * 2 - 1
    pos = dict(values, **({"face_video_pixels": crop} if face else {}))
    neg = dict(values, **({"face_video_pixels": -torch.ones_like(crop)} if face else {}))
    return [[_randn(1, 8, 4096, seed=2), pos]], [[_randn(1, 8, 4096, seed=3), neg]]


def _sample(host, patcher, k: int, face: bool = True):
    latent = empty_latent(1, k, FRAMES, H, W)
    noise = host.sample.prepare_noise(latent, 42)
    pos, neg = _conds(k, face)
    with torch.inference_mode():
        return host.sample.sample(
            patcher, noise, 1, 2.5, "euler", "simple", pos, neg, latent, disable_pbar=True, seed=42
        )


@contextlib.contextmanager
def host_references(dm, k: int):
    """The host's forward with its one-reference offsets moved to frame k (module docstring)."""
    if k == 1:
        yield
        return
    own = dm.after_patch_embedding

    def shifted(x, pose_latents, face_pixel_values):
        _, motion = own(x[:, :, k - 1 :], pose_latents, face_pixel_values)  # adds pose into x's view
        if motion is not None:
            motion = torch.cat([motion.new_zeros(motion.shape[0], k - 1, *motion.shape[2:]), motion], dim=1)
        return x, motion

    dm.after_patch_embedding = shifted
    try:
        yield
    finally:
        del dm.after_patch_embedding


PROJECTION = _randn(256, 16, 1, 2, 2, seed=31) * 0.05  # the Uni3C-style patch's (D, 16, 1, 2, 2) map


def residual(video_input: torch.Tensor) -> torch.Tensor:
    """(B, C_in, T', H, W) video input -> (B, T' * HW, D) tokens to add (from its noise channels)."""
    return F.conv3d(video_input[:, :16].float(), PROJECTION, stride=(1, 2, 2)).flatten(2).transpose(1, 2)


def add_at(img: torch.Tensor, tokens: torch.Tensor, offset: int) -> torch.Tensor:
    out = img.clone()
    out[:, offset : offset + tokens.shape[1]] += tokens.to(img.dtype)
    return out


def recorder(k: int, host_offset=None):
    """Patches and wrappers that change the result and record how they were called. Plain
    functions (closures), not bound methods: the host deep-copies model_options on clone,
    which would copy a method's object and its records with it. ``host_offset``: where the
    host-side block replace adds the residual (default: after the k reference frames)."""
    calls = {"replace": 0, "attention": 0, "outer": 0, "inner": 0, "unet": 0, "after": []}
    seen = {}
    host_offset = k * HW if host_offset is None else host_offset

    def replace(args, extra):
        calls["replace"] += 1
        return {"img": extra["original_block"](args)["img"] * 0.9}

    def host_after(args, extra):  # the host side of the after-block patch: its own input and layout
        img = extra["original_block"](args)["img"]
        return {"img": add_at(img, residual(seen["x"][:, :, k:]), host_offset)}

    def after(args):
        to = args["transformer_options"]
        calls["after"].append((args["block_index"], to["block_index"], to["total_blocks"], to["block_type"]))
        calls["grid"] = tuple(to["grid_sizes"])
        calls["x"] = tuple(args["x"].shape)
        calls["img_offset"] = args["img_offset"]
        if args["block_index"] != AFTER_BLOCK:
            return {"img": args["img"]}
        return {"img": add_at(args["img"], residual(args["x"]), args["img_offset"])}

    def attention(func, *args, **kwargs):
        calls["attention"] += 1
        return func(*args, **kwargs) * 0.98

    def outer(executor, x, *args, **kwargs):
        calls["outer"] += 1
        seen["x"] = x  # the model input, as the host's forward receives it
        return executor(x, *args, **kwargs) * 1.01

    def inner(executor, *args, **kwargs):
        calls["inner"] += 1
        return executor(*args, **kwargs) + 0.01

    def unet(apply_model, args):
        calls["unet"] += 1
        return apply_model(args["input"], args["timestep"], **args["c"]) * 0.97

    fns = (replace, host_after, after, attention, outer, inner, unet)
    return types.SimpleNamespace(calls=calls, **{f.__name__: f for f in fns})


def _patched(animate, rec, k: int, native: bool):
    """The user's MODEL with every patch kind; the DreamActor clone of it unless ``native``."""
    model = animate.clone()
    model.set_model_patch_replace(rec.replace, "dit", "double_block", PATCHED_BLOCK)
    model.set_model_rope_options(1.0, 0.5, 1.0, 0.25, 1.0, 0.0)
    model.model_options["transformer_options"]["optimized_attention_override"] = rec.attention
    model.add_wrapper_with_key(daf.DIFFUSION_MODEL_WRAPPER, "test-outer", rec.outer)
    model.set_model_unet_function_wrapper(rec.unet)
    if native:
        model.set_model_patch_replace(rec.host_after, "dit", "double_block", AFTER_BLOCK)
    else:
        model.set_model_double_block_patch(rec.after)
        model = daf.install_dreamactor(model, daf.DreamActorSettings(num_references=k))
    model.add_wrapper_with_key(daf.DIFFUSION_MODEL_WRAPPER, "test-inner", rec.inner)  # after ours: inner
    return model


@pytest.mark.parametrize("k", [1, 3])
def test_the_hosts_own_forward_with_every_patch_kind(host, animate, k):
    dm = animate.model.diffusion_model
    ours_plain = daf.install_dreamactor(animate, daf.DreamActorSettings(num_references=k))
    with host_references(dm, k):
        native_plain = _sample(host, animate, k)
        theirs = recorder(k)
        native = _sample(host, _patched(animate, theirs, k, native=True), k)
    ours = recorder(k)
    mine = _sample(host, _patched(animate, ours, k, native=False), k)

    assert native_plain.shape == (1, 16, k + FRAMES, H, W) and native_plain.std() > 0.1
    assert (_sample(host, ours_plain, k) - native_plain).abs().max().item() <= ATOL
    assert (native - native_plain).abs().max().item() > 1e-2  # the patches change the result
    assert (mine - native).abs().max().item() <= ATOL
    for kind in ("replace", "attention", "outer", "inner", "unet"):
        assert ours.calls[kind] == theirs.calls[kind] > 0, kind
    blocks = len(dm.blocks)
    assert ours.calls["after"] == [(i, i, blocks, "double") for i in range(blocks)]  # one model call (cond+uncond)
    assert ours.calls["grid"] == (k + FRAMES, H // 2, W // 2)
    assert ours.calls["x"] == (2, 36, FRAMES, H, W)  # the video frames of the input, references excluded
    assert ours.calls["img_offset"] == k * HW  # the reference frames' tokens come first


def test_a_patch_at_offset_zero_would_not_match(host, animate):
    """The comparison above sees the offset: the host-side residual put at token 0 (where the
    pack used to say the video starts) gives another result than the pack's."""
    k = 3
    dm = animate.model.diffusion_model
    with host_references(dm, k):
        right = _sample(host, _patched(animate, recorder(k), k, native=True), k, face=False)
        wrong = _sample(host, _patched(animate, recorder(k, host_offset=0), k, native=True), k, face=False)
    mine = _sample(host, _patched(animate, recorder(k), k, native=False), k, face=False)
    assert (mine - right).abs().max().item() <= ATOL
    assert (mine - wrong).abs().max().item() > 1e-3


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
