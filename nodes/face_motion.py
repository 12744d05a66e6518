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
from ..models.dit.content_key import content_key, module_fingerprint, video_identity
from ..models.dit.segment_cache import KEY_CHARS, FaceMotionStore

CACHE_DIRNAME = "dreamactor_face_motion"
MOTION_DIM = 512  # the motion encoder's output (Generator style_dim)


def model_compute(patcher):
    """(device, dtype) the DiT computes in (the host casts inputs to this)."""
    base = patcher.model
    dtype = base.manual_cast_dtype if getattr(base, "manual_cast_dtype", None) is not None else base.get_dtype()
    return patcher.load_device, dtype


def face_memory(patcher) -> int:
    """Bytes to reserve for one motion-encoder batch: its first conv keeps 32 channels at
    512x512 per crop, about four such tensors live at once."""
    _, dtype = model_compute(patcher)
    return daf.FACE_ENCODE_BATCH * 512 * 512 * 32 * 4 * torch.empty((), dtype=dtype).element_size()


def load_for_face(patcher) -> None:
    """Load ``patcher`` as the host loads it for sampling (weights on its device or streamed,
    LoRA patches applied) with a face batch's memory reserved: the motion and face encoders
    are then called on the host's terms (never on weights a VAE load has moved off)."""
    comfy.model_management.load_models_gpu([patcher], memory_required=face_memory(patcher))


def motion_encoder(patcher, load: bool = True):
    """A callable face crops (1, 3, n, 512, 512) in [-1, 1] -> per-frame motion (1, n, 512), run by
    the host's motion encoder of ``patcher`` (a Wan-Animate MODEL) on its device. With ``load``
    the model is loaded once, at the first call (:func:`load_for_face`); without, the caller
    loads it before calling."""
    dm = daf.diffusion_model_of(patcher)
    pending = [load]

    def encode(pixels: torch.Tensor) -> torch.Tensor:
        if pending[0]:
            load_for_face(patcher)
            pending[0] = False
        device, dtype = model_compute(patcher)
        with torch.inference_mode():
            return daf.encode_face_motion(dm, pixels.to(device=device, dtype=dtype))

    return encode


def original_weights(patcher, prefix: str):
    """``original(name, tensor)`` for module_fingerprint: the weight as loaded from the file.

    While the host has a MODEL loaded, its LoRA patches are baked into the live weights and
    the originals kept in the patcher's ``backup`` (shared by its clones) until unload: a
    key read from live values would depend on whether the model happened to be loaded.
    """
    backup = getattr(patcher, "backup", None) or {}

    def original(name: str, tensor):
        saved = backup.get(prefix + name)
        return tensor if saved is None else saved.weight

    return original


def patcher_fingerprint(patcher, module, prefix: str, extra=None) -> str:
    """Identity of ``module`` (state-dict prefix ``prefix`` in ``patcher``) from its original
    weights; ``extra`` carries the patches (LoRA tensors and strengths) and options."""
    return module_fingerprint(module, extra=extra, original=original_weights(patcher, prefix))


def motion_source(patcher) -> str:
    """Identity of the motion encoder a face motion came from (original weights, compute dtype,
    its patches)."""
    dm = daf.diffusion_model_of(patcher)
    patches = {k: v for k, v in getattr(patcher, "patches", {}).items() if "motion_encoder" in k}
    extra = {"dtype": str(model_compute(patcher)[1]), "patches": patches}
    return patcher_fingerprint(patcher, dm.motion_encoder, "diffusion_model.motion_encoder.", extra)


def face_motion_store(root: str, source: str, face) -> FaceMotionStore:
    """The on-disk per-frame motion of ``face`` (a FaceTrack) under ``root``/dreamactor_face_motion/<key>:
    an interrupted Face Encode continues where it stopped."""
    key = content_key("face-motion", source, video_identity(face.video), face.boxes, face.size)
    folder = os.path.join(root, CACHE_DIRNAME, key[:KEY_CHARS])
    os.makedirs(folder, exist_ok=True)
    return FaceMotionStore(folder, face.num_frames, MOTION_DIM)
