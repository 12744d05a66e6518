"""The Wan-Animate motion encoder run on face crops, shared by Face Encode and the Sampler.

Both compute the per-frame face motion the same way (the host's modules, the
model's device and dtype, batch-aligned blocks: models.dit.sampling.fill_face_motion),
so tokens precomputed by Face Encode give the sampler exactly the frames it makes
from the crops.
"""

from __future__ import annotations

import contextlib
import os

import comfy.float
import comfy.lora
import comfy.model_management
import comfy.model_patcher as mp
import comfy.utils
import torch

from ..models.dit import forward as daf
from ..models.dit.content_key import content_key, module_fingerprint, video_identity
from ..models.dit.segment_cache import KEY_CHARS, FaceMotionStore

CACHE_DIRNAME = "dreamactor_face_motion"
MOTION_DIM = 512  # the motion encoder's output (Generator style_dim)
MOTION_PREFIX = "diffusion_model.motion_encoder."  # its keys in a Wan-Animate MODEL


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


def unapplied_patches(patcher, prefix: str) -> list[str]:
    """Patched keys under ``prefix`` whose live weights do not hold their patches (LoRA) now.

    The host bakes a key's patches into its weight when it loads the module whole, keeping the
    original in ``backup``. A partial load (12-24 GB cards, --lowvram, --novram) leaves the
    modules that do not fit unpatched and patches only its own cast layers (comfy.ops) at call
    time; the motion encoder's StyleGAN layers are plain modules, so their LoRA would be lost.
    """
    backup = getattr(patcher, "backup", None) or {}
    return sorted(k for k in getattr(patcher, "patches", {}) if k.startswith(prefix) and k not in backup)


def patched_weight(patcher, key: str) -> torch.Tensor:
    """The weight ``key`` of ``patcher`` with its patches, computed as the host's full load does
    (float32, then stochastic rounding to the weight's dtype seeded by the key), where it lies."""
    weight, set_func, convert_func = mp.get_key_weight(patcher.model, key)
    temp = weight.to(torch.float32, copy=True)
    if convert_func is not None:
        temp = convert_func(temp, inplace=True)
    out = comfy.lora.calculate_weight(patcher.patches[key], temp, key)
    if set_func is not None:  # a quantised layer makes its own weight
        return set_func(out, seed=mp.string_to_seed(key), return_weight=True)
    return comfy.float.stochastic_rounding(out, weight.dtype, seed=mp.string_to_seed(key))


@contextlib.contextmanager
def swapped_weights(model, weights: dict):
    """``model``'s parameters ``weights`` (key -> tensor) in place of its own while inside."""
    saved = {}
    try:
        for key, value in weights.items():
            saved[key] = comfy.utils.set_attr_param(model, key, value)
        yield
    finally:
        for key, value in saved.items():
            comfy.utils.set_attr(model, key, value)


def motion_encoder(patcher, load: bool = True):
    """A callable face crops (1, 3, n, 512, 512) in [-1, 1] -> per-frame motion (1, n, 512), run by
    the host's motion encoder of ``patcher`` (a Wan-Animate MODEL) on its device. With ``load``
    the model is loaded once, at the first call (:func:`load_for_face`); without, the caller
    loads it before calling. Its patches (LoRA) act in every load mode: the keys a partial load
    left unpatched get their patched weights for the call (:func:`unapplied_patches`)."""
    dm = daf.diffusion_model_of(patcher)
    pending = [load]
    computed = {}  # (patches uuid, key) -> patched weight: computed once per run

    def encode(pixels: torch.Tensor) -> torch.Tensor:
        if pending[0]:
            load_for_face(patcher)
            pending[0] = False
        device, dtype = model_compute(patcher)
        weights = {}
        for key in unapplied_patches(patcher, MOTION_PREFIX):
            slot = (getattr(patcher, "patches_uuid", None), key)
            if slot not in computed:
                computed[slot] = patched_weight(patcher, key)
            weights[key] = computed[slot]
        with torch.inference_mode(), swapped_weights(patcher.model, weights):
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
    patches = {k: v for k, v in getattr(patcher, "patches", {}).items() if k.startswith(MOTION_PREFIX)}
    extra = {"dtype": str(model_compute(patcher)[1]), "patches": patches}
    return patcher_fingerprint(patcher, dm.motion_encoder, MOTION_PREFIX, extra)


def face_motion_store(root: str, source: str, face) -> FaceMotionStore:
    """The on-disk per-frame motion of ``face`` (a FaceTrack) under ``root``/dreamactor_face_motion/<key>:
    an interrupted Face Encode continues where it stopped."""
    key = content_key("face-motion", source, video_identity(face.video), face.boxes, face.size)
    folder = os.path.join(root, CACHE_DIRNAME, key[:KEY_CHARS])
    os.makedirs(folder, exist_ok=True)
    return FaceMotionStore(folder, face.num_frames, MOTION_DIM)
