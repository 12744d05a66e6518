"""Tiny random-weight Wan checkpoints in the real key layout, for tests.

DreamActor's real weights are the host's Wan2.2-Animate-14B. The tests cannot
download them, so this module writes small random checkpoints whose tensor NAMES
and LAYOUT are the ones of the real files, and whose shapes are shrunk only where
the host reads them from the file. The host then loads them through its real
loaders (``comfy.sd.load_diffusion_model``, ``comfy.sd.VAE``), detecting them as
the real models: the code path a user takes is the one the tests take.

Files a user needs (real names, for the README)
------------------------------------------------
From Comfy-Org/Wan_2.2_ComfyUI_Repackaged (``split_files/``), into ComfyUI's folders:

==========================================  ==============================  =====================
file                                        folder                          loaded by
==========================================  ==============================  =====================
``wan2.2_animate_14B_bf16.safetensors``     ``models/diffusion_models``     Load Diffusion Model
  (or a quantised copy of it, e.g. Kijai's
  ``Wan2_2-Animate-14B_fp8_e4m3fn_scaled_KJ.safetensors``, or a GGUF)
``wan_2.1_vae.safetensors``                 ``models/vae``                  Load VAE
``umt5_xxl_fp8_e4m3fn_scaled.safetensors``  ``models/text_encoders``        Load CLIP (type wan)
``clip_vision_h.safetensors``               ``models/clip_vision``          Load CLIP Vision
==========================================  ==============================  =====================

The Wan 2.2 VAE (``wan2.2_vae.safetensors``, 48 latent channels) is NOT the one:
Animate-14B works in the Wan 2.1 latent space (16 channels).

How the host recognises the files (ComfyUI 0.3.75)
--------------------------------------------------
- Diffusion model: ``head.modulation`` marks a Wan 2.1-family DiT; ``dim`` is
  ``head.modulation.shape[-1]``, ``num_heads = dim // 128`` (head size fixed at
  128), ``ffn_dim`` from ``blocks.0.ffn.0.weight``, ``num_layers`` by counting
  ``blocks.N.``, ``in_dim`` from ``patch_embedding.weight``.  The key
  ``face_adapter.fuser_blocks.0.k_norm.weight`` makes it ``model_type="animate"``
  -> ``WAN22_Animate`` / ``AnimateWanModel``; ``img_emb.proj.0.bias`` alone makes
  it i2v, neither makes it t2v.
- Fixed by the host's code, whatever the file says: text_dim 4096, freq_dim 256,
  CLIP-vision width 1280, the whole motion encoder (a StyleGAN-like conv net on
  512x512 face crops, 512 wide, ~22M parameters), the face encoder's 1024-wide
  convolutions and its 4 heads, patch size (1, 2, 2). These parts keep their real
  sizes here, so the tiny Animate file cannot be smaller than ~38M parameters.
- The face adapter sits after blocks 0, 5, 10, ... (``i % 5 == 0``) and has
  ``num_layers // 5`` fuser blocks: ``num_layers`` must be a multiple of 5 (with
  6..9 layers the host indexes a fuser block that does not exist).
- VAE: ``decoder.middle.0.residual.0.gamma`` without
  ``decoder.upsamples.0.upsamples.0.residual.2.weight`` is the Wan 2.1 VAE; its
  base width comes from ``decoder.head.0.gamma`` (96 in the real file), so it
  shrinks freely; z_dim 16 and the channel multipliers are fixed.

The real Animate-14B header has 1441 tensors (127 of them in the motion encoder
and face adapter); :func:`animate_layout` with :data:`ANIMATE_14B` gives exactly
that count, which the tests check.

Sizes (bf16, measured): Animate 91.1 MiB (47.7M parameters, 38M of them the
host's fixed-size face parts), Wan 2.1 T2V 5.7 MiB, Wan 2.1 VAE 1.8 MiB (the real
VAE is 127M parameters). They are built in ~2 s, deterministically, into the
git-ignored ``.cache/tiny_wan/<spec hash>/`` and never committed.

Run ``python tests/assets/tiny_wan.py OUT_DIR`` to write the tiny files (names in
:data:`FILE_NAMES`; copy them into a test server's models/diffusion_models and
models/vae); tests call :func:`ensure_assets` (cached, deterministic).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import sys
import tempfile
from dataclasses import dataclass

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE_DIR = os.path.join(ROOT, ".cache", "tiny_wan")
FORMAT_VERSION = 1


# ---------------------------------------------------------------- configs


@dataclass(frozen=True)
class WanDiTConfig:
    """The dims of a Wan 2.1-family DiT that decide its state-dict layout."""

    model_type: str = "animate"  # "animate" | "i2v" | "t2v"
    dim: int = 256  # host: num_heads = dim // 128
    ffn_dim: int = 256
    num_layers: int = 10  # a multiple of 5 for animate (face adapter after blocks 0, 5)
    in_dim: int = 36  # animate/i2v: 16 noise + 4 mask + 16 image latent channels
    out_dim: int = 16
    patch_size: tuple = (1, 2, 2)
    text_dim: int = 4096  # fixed in the host
    freq_dim: int = 256  # fixed in the host
    clip_dim: int = 1280  # fixed in the host (CLIP vision H penultimate width)
    motion_dim: int = 512  # motion encoder style width, fixed in the host
    motion_components: int = 20  # motion encoder direction count, fixed in the host
    face_conv_dim: int = 1024  # face encoder conv width, fixed in the host
    face_heads: int = 4  # face encoder token groups, fixed in the host


@dataclass(frozen=True)
class WanVAEConfig:
    """Wan 2.1 VAE: only the base width is read from the file by the host."""

    dim: int = 8  # real: 96
    z_dim: int = 16
    dim_mult: tuple = (1, 2, 4, 4)
    num_res_blocks: int = 2


TINY_ANIMATE = WanDiTConfig()
TINY_T2V = WanDiTConfig(model_type="t2v", in_dim=16, num_layers=2)
ANIMATE_14B = WanDiTConfig(dim=5120, ffn_dim=13824, num_layers=40)
TINY_VAE = WanVAEConfig()
WAN21_VAE = WanVAEConfig(dim=96)

FILE_NAMES = {
    "animate": "tiny_wan2.2_animate_14B_layout.safetensors",
    "t2v": "tiny_wan2.1_t2v_layout.safetensors",
    "vae": "tiny_wan_2.1_vae_layout.safetensors",
}

# motion encoder: 7 down-sampling ResBlocks from 512x512 to 4x4 (fixed in the host)
MOTION_RESBLOCK_CHANNELS = ((32, 64), (64, 128), (128, 256), (256, 512), (512, 512), (512, 512), (512, 512))
BLUR_TAPS = (1.0, 3.0, 3.0, 1.0)


# ---------------------------------------------------------------- DiT layout


def _linear(layout: dict, name: str, out_f: int, in_f: int, bias: bool = True) -> None:
    layout[f"{name}.weight"] = (out_f, in_f)
    if bias:
        layout[f"{name}.bias"] = (out_f,)


def _attention(layout: dict, name: str, dim: int, image_kv: bool) -> None:
    for p in ("q", "k", "v", "o"):
        _linear(layout, f"{name}.{p}", dim, dim)
    layout[f"{name}.norm_q.weight"] = (dim,)
    layout[f"{name}.norm_k.weight"] = (dim,)
    if image_kv:
        _linear(layout, f"{name}.k_img", dim, dim)
        _linear(layout, f"{name}.v_img", dim, dim)
        layout[f"{name}.norm_k_img.weight"] = (dim,)


def _block(layout: dict, name: str, cfg: WanDiTConfig) -> None:
    d = cfg.dim
    layout[f"{name}.modulation"] = (1, 6, d)
    _attention(layout, f"{name}.self_attn", d, image_kv=False)
    _attention(layout, f"{name}.cross_attn", d, image_kv=cfg.model_type != "t2v")
    layout[f"{name}.norm3.weight"] = (d,)
    layout[f"{name}.norm3.bias"] = (d,)
    _linear(layout, f"{name}.ffn.0", cfg.ffn_dim, d)
    _linear(layout, f"{name}.ffn.2", d, cfg.ffn_dim)


def wan_dit_layout(cfg: WanDiTConfig) -> dict[str, tuple]:
    """Key -> shape of a Wan 2.1-family DiT (t2v / i2v), as in the released files."""
    d, p = cfg.dim, cfg.patch_size
    layout: dict[str, tuple] = {}
    layout["patch_embedding.weight"] = (d, cfg.in_dim, *p)
    layout["patch_embedding.bias"] = (d,)
    _linear(layout, "text_embedding.0", d, cfg.text_dim)
    _linear(layout, "text_embedding.2", d, d)
    _linear(layout, "time_embedding.0", d, cfg.freq_dim)
    _linear(layout, "time_embedding.2", d, d)
    _linear(layout, "time_projection.1", 6 * d, d)
    for i in range(cfg.num_layers):
        _block(layout, f"blocks.{i}", cfg)
    layout["head.modulation"] = (1, 2, d)
    _linear(layout, "head.head", math.prod(p) * cfg.out_dim, d)
    if cfg.model_type != "t2v":
        layout["img_emb.proj.0.weight"] = (cfg.clip_dim,)
        layout["img_emb.proj.0.bias"] = (cfg.clip_dim,)
        _linear(layout, "img_emb.proj.1", cfg.clip_dim, cfg.clip_dim)
        _linear(layout, "img_emb.proj.3", d, cfg.clip_dim)
        layout["img_emb.proj.4.weight"] = (d,)
        layout["img_emb.proj.4.bias"] = (d,)
    return layout


def _motion_encoder_layout(cfg: WanDiTConfig) -> dict[str, tuple]:
    """LIA-style motion encoder (``motion_encoder.enc`` / ``.dec``), 512x512 input."""
    m = cfg.motion_dim
    pre = "motion_encoder.enc.net_app.convs"
    layout = {f"{pre}.0.0.weight": (32, 3, 1, 1), f"{pre}.0.1.bias": (1, 32, 1, 1)}
    for i, (cin, cout) in enumerate(MOTION_RESBLOCK_CHANNELS, start=1):
        layout[f"{pre}.{i}.conv1.0.weight"] = (cin, cin, 3, 3)
        layout[f"{pre}.{i}.conv1.1.bias"] = (1, cin, 1, 1)
        layout[f"{pre}.{i}.conv2.0.kernel"] = (4, 4)  # blur buffer, stored in the file
        layout[f"{pre}.{i}.conv2.1.weight"] = (cout, cin, 3, 3)
        layout[f"{pre}.{i}.conv2.2.bias"] = (1, cout, 1, 1)
        layout[f"{pre}.{i}.skip.0.kernel"] = (4, 4)
        layout[f"{pre}.{i}.skip.1.weight"] = (cout, cin, 1, 1)
    layout[f"{pre}.8.weight"] = (m, 512, 4, 4)
    for i in range(5):
        _linear(layout, f"motion_encoder.enc.fc.{i}", cfg.motion_components if i == 4 else m, m)
    layout["motion_encoder.dec.direction.weight"] = (512, cfg.motion_components)
    return layout


def _face_layout(cfg: WanDiTConfig) -> dict[str, tuple]:
    """Temporal face encoder + the face adapter's cross-attention blocks."""
    d, c = cfg.dim, cfg.face_conv_dim
    layout: dict[str, tuple] = {}
    layout["face_encoder.conv1_local.conv.weight"] = (c * cfg.face_heads, cfg.motion_dim, 3)
    layout["face_encoder.conv1_local.conv.bias"] = (c * cfg.face_heads,)
    for name in ("conv2", "conv3"):
        layout[f"face_encoder.{name}.conv.weight"] = (c, c, 3)
        layout[f"face_encoder.{name}.conv.bias"] = (c,)
    _linear(layout, "face_encoder.out_proj", d, c)
    layout["face_encoder.padding_tokens"] = (1, 1, 1, d)
    head_dim = d // (d // 128)
    for i in range(cfg.num_layers // 5):
        pre = f"face_adapter.fuser_blocks.{i}"
        _linear(layout, f"{pre}.linear1_kv", 2 * d, d)
        _linear(layout, f"{pre}.linear1_q", d, d)
        _linear(layout, f"{pre}.linear2", d, d)
        layout[f"{pre}.q_norm.weight"] = (head_dim,)
        layout[f"{pre}.k_norm.weight"] = (head_dim,)
    return layout


def animate_layout(cfg: WanDiTConfig = TINY_ANIMATE) -> dict[str, tuple]:
    """Key -> shape of Wan2.2-Animate-14B's diffusion model file (shrunk by ``cfg``)."""
    if cfg.model_type != "animate":
        raise ValueError("animate_layout needs model_type='animate'")
    if cfg.num_layers % 5:
        raise ValueError("Wan-Animate needs num_layers to be a multiple of 5 (face adapter every 5th block)")
    layout = wan_dit_layout(cfg)
    layout["pose_patch_embedding.weight"] = (cfg.dim, cfg.out_dim, *cfg.patch_size)
    layout["pose_patch_embedding.bias"] = (cfg.dim,)
    layout.update(_motion_encoder_layout(cfg))
    layout.update(_face_layout(cfg))
    return layout


# ---------------------------------------------------------------- VAE layout


def _vae_resblock(layout: dict, name: str, cin: int, cout: int) -> None:
    layout[f"{name}.residual.0.gamma"] = (cin, 1, 1, 1)
    layout[f"{name}.residual.2.weight"] = (cout, cin, 3, 3, 3)
    layout[f"{name}.residual.2.bias"] = (cout,)
    layout[f"{name}.residual.3.gamma"] = (cout, 1, 1, 1)
    layout[f"{name}.residual.6.weight"] = (cout, cout, 3, 3, 3)
    layout[f"{name}.residual.6.bias"] = (cout,)
    if cin != cout:
        layout[f"{name}.shortcut.weight"] = (cout, cin, 1, 1, 1)
        layout[f"{name}.shortcut.bias"] = (cout,)


def _vae_attention(layout: dict, name: str, c: int) -> None:
    layout[f"{name}.norm.gamma"] = (c, 1, 1)
    layout[f"{name}.to_qkv.weight"] = (3 * c, c, 1, 1)
    layout[f"{name}.to_qkv.bias"] = (3 * c,)
    layout[f"{name}.proj.weight"] = (c, c, 1, 1)
    layout[f"{name}.proj.bias"] = (c,)


def _vae_middle(layout: dict, name: str, c: int) -> None:
    _vae_resblock(layout, f"{name}.0", c, c)
    _vae_attention(layout, f"{name}.1", c)
    _vae_resblock(layout, f"{name}.2", c, c)


def _vae_encoder(layout: dict, cfg: WanVAEConfig) -> None:
    dims = [cfg.dim * u for u in (1, *cfg.dim_mult)]
    temporal = (False, True, True)
    layout["encoder.conv1.weight"] = (dims[0], 3, 3, 3, 3)
    layout["encoder.conv1.bias"] = (dims[0],)
    n = 0
    for i, (cin, cout) in enumerate(zip(dims[:-1], dims[1:])):
        for _ in range(cfg.num_res_blocks):
            _vae_resblock(layout, f"encoder.downsamples.{n}", cin, cout)
            cin, n = cout, n + 1
        if i != len(cfg.dim_mult) - 1:
            layout[f"encoder.downsamples.{n}.resample.1.weight"] = (cout, cout, 3, 3)
            layout[f"encoder.downsamples.{n}.resample.1.bias"] = (cout,)
            if temporal[i]:
                layout[f"encoder.downsamples.{n}.time_conv.weight"] = (cout, cout, 3, 1, 1)
                layout[f"encoder.downsamples.{n}.time_conv.bias"] = (cout,)
            n += 1
    _vae_middle(layout, "encoder.middle", dims[-1])
    layout["encoder.head.0.gamma"] = (dims[-1], 1, 1, 1)
    layout["encoder.head.2.weight"] = (2 * cfg.z_dim, dims[-1], 3, 3, 3)
    layout["encoder.head.2.bias"] = (2 * cfg.z_dim,)


def _vae_decoder(layout: dict, cfg: WanVAEConfig) -> None:
    mult = cfg.dim_mult
    dims = [cfg.dim * u for u in (mult[-1], *mult[::-1])]
    temporal = (True, True, False)
    layout["decoder.conv1.weight"] = (dims[0], cfg.z_dim, 3, 3, 3)
    layout["decoder.conv1.bias"] = (dims[0],)
    _vae_middle(layout, "decoder.middle", dims[0])
    n = 0
    for i, (cin, cout) in enumerate(zip(dims[:-1], dims[1:])):
        if i > 0:
            cin //= 2  # the previous upsample halved the channels
        for _ in range(cfg.num_res_blocks + 1):
            _vae_resblock(layout, f"decoder.upsamples.{n}", cin, cout)
            cin, n = cout, n + 1
        if i != len(mult) - 1:
            layout[f"decoder.upsamples.{n}.resample.1.weight"] = (cout // 2, cout, 3, 3)
            layout[f"decoder.upsamples.{n}.resample.1.bias"] = (cout // 2,)
            if temporal[i]:
                layout[f"decoder.upsamples.{n}.time_conv.weight"] = (2 * cout, cout, 3, 1, 1)
                layout[f"decoder.upsamples.{n}.time_conv.bias"] = (2 * cout,)
            n += 1
    layout["decoder.head.0.gamma"] = (dims[-1], 1, 1, 1)
    layout["decoder.head.2.weight"] = (3, dims[-1], 3, 3, 3)
    layout["decoder.head.2.bias"] = (3,)


def wan21_vae_layout(cfg: WanVAEConfig = TINY_VAE) -> dict[str, tuple]:
    """Key -> shape of ``wan_2.1_vae.safetensors`` (base width ``cfg.dim``)."""
    layout: dict[str, tuple] = {}
    _vae_encoder(layout, cfg)
    layout["conv1.weight"] = (2 * cfg.z_dim, 2 * cfg.z_dim, 1, 1, 1)
    layout["conv1.bias"] = (2 * cfg.z_dim,)
    layout["conv2.weight"] = (cfg.z_dim, cfg.z_dim, 1, 1, 1)
    layout["conv2.bias"] = (cfg.z_dim,)
    _vae_decoder(layout, cfg)
    return layout


# ---------------------------------------------------------------- values


def _blur_kernel() -> torch.Tensor:
    """The fixed (4, 4) blur of the motion encoder's down-sampling, normalised to sum 1."""
    k = torch.tensor(BLUR_TAPS)
    k = k[None, :] * k[:, None]
    return k / k.sum()


_UNIT_SCALE_SUFFIXES = (
    "gamma",
    "norm_q.weight",
    "norm_k.weight",
    "norm_k_img.weight",
    "q_norm.weight",
    "k_norm.weight",
    "norm3.weight",
    "proj.0.weight",
    "proj.4.weight",
)


def _init(name: str, shape: tuple, gen: torch.Generator) -> torch.Tensor:
    """Random values that keep activations O(1) through the host's modules (on ``gen``'s device)."""
    if name.endswith(".kernel"):
        return _blur_kernel().to(gen.device)
    noise = torch.randn(shape, generator=gen, device=gen.device)
    if name.endswith(_UNIT_SCALE_SUFFIXES):
        return 1.0 + 0.1 * noise  # norm scales
    if name.endswith("modulation"):
        return noise / math.sqrt(shape[-1])
    if name.startswith("motion_encoder."):
        # EqualConv2d / EqualLinear scale their weights by 1/sqrt(fan_in) themselves
        return noise if len(shape) >= 2 and "bias" not in name else 0.1 * noise
    if name.endswith("padding_tokens") or len(shape) == 1:
        return 0.1 * noise  # biases, layer-norm shifts
    return noise / math.sqrt(math.prod(shape[1:]))  # weights: unit fan-in variance


def random_state_dict(
    layout: dict[str, tuple], seed: int, dtype=torch.bfloat16, device: str = "cpu"
) -> dict[str, torch.Tensor]:
    """Deterministic random tensors for every key of ``layout`` (sorted-key order), on the CPU.

    ``device`` is where the numbers are drawn (a GPU draws a 14B layout in seconds; the
    values then differ from a CPU draw, the distributions do not)."""
    gen = torch.Generator(device=device).manual_seed(seed)
    return {k: _init(k, tuple(layout[k]), gen).to(dtype).cpu().contiguous() for k in sorted(layout)}


# ---------------------------------------------------------------- files


def _write(sd: dict[str, torch.Tensor], path: str) -> None:
    """Atomic write: other test sessions may build the same file concurrently."""
    from safetensors.torch import save_file

    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    os.close(fd)
    try:
        save_file(sd, tmp, metadata={"format": "pt", "tiny_wan": "random weights, real key layout"})
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a server under another user must read it
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def asset_state_dicts(dtype=torch.bfloat16) -> dict[str, dict[str, torch.Tensor]]:
    """The three tiny state dicts by kind: 'animate', 't2v', 'vae'."""
    return {
        "animate": random_state_dict(animate_layout(TINY_ANIMATE), seed=1, dtype=dtype),
        "t2v": random_state_dict(wan_dit_layout(TINY_T2V), seed=2, dtype=dtype),
        "vae": random_state_dict(wan21_vae_layout(TINY_VAE), seed=3, dtype=dtype),
    }


def write_assets(out_dir: str, dtype=torch.bfloat16) -> dict[str, str]:
    """Write the tiny files into ``out_dir``; returns kind -> path."""
    paths = {}
    for kind, sd in asset_state_dicts(dtype).items():
        paths[kind] = os.path.join(out_dir, FILE_NAMES[kind])
        _write(sd, paths[kind])
    return paths


def _fingerprint(dtype) -> str:
    spec = {
        "v": FORMAT_VERSION,
        "dtype": str(dtype),
        "animate": dataclasses.asdict(TINY_ANIMATE),
        "t2v": dataclasses.asdict(TINY_T2V),
        "vae": dataclasses.asdict(TINY_VAE),
    }
    return hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:10]


def ensure_assets(cache_dir: str = CACHE_DIR, dtype=torch.bfloat16) -> dict[str, str]:
    """The tiny files, built once into a cache folder keyed by their spec; kind -> path."""
    out = os.path.join(cache_dir, _fingerprint(dtype))
    paths = {kind: os.path.join(out, name) for kind, name in FILE_NAMES.items()}
    if not all(os.path.exists(p) for p in paths.values()):
        write_assets(out, dtype)
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: tiny_wan.py OUT_DIR")
    for kind, path in write_assets(sys.argv[1]).items():
        print(f"{kind:8s} {os.path.getsize(path) / 2**20:7.1f} MiB  {path}")
