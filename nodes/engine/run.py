"""The DreamActor Sampler's engine: segment by segment, each segment to disk as it finishes.

Per segment (models.dit.segments plans them; each driving frame is generated once):

1. the window's guide frames are drawn and its face crops cut (only those frames);
2. conditioning is built exactly as core ``WanAnimateToVideo`` builds it for the
   same inputs (nodes.engine.conditioning), with k references in place of one, and
   face tokens from the per-frame face motion (computed once per frame, kept on disk);
3. the host samples (``comfy.sample.sample``: the user's sampler, scheduler, cfg,
   LoRAs, memory management) with the DreamActor forward installed on a clone of
   the MODEL; per-step progress and latent previews go to the UI;
4. the VAE decodes; latents, frames and the carried frames go to the cache
   (models.dit.segment_cache), and the next segment continues from them.

Running the same prompt again after a stop or a crash continues after the last
finished segment and gives the same frames. The node (nodes/sampler.py) is schema + glue.
"""

from __future__ import annotations

import comfy.conds
import comfy.model_management
import comfy.sample
import comfy.utils
import folder_paths
import latent_preview
import numpy as np
import torch

from ...models.core.errors import DreamActorError
from ...models.dit import forward as daf
from ...models.dit.content_key import content_key, module_fingerprint, video_identity
from ...models.dit.sampling import fill_face_motion, output_size, pose_window
from ...models.dit.segment_cache import FORMAT_VERSION, SegmentCache, SegmentsHandle, run_segments
from ...models.dit.segments import DEFAULT_MOTION_FRAMES, DEFAULT_SEGMENT_LENGTH, plan_segments
from ...models.io.video import to_uint8_rgb
from ...models.render.frames import STYLES
from ..face_motion import load_for_face, model_compute, motion_encoder, motion_source, patcher_fingerprint
from .conditioning import (
    TiledVae,
    check_inputs,
    check_no_context_windows,
    check_vae,
    reference_latents,
    segment_conditioning,
)

CFG_MODES = ("text and face", "face only")


# ---------------------------------------------------------------- run identity


def run_key(model, vae, positive, negative, clip_vision_output, reference, motion, face, settings: dict) -> str:
    """Hash of everything that changes the frames (models.dit.segment_cache)."""
    dm = daf.diffusion_model_of(model)
    extra = {
        "class": type(model.model).__name__,
        "patches": model.patches,  # LoRA tensors and strengths
        "options": model.model_options,  # patch functions with what they captured (content_key)
        "wrappers": getattr(model, "wrappers", {}),  # e.g. a DIFFUSION_MODEL wrapper and its settings
        "object_patches": getattr(model, "object_patches", {}),
    }
    model_id = patcher_fingerprint(model, dm, "diffusion_model.", extra)  # original weights, not live ones
    vae_id = module_fingerprint(vae.first_stage_model, extra={"class": type(vae.first_stage_model).__name__})
    face_id = {
        "boxes": face.boxes,
        "valid": face.valid,
        "size": face.size,
        "tokens": face.tokens,
        "video": video_identity(face.video),
    }
    return content_key(
        "DreamActorSampler",
        FORMAT_VERSION,
        model_id,
        vae_id,
        positive,
        negative,
        clip_vision_output,
        reference,
        motion.to_arrays(),
        face_id,
        settings,
    )


def send_text(node_id, text: str) -> None:
    """A status line under the node (when running in the server)."""
    if node_id is None:
        return
    from server import PromptServer

    if getattr(PromptServer, "instance", None) is not None:
        PromptServer.instance.send_progress_text(text, node_id)


# ---------------------------------------------------------------- the run


