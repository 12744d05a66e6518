"""The pack's custom socket types (DESIGN.md section 3) and conversions to core types."""

from __future__ import annotations

import numpy as np
import torch
from comfy_api.latest import io

from ..models.io.video import Audio

Video = io.Custom("DA_VIDEO")
"""A lazy video (models.io.video.LazyVideo): decoded a window at a time."""
Motion = io.Custom("DA_MOTION")
"""Per-frame motion of one person (models.core.motion.Motion)."""
Face = io.Custom("DA_FACE")
"""Aligned face crops of the driving video, lazy, with optional motion tokens."""
Segments = io.Custom("DA_SEGMENTS")
"""Handle to an on-disk segment cache of one sampling run."""
PoseKeypoint = io.Custom("POSE_KEYPOINT")
"""OpenPose JSON frames, as comfyui_controlnet_aux exchanges them."""

CATEGORY = "DreamActor"

# An IMAGE batch is float32 in RAM: above this a node's IMAGE output keeps the first
# frame only, and its lazy DA_VIDEO output streams any length.
IMAGE_BUDGET_BYTES = 4 << 30


def audio_to_core(audio: Audio | None) -> dict | None:
    """models.io.video.Audio -> core AUDIO dict {'waveform': (1, C, N) float32, 'sample_rate'}."""
    if audio is None:
        return None
    return {
        "waveform": torch.from_numpy(np.ascontiguousarray(audio.waveform))[None],
        "sample_rate": int(audio.sample_rate),
    }


def audio_from_core(audio: dict | None) -> Audio | None:
    """Core AUDIO dict -> models.io.video.Audio (first batch item)."""
    if audio is None:
        return None
    wave = audio["waveform"]
    wave = wave[0] if wave.ndim == 3 else wave
    return Audio(wave.detach().float().cpu().numpy(), int(audio["sample_rate"]))


def frames_to_image(frames: np.ndarray) -> torch.Tensor:
    """(n, H, W, 3) uint8 -> core IMAGE (n, H, W, 3) float32 in [0, 1]."""
    return torch.from_numpy(frames).float().div_(255.0)


def video_to_image(video, on_frame=None) -> tuple[torch.Tensor, str]:
    """A lazy video as core IMAGE when it fits ``IMAGE_BUDGET_BYTES``, else its first frame.

    Returns (images (n, H, W, 3) float32, note); the note (empty when all frames fit)
    tells the user why only one frame came and what to use instead. ``on_frame(done,
    total)`` is called per frame (progress, interruption)."""
    n = video.num_frames
    need = n * video.height * video.width * 3 * 4
    count = n if need <= IMAGE_BUDGET_BYTES else 1
    frames = []
    for i, frame in enumerate(video.iter_frames(0, count), 1):
        frames.append(frame)
        if on_frame is not None:
            on_frame(i, count)
    note = (
        ""
        if count == n
        else (
            f"; IMAGE output holds the first frame only ({n} frames would need "
            f"{need / 2**30:.1f} GB): use the 'video' output to stream them"
        )
    )
    return frames_to_image(np.stack(frames)), note
