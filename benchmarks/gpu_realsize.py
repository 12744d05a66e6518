"""Real-size check on a GPU: DreamActor Sampler vs the native WanAnimateToVideo + KSampler chain.

On a machine with a CUDA GPU (sized to fit 8 minutes on one H100), in one process:

1. builds a random-weight Wan2.2-Animate-14B in the real key layout and dimensions
   (tests/assets/tiny_wan.py ``ANIMATE_14B``: dim 5120, 40 layers, ffn 13824, 40 heads;
   1441 tensors) and a real-size Wan 2.1 VAE (base width 96), drawn on the GPU;
2. loads the DiT through the host's loader (``comfy.sd.load_diffusion_model_state_dict``,
   what Load Diffusion Model runs on a file's tensors) as bf16, then as fp8 the way
   Comfy-Org's ``*_fp8_e4m3fn_scaled`` files ship it (block weights float8_e4m3fn with a
   per-tensor ``scale_weight`` and the ``scaled_fp8`` marker);
3. per format, side by side on the same inputs at 832x480, 77 frames, 4 steps (cfg 1,
   face path on): seconds per sampling step of the native chain and of the DreamActor
   Sampler (mean of the steps after the first), peak VRAM and peak RAM of each; the ratios;
4. a three-segment DreamActor take (77 frames, 5 carried: 221 frames) with the peak VRAM
   of each segment, to show it flat.

``--dry-run`` runs the same code on the CPU at reduced width and depth (dim 256, 5
layers, VAE width 8, 64x48, 5-frame segments, 2 steps, no face path): it checks the
script, not the figures. Run from the repo root: ``python -m benchmarks.gpu_realsize [--dry-run]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import tempfile
import time

FP8_MAX = 448.0  # largest float8_e4m3fn


@dataclasses.dataclass(frozen=True)
class Plan:
    device: str
    width: int
    height: int
    frames: int
    carry: int
    steps: int
    face: bool
    dit: object  # tiny_wan.WanDiTConfig
    vae: object  # tiny_wan.WanVAEConfig
    text_len: int


def plan(dry_run: bool) -> Plan:
    from tests.assets import tiny_wan

    if dry_run:
        dit = tiny_wan.WanDiTConfig(dim=256, ffn_dim=256, num_layers=5)
        return Plan("cpu", 64, 48, 5, 1, 2, False, dit, tiny_wan.WanVAEConfig(dim=8), 16)
    return Plan("cuda", 832, 480, 77, 5, 4, True, tiny_wan.ANIMATE_14B, tiny_wan.WanVAEConfig(dim=96), 512)


# ---------------------------------------------------------------- models


def to_scaled_fp8(sd: dict) -> dict:
    """bf16 state dict -> Comfy-Org's scaled fp8 layout: 2D block weights as float8_e4m3fn with a
    per-tensor float32 ``scale_weight``, and the ``scaled_fp8`` marker the host detects."""
    import torch

    out = {}
    for key, w in sd.items():
        if key.startswith("blocks.") and key.endswith(".weight") and w.ndim == 2:
            scale = (w.float().abs().max() / FP8_MAX).clamp(min=1e-12)
            out[key] = (w.float() / scale).to(torch.float8_e4m3fn)
            out[key[: -len("weight")] + "scale_weight"] = scale.reshape(())
        else:
            out[key] = w
    out["scaled_fp8"] = torch.tensor([], dtype=torch.float8_e4m3fn)
    return out


def build_models(p: Plan, fmt: str):
    """(MODEL patcher, VAE) loaded by the host from random real-layout tensors."""
    import comfy.sd
    import torch

    from tests.assets import tiny_wan

    draw = "cuda" if p.device == "cuda" else "cpu"
    sd = tiny_wan.random_state_dict(tiny_wan.animate_layout(p.dit), seed=1, dtype=torch.bfloat16, device=draw)
    if fmt == "fp8":
        sd = to_scaled_fp8(sd)
    model = comfy.sd.load_diffusion_model_state_dict(sd, model_options={})
    del sd
    vae_sd = tiny_wan.random_state_dict(tiny_wan.wan21_vae_layout(p.vae), seed=2, dtype=torch.float32, device=draw)
    return model, comfy.sd.VAE(sd=vae_sd)


# ---------------------------------------------------------------- measuring


class Peaks:
    """Peak VRAM (torch allocator) and peak RSS of this process since ``reset``."""

    def __init__(self, device: str):
        self.cuda = device == "cuda"

    def reset(self):
        import torch

        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")

    def read(self) -> tuple[float, float]:
        import torch

        vram = torch.cuda.max_memory_allocated() / 2**30 if self.cuda else 0.0
        with open("/proc/self/status") as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 2**20
        return vram, rss


def step_seconds(stamps: list[float]) -> float:
    """Mean seconds per step from the step-end times, the first step (loads, warm-up) left out."""
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    return sum(gaps) / len(gaps) if gaps else float("nan")


def inputs(p: Plan, n: int):
    """The same stand-in inputs for both chains: a moving person, face crops, a reference picture,
    CLIP-vision output and text embeddings of umt5's length (tests/unit/sampler_fixtures)."""
    import types

    from tests.unit import sampler_fixtures as fx

    return types.SimpleNamespace(
        motion=fx.moving_person(n),
        face=fx.face_track(n),
        ref=fx.reference_image(),
        cvo=fx.clip_vision(),
        pos=fx.text_conditioning(1, p.text_len),
        neg=fx.text_conditioning(2, p.text_len),
    )


