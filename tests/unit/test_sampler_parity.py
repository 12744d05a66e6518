"""DreamActor Sampler against the host's own chain, in-process, on the tiny checkpoints (fp32, CPU).

- per-segment conditioning == core WanAnimateToVideo's for the same inputs (first
  segment and a continuation, chained the way users chain the core node);
- a one-segment sampler run == WanAnimateToVideo -> KSampler (common path) ->
  TrimVideoLatent -> VAEDecode for the same seed;
- several segments: a stop after the first, then a rerun, gives the frames of an
  uninterrupted run; the cache key follows the inputs.

The motion encoder takes ~3 s per 512x512 face crop here, so face tests use 5 frames.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import torch

from models.dit.sampling import face_pixels, pose_window, window_crops
from models.dit.segments import plan_segments
from models.render.frames import render_frames
from tests.unit import sampler_fixtures as fx

W, H = 64, 48
STYLE = "wan-animate"


@pytest.fixture(scope="module")
def sampler():
    return fx.engine_module("run")


@pytest.fixture(scope="module")
def conditioning():
    return fx.engine_module("conditioning")


@pytest.fixture(scope="module")
def core():
    return fx.core_wan_nodes()


@pytest.fixture(scope="module")
def animate():
    return fx.load_tiny("animate")


@pytest.fixture(scope="module")
def vae():
    return fx.load_tiny("vae")


@pytest.fixture(scope="module")
def host():
    return fx.host_modules()


def _image(frames_uint8: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frames_uint8).float().div(255.0)


def _same(a, b, what):
    assert a.shape == b.shape, (what, a.shape, b.shape)
    assert torch.equal(a, b), (what, (a - b).abs().max().item())


def _check_conditioning(mine, theirs, keys):
    assert len(mine) == len(theirs) == 1
    assert torch.equal(mine[0][0], theirs[0][0])
    for key in keys:
        _same(mine[0][1][key], theirs[0][1][key], key)


# ---------------------------------------------------------------- conditioning


def test_segment_conditioning_equals_core_node_first_and_continuation(conditioning, core, vae):
    n, length, m = 12, 9, 5
    plan = plan_segments(n, length, m)
    assert [(s.start, s.known, s.new, s.pad) for s in plan] == [(0, 0, 9, 0), (4, 5, 3, 1)]
    motion, face = fx.moving_person(n), fx.face_track(n)
    ref, cvo = fx.reference_image(), fx.clip_vision()
    pos, neg = fx.text_conditioning(1), fx.text_conditioning(2)
    pose_full = _image(np.stack(list(render_frames(motion, 0, n, W, H, style=STYLE, fit="cover"))))
    face_full = _image(face.crops(0, n))

    with torch.inference_mode():
        refs, _ = conditioning.reference_latents(vae, ref, W, H)
        keys = ("concat_latent_image", "concat_mask", "pose_video_latent")
        # first segment: offset 0, no continue_motion
        out = core.WanAnimateToVideo.execute(
            pos,
            neg,
            vae,
            W,
            H,
            length,
            1,
            m,
            0,
            reference_image=ref,
            clip_vision_output=cvo,
            face_video=face_full,
            pose_video=pose_full,
        )
        c_pos, c_neg, c_latent, trim_latent, trim_image, offset = out.result
        s0 = plan[0]
        pos0, neg0, latent0 = conditioning.segment_conditioning(
            pos, neg, vae, refs, pose_window(motion, s0, W, H, STYLE), None, s0, W, H, cvo
        )
        _check_conditioning(pos0, c_pos, keys)
        _check_conditioning(neg0, c_neg, keys)
        assert pos0[0][1]["clip_vision_output"] is cvo and neg0[0][1]["clip_vision_output"] is cvo
        _same(latent0, c_latent["samples"], "latent")
        assert (trim_latent, trim_image) == (1, 0) and offset == s0.new_stop
        _same(face_pixels(window_crops(face, s0)), c_pos[0][1]["face_video_pixels"], "face pixels")

        # continuation: the previous decoded frames continue; offset chained from the first node
        previous = torch.rand(length, H, W, 3, generator=torch.Generator().manual_seed(4))
        out = core.WanAnimateToVideo.execute(
            pos,
            neg,
            vae,
            W,
            H,
            length,
            1,
            m,
            offset,
            reference_image=ref,
            clip_vision_output=cvo,
            face_video=face_full,
            pose_video=pose_full,
            continue_motion=previous,
        )
        c_pos, c_neg, c_latent, trim_latent, trim_image, _ = out.result
        s1 = plan[1]
        carry = previous[-m:].numpy()  # what run_segments carries: the window's last M decoded frames
        pos1, neg1, latent1 = conditioning.segment_conditioning(
            pos, neg, vae, refs, pose_window(motion, s1, W, H, STYLE), carry, s1, W, H, cvo
        )
        _check_conditioning(pos1, c_pos, keys)
        _check_conditioning(neg1, c_neg, keys)
        _same(latent1, c_latent["samples"], "latent")
        assert trim_image == s1.known and c_pos[0][1]["concat_mask"][:, :, : 1 + s1.known_latent_frames].max() == 0
        # the core node does not pad the face video of a short last window (it pads the pose):
        # the sampler repeats the last face crop like the pose; the real frames agree
        theirs = c_pos[0][1]["face_video_pixels"]
        assert theirs.shape[2] == s1.known + s1.new
        _same(face_pixels(window_crops(face, s1))[:, :, : theirs.shape[2]], theirs, "face pixels")


def test_several_references_are_encoded_one_by_one(conditioning, vae):
    refs = torch.cat([fx.reference_image(seed=1), fx.reference_image(seed=2), fx.reference_image(seed=3)])
    with torch.inference_mode():
        latents, images = conditioning.reference_latents(vae, refs, W, H)
        alone = conditioning.reference_latents(vae, refs[1:2], W, H)[0]
    assert latents.shape == (1, 16, 3, H // 8, W // 8) and images.shape == (3, H, W, 3)
    _same(latents[:, :, 1:2], alone, "second reference")


# ---------------------------------------------------------------- sampling


def _native_chain(core, host, model, vae, pos, neg, ref, cvo, pose, face_video, length, seed, steps, cfg):
    """WanAnimateToVideo -> KSampler (nodes.common_ksampler's calls) -> TrimVideoLatent -> VAEDecode."""
    out = core.WanAnimateToVideo.execute(
        pos,
        neg,
        vae,
        W,
        H,
        length,
        1,
        5,
        0,
        reference_image=ref,
        clip_vision_output=cvo,
        face_video=face_video,
        pose_video=pose,
    )
    c_pos, c_neg, latent, trim_latent, _, _ = out.result
    image = host.sample.fix_empty_latent_channels(model, latent["samples"])
    noise = host.sample.prepare_noise(image, seed)
    samples = host.sample.sample(
        model, noise, steps, cfg, "euler", "simple", c_pos, c_neg, image, disable_pbar=True, seed=seed
    )
    samples = samples[:, :, trim_latent:]
    frames = vae.decode(samples)
    return samples, frames.reshape(-1, *frames.shape[-3:])


@pytest.mark.slow
def test_one_segment_run_equals_native_chain(sampler, core, host, animate, vae, tmp_path):
    n, seed, steps, cfg = 5, 11, 1, 2.0
    motion, face = fx.moving_person(n), fx.face_track(n)
    ref, cvo = fx.reference_image(), fx.clip_vision()
    pos, neg = fx.text_conditioning(1), fx.text_conditioning(2)
    with torch.inference_mode():
        handle, summary = sampler.sample_segments(
            animate,
            vae,
            pos,
            neg,
            ref,
            motion,
            face,
            seed,
            steps,
            cfg,
            "euler",
            "simple",
            W,
            H,
            segment_length=n,
            motion_frames=1,
            cache_name="parity",
            clip_vision_output=cvo,
            cache_root=str(tmp_path),
        )
        pose = _image(np.stack(list(render_frames(motion, 0, n, W, H, style=STYLE, fit="cover"))))
        ref_samples, ref_frames = _native_chain(
            core, host, animate, vae, pos, neg, ref, cvo, pose, _image(face.crops(0, n)), n, seed, steps, cfg
        )
    from models.dit.segment_cache import load_manifest

    manifest = load_manifest(handle.folder)
    assert manifest["done"] == [0] and "1 sampled now" in summary
    latent = torch.from_numpy(np.load(os.path.join(handle.folder, "seg_00000.latent.npy")))
    frames = np.load(os.path.join(handle.folder, "seg_00000.frames.npy"))
    assert latent.shape == ref_samples.shape == (1, 16, 2, H // 8, W // 8)
    assert ref_samples.std() > 0.1
    diff = (latent - ref_samples).abs().max().item()
    # face tokens come from per-frame motion encoded apart from the host's batched crops:
    # ~1e-6 per forward (tests/unit/test_dreamactor_forward.py), nothing more
    assert diff <= 1e-4, diff
    native = (ref_frames.clamp(0, 1) * 255 + 0.5).to(torch.uint8).numpy()
    assert frames.shape == native.shape == (n, H, W, 3)
    frame_diff = np.abs(frames.astype(int) - native.astype(int)).max()
    print(f"one segment vs the native chain: latent max abs diff {diff:.2e}, uint8 frames max diff {frame_diff}")
    assert frame_diff <= 1


@pytest.mark.slow
def test_stop_after_first_segment_then_rerun_gives_the_same_frames(sampler, animate, vae, tmp_path):
    n, length, m = 17, 5, 1  # 4 segments: 5 + 4 + 4 + 4 new frames, one frame carried
    motion, face = fx.moving_person(n), fx.face_track(n)
    ref = fx.reference_image()
    pos, neg = fx.text_conditioning(1), fx.text_conditioning(2)
    args = (animate, vae, pos, neg, ref, motion, face, 5, 2, 1.5, "euler", "simple", W, H)
    kw = dict(segment_length=length, motion_frames=m, face_strength=0.0)  # the face path is tested above

    class Stop(Exception):
        pass

    def stop_after_first(i):
        if i == 0:
            raise Stop

    with torch.inference_mode():
        whole, _ = sampler.sample_segments(*args, **kw, cache_name="whole", cache_root=str(tmp_path))
        with pytest.raises(Stop):
            sampler.sample_segments(
                *args, **kw, cache_name="stopped", cache_root=str(tmp_path), on_segment=stop_after_first
            )
        from models.dit.segment_cache import load_manifest

        stopped_folder = os.path.join(tmp_path, "dreamactor_segments", "stopped", os.path.basename(whole.folder))
        assert load_manifest(stopped_folder)["done"] == [0]
        resumed, summary = sampler.sample_segments(*args, **kw, cache_name="stopped", cache_root=str(tmp_path))
    assert resumed.folder == stopped_folder and "1 from the cache, 3 sampled now" in summary
    for i in range(4):
        a = np.load(os.path.join(whole.folder, f"seg_{i:05d}.frames.npy"))
        b = np.load(os.path.join(resumed.folder, f"seg_{i:05d}.frames.npy"))
        assert np.array_equal(a, b), i
        la = np.load(os.path.join(whole.folder, f"seg_{i:05d}.latent.npy"))
        assert np.isfinite(la).all() and np.array_equal(
            la, np.load(os.path.join(resumed.folder, f"seg_{i:05d}.latent.npy"))
        )
    # the second segment continues from the first: its known frame is close to the carried one
    first = np.load(os.path.join(whole.folder, "seg_00000.frames.npy"))
    second = np.load(os.path.join(whole.folder, "seg_00001.frames.npy"))
    assert second.shape[0] == 1 + 4 and first.shape[0] == 5
    # a different seed is a different run (another folder), not a resume
    with torch.inference_mode():
        other, _ = sampler.sample_segments(
            animate,
            vae,
            pos,
            neg,
            ref,
            motion,
            face,
            6,
            2,
            1.5,
            "euler",
            "simple",
            W,
            H,
            **kw,
            cache_name="whole",
            cache_root=str(tmp_path),
        )
    assert other.folder != whole.folder
    assert not np.array_equal(np.load(os.path.join(other.folder, "seg_00001.frames.npy")), second)


# ---------------------------------------------------------------- errors


def _error_text(call):
    with pytest.raises(Exception) as e:
        call()
    assert type(e.value).__name__ == "DreamActorError", repr(e.value)
    return str(e.value)


def test_text_to_video_checkpoint_is_refused_with_the_file_to_get(sampler, vae, tmp_path):
    t2v = fx.load_tiny("t2v")
    text = _error_text(
        lambda: sampler.sample_segments(
            t2v,
            vae,
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
            W,
            H,
            cache_root=str(tmp_path),
        )
    )
    assert "wan2.2_animate_14B_bf16.safetensors" in text and "models/diffusion_models" in text and "Fix:" in text
    assert not os.path.exists(os.path.join(tmp_path, "dreamactor_segments"))  # refused before any work


def test_bad_inputs_are_named(sampler, animate, vae, tmp_path):
    pos, neg, ref = fx.text_conditioning(1), fx.text_conditioning(2), fx.reference_image()
    run = lambda **kw: sampler.sample_segments(  # noqa: E731
        animate,
        kw.pop("vae", vae),
        pos,
        neg,
        ref,
        kw.pop("motion", fx.moving_person(5)),
        kw.pop("face", fx.face_track(5)),
        0,
        1,
        1.0,
        "euler",
        "simple",
        kw.pop("width", W),
        H,
        cache_root=str(tmp_path),
        **kw,
    )
    assert "input 'face'" in _error_text(lambda: run(face=fx.face_track(6)))
    assert "input 'width'" in _error_text(lambda: run(width=70))
    assert "input 'segment_length'" in _error_text(lambda: run(segment_length=8))
    assert "input 'cache_name'" in _error_text(lambda: run(cache_name="../x"))
    assert "input 'vae'" in _error_text(lambda: run(vae=type("V", (), {"latent_channels": 48, "latent_dim": 3})()))


def test_progress_per_step_and_segment_with_latent_previews(sampler, animate, vae, tmp_path):
    """The host's progress hook sees every step of every segment, with a preview image each step."""
    import comfy.cli_args
    import comfy.utils

    calls = []
    saved_hook, saved_method = comfy.utils.PROGRESS_BAR_HOOK, comfy.cli_args.args.preview_method
    comfy.utils.set_progress_bar_global_hook(
        lambda value, total, preview, node_id=None: calls.append((value, total, preview))
    )
    comfy.cli_args.args.preview_method = comfy.cli_args.LatentPreviewMethod.Latent2RGB
    try:
        with torch.inference_mode():
            sampler.sample_segments(
                animate,
                vae,
                fx.text_conditioning(1),
                fx.text_conditioning(2),
                fx.reference_image(),
                fx.moving_person(9),
                fx.face_track(9),
                3,
                2,
                1.0,
                "euler",
                "simple",
                W,
                H,
                segment_length=5,
                motion_frames=1,
                face_strength=0.0,
                cache_root=str(tmp_path),
            )
    finally:
        comfy.utils.set_progress_bar_global_hook(saved_hook)
        comfy.cli_args.args.preview_method = saved_method
    # 2 segments x (2 steps + decode/save) = 6 units; previews on the steps
    assert all(total == 6 for _, total, _ in calls)
    values = [v for v, _, _ in calls]
    assert values == [0, 1, 2, 3, 4, 5, 6]
    previews = [p for _, _, p in calls if p is not None]
    assert len(previews) == 4 and all(p[0] == "JPEG" and p[1].size[0] > 0 for p in previews)


def test_cfg_on_face_only_guides_with_the_positive_prompt(sampler, animate, vae, tmp_path):
    """'face only': the negative is the positive prompt (with a blank face); without the face
    path cond == uncond, so any cfg gives the cfg-1 result. 'text and face' does not."""

    def frames(cfg, cfg_on):
        with torch.inference_mode():
            handle, _ = sampler.sample_segments(
                animate,
                vae,
                fx.text_conditioning(1),
                fx.text_conditioning(2),
                fx.reference_image(),
                fx.moving_person(5),
                fx.face_track(5),
                3,
                2,
                cfg,
                "euler",
                "simple",
                W,
                H,
                segment_length=5,
                motion_frames=1,
                face_strength=0.0,
                cfg_on=cfg_on,
                cache_root=str(tmp_path),
            )
        return np.load(os.path.join(handle.folder, "seg_00000.latent.npy"))

    plain = frames(1.0, "text and face")
    assert np.abs(frames(4.0, "face only") - plain).max() < 1e-4
    assert np.abs(frames(4.0, "text and face") - plain).max() > 1e-2


# run with cwd = the repo root, so `tests` imports as a package (no sys.path edit)
KEY_SCRIPT = """
from tests.unit import sampler_fixtures as fx
s = fx.engine_module()
model, vae = fx.load_tiny("animate"), fx.load_tiny("vae")
print(s.run_key(model, vae, fx.text_conditioning(1), fx.text_conditioning(2), fx.clip_vision(),
                fx.reference_image(), fx.moving_person(5), fx.face_track(5), {"seed": 1}))
"""


def test_run_key_is_the_same_in_a_new_process(sampler, animate, vae):
    """Resuming after a crash needs the same folder: the key must not depend on the process."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", KEY_SCRIPT], capture_output=True, text=True, check=True, cwd=fx.ROOT)
    theirs = out.stdout.strip().splitlines()[-1]
    mine = sampler.run_key(
        animate,
        vae,
        fx.text_conditioning(1),
        fx.text_conditioning(2),
        fx.clip_vision(),
        fx.reference_image(),
        fx.moving_person(5),
        fx.face_track(5),
        {"seed": 1},
    )
    assert mine == theirs and len(mine) == 64
    other = sampler.run_key(
        animate,
        vae,
        fx.text_conditioning(1),
        fx.text_conditioning(3),
        fx.clip_vision(),
        fx.reference_image(),
        fx.moving_person(5),
        fx.face_track(5),
        {"seed": 1},
    )
    assert other != mine  # another negative prompt is another run


# ---------------------------------------------------------------- Face Encode's tokens


def _guidance_module():
    fx.pack()
    import importlib

    return importlib.import_module(f"{fx.PACK_NAME}.nodes.guidance")


@pytest.mark.slow
def test_face_tokens_from_face_encode_give_the_frames_of_the_crops(sampler, animate, vae, tmp_path):
    """Face Encode with the MODEL (neutral controls) == the sampler encoding the crops itself,
    bit for bit; the tokens are really used (intensity 0 changes the frames); tokens from
    another model are refused."""
    import dataclasses

    import folder_paths

    guidance = _guidance_module()
    n, seed = 9, 4
    motion, crops_face = fx.moving_person(n), fx.face_track(n)
    pos, neg, ref = fx.text_conditioning(1), fx.text_conditioning(2), fx.reference_image()

    def run(face, name):
        with torch.inference_mode():
            handle, _ = sampler.sample_segments(
                animate,
                vae,
                pos,
                neg,
                ref,
                motion,
                face,
                seed,
                1,
                2.0,
                "euler",
                "simple",
                W,
                H,
                segment_length=5,
                motion_frames=1,
                cache_name=name,
                cache_root=str(tmp_path),
            )
        return [np.load(os.path.join(handle.folder, f"seg_{i:05d}.latent.npy")) for i in range(2)]

    def encoded(**controls):
        face = dataclasses.replace(crops_face)
        saved = folder_paths.get_output_directory()
        folder_paths.set_output_directory(str(tmp_path))
        try:
            lines = guidance.encode_tokens(
                face, animate, controls.get("intensity", 1.0), 0, controls.get("smoothing", 0.0)
            )
        finally:
            folder_paths.set_output_directory(saved)
        return face, lines

    from_crops = run(crops_face, "crops")
    tokens_face, lines = encoded()
    assert tokens_face.tokens.shape == (n, 512) and tokens_face.tokens.dtype == np.float32
    assert f"{n} frames encoded now, 0 from the cache" in lines[0]
    from_tokens = run(tokens_face, "tokens")
    for a, b in zip(from_crops, from_tokens):
        assert np.array_equal(a, b)
    # a second Face Encode reads the rows kept on disk
    again, lines = encoded(intensity=0.0)
    assert f"0 frames encoded now, {n} from the cache" in lines[0]
    assert np.allclose(again.tokens, again.tokens[0][None], atol=0)
    neutral = run(again, "neutral")
    assert np.abs(neutral[1] - from_crops[1]).max() > 1e-3  # the tokens steer the video
    # tokens from another model's motion encoder are refused by the sampler
    other = dataclasses.replace(tokens_face, tokens_source="another model")
    assert "input 'face'" in _error_text(lambda: run(other, "other"))
