"""Test-only ComfyUI nodes, loaded beside the pack by the host tests (never shipped).

A real umt5-xxl text encoder and clip_vision_h cannot be built on the test
machines, so these stand in for CLIP Text Encode and CLIP Vision Encode with
tensors of the real shapes, deterministic in their inputs. One more node saves
an IMAGE batch as a raw float32 .npy, so tests can check values exactly (NaN
included), which PNG or mp4 cannot; another hands out good or broken AUDIO.
"""

from __future__ import annotations

import hashlib
import os

import folder_paths
import numpy as np
import torch


def _generator(*parts) -> torch.Generator:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") & 0x7FFF_FFFF_FFFF_FFFF)


class DreamActorTestTextConditioning:
    """CONDITIONING like CLIPTextEncode with umt5-xxl: [[(1, tokens, 4096), {}]], from the text's hash."""

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "text": ("STRING", {"default": "", "multiline": True, "tooltip": "The prompt (only hashed)."}),
                "tokens": ("INT", {"default": 512, "min": 1, "max": 4096, "tooltip": "Sequence length."}),
            }
        }

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "encode"
    CATEGORY = "DreamActor/tests"

    def encode(self, text, tokens):
        cond = torch.randn(1, tokens, 4096, generator=_generator("text", text, tokens)) * 0.2
        return ([[cond, {}]],)


class DreamActorTestClipVision:
    """CLIP_VISION_OUTPUT like CLIPVisionEncode with clip_vision_h: penultimate states (1, 257, 1280)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"seed": ("INT", {"default": 0, "min": 0, "max": 2**31, "tooltip": "Content seed."})}}

    RETURN_TYPES = ("CLIP_VISION_OUTPUT",)
    FUNCTION = "encode"
    CATEGORY = "DreamActor/tests"

    def encode(self, seed):
        import comfy.clip_vision

        out = comfy.clip_vision.Output()
        out["penultimate_hidden_states"] = torch.randn(1, 257, 1280, generator=_generator("clip", seed))
        out["last_hidden_state"] = out["penultimate_hidden_states"]
        out["image_embeds"] = torch.randn(1, 1024, generator=_generator("embeds", seed))
        return (out,)


class DreamActorTestSaveImages:
    """Saves an IMAGE batch as output/<prefix>.npy (float32, exactly as received)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE", {"tooltip": "The frames."}),
                "filename": ("STRING", {"default": "tests/images", "tooltip": "Path under output/, no extension."}),
            }
        }

    RETURN_TYPES = ()
    FUNCTION = "save"
    OUTPUT_NODE = True
    CATEGORY = "DreamActor/tests"

    def save(self, images, filename):
        path = os.path.join(folder_paths.get_output_directory(), filename + ".npy")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        np.save(path, images.detach().cpu().float().numpy())
        return {"ui": {"text": [path]}}


class DreamActorTestAudio:
    """AUDIO of a chosen kind, good or broken, for hostile-input tests of the speech node: a voiced
    150 Hz buzz whose loudness swings at 4 Hz (syllables), then spoiled as ``kind`` says."""

    KINDS = ("float", "int16", "uint8", "nan", "inf", "empty", "no_channels", "rate_0", "rate_nan", "rate_1e9")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "kind": (list(cls.KINDS), {"tooltip": "What to hand out."}),
                "seconds": ("FLOAT", {"default": 2.0, "min": 0.0, "max": 7200.0, "tooltip": "Length."}),
                "rate": ("INT", {"default": 16000, "min": 1, "max": 384000, "tooltip": "Sample rate (Hz)."}),
            }
        }

    RETURN_TYPES = ("AUDIO",)
    FUNCTION = "make"
    CATEGORY = "DreamActor/tests"

    def make(self, kind, seconds, rate):
        t = torch.arange(int(seconds * rate), dtype=torch.float32) / rate
        buzz = sum(torch.sin(2 * torch.pi * 150 * h * t) / h for h in range(1, 12))
        wave = (0.25 * buzz * (0.55 - 0.45 * torch.cos(2 * torch.pi * 4 * t)))[None, None]
        if kind == "int16":
            wave = (wave * 32767).round().to(torch.int16)
        elif kind == "uint8":
            wave = (wave * 127 + 128).round().to(torch.uint8)
        elif kind in ("nan", "inf"):
            wave[..., wave.shape[-1] // 2] = float(kind)
        elif kind == "empty":
            wave = wave[..., :0]
        elif kind == "no_channels":
            wave = wave[:, :0]
        sample_rate = {"rate_0": 0, "rate_nan": float("nan"), "rate_1e9": 10**9}.get(kind, rate)
        return ({"waveform": wave, "sample_rate": sample_rate},)


NODE_CLASS_MAPPINGS = {
    "DreamActorTestTextConditioning": DreamActorTestTextConditioning,
    "DreamActorTestClipVision": DreamActorTestClipVision,
    "DreamActorTestSaveImages": DreamActorTestSaveImages,
    "DreamActorTestAudio": DreamActorTestAudio,
}
