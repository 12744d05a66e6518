"""DiT sampling: DreamActor Sampler, segment by segment, each segment to disk as it finishes.

Per segment (models.dit.segments plans them; each driving frame is generated once):

1. the window's guide frames are drawn and its face crops cut (only those frames);
2. conditioning is built exactly as core ``WanAnimateToVideo`` builds it for the
   same inputs (reference latents + known motion frames + mask, pose latents,
   CLIP vision), with k references in place of one, and face tokens from the
   per-frame face motion (computed once per frame, kept on disk);
3. the host samples (``comfy.sample.sample``: the user's sampler, scheduler, cfg,
   LoRAs, memory management) with the DreamActor forward installed on a clone of
   the MODEL; per-step progress and latent previews go to the UI;
4. the VAE decodes; latents, frames and the carried frames go to the cache
   (models.dit.segment_cache), and the next segment continues from them.

Running the same prompt again after a stop or a crash continues after the last
finished segment and gives the same frames.
"""

from __future__ import annotations

import comfy.conds
import comfy.model_management
import comfy.sample
import comfy.samplers
import comfy.utils
import folder_paths
import latent_preview
import node_helpers
import numpy as np
import torch
from comfy_api.latest import io, ui

from ..models.core.errors import DreamActorError
from ..models.dit import forward as daf
from ..models.dit.conds import empty_latent, reference_concat
from ..models.dit.sampling import fill_face_motion, output_size, pose_window
from ..models.dit.segment_cache import (
    FORMAT_VERSION,
    SegmentCache,
    SegmentsHandle,
    content_key,
    module_fingerprint,
    run_segments,
    video_identity,
)
from ..models.dit.segments import DEFAULT_MOTION_FRAMES, DEFAULT_SEGMENT_LENGTH, plan_segments
from ..models.io.video import to_uint8_rgb
from ..models.render.frames import STYLES
from .face_motion import model_compute, motion_encoder, motion_source
from .host import node_errors
from .types import CATEGORY, Face, Motion, Segments

NODE_ID = "DreamActorSampler"
VAE_FILE = "wan_2.1_vae.safetensors"
VAE_FOLDER = "ComfyUI/models/vae"
CFG_MODES = ("text and face", "face only")


# ---------------------------------------------------------------- checks


def check_vae(vae) -> None:
    """Wan-Animate works in the Wan 2.1 latent space: a 3D VAE with 16 channels."""
    channels, dims = getattr(vae, "latent_channels", None), getattr(vae, "latent_dim", None)
    if channels != 16 or dims != 3:
        raise DreamActorError(
            f"VAE has {channels} latent channels and {dims}D latents, not the Wan 2.1 video VAE's 16 and 3D",
            fix=f"download {VAE_FILE}, put it in {VAE_FOLDER} and load it with 'Load VAE' (the Wan 2.2 VAE "
            "with 48 channels does not fit Wan-Animate)",
            input="vae",
        )


def check_inputs(motion, face, reference) -> None:
    if reference is None or reference.ndim != 4 or reference.shape[0] < 1:
        raise DreamActorError(
            "no reference image", fix="connect the character's picture (one or more images)", input="reference"
        )
    if face.num_frames != motion.num_frames:
        raise DreamActorError(
            f"the face crops cover {face.num_frames} frames but the motion {motion.num_frames}",
            fix="build both from the same driving clip and frame range",
            input="face",
        )


# ---------------------------------------------------------------- host glue


