"""The weight files: drawn and converted on the device, written once, loaded through the host.

``build`` draws the random real-layout tensors on the GPU (tiny_wan.random_state_dict), writes
them as bf16, converts the DiT to Comfy-Org's scaled fp8 layout on the GPU tensor by tensor,
and writes that too. Later steps load the files with the host's own loaders, as Load Diffusion
Model (``comfy.sd.load_diffusion_model``) and Load VAE (``comfy.sd.VAE``) do.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time

from .plan import FORMATS, SEEDS, Plan, weights_spec

FP8_MAX = 448.0  # largest float8_e4m3fn
FILES = {
    "bf16": "animate14b_random_bf16.safetensors",
    "fp8": "animate14b_random_fp8_e4m3fn_scaled.safetensors",
    "vae": "wan21_vae_random.safetensors",
}
MANIFEST = "weights.json"
DISK_MARGIN = 2 * 2**30  # bytes left free on the disk after writing


def quantised(key: str, ndim: int) -> bool:
    """The tensors Comfy-Org's ``*_fp8_e4m3fn_scaled`` files store as fp8: the blocks' 2D weights."""
    return key.startswith("blocks.") and key.endswith(".weight") and ndim == 2


def to_scaled_fp8(sd: dict, device: str) -> dict:
    """bf16 state dict -> scaled fp8 layout, converted on ``device`` one tensor at a time (popped
    from ``sd`` to free it): quantised weights as float8_e4m3fn with a per-tensor float32
    ``scale_weight`` (max |w| / 448), the rest unchanged, and the ``scaled_fp8`` marker the host detects."""
    import torch

    out = {}
    for key in sorted(sd):
        w = sd.pop(key)
        if not quantised(key, w.ndim):
            out[key] = w
            continue
        g = w.to(device).float()
        scale = (g.abs().amax() / FP8_MAX).clamp(min=1e-12)
        out[key] = (g / scale).to(torch.float8_e4m3fn).cpu()
        out[key[: -len("weight")] + "scale_weight"] = scale.reshape(()).cpu()
    out["scaled_fp8"] = torch.tensor([], dtype=torch.float8_e4m3fn)
    return out


def bytes_needed(p: Plan, formats) -> int:
    """Bytes the files of ``formats`` (and the VAE) take on disk."""
    import math

    from tests.assets import tiny_wan

    dit = tiny_wan.animate_layout(p.dit)
    total = sum(math.prod(s) for s in dit.values())
    fp8 = sum(math.prod(s) for k, s in dit.items() if quantised(k, len(s)))
    sizes = {"bf16": 2 * total, "fp8": 2 * total - fp8}
    vae = 4 * sum(math.prod(s) for s in tiny_wan.wan21_vae_layout(p.vae).values())
    return vae + sum(sizes[f] for f in formats)


def _save(sd: dict, path: str) -> None:
    """Atomic write (a killed build leaves no half file behind)."""
    from safetensors.torch import save_file

    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    os.close(fd)
    try:
        save_file(sd, tmp, metadata={"format": "pt", "gpu_realsize": "random weights, real key layout"})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_manifest(cache: str) -> dict:
    try:
        with open(os.path.join(cache, MANIFEST)) as f:
            return json.load(f)
    except (FileNotFoundError, ValueError):
        return {}


def built(p: Plan, cache: str) -> list[str]:
    """The files already in ``cache`` for this plan's spec ('bf16', 'fp8', 'vae')."""
    m = read_manifest(cache)
    if m.get("spec") != json.loads(json.dumps(weights_spec(p))):
        return []
    return [k for k in m.get("files", []) if os.path.exists(os.path.join(cache, FILES[k]))]


def _record(p: Plan, cache: str, kind: str, present: bool = True) -> None:
    files = set(built(p, cache))
    files = files | {kind} if present else files - {kind}
    with open(os.path.join(cache, MANIFEST), "w") as f:
        json.dump({"spec": weights_spec(p), "files": sorted(files)}, f, indent=1)


def clean(p: Plan, cache: str, formats, say) -> None:
    """Delete the DiT files of ``formats`` (a 64 GiB disk holds one format at a time with room to spare)."""
    for fmt in formats:
        path = os.path.join(cache, FILES[fmt])
        if os.path.exists(path):
            os.remove(path)
            say(f"deleted {path}")
        _record(p, cache, fmt, present=False)


def build(p: Plan, cache: str, formats, say) -> dict:
    """Write the weight files of ``formats`` (and the VAE) that ``cache`` lacks; seconds per phase."""
    import torch

    from tests.assets import tiny_wan

    os.makedirs(cache, exist_ok=True)
    have = built(p, cache)
    todo = [k for k in ("vae", *formats) if k not in have]
    timings = {}
    if not todo:
        say(f"weights already built in {cache}: {', '.join(have)}")
        return timings
    free = shutil.disk_usage(cache).free
    need = bytes_needed(p, [k for k in todo if k in FORMATS])
    if need + DISK_MARGIN > free:
        raise SystemExit(
            f"the weights need {need / 2**30:.1f} GiB and {cache} has {free / 2**30:.1f} GiB free: "
            "give --cache a bigger disk, or build one format at a time (--formats bf16), deleting the other "
            "first (the clean step)"
        )
    if "vae" in todo:
        t = time.perf_counter()
        vae = tiny_wan.random_state_dict(
            tiny_wan.wan21_vae_layout(p.vae), seed=SEEDS["vae"], dtype=torch.float32, device=p.device
        )
        _save(vae, os.path.join(cache, FILES["vae"]))
        _record(p, cache, "vae")
        timings["vae"] = time.perf_counter() - t
        say(f"VAE drawn on {p.device} and written in {timings['vae']:.1f} s")
    if any(f in todo for f in FORMATS):
        t = time.perf_counter()
        sd = tiny_wan.random_state_dict(
            tiny_wan.animate_layout(p.dit), seed=SEEDS["dit"], dtype=torch.bfloat16, device=p.device
        )
        timings["draw"] = time.perf_counter() - t
        say(f"DiT drawn on {p.device} in {timings['draw']:.1f} s ({len(sd)} tensors)")
        if "bf16" in todo:
            t = time.perf_counter()
            _save(sd, os.path.join(cache, FILES["bf16"]))
            _record(p, cache, "bf16")
            timings["write bf16"] = time.perf_counter() - t
            say(f"bf16 written in {timings['write bf16']:.1f} s")
        if "fp8" in todo:
            t = time.perf_counter()
            sd = to_scaled_fp8(sd, p.device)
            timings["convert fp8"] = time.perf_counter() - t
            t = time.perf_counter()
            _save(sd, os.path.join(cache, FILES["fp8"]))
            _record(p, cache, "fp8")
            timings["write fp8"] = time.perf_counter() - t
            say(
                f"fp8 converted on {p.device} in {timings['convert fp8']:.1f} s, written in {timings['write fp8']:.1f} s"
            )
        del sd
    return timings


def load(p: Plan, cache: str, fmt: str):
    """(MODEL patcher, VAE) from the cache's files, loaded as UNETLoader / VAELoader load them."""
    import comfy.sd
    import comfy.utils

    path = os.path.join(cache, FILES[fmt])
    if fmt not in built(p, cache) or "vae" not in built(p, cache):
        raise SystemExit(f"no {fmt} weights in {cache}: run the build step first (same --dry-run and --cache)")
    model = comfy.sd.load_diffusion_model(path, model_options={})
    vae = comfy.sd.VAE(sd=comfy.utils.load_torch_file(os.path.join(cache, FILES["vae"])))
    return model, vae
