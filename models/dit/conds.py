"""Wan-Animate conditioning tensors for k reference images and carried motion frames.

The host's WanAnimateToVideo handles ONE reference: it VAE-encodes the reference
image, prepends that latent frame to the window's latent in time, and marks it
known through two conditioning values the host model turns into the 20 extra
input channels (``WAN21.concat_cond``):

- ``concat_latent_image`` (B, 16, k + T, H, W): reference latents, then the VAE
  encoding of the window video (the known motion frames, the rest mid-grey 0.5);
- ``concat_mask`` (1, 4, k + T, H, W): 0 = known, 1 = to generate (the host feeds
  ``1 - mask`` to the model), 4 channels = the 4 video frames of a latent frame.

DreamActor generalises the first part to k references (each image encoded on
its own: one latent frame each). The noise latent then has k + T frames; the
model output's first k frames are dropped afterwards (the host node's
``trim_latent``). Pure torch.
"""

from __future__ import annotations

import torch

from ..core.errors import DreamActorError

MASK_CHANNELS = 4  # video frames per latent frame, as the host lays the mask out
GREY = 0.5  # pixel value of the frames to generate in the window video (host convention)


def concat_mask(
    num_references: int, num_frames: int, known_frames: int, height: int, width: int, device=None, dtype=torch.float32
) -> torch.Tensor:
    """(1, 4, k + T, H, W) mask: 0 on the k references and the first ``known_frames`` latent frames."""
    if not 0 <= known_frames <= num_frames:
        raise DreamActorError(
            f"{known_frames} known latent frames in a window of {num_frames}",
            fix="carry fewer motion frames than the segment length",
            input="motion_frames",
        )
    mask = torch.ones(1, MASK_CHANNELS, num_references + num_frames, height, width, device=device, dtype=dtype)
    mask[:, :, : num_references + known_frames] = 0.0
    return mask


def reference_concat(ref_latents: torch.Tensor, window_latents: torch.Tensor, known_frames: int):
    """Conditioning values for k references + a window.

    ref_latents: (B, 16, k, H, W), one latent frame per reference image.
    window_latents: (B, 16, T, H, W), the window video's latent.
    known_frames: leading latent frames of the window that are known motion frames.
    Returns (concat_latent_image (B, 16, k + T, H, W), concat_mask (1, 4, k + T, H, W)).
    """
    if ref_latents.shape[0] != window_latents.shape[0] or ref_latents.shape[-2:] != window_latents.shape[-2:]:
        raise DreamActorError(
            f"reference latents {tuple(ref_latents.shape)} do not match the window {tuple(window_latents.shape)}",
            fix="encode the references at the output size",
            input="reference",
        )
    image = torch.cat([ref_latents, window_latents.to(ref_latents)], dim=2)
    k, t = ref_latents.shape[2], window_latents.shape[2]
    mask = concat_mask(k, t, known_frames, *image.shape[-2:], device=image.device, dtype=image.dtype)
    return image, mask


def empty_latent(
    batch: int, num_references: int, num_frames: int, height: int, width: int, channels: int = 16
) -> torch.Tensor:
    """The zero latent to sample: (batch, 16, k + T, H, W)."""
    return torch.zeros(batch, channels, num_references + num_frames, height, width)