def sample_segments(
    model,
    vae,
    positive,
    negative,
    reference,
    motion,
    face,
    seed,
    steps,
    cfg,
    sampler_name,
    scheduler,
    width=0,
    height=0,
    segment_length=DEFAULT_SEGMENT_LENGTH,
    motion_frames=DEFAULT_MOTION_FRAMES,
    face_strength=1.0,
    pose_strength=1.0,
    guide_style="wan-animate",
    cache_name="dreamactor",
    clip_vision_output=None,
    cfg_on=CFG_MODES[0],
    cache_root=None,
    node_id=None,
    on_segment=None,
    tiled_vae=False,
):
    """Sample every segment not yet in the cache; returns (SegmentsHandle, summary text).

    tiled_vae: encode and decode through the host VAE's tiled calls (nodes.engine.conditioning.TiledVae).

    reference: IMAGE (k, H, W, C). motion: DA_MOTION (N frames). face: DA_FACE (N frames).
    cfg_on: 'text and face' (the negative prompt and a blank face, as WanAnimateToVideo) or
    'face only' (the positive prompt with a blank face: guidance on the facial motion only,
    Wan-Animate's own choice). ``on_segment(index)`` is called after each segment is on disk.
    """
    daf.check_is_wan_animate(model)
    check_no_context_windows(model)
    check_vae(vae)
    check_inputs(motion, face, reference)
    if cfg_on not in CFG_MODES:
        raise DreamActorError(
            f"unknown cfg mode '{cfg_on}'", fix=f"choose one of {', '.join(CFG_MODES)}", input="cfg_on"
        )
    if cfg_on == "face only":
        negative = positive
    if guide_style not in STYLES:
        raise DreamActorError(
            f"unknown guide style '{guide_style}'", fix=f"choose one of {', '.join(STYLES)}", input="guide_style"
        )
    width, height = output_size(width, height, (reference.shape[2], reference.shape[1]))
    n = motion.num_frames
    plan = plan_segments(n, segment_length, motion_frames)
    k = int(reference.shape[0])
    settings = daf.DreamActorSettings(face_strength=face_strength, pose_strength=pose_strength, num_references=k)
    knobs = dict(
        seed=int(seed),
        steps=int(steps),
        cfg=float(cfg),
        sampler=sampler_name,
        scheduler=scheduler,
        width=width,
        height=height,
        segment_length=segment_length,
        motion_frames=motion_frames,
        face_strength=float(face_strength),
        pose_strength=float(pose_strength),
        style=guide_style,
        cfg_on=cfg_on,
    )
    if tiled_vae:  # tiles change the frames slightly; untiled runs keep their earlier keys
        knobs["tiled_vae"] = True
    key = run_key(model, vae, positive, negative, clip_vision_output, reference, motion, face, knobs)
    info = dict(knobs, frames=n, fps=float(motion.fps), references=k, segments=len(plan))
    root = cache_root or folder_paths.get_output_directory()
    cache = SegmentCache(root, cache_name, key, plan, info, seed)
    already = cache.finished()

    run = SegmentRun(
        model,
        TiledVae(vae) if tiled_vae else vae,
        positive,
        negative,
        reference,
        motion,
        face,
        settings,
        cache,
        steps,
        cfg,
        sampler_name,
        scheduler,
        width,
        height,
        guide_style,
        clip_vision_output,
        node_id,
        on_segment,
    )
    ran = run_segments(cache, run.segment, motion_frames, on_saved=run.saved)
    summary = (
        f"{n} frames in {len(plan)} segments of {segment_length} (motion frames {motion_frames}), "
        f"{width}x{height}, {k} reference(s); {already} from the cache, {ran} sampled now\n{cache.folder}"
    )
    return SegmentsHandle(cache.folder, audio_source=face.video), summary


