"""Pure checks on the measured values (no torch, no host): step times, flatness, agreement."""

from __future__ import annotations

import json
import os

import numpy as np

#: peak VRAM of segments 2.. may differ from segment 1's by this fraction of it
FLAT_TOLERANCE = 0.05
#: dry run (fp32 on the CPU): DreamActor's latent vs the native chain's, max |diff| / std
DRY_RUN_AGREEMENT = 1e-3


def step_seconds(stamps: list[float]) -> float:
    """Mean seconds per step from the step-end times, the first step (loads, warm-up) left out."""
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    return sum(gaps) / len(gaps) if gaps else float("nan")


def flat(peaks: list[float], tolerance: float = FLAT_TOLERANCE) -> dict:
    """Is each later segment's peak within ``tolerance`` x the first's of it?"""
    first = peaks[0]
    worst = max((abs(v - first) for v in peaks[1:]), default=0.0)
    return {"first": first, "max_change": worst, "tolerance": tolerance, "ok": worst <= tolerance * first}


def agreement(ours: np.ndarray, theirs: np.ndarray, frames_ours: np.ndarray, frames_theirs: np.ndarray) -> dict:
    """How far the DreamActor Sampler's window is from the native chain's: latents and uint8 frames."""
    if ours.shape != theirs.shape or frames_ours.shape != frames_theirs.shape:
        return {"same_shape": False, "latent_shape": list(ours.shape), "native_latent_shape": list(theirs.shape)}
    diff = float(np.abs(ours.astype(np.float64) - theirs).max())
    scale = float(theirs.std())
    return {
        "same_shape": True,
        "latent_max_abs": diff,
        "latent_std": scale,
        "latent_rel": diff / scale if scale > 0 else float("inf"),
        "frames_max_diff": int(np.abs(frames_ours.astype(int) - frames_theirs.astype(int)).max()),
    }


def finite(*arrays: np.ndarray) -> bool:
    """Every value finite, and something moves (a constant output is a broken run too)."""
    return all(bool(np.isfinite(a).all()) and float(np.asarray(a, np.float64).std()) > 0 for a in arrays)


def problems_compare(res: dict, dry_run: bool) -> list[str]:
    """What is wrong with a compare step's results (empty when it passed)."""
    out = []
    if not res["finite"]:
        out.append("an output is not finite, or constant")
    a = res["agreement"]
    if not a["same_shape"]:
        out.append(f"the chains' latents differ in shape: {a}")
    elif dry_run and not a["latent_rel"] <= DRY_RUN_AGREEMENT:
        out.append(
            f"DreamActor's latent is {a['latent_rel']:.2e} x std from the native chain's (> {DRY_RUN_AGREEMENT})"
        )
    for chain in ("native", "dreamactor"):
        r = res[chain]
        if not (r["s_per_step"] > 0 and r["ram_gib"] > 0 and (dry_run or r["vram_gib"] > 0)):
            out.append(f"{chain}: a figure is missing: {r}")
    return out


def problems_offload(res: dict, dry_run: bool) -> list[str]:
    """What is wrong with an offload step's results (empty when it passed)."""
    out = []
    segs = res["segments"]
    if len(segs) != res["expected_segments"]:
        out.append(f"{len(segs)} segments, expected {res['expected_segments']}")
    if res["frames"] != res["expected_frames"]:
        out.append(f"{res['frames']} frames stitched, expected {res['expected_frames']}")
    if not res["finite"]:
        out.append("a segment's output is not finite, or constant")
    if any(not (s["ram_gib"] > 0 and s["s_per_step"] > 0) for s in segs):
        out.append(f"a segment's figure is missing: {segs}")
    if not dry_run:
        if res["vram_flat"] is None or not res["vram_flat"]["ok"]:
            out.append(f"peak VRAM is not flat over the segments: {res['vram_flat']}")
        if not res["loaded_fraction"] < 1.0:
            out.append(f"the DiT was loaded whole ({res['loaded_fraction']:.2f}): the cap did not force offloading")
    return out


def save(cache: str, name: str, res: dict) -> str:
    os.makedirs(os.path.join(cache, "results"), exist_ok=True)
    path = os.path.join(cache, "results", name + ".json")
    with open(path, "w") as f:
        json.dump(res, f, indent=1, default=_jsonable)
    return path


def load_all(cache: str) -> dict:
    folder = os.path.join(cache, "results")
    if not os.path.isdir(folder):
        return {}
    out = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".json"):
            with open(os.path.join(folder, name)) as f:
                out[name[:-5]] = json.load(f)
    return out


def _jsonable(v):
    if isinstance(v, (np.floating, np.integer, np.bool_)):
        return v.item()
    raise TypeError(type(v))
