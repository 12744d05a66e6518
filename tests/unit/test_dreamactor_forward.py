"""The DreamActor forward on the host's real Wan-Animate model (tiny random checkpoint).

The checkpoints are built in the real key layout (tests/assets/tiny_wan.py) and
loaded through the host's real loaders; the host's native forward and sampler are
the references. fp32 on CPU. The motion encoder needs 512x512 face crops (~1 s
per crop here), so pixel-path tests use one face frame and tokens are cached.
"""

from __future__ import annotations

import copy
import types

import pytest
import torch

from models.core.errors import DreamActorError
from models.dit import forward as daf
from models.dit.conds import concat_mask, empty_latent, reference_concat
from tests import host_import
from tests.assets import tiny_wan

ATOL = 1e-5
H = W = 4  # latent size (32x32 pixels)
FRAMES = 2  # generated latent frames (a 5-frame window)
TEXT_LEN = 8


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def host():
    """The host's modules, imported once the host is on the path (never at collection)."""
    host_import.comfy()
    import comfy.conds
    import comfy.model_management
    import comfy.patcher_extension
    import comfy.sample
    import comfy.sd
    import comfy.utils

    return types.SimpleNamespace(
        sd=comfy.sd,
        utils=comfy.utils,
        sample=comfy.sample,
        conds=comfy.conds,
        patcher_extension=comfy.patcher_extension,
        mm=comfy.model_management,
    )


@pytest.fixture(scope="module")
def assets():
    return tiny_wan.ensure_assets()


@pytest.fixture(scope="module")
def animate(host, assets):
    """ModelPatcher of the tiny Wan-Animate file, loaded like UNETLoader does, fp32."""
    return host.sd.load_diffusion_model(assets["animate"], model_options={"dtype": torch.float32})


@pytest.fixture(scope="module")
def dm(animate):
    return animate.model.diffusion_model


@pytest.fixture(scope="module")
def t2v(host, assets):
    return host.sd.load_diffusion_model(assets["t2v"], model_options={"dtype": torch.float32})