def upscale(images: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """IMAGE (n, h, w, C) -> (n, height, width, C), as WanAnimateToVideo resizes (area, centre crop)."""
    return comfy.utils.common_upscale(images.movedim(-1, 1), width, height, "area", "center").movedim(1, -1)


def reference_latents(vae, reference: torch.Tensor, width: int, height: int):
    """k reference images -> (1, 16, k, h, w): each encoded alone (one latent frame each)."""
    images = upscale(reference, width, height)[..., :3]
    return torch.cat([vae.encode(images[i : i + 1]) for i in range(images.shape[0])], dim=2), images


def window_latents(vae, carry, length: int, width: int, height: int) -> torch.Tensor:
    """The window video's latent: known motion frames first, the rest mid-grey (host layout)."""
    image = torch.ones((length, height, width, 3)) * 0.5
    if carry is not None and carry.shape[0]:
        known = upscale(torch.as_tensor(carry), width, height)
        image = torch.ones((length, height, width, known.shape[-1]), dtype=known.dtype) * 0.5
        image[: known.shape[0]] = known
    return vae.encode(image[:, :, :, :3])


def segment_conditioning(
    positive,
    negative,
    vae,
    ref_latents,
    pose_frames: np.ndarray,
    carry,
    segment,
    width,
    height,
    clip_vision_output=None,
):
    """Positive, negative CONDITIONING and the empty latent of one window.

    ref_latents (1, 16, k, h, w); pose_frames (L, H, W, 3) uint8 (already at the
    output size); carry (M, H, W, 3) float32 or None. With k = 1 the values are
    the ones core WanAnimateToVideo builds for the same window (tested).
    """
    if clip_vision_output is not None:
        positive = node_helpers.conditioning_set_values(positive, {"clip_vision_output": clip_vision_output})
        negative = node_helpers.conditioning_set_values(negative, {"clip_vision_output": clip_vision_output})
    pose = upscale(torch.from_numpy(pose_frames).float().div_(255.0), width, height)
    values = {"pose_video_latent": vae.encode(pose[:, :, :, :3])}
    window = window_latents(vae, carry, segment.length, width, height)
    image, mask = reference_concat(ref_latents, window, segment.known_latent_frames)
    values.update(concat_latent_image=image, concat_mask=mask)
    positive = node_helpers.conditioning_set_values(positive, values)
    negative = node_helpers.conditioning_set_values(negative, values)
    latent = empty_latent(1, ref_latents.shape[2], window.shape[2], *window.shape[-2:]).to(
        comfy.model_management.intermediate_device()
    )
    return positive, negative, latent


def run_key(model, vae, positive, negative, clip_vision_output, reference, motion, face, settings: dict) -> str:
    """Hash of everything that changes the frames (models.dit.segment_cache)."""
    dm = daf.diffusion_model_of(model)
    model_id = module_fingerprint(
        dm, extra={"class": type(model.model).__name__, "patches": model.patches, "options": model.model_options}
    )
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
):
    """Sample every segment not yet in the cache; returns (SegmentsHandle, summary text).

    reference: IMAGE (k, H, W, C). motion: DA_MOTION (N frames). face: DA_FACE (N frames).
    cfg_on: 'text and face' (the negative prompt and a blank face, as WanAnimateToVideo) or
    'face only' (the positive prompt with a blank face: guidance on the facial motion only,
    Wan-Animate's own choice). ``on_segment(index)`` is called after each segment is on disk.
    """
    daf.check_is_wan_animate(model)
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
    key = run_key(model, vae, positive, negative, clip_vision_output, reference, motion, face, knobs)
    info = dict(knobs, frames=n, fps=float(motion.fps), references=k, segments=len(plan))
    root = cache_root or folder_paths.get_output_directory()
    cache = SegmentCache(root, cache_name, key, plan, info, seed)
    already = cache.finished()

    run = SegmentRun(
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
            self._encode = motion_encoder(self.patched)
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


# ---------------------------------------------------------------- the node


class DreamActorSampler(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id=NODE_ID,
            display_name="DreamActor Sampler",
            category=CATEGORY,
            description="Animates the reference with the driving motion on a Wan2.2-Animate model, segment by "
            "segment (every driving frame generated once, the last motion frames carried into the "
            "next). Finished segments are saved to output/dreamactor_segments; queueing the same "
            "prompt again after a stop or a crash continues where it stopped.",
            inputs=[
                io.Model.Input(
                    "model",
                    tooltip="A Wan2.2-Animate model from 'Load Diffusion Model' (bf16, fp8 "
                    "or GGUF; LoRAs applied before this node are used).",
                ),
                io.Vae.Input("vae", tooltip="The Wan 2.1 VAE (wan_2.1_vae.safetensors)."),
                io.Conditioning.Input(
                    "positive", tooltip="Text conditioning (CLIP Text Encode with the umt5 text encoder)."
                ),
                io.Conditioning.Input("negative", tooltip="Negative text conditioning."),
                io.Image.Input(
                    "reference",
                    tooltip="The character: one image, or several (a batch) used together as references (Ref Attn).",
                ),
                Motion.Input("motion", tooltip="The driving motion, retargeted to the character (Bone Retarget)."),
                Face.Input("face", tooltip="Face crops of the driving clip (Face Encode), for the facial motion."),
                io.Int.Input(
                    "seed",
                    default=0,
                    min=0,
                    max=0xFFFFFFFFFFFFFFFF,
                    control_after_generate=True,
                    tooltip="Noise seed; each segment's seed is derived from it.",
                ),
                io.Int.Input("steps", default=20, min=1, max=10000, tooltip="Sampling steps per segment."),
                io.Float.Input(
                    "cfg",
                    default=1.0,
                    min=0.0,
                    max=100.0,
                    step=0.1,
                    round=0.01,
                    tooltip="Classifier-free guidance scale (1 = off, the fastest).",
                ),
                io.Combo.Input(
                    "cfg_on",
                    options=list(CFG_MODES),
                    default=CFG_MODES[0],
                    tooltip="What cfg pushes away from: 'text and face' = the negative prompt and a "
                    "blank face (as WanAnimateToVideo); 'face only' = the positive prompt with "
                    "a blank face, so guidance strengthens the facial motion only.",
                ),
                io.Combo.Input(
                    "sampler_name",
                    options=comfy.samplers.KSampler.SAMPLERS,
                    default="euler",
                    tooltip="The host's sampling algorithm.",
                ),
                io.Combo.Input(
                    "scheduler",
                    options=comfy.samplers.KSampler.SCHEDULERS,
                    default="simple",
                    tooltip="The host's noise schedule.",
                ),
                io.Int.Input(
                    "width",
                    default=0,
                    min=0,
                    max=4096,
                    step=16,
                    tooltip="Video width, a multiple of 16; 0 = from the reference's aspect near 832x480.",
                ),
                io.Int.Input(
                    "height",
                    default=0,
                    min=0,
                    max=4096,
                    step=16,
                    tooltip="Video height, a multiple of 16; 0 = from the reference's aspect.",
                ),
                io.Int.Input(
                    "segment_length",
                    default=DEFAULT_SEGMENT_LENGTH,
                    min=1,
                    max=1025,
                    step=4,
                    tooltip="Frames per segment, 4k+1 (77 or 81 for Wan-Animate).",
                ),
                io.Int.Input(
                    "motion_frames",
                    default=DEFAULT_MOTION_FRAMES,
                    min=0,
                    max=1021,
                    step=4,
                    tooltip="Frames carried from one segment into the next (0, 1, 5, 9, ...; 5 is Wan-Animate's).",
                ),
                io.Float.Input(
                    "face_strength",
                    default=1.0,
                    min=0.0,
                    max=3.0,
                    step=0.05,
                    tooltip="Strength of the facial motion (Face Attn); 0 = no face control.",
                ),
                io.Float.Input(
                    "pose_strength",
                    default=1.0,
                    min=0.0,
                    max=3.0,
                    step=0.05,
                    tooltip="Strength of the pose guide; 0 = no pose control.",
                ),
                io.Combo.Input(
                    "guide_style",
                    options=list(STYLES),
                    default="wan-animate",
                    tooltip="How the motion is drawn for the model: wan-animate is what the public "
                    "Wan2.2-Animate weights were trained on.",
                ),
                io.String.Input(
                    "cache_name",
                    default="dreamactor",
                    tooltip="Sub-folder of output/dreamactor_segments for this run's segments (letters, "
                    "digits, - _ .). Same inputs + same name = resume.",
                ),
                io.ClipVisionOutput.Input(
                    "clip_vision_output",
                    optional=True,
                    tooltip="Optional: CLIP Vision Encode of the reference (clip_vision_h).",
                ),
            ],
            outputs=[
                Segments.Output(
                    display_name="segments", tooltip="The finished segments on disk; connect DreamActor Stitch."
                )
            ],
            hidden=[io.Hidden.unique_id],
        )

    @classmethod
    def execute(
        cls,
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
        cfg_on,
        sampler_name,
        scheduler,
        width,
        height,
        segment_length,
        motion_frames,
        face_strength,
        pose_strength,
        guide_style,
        cache_name,
        clip_vision_output=None,
    ) -> io.NodeOutput:
        hidden = getattr(cls, "hidden", None)
        with node_errors(NODE_ID):
            handle, summary = sample_segments(
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
                width,
                height,
                segment_length,
                motion_frames,
                face_strength,
                pose_strength,
                guide_style,
                cache_name,
                clip_vision_output,
                cfg_on,
                node_id=getattr(hidden, "unique_id", None),
            )
        return io.NodeOutput(handle, ui=ui.PreviewText(summary))


NODES = [DreamActorSampler]