def native(p: Plan, core, model, vae, ins) -> list[float]:
    """One WanAnimateToVideo + KSampler + decode window; returns step-end times."""
    import comfy.sample
    import numpy as np
    import torch

    from models.render.frames import render_frames

    pose = np.stack(list(render_frames(ins.motion, 0, p.frames, p.width, p.height, style="wan-animate", fit="cover")))
    pose = torch.from_numpy(pose).float() / 255
    face = torch.from_numpy(ins.face.crops(0, p.frames)).float() / 255 if p.face else None
    out = core.WanAnimateToVideo.execute(
        ins.pos, ins.neg, vae, p.width, p.height, p.frames, 1, p.carry, 0,
        reference_image=ins.ref, clip_vision_output=ins.cvo, face_video=face, pose_video=pose,
    )  # fmt: skip
    c_pos, c_neg, latent, trim_latent, _, _ = out.result
    image = comfy.sample.fix_empty_latent_channels(model, latent["samples"])
    stamps = []
    samples = comfy.sample.sample(
        model, comfy.sample.prepare_noise(image, 7), p.steps, 1.0, "euler", "simple", c_pos, c_neg, image,
        callback=lambda *a: stamps.append(time.perf_counter()), disable_pbar=True, seed=7,
    )  # fmt: skip
    vae.decode(samples[:, :, trim_latent:])
    return stamps


def dreamactor(p: Plan, engine, model, vae, ins, n: int, on_segment=None) -> list[float]:
    """The DreamActor Sampler over ``n`` frames; returns its step-end times (progress hook)."""
    import comfy.utils

    stamps = []
    saved = comfy.utils.PROGRESS_BAR_HOOK
    comfy.utils.set_progress_bar_global_hook(lambda *a, **k: stamps.append(time.perf_counter()))
    try:
        with tempfile.TemporaryDirectory() as root:
            engine.sample_segments(
                model, vae, ins.pos, ins.neg, ins.ref, ins.motion, ins.face, 7, p.steps, 1.0, "euler", "simple",
                p.width, p.height, segment_length=p.frames, motion_frames=p.carry,
                face_strength=1.0 if p.face else 0.0, clip_vision_output=ins.cvo, cache_root=root,
                on_segment=on_segment,
            )  # fmt: skip
    finally:
        comfy.utils.set_progress_bar_global_hook(saved)
    return stamps[1 : 1 + p.steps]  # the first call is the bar's start; then one per step


def compare(p: Plan, fmt: str, core, engine) -> dict:
    import comfy.model_management as mm
    import torch

    model, vae = build_models(p, fmt)
    ins = inputs(p, p.frames)
    peaks, res = Peaks(p.device), {}
    with torch.inference_mode():
        for name in ("native", "dreamactor"):
            mm.unload_all_models()
            peaks.reset()
            if name == "native":
                stamps = native(p, core, model, vae, ins)
            else:
                stamps = dreamactor(p, engine, model, vae, ins, p.frames)
            res[name] = (step_seconds(stamps), *peaks.read())
        n3 = p.frames + 2 * (p.frames - p.carry)
        seg_vram = []

        def segment_done(i):
            seg_vram.append(peaks.read()[0])
            peaks.reset()

        mm.unload_all_models()
        peaks.reset()
        dreamactor(p, engine, model, vae, inputs(p, n3), n3, on_segment=segment_done)
    del model, vae
    mm.unload_all_models()
    mm.soft_empty_cache()
    res["segments"] = seg_vram
    return res


def report(fmt: str, res: dict) -> None:
    (ns, nv, nr), (ds, dv, dr) = res["native"], res["dreamactor"]
    print(f"[{fmt}] s/step    native {ns:8.3f}  dreamactor {ds:8.3f}  ratio {ds / ns:.3f}")
    print(f"[{fmt}] peak VRAM native {nv:8.2f}  dreamactor {dv:8.2f}  GiB  ratio {dv / nv if nv else float('nan'):.3f}")
    print(f"[{fmt}] peak RAM  native {nr:8.2f}  dreamactor {dr:8.2f}  GiB  ratio {dr / nr:.3f}")
    seg = res["segments"]
    spread = (max(seg) - min(seg)) / max(seg) if seg and max(seg) > 0 else 0.0
    print(
        f"[{fmt}] 3-segment take, peak VRAM per segment: {', '.join(f'{v:.2f}' for v in seg)} GiB; spread {spread:.1%}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dry-run", action="store_true", help="CPU, reduced width and depth: checks the script only")
    ap.add_argument("--formats", default="bf16,fp8", help="comma-separated: bf16, fp8")
    args = ap.parse_args()

    from tests import host_import

    host_import.comfy()
    import torch

    from tests.unit import sampler_fixtures as fx

    p = plan(args.dry_run)
    if p.device == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA GPU here: run with --dry-run for the CPU check")
    core, engine = fx.core_wan_nodes(), fx.engine_module()
    t0 = time.perf_counter()
    print(f"{'dry run (CPU, reduced)' if args.dry_run else 'Wan2.2-Animate-14B random weights'}: "
          f"{p.width}x{p.height}, {p.frames} frames, {p.steps} steps, dim {p.dit.dim}, {p.dit.num_layers} layers")  # fmt: skip
    for fmt in args.formats.split(","):
        report(fmt, compare(p, fmt, core, engine))
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"done in {time.perf_counter() - t0:.0f} s; process peak RSS {ru:.2f} GiB")


if __name__ == "__main__":
    main()
