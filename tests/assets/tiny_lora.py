"""A tiny random LoRA for the tiny Wan-Animate checkpoint, in a real Wan LoRA key layout.

Key layout (as the lightx2v / CausVid Wan LoRAs ship it and ComfyUI's generic LoRA map
reads it): ``diffusion_model.<module>.lora_down.weight`` (rank, in), ``.lora_up.weight``
(out, rank) and ``.alpha`` () per patched linear layer. It patches the DiT blocks'
self-attention q/v and first FFN layer, the face encoder's output projection and the
motion encoder's fully connected layers: every part the DreamActor Sampler calls.

Load it like core ``LoraLoaderModelOnly`` does: ``comfy.sd.load_lora_for_models(model,
None, comfy.utils.load_torch_file(path), strength, 0)``.
"""

from __future__ import annotations

import os

import torch

RANK = 4
TARGETS = ("self_attn.q", "self_attn.v", "ffn.0")


def lora_tensors(animate_sd: dict, seed: int = 11, scale: float = 0.5) -> dict:
    """LoRA tensors for the linear layers of ``animate_sd`` (the tiny checkpoint's state dict)."""
    g = torch.Generator().manual_seed(seed)
    picked = [
        k[: -len(".weight")]
        for k, v in sorted(animate_sd.items())
        if v.ndim == 2
        and k.endswith(".weight")
        and (
            (k.startswith("blocks.") and any(f".{t}." in k for t in TARGETS))
            or k.startswith("motion_encoder.enc.fc.")
            or k == "face_encoder.out_proj.weight"
        )
    ]
    out = {}
    for name in picked:
        rows, cols = animate_sd[name + ".weight"].shape
        key = f"diffusion_model.{name}"
        out[f"{key}.lora_down.weight"] = torch.randn(RANK, cols, generator=g) * scale / cols**0.5
        out[f"{key}.lora_up.weight"] = torch.randn(rows, RANK, generator=g) * scale
        out[f"{key}.alpha"] = torch.tensor(float(RANK))
    return out


def write_tiny_lora(animate_path: str, out_path: str) -> str:
    """Write the LoRA for the tiny checkpoint at ``animate_path`` to ``out_path`` (safetensors)."""
    from safetensors.torch import load_file, save_file

    if not os.path.exists(out_path):
        tensors = {k: v.to(torch.bfloat16) for k, v in lora_tensors(load_file(animate_path)).items()}
        tmp = out_path + ".tmp"
        save_file(tensors, tmp)
        os.replace(tmp, out_path)
    return out_path