class SegmentRun:
    """One sampling run over a cache: builds, samples, decodes one window at a time.

    Holds what is shared by the segments: the DreamActor clone of the MODEL, the
    reference latents, the negative face motion, the progress bar and previewer.
    """

    def __init__(
        self,
        model,
        vae,
        positive,
        negative,
        reference,
        motion,
        face,
        settings,
        cache,
        steps,
        cfg,
        sampler_name,
        scheduler,
        width,
        height,
        guide_style,
        clip_vision_output=None,
        node_id=None,
        on_segment=None,
    ):
        self.vae, self.positive, self.negative, self.reference = vae, positive, negative, reference
        self.motion, self.face, self.settings, self.cache = motion, face, settings, cache
        self.steps, self.cfg, self.sampler_name, self.scheduler = steps, cfg, sampler_name, scheduler
        self.width, self.height, self.style, self.clip_vision_output = width, height, guide_style, clip_vision_output
        self.node_id, self.on_segment = node_id, on_segment
        self.patched = daf.install_dreamactor(model, settings)
        self.dm = daf.diffusion_model_of(self.patched)
        self.per_segment = steps + 1  # progress units: sampling steps + decoding and saving
        self.bar = comfy.utils.ProgressBar(len(cache.segments) * self.per_segment)
        self.bar.update_absolute(cache.finished() * self.per_segment)
        self.refs = self.neg_motion = self._encode = None
        if settings.face_strength != 0:
            self.check_face_tokens()
        self.previewer = latent_preview.get_previewer(self.patched.load_device, self.patched.model.latent_format)

    # ------------------------------------------------------------ face
    def encode_motion(self, pixels):
        """Face crops (1, 3, n, 512, 512) -> per-frame motion (1, n, 512), on the model's device."""
        if self._encode is None:
            self._encode = motion_encoder(self.patched, load=False)  # face_tokens loads it
        return self._encode(pixels)

    def check_face_tokens(self):
        """Tokens precomputed by Face Encode must come from this model's motion encoder."""
        if self.face.tokens is not None and self.face.tokens_source != motion_source(self.patched):
            raise DreamActorError(
                "the face tokens were computed by Face Encode with another model",
                fix="connect the same MODEL to Face Encode and to the sampler (or disconnect "
                "Face Encode's model: the sampler then encodes the crops itself)",
                input="face",
            )

    def face_tokens(self, segment):
        """(pos, neg) face tokens (1, T_f, N, D) of the window, encoded together as the host batches them."""
        load_for_face(self.patched)  # once per segment: a VAE call may have moved the weights off
        store = self.cache.face_motion(self.motion.num_frames) if self.face.tokens is None else None
        rows = fill_face_motion(
            store,
            self.face,
            segment.driving_indices(),
            self.encode_motion,
            should_stop=comfy.model_management.throw_exception_if_processing_interrupted,
        )
        if self.neg_motion is None:  # the host's negative face: every pixel -1
            self.neg_motion = self.encode_motion(-torch.ones(1, 3, 1, 512, 512)).float().cpu()[0, 0].numpy()
        pair = torch.from_numpy(np.stack([rows, np.repeat(self.neg_motion[None], len(rows), 0)]))
        device, dtype = model_compute(self.patched)
        with torch.inference_mode():
            tokens = daf.face_tokens_from_motion(self.dm, pair.to(device=device, dtype=dtype))
        return tokens[:1], tokens[1:]

    # ------------------------------------------------------------ one segment
    def conditioning(self, segment, carry):
        if self.refs is None:
            self.refs, images = reference_latents(self.vae, self.reference, self.width, self.height)
            self.cache.save_reference(to_uint8_rgb(images[0]))
        pose = pose_window(self.motion, segment, self.width, self.height, self.style)
        pos, neg, latent = segment_conditioning(
            self.positive,
            self.negative,
            self.vae,
            self.refs,
            pose,
            carry,
            segment,
            self.width,
            self.height,
            self.clip_vision_output,
        )
        if self.settings.face_strength != 0:
            tok_pos, tok_neg = self.face_tokens(segment)
            pos = daf.attach_face_tokens(pos, tok_pos, comfy.conds.CONDRegular)
            neg = daf.attach_face_tokens(neg, tok_neg, comfy.conds.CONDRegular)
        return pos, neg, latent

    def callback(self, segment):
        """Per-step progress (units of this segment) with a preview of its first generated latent frame."""
        base = segment.index * self.per_segment
        first_new = self.settings.num_references + segment.known_latent_frames

        def step(i, x0, x, total_steps):
            preview = None
            if self.previewer is not None:
                preview = self.previewer.decode_latent_to_preview_image(
                    "JPEG", x0[:, :, min(first_new, x0.shape[2] - 1) :]
                )
            self.bar.update_absolute(base + i + 1, None, preview)
            comfy.model_management.throw_exception_if_processing_interrupted()

        return step

    def segment(self, segment, carry, seed):
        """models.dit.segment_cache.run_segments' make_segment: -> (latent, frames) of one window."""
        comfy.model_management.throw_exception_if_processing_interrupted()
        send_text(
            self.node_id,
            f"segment {segment.index + 1}/{len(self.cache.segments)}: frames "
            f"{segment.new_start}-{segment.new_stop - 1}",
        )
        pos, neg, latent = self.conditioning(segment, carry)
        noise = comfy.sample.prepare_noise(latent, seed)
        samples = comfy.sample.sample(
            self.patched,
            noise,
            self.steps,
            self.cfg,
            self.sampler_name,
            self.scheduler,
            pos,
            neg,
            latent,
            callback=self.callback(segment),
            disable_pbar=not comfy.utils.PROGRESS_BAR_ENABLED,
            seed=seed,
        )
        samples = samples[:, :, self.settings.num_references :]
        frames = self.vae.decode(samples)
        frames = frames.reshape(-1, *frames.shape[-3:])  # (1, L, H, W, 3) -> (L, H, W, 3), as VAEDecode
        return samples.float().cpu().numpy(), frames.float().cpu().numpy()

    def saved(self, index):
        self.bar.update_absolute((index + 1) * self.per_segment)
        if self.on_segment is not None:
            self.on_segment(index)
