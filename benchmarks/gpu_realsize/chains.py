"""The two ways to animate one window, on the same inputs: the host's native chain and the
DreamActor Sampler; each returns its step-end times and its output (latents, uint8 frames)."""

from __future__ import annotations

import importlib
import os
import tempfile
import time
import types

import numpy as np

from .plan import Plan, Window


def inputs(p: Plan, w: Window, n: int):
    """Stand-ins for the real inputs (tests/unit/sampler_fixtures): a moving person, face crops,
    a reference picture, CLIP-vision output and text embeddings of umt5's padded length."""
    from tests.unit import sampler_fixtures as fx

    return types.SimpleNamespace(
        motion=fx.moving_person(n, image_size=(w.width, w.height)),
        face=fx.face_track(n),
        ref=fx.reference_image(w.width, w.height),
        cvo=fx.clip_vision(),
        pos=fx.text_conditioning(1, p.text_len),
        neg=fx.text_conditioning(2, p.text_len),
    )


def give_face_motion(face, model, seed: int = 0) -> None:
    """Attach per-frame face motion (T, 512) to a DA_FACE, as Face Encode with a MODEL does
    (random values here: the sampler then runs the face encoder and adapter, not the crops)."""
    from tests.unit import sampler_fixtures as fx

    face_motion = importlib.import_module(f"{fx.pack().__name__}.nodes.face_motion")
    face.tokens = np.random.default_rng(seed).normal(size=(face.valid.shape[0], 512)).astype(np.float32)
    face.tokens_source = face_motion.motion_source(model)


def native(core, model, vae, ins, w: Window, seed: int = 7) -> dict:
    """WanAnimateToVideo -> KSampler (comfy.sample.sample, as common_ksampler calls it) ->
    TrimVideoLatent -> VAEDecode over frames [0, w.frames). Returns stamps, latent, frames."""
    import comfy.sample
    import torch

    from models.dit.segment_cache import to_uint8
    from models.render.frames import render_frames

    pose = np.stack(list(render_frames(ins.motion, 0, w.frames, w.width, w.height, style="wan-animate", fit="cover")))
    pose = torch.from_numpy(pose).float() / 255
    face = torch.from_numpy(ins.face.crops(0, w.frames)).float() / 255 if w.face else None
    out = core.WanAnimateToVideo.execute(
        ins.pos, ins.neg, vae, w.width, w.height, w.frames, 1, w.carry, 0,
        reference_image=ins.ref, clip_vision_output=ins.cvo, face_video=face, pose_video=pose,
    )  # fmt: skip
    c_pos, c_neg, latent, trim_latent, _, _ = out.result
    image = comfy.sample.fix_empty_latent_channels(model, latent["samples"])
    stamps = []
    samples = comfy.sample.sample(
        model, comfy.sample.prepare_noise(image, seed), w.steps, 1.0, "euler", "simple", c_pos, c_neg, image,
        callback=lambda *a: stamps.append(time.perf_counter()), disable_pbar=True, seed=seed,
    )  # fmt: skip
    samples = samples[:, :, trim_latent:]
    frames = vae.decode(samples)
    frames = frames.reshape(-1, *frames.shape[-3:]).float().cpu()
    return {
        "stamps": stamps,
        "latent": samples.float().cpu().numpy(),
        "frames": to_uint8(frames.numpy()),
        "frames_finite": bool(torch.isfinite(frames).all()),
    }


def dreamactor(engine, model, vae, ins, w: Window, n: int, root: str, seed=7, on_segment=None, on_step=None) -> dict:
    """The DreamActor Sampler over ``n`` frames in windows of ``w``; segment caches under ``root``.

    Returns {'steps': {segment: [step-end times]}, 'folder': the run's cache folder}. The step
    times come from the host's progress hook (the sampler reports steps + 1 units per segment:
    its steps, then the decode and save), which also calls ``on_step(segment)`` after each step."""
    import comfy.utils

    steps: dict[int, list[float]] = {}

    def hook(value, *args, **kwargs):
        segment, unit = divmod(value - 1, w.steps + 1)
        if value >= 1 and unit < w.steps:
            steps.setdefault(segment, []).append(time.perf_counter())
            if on_step is not None:
                on_step(segment)

    saved = comfy.utils.PROGRESS_BAR_HOOK
    comfy.utils.set_progress_bar_global_hook(hook)
    try:
        handle, _ = engine.sample_segments(
            model, vae, ins.pos, ins.neg, ins.ref, ins.motion, ins.face, seed, w.steps, 1.0, "euler", "simple",
            w.width, w.height, segment_length=w.frames, motion_frames=w.carry,
            face_strength=1.0 if w.face else 0.0, clip_vision_output=ins.cvo, cache_root=root,
            on_segment=on_segment,
        )  # fmt: skip
    finally:
        comfy.utils.set_progress_bar_global_hook(saved)
    return {"steps": steps, "folder": handle.folder}


def segment_outputs(folder: str, index: int) -> tuple[np.ndarray, np.ndarray]:
    """(latent, uint8 frames) of one finished segment in a DreamActor cache folder."""
    latent = np.load(os.path.join(folder, f"seg_{index:05d}.latent.npy"))
    frames = np.load(os.path.join(folder, f"seg_{index:05d}.frames.npy"))
    return latent, frames


def stitched_frames(folder: str) -> int:
    """Frames the stitched video of a run gives (what Segments To Video would output)."""
    from models.stitch.stitched_video import StitchedVideo

    return sum(1 for _ in StitchedVideo(folder).iter_frames())


def scratch(cache: str) -> tempfile.TemporaryDirectory:
    """A folder for the sampler's segment caches beside the weights (deleted afterwards)."""
    os.makedirs(os.path.join(cache, "runs"), exist_ok=True)
    return tempfile.TemporaryDirectory(dir=os.path.join(cache, "runs"))
