"""DreamActor Sampler: the node (schema + glue). The engine is nodes.engine: the segment
run (nodes.engine.run) and the per-segment conditioning (nodes.engine.conditioning)."""

from __future__ import annotations

import comfy.samplers
import folder_paths
from comfy_api.latest import io, ui

from ..models.core.errors import DreamActorError
from ..models.dit.segment_cache import check_cache_name, damaged_runs
from ..models.dit.segments import DEFAULT_MOTION_FRAMES, DEFAULT_SEGMENT_LENGTH
from ..models.render.frames import STYLES
from .checks import check_text_width, finite_floats, valid_motions
from .engine.run import CFG_MODES, sample_segments
from .host import node_errors
from .types import CATEGORY, Face, Motion, Segments

NODE_ID = "DreamActorSampler"


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
                io.Boolean.Input(
                    "tiled_vae",
                    default=False,
                    optional=True,
                    tooltip="Encode and decode through the VAE in tiles (core VAE Encode/Decode (Tiled) "
                    "defaults): much less memory at large sizes or long segments, slightly different "
                    "frames, a little slower. Turn on if the VAE step runs out of memory.",
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
    def fingerprint_inputs(cls, cache_name=None, **kwargs):
        """What ComfyUI compares to decide whether to run the node again: the same while the
        segment caches under ``cache_name`` are intact, different once a segment file or a
        manifest is deleted or damaged, so the Sampler runs again and re-makes what is missing."""
        try:
            bad = damaged_runs(folder_paths.get_output_directory(), check_cache_name(cache_name))
        except DreamActorError:  # execute names the bad cache_name
            return "intact"
        return "damaged:" + ",".join(bad) if bad else "intact"

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
        tiled_vae=False,
    ) -> io.NodeOutput:
        hidden = getattr(cls, "hidden", None)
        with node_errors(NODE_ID):
            finite_floats(cfg=cfg, face_strength=face_strength, pose_strength=pose_strength)
            valid_motions(motion=motion)
            check_text_width(model, positive=positive, negative=negative)
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
                tiled_vae=bool(tiled_vae),
            )
        return io.NodeOutput(handle, ui=ui.PreviewText(summary))


NODES = [DreamActorSampler]
