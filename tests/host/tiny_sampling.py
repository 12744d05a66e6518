"""API-prompt nodes shared by host tests that sample on the tiny checkpoints: loaders, test
text / CLIP-vision conditioning, DreamActor Sampler -> Stitch -> Save Video."""

from __future__ import annotations


def sample_stitch_save(
    checkpoints: dict,
    reference: list,
    motion: list,
    face: list,
    cache_name: str,
    *,
    text: str,
    seed: int,
    steps: int,
    cfg: float,
    segment_length: int,
    motion_frames: int,
    unet: str = "animate",
) -> dict:
    """Nodes ``unet vae pos neg cv sampler stitch mp4``; reference, motion and face are links
    (``[node id, output]``) into the rest of the prompt; checkpoints from ``tiny_models``."""
    return {
        "unet": {"class_type": "UNETLoader", "inputs": {"unet_name": checkpoints[unet], "weight_dtype": "default"}},
        "vae": {"class_type": "VAELoader", "inputs": {"vae_name": checkpoints["vae"]}},
        "pos": {"class_type": "DreamActorTestTextConditioning", "inputs": {"text": text, "tokens": 512}},
        "neg": {"class_type": "DreamActorTestTextConditioning", "inputs": {"text": "blurry", "tokens": 512}},
        "cv": {"class_type": "DreamActorTestClipVision", "inputs": {"seed": 1}},
        "sampler": {
            "class_type": "DreamActorSampler",
            "inputs": {
                "model": ["unet", 0],
                "vae": ["vae", 0],
                "positive": ["pos", 0],
                "negative": ["neg", 0],
                "reference": reference,
                "motion": motion,
                "face": face,
                "clip_vision_output": ["cv", 0],
                "seed": seed,
                "steps": steps,
                "cfg": cfg,
                "cfg_on": "text and face",
                "sampler_name": "euler",
                "scheduler": "simple",
                "width": 64,
                "height": 64,
                "segment_length": segment_length,
                "motion_frames": motion_frames,
                "face_strength": 1.0,
                "pose_strength": 1.0,
                "guide_style": "wan-animate",
                "cache_name": cache_name,
            },
        },
        "stitch": {
            "class_type": "DreamActorStitch",
            "inputs": {
                "segments": ["sampler", 0],
                "blend_seams": True,
                "colour_anchor": "first segment",
                "colour_strength": 1.0,
                "smoothing": 0.0,
            },
        },
        "mp4": {
            "class_type": "DreamActorSaveVideo",
            "inputs": {"video": ["stitch", 0], "fps": 24.0, "filename_prefix": f"tests/{cache_name}", "crf": 18},
        },
    }
