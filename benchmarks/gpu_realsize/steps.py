"""The steps after ``build``: each loads the built files in a fresh process, measures, prints
its figures as it goes, checks them and writes them to ``<cache>/results/<step>.json``."""

from __future__ import annotations

import time

from . import chains, checks, host, weights
from .plan import Plan


def _fresh_memory() -> None:
    """Every model off the GPU and the allocator's cache emptied: each run starts from the same state."""
    import comfy.model_management as mm

    mm.unload_all_models()
    mm.soft_empty_cache()


def _gib(v) -> str:
    return "n/a (CPU)" if v is None else f"{v:7.2f} GiB"


def _measured(peaks, run):
    """``run()`` from an unloaded model with the peaks reset: (its output, {seconds, vram, ram})."""
    _fresh_memory()
    peaks.reset()
    t = time.perf_counter()
    out = run()
    return out, {"seconds": time.perf_counter() - t, **peaks.read()}


def compare(p: Plan, cache: str, fmt: str, say) -> dict:
    """Native chain vs DreamActor Sampler on one window, same inputs, seed and loaded model."""
    import torch

    from tests.unit import sampler_fixtures as fx

    cuda, w = p.device == "cuda", p.compare
    core, engine = fx.core_wan_nodes(), fx.engine_module()
    t = time.perf_counter()
    model, vae = weights.load(p, cache, fmt)
    say(f"{fmt} DiT and VAE loaded through the host in {time.perf_counter() - t:.1f} s; {host.device_name(cuda)}")
    say(
        f"one window: {w.width}x{w.height}, {w.frames} frames, {w.steps} steps, cfg 1, face path {'on' if w.face else 'off'}"
    )
    ins, peaks = chains.inputs(p, w, w.frames), host.Peaks(cuda)
    res = {"step": "compare", "format": fmt, "window": w.__dict__, "dry_run": p.dry_run, "model": loaded_as(model)}
    with torch.inference_mode():
        nat, res["native"] = _measured(peaks, lambda: chains.native(core, model, vae, ins, w))
        res["native"]["s_per_step"] = checks.step_seconds(nat["stamps"])
        say(_line("native    ", res["native"]))
        with chains.scratch(cache) as root:
            da, res["dreamactor"] = _measured(
                peaks, lambda: chains.dreamactor(engine, model, vae, ins, w, w.frames, root)
            )
            latent, frames = chains.segment_outputs(da["folder"], 0)
        res["dreamactor"]["s_per_step"] = checks.step_seconds(da["steps"].get(0, []))
        say(_line("dreamactor", res["dreamactor"]))
    res["agreement"] = checks.agreement(latent, nat["latent"], frames, nat["frames"])
    res["finite"] = checks.finite(latent, nat["latent"]) and nat["frames_finite"]
    res["problems"] = checks.problems_compare(res, p.dry_run)
    _say_ratios(res, say)
    return res


def _say_ratios(res: dict, say) -> None:
    a, n, d = res["agreement"], res["native"], res["dreamactor"]
    vram = f", peak VRAM {d['vram_gib'] / n['vram_gib']:.3f}" if n["vram_gib"] else ""
    say(
        f"ratios dreamactor/native: s/step {d['s_per_step'] / n['s_per_step']:.3f}, peak RAM {d['ram_gib'] / n['ram_gib']:.3f}{vram}"
    )
    if a["same_shape"]:
        say(
            f"agreement: latent max |diff| {a['latent_max_abs']:.3e} ({a['latent_rel']:.2e} x std), "
            f"uint8 frames max diff {a['frames_max_diff']}; outputs finite: {res['finite']}"
        )


def loaded_as(model) -> dict:
    """What the host made of the file: model class, compute dtype, scaled fp8 or not, size."""
    base = model.model
    return {
        "class": type(base).__name__,
        "dtype": str(base.get_dtype()),
        "scaled_fp8": str(getattr(base.model_config, "scaled_fp8", None)),
        "gib": model.model_size() / host.GIB,
    }


def _line(name: str, r: dict) -> str:
    return f"{name} s/step {r['s_per_step']:8.3f}  peak VRAM {_gib(r['vram_gib'])}  peak RAM {r['ram_gib']:7.2f} GiB  ({r['seconds']:.1f} s)"


def offload(p: Plan, cache: str, say) -> dict:
    """A three-segment DreamActor take with the GPU capped: per-segment peaks, flat VRAM, partial load."""
    import comfy.model_management as mm

    from tests.unit import sampler_fixtures as fx

    cuda, w = p.device == "cuda", p.offload
    ballast, size = host.cap_vram(p.vram_cap_gib) if cuda else (None, 0)
    if cuda:
        say(f"VRAM capped at {p.vram_cap_gib:g} GiB: {size / host.GIB:.1f} GiB held idle; the host sees "
            f"{mm.get_free_memory() / host.GIB:.1f} GiB free")  # fmt: skip
    t = time.perf_counter()
    model, vae = weights.load(p, cache, p.offload_format)
    say(f"{p.offload_format} DiT ({model.model_size() / host.GIB:.1f} GiB) and VAE loaded in "
        f"{time.perf_counter() - t:.1f} s; {host.device_name(cuda)}")  # fmt: skip
    say(f"{p.segments} segments of {w.frames} frames ({w.carry} carried): {p.take_frames} frames, "
        f"{w.width}x{w.height}, {w.steps} steps, face path {'on' if w.face else 'off'}")  # fmt: skip
    ins = chains.inputs(p, w, p.take_frames)
    if p.face_motion_given:
        chains.give_face_motion(ins.face, model)
        say("face motion given per frame (as Face Encode with a MODEL gives it): the crops are not encoded")
    res = capped_take(p, cache, fx.engine_module(), model, vae, ins, host.Peaks(cuda, size), say)
    res.update(vram_cap_gib=p.vram_cap_gib if cuda else None, ballast_gib=size / host.GIB)
    res["model_gib"] = model.model_size() / host.GIB
    del ballast
    return res