def _randn(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def inputs():
    """One reference + 2 generated latent frames; a face crop for the first window frame."""
    return types.SimpleNamespace(
        x=_randn(1, 36, 1 + FRAMES, H, W, seed=1),
        t=torch.tensor([700.0]),
        context=_randn(1, TEXT_LEN, 4096, seed=2),
        clip=_randn(1, 257, 1280, seed=3),
        pose=_randn(1, 16, FRAMES, H, W, seed=4),
        pose2=_randn(1, 16, FRAMES, H, W, seed=5),
        face=torch.rand(1, 3, 1, 512, 512, generator=torch.Generator().manual_seed(6)) * 2 - 1,
    )


@pytest.fixture(scope="module")
def tokens(dm, inputs):
    """Face tokens of the driving crop (alone, as the host's batch-1 forward encodes it) and
    of the crop + the host's negative crop (all -1) encoded together, as the sampler
    batches cond and uncond: conv results differ by ~1e-6 with the batch make-up."""
    with torch.inference_mode():
        pair = daf.encode_face(dm, torch.cat([inputs.face, -torch.ones_like(inputs.face)]))
        return types.SimpleNamespace(pos=daf.encode_face(dm, inputs.face), batch_pos=pair[:1], neg=pair[1:])


def host_forward(dm, i, **kw):
    with torch.inference_mode():
        return dm(i.x, i.t, i.context, clip_fea=i.clip, **kw)


def da_forward(dm, i, **kw):
    with torch.inference_mode():
        return daf.dreamactor_forward(dm, i.x, i.t, i.context, clip_fea=i.clip, **kw)


def maxdiff(a, b):
    return (a - b).abs().max().item()


# ---------------------------------------------------------------- the tiny checkpoints


def test_animate_layout_is_the_real_one(dm):
    real = tiny_wan.animate_layout(tiny_wan.ANIMATE_14B)
    assert len(real) == 1441  # tensors in the real wan2.2_animate_14B header
    assert sum(k.startswith(("motion_encoder.", "face_adapter.")) for k in real) == 127
    host_layout = {k: tuple(v.shape) for k, v in dm.state_dict().items()}
    assert host_layout == tiny_wan.animate_layout(tiny_wan.TINY_ANIMATE)  # no missing, no extra key


def test_tiny_animate_loads_as_wan_animate(animate, dm, assets, host):
    assert type(animate.model).__name__ == "WAN22_Animate"
    assert type(dm).__name__ == "AnimateWanModel"
    assert (dm.dim, dm.num_heads, len(dm.blocks), dm.in_dim) == (256, 2, 10, 36)
    assert len(dm.face_adapter.fuser_blocks) == 2  # after blocks 0 and 5
    assert all(p.dtype == torch.float32 for p in dm.parameters())
    stored = host.utils.load_torch_file(assets["animate"])
    for key in (
        "blocks.7.cross_attn.k_img.weight",
        "face_adapter.fuser_blocks.1.linear2.bias",
        "motion_encoder.enc.net_app.convs.3.conv2.0.kernel",
        "pose_patch_embedding.weight",
    ):
        assert torch.equal(dm.state_dict()[key], stored[key].float()), key


def test_tiny_t2v_loads_as_plain_wan21(t2v):
    assert type(t2v.model).__name__ == "WAN21"
    assert t2v.model.diffusion_model.model_type == "t2v"
    layout = {k: tuple(v.shape) for k, v in t2v.model.diffusion_model.state_dict().items()}
    assert layout == tiny_wan.wan_dit_layout(tiny_wan.TINY_T2V)


def test_tiny_vae_loads_as_wan21_vae(host, assets):
    vae = host.sd.VAE(sd=host.utils.load_torch_file(assets["vae"]))  # what VAELoader does
    assert type(vae.first_stage_model).__name__ == "WanVAE" and vae.latent_channels == 16
    layout = {k: tuple(v.shape) for k, v in vae.first_stage_model.state_dict().items()}
    assert layout == tiny_wan.wan21_vae_layout(tiny_wan.TINY_VAE)
    assert len(tiny_wan.wan21_vae_layout(tiny_wan.WAN21_VAE)) == len(layout)
    with torch.inference_mode():
        latent = vae.encode(torch.rand(5, 32, 32, 3))
        assert latent.shape == (1, 16, 2, 4, 4) and torch.isfinite(latent).all()
        assert vae.decode(latent).shape[-4:] == (5, 32, 32, 3)


# ---------------------------------------------------------------- parity with the host


def test_parity_with_host_forward(dm, inputs, tokens):
    ref = host_forward(dm, inputs, pose_latents=inputs.pose, face_pixel_values=inputs.face)
    out = da_forward(dm, inputs, pose_latents=inputs.pose, face_tokens=tokens.pos)
    assert out.shape == ref.shape == (1, 16, 1 + FRAMES, H, W)
    assert ref.std() > 0.1 and torch.isfinite(ref).all()
    assert maxdiff(out, ref) <= ATOL


def test_parity_honours_block_patches(dm, inputs):
    calls = []

    def patch(args, extra):
        calls.append(args["img"].shape)
        return {"img": extra["original_block"](args)["img"] * 0.9}

    opts = {"patches_replace": {"dit": {("double_block", 3): patch}}}
    ref = host_forward(dm, inputs, pose_latents=inputs.pose, transformer_options=opts)
    out = da_forward(dm, inputs, pose_latents=inputs.pose, transformer_options=opts)
    assert len(calls) == 2
    assert maxdiff(out, ref) <= ATOL
    assert maxdiff(out, host_forward(dm, inputs, pose_latents=inputs.pose)) > 1e-3


def test_precomputed_tokens_equal_face_crops(host, dm, inputs, tokens):
    wrapper = daf.DreamActorWrapper(daf.DreamActorSettings())
    executor = host.patcher_extension.WrapperExecutor.new_class_executor(None, dm, [wrapper])
    with torch.inference_mode():
        crops = wrapper(
            executor,
            inputs.x,
            inputs.t,
            inputs.context,
            inputs.clip,
            None,
            {},
            pose_latents=inputs.pose,
            face_pixel_values=inputs.face,
        )
        toks = wrapper(
            executor,
            inputs.x,
            inputs.t,
            inputs.context,
            inputs.clip,
            None,
            {},
            pose_latents=inputs.pose,
            **{daf.FACE_TOKENS_KEY: tokens.pos},
        )
    assert maxdiff(crops, toks) <= ATOL


def test_face_motion_then_tokens_per_window(dm, inputs, tokens):
    with torch.inference_mode():
        motion = daf.encode_face_motion(dm, inputs.face)
        assert motion.shape == (1, 1, 512)
        assert torch.equal(daf.face_tokens_from_motion(dm, motion), tokens.pos)
        window = daf.face_tokens_from_motion(dm, _randn(1, 9, 512, seed=7))
    assert window.shape == (1, 3, 5, 256)  # 9 video frames -> 3 latent frames, 4 heads + padding token


# ---------------------------------------------------------------- strengths


def test_face_strength_zero_is_the_model_without_face_adapter(dm, inputs, tokens):
    no_face = host_forward(dm, inputs, pose_latents=inputs.pose)
    zero = da_forward(
        dm, inputs, pose_latents=inputs.pose, face_tokens=tokens.pos, settings=daf.DreamActorSettings(face_strength=0.0)
    )
    full = da_forward(dm, inputs, pose_latents=inputs.pose, face_tokens=tokens.pos)
    half = da_forward(
        dm, inputs, pose_latents=inputs.pose, face_tokens=tokens.pos, settings=daf.DreamActorSettings(face_strength=0.5)
    )
    assert maxdiff(zero, no_face) <= ATOL
    assert maxdiff(full, no_face) > 1e-2 and maxdiff(half, full) > 1e-3 and maxdiff(half, no_face) > 1e-3


def test_face_strength_scales_the_adapter_residual(dm):
    x = _randn(1, 3 * 4, 256, seed=8)  # 3 latent frames of 2x2 patches
    face = _randn(1, 3, 5, 256, seed=9)
    with torch.inference_mode():
        full = daf.face_residual(dm, 5, x, face, 1.0) - x
        part = daf.face_residual(dm, 5, x, face, 0.3) - x
    assert full.abs().max() > 1e-2
    assert torch.allclose(part, 0.3 * full, atol=1e-6)


def test_pose_strength_zero_removes_the_pose_path(dm, inputs):
    no_pose = host_forward(dm, inputs)
    zero_a = da_forward(dm, inputs, pose_latents=inputs.pose, settings=daf.DreamActorSettings(pose_strength=0.0))
    zero_b = da_forward(dm, inputs, pose_latents=inputs.pose2, settings=daf.DreamActorSettings(pose_strength=0.0))
    assert maxdiff(zero_a, no_pose) <= ATOL
    assert torch.equal(zero_a, zero_b)  # pose changes do nothing at strength 0
    for strength in (1.0, 0.5):
        s = daf.DreamActorSettings(pose_strength=strength)
        a = da_forward(dm, inputs, pose_latents=inputs.pose, settings=s)
        b = da_forward(dm, inputs, pose_latents=inputs.pose2, settings=s)
        assert maxdiff(a, b) > 1e-2, strength  # ... and matter when it is > 0
        assert maxdiff(a, no_pose) > 1e-2, strength


@pytest.mark.parametrize("bad", [dict(face_strength=-1.0), dict(pose_strength=float("nan")), dict(num_references=0)])
def test_settings_reject_bad_values(bad):
    with pytest.raises(DreamActorError):
        daf.DreamActorSettings(**bad)


# ---------------------------------------------------------------- several references


def test_align_face_tokens_pads_references_and_tail():
    tok = torch.arange(1, 3, dtype=torch.float32).view(1, 2, 1, 1).expand(1, 2, 5, 4)
    out = daf.align_face_tokens(tok, num_references=3, num_frames=6)
    assert out.shape == (1, 6, 5, 4)
    assert out[:, :, 0, 0].tolist() == [[0, 0, 0, 1, 2, 0]]
    assert daf.align_face_tokens(tok, 3, 4)[:, :, 0, 0].tolist() == [[0, 0, 0, 1]]


def test_pose_lands_after_the_references(dm):
    k, frames = 2, 3
    x = _randn(1, 36, k + frames, H, W, seed=10)
    pose = _randn(1, 16, frames, H, W, seed=11)
    settings = daf.DreamActorSettings(num_references=k)
    with torch.inference_mode():
        added = daf.embed_patches(dm, x, pose, settings) - daf.embed_patches(dm, x, None, settings)
        expected = dm.pose_patch_embedding(pose)
    assert added[:, :, :k].abs().max() == 0
    assert torch.allclose(added[:, :, k:], expected, atol=1e-5)


def test_face_attn_sees_zero_tokens_on_every_reference(dm, inputs):
    k, frames = 3, 2
    x = _randn(1, 36, k + frames, H, W, seed=12)
    face = _randn(1, frames, 5, 256, seed=13)
    seen = []
    hook = dm.face_adapter.fuser_blocks[0].register_forward_pre_hook(lambda m, args: seen.append(args[1].clone()))
    try:
        with torch.inference_mode():
            daf.dreamactor_forward(
                dm,
                x,
                inputs.t,
                inputs.context,
                clip_fea=inputs.clip,
                face_tokens=face,
                settings=daf.DreamActorSettings(num_references=k),
            )
    finally:
        hook.remove()
    assert len(seen) == 1 and seen[0].shape == (1, k + frames, 5, 256)
    assert seen[0][:, :k].abs().max() == 0
    assert torch.equal(seen[0][:, k:], face)


def test_generated_frames_attend_to_every_reference(dm, inputs):
    k = 2
    settings = daf.DreamActorSettings(num_references=k)
    x = _randn(1, 36, k + FRAMES, H, W, seed=14)
    x_other_ref0 = x.clone()
    x_other_ref0[:, :, 0] = _randn(1, 36, H, W, seed=15)
    with torch.inference_mode():
        a = daf.dreamactor_forward(dm, x, inputs.t, inputs.context, clip_fea=inputs.clip, settings=settings)
        b = daf.dreamactor_forward(dm, x_other_ref0, inputs.t, inputs.context, clip_fea=inputs.clip, settings=settings)
    assert a.shape == (1, 16, k + FRAMES, H, W)
    assert maxdiff(a[:, :, k:], b[:, :, k:]) > 1e-3  # Ref Attn: the first reference shapes the video


def test_reference_concat_is_read_by_the_host_as_known_frames(animate, host):
    k, frames, known = 2, 3, 1
    refs, window = _randn(1, 16, k, H, W, seed=16), _randn(1, 16, frames, H, W, seed=17)
    image, mask = reference_concat(refs, window, known)
    assert image.shape == (1, 16, k + frames, H, W) and mask.shape == (1, 4, k + frames, H, W)
    noise = empty_latent(1, k, frames, H, W)
    c = animate.model.concat_cond(noise=noise, concat_latent_image=image, concat_mask=mask, device="cpu")
    assert c.shape == (1, 20, k + frames, H, W)  # the 20 extra input channels of Wan-Animate
    assert c[:, :4, : k + known].min() == 1 and c[:, :4, k + known :].max() == 0  # 1 = known for the model
    assert torch.allclose(c[:, 4:], animate.model.process_latent_in(image))
    with pytest.raises(DreamActorError):
        concat_mask(1, 2, 3, H, W)


# ---------------------------------------------------------------- installing on a MODEL


def _conditioning(inputs, context, **extras):
    values = {"clip_vision_output": types.SimpleNamespace(penultimate_hidden_states=inputs.clip)}
    values.update(extras)
    return [[context, values]]


def _animate_conds(inputs, refs=1, face=None, neg_face=None):
    """Host-style positive/negative for a 5-frame window (WanAnimateToVideo's values)."""
    image, mask = reference_concat(_randn(1, 16, refs, H, W, seed=18), _randn(1, 16, FRAMES, H, W, seed=19), 0)
    shared = dict(concat_latent_image=image, concat_mask=mask, pose_video_latent=inputs.pose)
    pos = dict(shared, **({"face_video_pixels": face} if face is not None else {}))
    neg = dict(shared, **({"face_video_pixels": neg_face} if neg_face is not None else {}))
    return (_conditioning(inputs, inputs.context, **pos), _conditioning(inputs, -inputs.context, **neg))


def _sample(host, patcher, positive, negative, refs=1, cfg=3.0, steps=1):
    latent = empty_latent(1, refs, FRAMES, H, W)
    noise = host.sample.prepare_noise(latent, 42)
    with torch.inference_mode():
        return host.sample.sample(
            patcher, noise, steps, cfg, "euler", "simple", positive, negative, latent, disable_pbar=True, seed=42
        )


def test_wrapper_type_is_the_hosts(host):
    assert daf.DIFFUSION_MODEL_WRAPPER == host.patcher_extension.WrappersMP.DIFFUSION_MODEL


def test_sampler_parity_tokens_vs_host_crops_with_cfg(host, animate, inputs, tokens):
    """Full KSampler path, cond + uncond batched: DreamActor clone with tokens == host with crops."""
    pos, neg = _animate_conds(inputs, face=inputs.face, neg_face=-torch.ones_like(inputs.face))
    ref = _sample(host, animate, pos, neg)
    clone = daf.install_dreamactor(animate, daf.DreamActorSettings())
    pos_t, neg_t = _animate_conds(inputs)
    pos_t = daf.attach_face_tokens(pos_t, tokens.batch_pos, host.conds.CONDRegular)
    neg_t = daf.attach_face_tokens(neg_t, tokens.neg, host.conds.CONDRegular)
    out = _sample(host, clone, pos_t, neg_t)
    assert torch.isfinite(ref).all() and ref.std() > 0.1
    assert maxdiff(out, ref) <= ATOL
    swapped = _sample(host, clone, daf.attach_face_tokens(pos_t, tokens.neg, host.conds.CONDRegular), neg_t)
    assert maxdiff(swapped, out) > 1e-3  # the positive's own tokens were used


def test_installer_leaves_the_users_model_alone(host, animate, inputs):
    pos, neg = _animate_conds(inputs)
    options_before = copy.deepcopy(animate.model_options)
    wrappers_before = {k: {k1: list(v1) for k1, v1 in v.items()} for k, v in animate.wrappers.items()}
    out_before = _sample(host, animate, pos, neg)

    clone = daf.install_dreamactor(animate, daf.DreamActorSettings(pose_strength=0.5))
    assert clone is not animate and clone.model is animate.model  # weights shared, not copied
    assert animate.model_options == options_before
    assert {k: {k1: list(v1) for k1, v1 in v.items()} for k, v in animate.wrappers.items()} == wrappers_before
    assert len(clone.get_wrappers(daf.DIFFUSION_MODEL_WRAPPER, daf.WRAPPER_KEY)) == 1

    out_clone = _sample(host, clone, pos, neg)
    out_after = _sample(host, animate, pos, neg)
    assert torch.equal(out_after, out_before)
    assert maxdiff(out_clone, out_before) > 1e-3

    again = daf.install_dreamactor(clone, daf.DreamActorSettings(pose_strength=0.0))
    assert len(again.get_wrappers(daf.DIFFUSION_MODEL_WRAPPER, daf.WRAPPER_KEY)) == 1  # replaced, not stacked
    assert clone.get_wrappers(daf.DIFFUSION_MODEL_WRAPPER, daf.WRAPPER_KEY)[0].settings.pose_strength == 0.5


def test_sampling_with_two_references(host, animate, inputs, tokens):
    clone = daf.install_dreamactor(animate, daf.DreamActorSettings(num_references=2))
    pos, neg = _animate_conds(inputs, refs=2)
    pos = daf.attach_face_tokens(pos, tokens.pos, host.conds.CONDRegular)
    neg = daf.attach_face_tokens(neg, tokens.neg, host.conds.CONDRegular)
    out = _sample(host, clone, pos, neg, refs=2)
    assert out.shape == (1, 16, 2 + FRAMES, H, W) and torch.isfinite(out).all()


def test_attach_face_tokens_keeps_other_model_conds():
    marker = object()
    cond = [[torch.zeros(1), {"model_conds": {"other": marker}, "x": 1}]]
    out = daf.attach_face_tokens(cond, torch.ones(1, 2, 5, 8), lambda t: ("wrapped", t.shape))
    assert out[0][1]["model_conds"]["other"] is marker and out[0][1]["x"] == 1
    assert out[0][1]["model_conds"][daf.FACE_TOKENS_KEY] == ("wrapped", (1, 2, 5, 8))
    assert daf.FACE_TOKENS_KEY not in cond[0][1]["model_conds"]  # input untouched


# ---------------------------------------------------------------- not Wan-Animate


def test_check_is_wan_animate_accepts_the_animate_model(animate, dm):
    assert daf.check_is_wan_animate(animate) is dm


def test_check_is_wan_animate_explains_a_t2v_model(t2v):
    with pytest.raises(DreamActorError) as err:
        daf.check_is_wan_animate(t2v)
    msg = str(err.value)
    assert err.value.input == "model"
    assert "WAN21 (t2v)" in msg and "not Wan2.2-Animate" in msg
    assert "wan2.2_animate_14B_bf16.safetensors" in msg and "models/diffusion_models" in msg
    with pytest.raises(DreamActorError):
        daf.install_dreamactor(t2v, daf.DreamActorSettings())
    with pytest.raises(DreamActorError):
        daf.check_is_wan_animate(torch.nn.Linear(2, 2))


def test_check_is_wan_animate_checks_what_the_forward_calls(dm):
    """A model with the Animate modules whose blocks do not take the keywords the forward passes
    is refused before sampling, naming what is missing."""

    class OldBlock(torch.nn.Module):
        def forward(self, x, e, freqs, context):
            return x

    parts = {name: getattr(dm, name) for name in daf.ANIMATE_MODULES + daf.WAN_PARTS}
    assert daf.missing_behaviour(types.SimpleNamespace(**parts)) == []
    parts["blocks"] = torch.nn.ModuleList([OldBlock()])
    with pytest.raises(DreamActorError) as err:
        daf.check_is_wan_animate(types.SimpleNamespace(**parts))
    assert "transformer_options" in str(err.value) and err.value.input == "model"
    del parts["motion_encoder"]
    assert daf.missing_behaviour(types.SimpleNamespace(**parts)) == ["motion_encoder"]


def test_unknown_model_inputs_are_refused(host, dm, inputs, tokens):
    """A model input the DreamActor forward would drop (another node's conditioning) is an error
    naming it; the inputs core's Wan forward itself ignores, and None values, pass."""
    wrapper = daf.DreamActorWrapper(daf.DreamActorSettings())
    executor = host.patcher_extension.WrapperExecutor.new_class_executor(None, dm, [wrapper])
    args = (inputs.x, inputs.t, inputs.context, inputs.clip, None, {})
    known = dict(pose_latents=inputs.pose, control=None, audio_embed=None, **{daf.FACE_TOKENS_KEY: tokens.pos})
    with torch.inference_mode():
        plain = wrapper(executor, *args, **known)
        ignored = wrapper(executor, *args, reference_latent=torch.ones(1, 16, H, W), **known)
        assert torch.equal(plain, ignored)
        with pytest.raises(DreamActorError) as err:
            wrapper(executor, *args, audio_embed_extra=torch.ones(1, 4), **known)
    assert "'audio_embed_extra'" in str(err.value) and err.value.input == "model"
