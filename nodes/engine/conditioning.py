"""Host-side conditioning of one segment: the tensors core ``WanAnimateToVideo`` builds,
for k references and a carried window (the DreamActor Sampler's engine, nodes.engine.run).

Shapes: IMAGE (n, H, W, C) float in [0, 1]; Wan 2.1 latents (1, 16, t, H/8, W/8).
"""

from __future__ import annotations

import comfy.model_management
import comfy.utils
import node_helpers
import numpy as np
import torch

from ...models.core.errors import DreamActorError
from ...models.dit.conds import empty_latent, reference_concat

VAE_FILE = "wan_2.1_vae.safetensors"
VAE_FOLDER = "ComfyUI/models/vae"


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


def check_no_context_windows(model) -> None:
    """Core context windows (the MODEL's ``model_options['context_handler']``) slice the pose
    latents and face pixels per window but know nothing of face tokens or several leading
    references: they would give wrong frames here, so they are refused before any work."""
    if model.model_options.get("context_handler") is None:
        return
    raise DreamActorError(
        "the MODEL carries core context windows (a 'Context Windows (Manual)' or 'WAN Context Windows "
        "(Manual)' node), which do not know DreamActor's face tokens and references",
        fix="remove that node between the model loader and this sampler: DreamActor Sampler makes long "
        "videos itself, in segments (segment_length, motion_frames)",
        input="model",
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


# ---------------------------------------------------------------- tensors


class TiledVae:
    """The host VAE's tiled encode / decode with core VAEEncodeTiled / VAEDecodeTiled's defaults
    (512 px tiles, 64 px overlap, 64 frames with 8 overlapping): for cards that cannot hold a
    whole window in the VAE. ``encode`` / ``decode`` stand in for the VAE's own."""

    TILE, OVERLAP, FRAMES, FRAMES_OVERLAP = 512, 64, 64, 8

    def __init__(self, vae):
        self.vae = vae

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """IMAGE (n, H, W, 3) -> latent (1, 16, t, H/8, W/8), tile by tile."""
        return self.vae.encode_tiled(
            images, self.TILE, self.TILE, self.OVERLAP, tile_t=self.FRAMES, overlap_t=self.FRAMES_OVERLAP
        )

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        """latent (1, 16, t, h, w) -> frames (1, n, 8h, 8w, 3), tile by tile (sizes in latent units)."""
        frames, overlap = self.FRAMES, self.FRAMES_OVERLAP
        temporal = self.vae.temporal_compression_decode()
        if temporal is not None:
            frames = max(2, frames // temporal)
            overlap = max(1, min(frames // 2, overlap // temporal))
        c = self.vae.spacial_compression_decode()
        return self.vae.decode_tiled(latent, self.TILE // c, self.TILE // c, self.OVERLAP // c, frames, overlap)


def upscale(images: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """IMAGE (n, h, w, C) -> (n, height, width, C), as WanAnimateToVideo resizes (area, centre crop).

    Already at that size, the images are returned as they are (an area resize to the same
    size is the identity; skipping it saves a full copy of the window)."""
    if images.shape[1:3] == (height, width):
        return images
    return comfy.utils.common_upscale(images.movedim(-1, 1), width, height, "area", "center").movedim(1, -1)


def reference_latents(vae, reference: torch.Tensor, width: int, height: int):
    """k reference images -> (1, 16, k, h, w): each encoded alone (one latent frame each)."""
    images = upscale(reference, width, height)[..., :3]
    return torch.cat([vae.encode(images[i : i + 1]) for i in range(images.shape[0])], dim=2), images


def window_latents(vae, carry, length: int, width: int, height: int) -> torch.Tensor:
    """The window video's latent: known motion frames first, the rest mid-grey (host layout)."""
    image = torch.full((length, height, width, 3), 0.5)
    if carry is not None and carry.shape[0]:
        known = upscale(torch.as_tensor(carry), width, height)
        image = torch.full((length, height, width, known.shape[-1]), 0.5, dtype=known.dtype)
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
