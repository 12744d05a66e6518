"""The Wan-Animate motion encoder run on face crops, shared by Face Encode and the Sampler.

Both compute the per-frame face motion the same way (the host's modules, the
model's device and dtype, batch-aligned blocks: models.dit.sampling.fill_face_motion),
so tokens precomputed by Face Encode give the sampler exactly the frames it makes
from the crops.
"""

from __future__ import annotations

import os

import comfy.model_management
import torch

from ..models.dit import forward as daf
from ..models.dit.segment_cache import KEY_CHARS, FaceMotionStore, content_key, module_fingerprint, video_identity

CACHE_DIRNAME = "dreamactor_face_motion"
MOTION_DIM = 512  # the motion encoder's output (Generator style_dim)


def model_compute(patcher):
    """(device, dtype) the DiT computes in (the host casts inputs to this)."""
    base = patcher.model
    dtype = base.manual_cast_dtype if getattr(base, "manual_cast_dtype", None) is not None else base.get_dtype()
    return patcher.load_device, dtype


def motion_encoder(patcher):
    """A callable face crops (1, 3, n, 512, 512) in [-1, 1] -> per-frame motion (1, n, 512), run by
    the host's motion encoder of ``patcher`` (a Wan-Animate MODEL) on its device."""
    dm = daf.diffusion_model_of(patcher)

    def encode(pixels: torch.Tensor) -> torch.Tensor:
        comfy.model_management.load_models_gpu([patcher])
        device, dtype = model_compute(patcher)
        with torch.inference_mode():
            return daf.encode_face_motion(dm, pixels.to(device=device, dtype=dtype))

    return encode


def motion_source(patcher) -> str:
    """Identity of the motion encoder a face motion came from (weights, compute dtype, its patches)."""
    dm = daf.diffusion_model_of(patcher)
    patches = {k: v for k, v in getattr(patcher, "patches", {}).items() if "motion_encoder" in k}
    return module_fingerprint(dm.motion_encoder, extra={"dtype": str(model_compute(patcher)[1]), "patches": patches})


def face_motion_store(root: str, source: str, face) -> FaceMotionStore:
    """The on-disk per-frame motion of ``face`` (a FaceTrack) under ``root``/dreamactor_face_motion/<key>:
    an interrupted Face Encode continues where it stopped."""
    key = content_key("face-motion", source, video_identity(face.video), face.boxes, face.size)
    folder = os.path.join(root, CACHE_DIRNAME, key[:KEY_CHARS])
    os.makedirs(folder, exist_ok=True)
    return FaceMotionStore(folder, face.num_frames, MOTION_DIM)