def capped_take(p: Plan, cache: str, engine, model, vae, ins, peaks, say) -> dict:
    """Run the take, reading the peaks and the DiT's resident share per segment; checked results.

    "DiT resident" is the smallest share of the DiT's weights the host kept on the compute
    device during a segment's steps (ModelPatcher.loaded_size / model_size): below 100 % the
    rest was streamed from RAM layer by layer."""
    import numpy as np
    import torch

    w, segs, fractions, error = p.offload, [], [], None

    def step_done(segment):
        fractions.append(model.loaded_size() / max(model.model_size(), 1))

    def segment_done(i):
        segs.append({**peaks.read(), "loaded_fraction": min(fractions, default=float("nan"))})
        fractions.clear()
        say(f"segment {i + 1}: peak VRAM {_gib(segs[-1]['vram_gib'])}  peak RAM {segs[-1]['ram_gib']:.2f} GiB  "
            f"DiT resident {segs[-1]['loaded_fraction']:.0%}")  # fmt: skip
        peaks.reset()

    outs, frames, stamps = [], 0, {}
    with torch.inference_mode(), chains.scratch(cache) as root:
        _fresh_memory()
        peaks.reset()
        try:
            da = chains.dreamactor(engine, model, vae, ins, w, p.take_frames, root, on_segment=segment_done, on_step=step_done)  # fmt: skip
            outs = [chains.segment_outputs(da["folder"], i) for i in range(len(segs))]
            frames, stamps = chains.stitched_frames(da["folder"]), da["steps"]
        except torch.cuda.OutOfMemoryError as e:  # what a card of the cap's size would do: say where
            error = f"out of memory in segment {len(segs) + 1} under the cap: {str(e).splitlines()[0]}"
            say(error)
    for i, s in enumerate(segs):
        s["s_per_step"] = checks.step_seconds(stamps.get(i, []))
    res = {
        "step": "offload", "format": p.offload_format, "window": w.__dict__, "dry_run": p.dry_run,
        "segments": segs, "expected_segments": p.segments, "frames": frames, "expected_frames": p.take_frames,
        "finite": bool(outs) and checks.finite(*(lat for lat, _ in outs)) and all(np.ptp(f) > 0 for _, f in outs),
        "loaded_fraction": min((s["loaded_fraction"] for s in segs), default=float("nan")),
        "vram_flat": checks.flat([s["vram_gib"] for s in segs]) if segs and segs[0]["vram_gib"] is not None else None,
        "ram_flat": checks.flat([s["ram_gib"] for s in segs]) if segs else None,
    }  # fmt: skip
    res["problems"] = ([error] if error else []) + checks.problems_offload(res, p.dry_run)
    say(f"{len(segs)} segments, {frames} frames stitched (expected {p.segments}, {p.take_frames})")
    if res["vram_flat"]:
        f = res["vram_flat"]
        say(f"peak VRAM flat: segments 2-{len(segs)} within {f['max_change']:.3f} GiB of segment 1's {f['first']:.2f} "
            f"(tolerance {f['tolerance']:.0%}): {'yes' if f['ok'] else 'NO'}")  # fmt: skip
    return res


def report(results: dict, say) -> None:
    """The figures of every finished step, side by side (for the README)."""
    for name, r in results.items():
        if r["step"] == "build" and r["timings"]:
            say(f"[{name}] " + ", ".join(f"{k} {v:.1f} s" for k, v in r["timings"].items()))
        elif r["step"] == "compare":
            _report_compare(r, say)
        elif r["step"] == "offload":
            _report_offload(r, say)
        for problem in r.get("problems", []):
            say(f"  PROBLEM ({name}): {problem}")


def _side_by_side(fmt: str, what: str, n, d, unit: str = "") -> str:
    return f"[{fmt}] {what:9s} native {n:8.3f}  dreamactor {d:8.3f}{unit}  ratio {d / n:.3f}"


def _report_compare(r: dict, say) -> None:
    f, n, d, a = r["format"], r["native"], r["dreamactor"], r["agreement"]
    say(_side_by_side(f, "s/step", n["s_per_step"], d["s_per_step"]))
    if n["vram_gib"] is not None:
        say(_side_by_side(f, "peak VRAM", n["vram_gib"], d["vram_gib"], " GiB"))
    say(_side_by_side(f, "peak RAM", n["ram_gib"], d["ram_gib"], " GiB"))
    if a["same_shape"]:
        say(
            f"[{f}] latent max |diff| {a['latent_max_abs']:.3e} ({a['latent_rel']:.2e} x std), frames max diff {a['frames_max_diff']}"
        )


def _report_offload(r: dict, say) -> None:
    segs = r["segments"]
    cap = "no cap (CPU)" if r["vram_cap_gib"] is None else f"VRAM capped at {r['vram_cap_gib']:g} GiB"
    say(f"[offload {r['format']}] {cap}, {len(segs)} segments, {r['frames']} frames; per segment:")
    for i, s in enumerate(segs):
        say(f"  segment {i + 1}: peak VRAM {_gib(s['vram_gib'])}  peak RAM {s['ram_gib']:.2f} GiB  "
            f"s/step {s['s_per_step']:.3f}  DiT resident {s['loaded_fraction']:.0%}")  # fmt: skip
    if r["vram_flat"]:
        say(f"  peak VRAM flat within {r['vram_flat']['tolerance']:.0%}: {'yes' if r['vram_flat']['ok'] else 'NO'}")
