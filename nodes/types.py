"""The pack's custom socket types (DESIGN.md section 3) and conversions to core types."""
from __future__ import annotations

import numpy as np
import torch
from comfy_api.latest import io

from ..models.video import Audio

Video = io.Custom("DA_VIDEO")
"""A lazy video (models.video.LazyVideo): decoded a window at a time."""
Motion = io.Custom("DA_MOTION")
"""Per-frame motion of one person (models.motion.Motion)."""
Face = io.Custom("DA_FACE")
"""Aligned face crops of the driving video, lazy, with optional motion tokens."""
Segments = io.Custom("DA_SEGMENTS")
"""Handle to an on-disk segment cache of one sampling run."""
PoseKeypoint = io.Custom("POSE_KEYPOINT")
"""OpenPose JSON frames, as comfyui_controlnet_aux exchanges them."""

CATEGORY = "DreamActor"


def audio_to_core(audio: Audio | None) -> dict | None:
    """models.video.Audio -> core AUDIO dict {'waveform': (1, C, N) float32, 'sample_rate'}."""
    if audio is None:
        return None
    return {"waveform": torch.from_numpy(np.ascontiguousarray(audio.waveform))[None], "sample_rate": int(audio.sample_rate)}


def audio_from_core(audio: dict | None) -> Audio | None:
    """Core AUDIO dict -> models.video.Audio (first batch item)."""
    if audio is None:
        return None
    wave = audio["waveform"]
    wave = wave[0] if wave.ndim == 3 else wave
    return Audio(wave.detach().float().cpu().numpy(), int(audio["sample_rate"]))


def frames_to_image(frames: np.ndarray) -> torch.Tensor:
    """(n, H, W, 3) uint8 -> core IMAGE (n, H, W, 3) float32 in [0, 1]."""
    return torch.from_numpy(frames).float().div_(255.0)
