"""benchmarks/gpu_realsize: its checks, and its CPU dry run with the values checked.

The dry run is the real script's code at reduced width and depth: random real-layout weights
written as bf16 and scaled fp8 by the ``build`` step (a separate process, as on a GPU machine),
loaded back through the host's loaders by the later steps, the native chain and the DreamActor
Sampler side by side with the face path on, and a three-segment take (its face motion given per
frame, as Face Encode gives it: the CPU would take a minute on its crops). The real-size figures
need a GPU; here the values that must hold at any size are checked: the two chains agree, the
outputs are finite, every figure is present, the take has exactly its segments and frames.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest
import torch

from benchmarks.gpu_realsize import checks, host, weights
from benchmarks.gpu_realsize.__main__ import parse, run_step, step_commands
from benchmarks.gpu_realsize.plan import make_plan

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ---------------------------------------------------------------- the checks themselves


def test_flat_vram_check_fails_when_a_later_segment_grows():
    assert checks.flat([20.0, 20.5, 19.8])["ok"]
    grown = checks.flat([20.0, 20.5, 21.5])
    assert not grown["ok"] and grown["max_change"] == pytest.approx(1.5)


def test_ballast_leaves_exactly_the_cap_free_in_whole_allocator_blocks():
    gib = host.GIB
    size = host.ballast_bytes(139 * gib + 12345, 16 * gib)
    assert size % host.ALLOC_GRANULE == 0 and 0 <= 139 * gib + 12345 - size - 16 * gib < host.ALLOC_GRANULE
    assert host.ballast_bytes(12 * gib, 16 * gib) == 0  # a card smaller than the cap is left alone


def test_step_seconds_leaves_the_first_step_out():
    assert checks.step_seconds([10.0, 11.0, 13.0]) == pytest.approx(1.5)
    assert np.isnan(checks.step_seconds([10.0]))


def test_problems_name_what_failed():
    good = {"s_per_step": 1.0, "ram_gib": 2.0, "vram_gib": 30.0, "seconds": 5.0}
    a = np.ones((1, 16, 2, 6, 8), np.float32)
    frames = np.zeros((5, 48, 64, 3), np.uint8)
    far = checks.agreement(a + np.linspace(0, 1, a.size).reshape(a.shape), a + 0, frames, frames)
    res = {"finite": True, "agreement": far, "native": good, "dreamactor": dict(good, s_per_step=float("nan"))}
    found = checks.problems_compare(res, dry_run=True)
    assert any("from the native chain's" in p for p in found) and any("dreamactor: a figure" in p for p in found)
    assert not checks.finite(a)  # constant: a broken run
    seg = {"ram_gib": 1.0, "s_per_step": 1.0}
    take = {
        "segments": [seg, seg],
        "expected_segments": 3,
        "frames": 12,
        "expected_frames": 13,
        "finite": True,
        "vram_flat": checks.flat([10.0, 12.0]),
        "loaded_fraction": 1.0,
    }
    found = " | ".join(checks.problems_offload(take, dry_run=False))
    for text in ("2 segments, expected 3", "12 frames stitched, expected 13", "not flat", "loaded whole"):
        assert text in found, found


def test_out_of_memory_under_the_cap_is_reported_with_its_segment(tmp_path):
    """A take that runs out of memory (as a card of the cap's size would) ends with the segment named."""
    from tests import host_import

    host_import.comfy()
    from benchmarks.gpu_realsize import steps

    class Engine:
        def sample_segments(self, *args, on_segment=None, **kwargs):
            on_segment(0)
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB\nmore")

    model = types.SimpleNamespace(loaded_size=lambda: 5, model_size=lambda: 10)
    ins = types.SimpleNamespace(pos=None, neg=None, ref=None, motion=None, face=None, cvo=None)
    said = []
    res = steps.capped_take(make_plan(True), str(tmp_path), Engine(), model, None, ins, host.Peaks(False), said.append)
    assert (
        res["problems"][0] == "out of memory in segment 2 under the cap: CUDA out of memory. Tried to allocate 2.00 GiB"
    )
    assert "1 segments, expected 3" in res["problems"][1] and not res["finite"]
    assert any(line.startswith("segment 1: peak VRAM n/a (CPU)") for line in said), said


def test_scaled_fp8_layout_is_what_the_host_detects():
    w = torch.randn(64, 32, generator=torch.Generator().manual_seed(0)).to(torch.bfloat16)
    sd = {"blocks.0.ffn.0.weight": w.clone(), "blocks.0.ffn.0.bias": w[:, 0].clone(), "head.head.weight": w.clone()}
    out = weights.to_scaled_fp8(sd, "cpu")
    q, scale = out["blocks.0.ffn.0.weight"], out["blocks.0.ffn.0.scale_weight"]
    assert q.dtype == torch.float8_e4m3fn and scale.shape == () and scale.dtype == torch.float32
    assert q.float().abs().max() == pytest.approx(448.0)  # the largest weight maps to fp8's largest value
    back = q.float() * scale
    assert (back - w.float()).abs().max() <= 0.07 * w.float().abs().max()  # e4m3: 3 mantissa bits
    assert out["head.head.weight"].dtype == torch.bfloat16 and out["blocks.0.ffn.0.bias"].dtype == torch.bfloat16
    assert out["scaled_fp8"].dtype == torch.float8_e4m3fn and not sd  # converted tensors were freed


def test_all_runs_each_step_in_a_fresh_process_one_format_on_disk_at_a_time():
    cmds = step_commands(parse(["all", "--dry-run", "--cache", "/x", "--steps", "4"]))
    steps = [" ".join(c[3:5]) if c[3] != "report" else "report" for c in cmds]
    assert steps == [
        "build --formats",
        "compare --format",
        "offload --vram-cap",
        "clean --formats",
        "build --formats",
        "compare --format",
        "report",
    ]
    assert [c[5] for c in cmds if c[3] in ("build", "compare", "clean")] == ["bf16", "bf16", "bf16", "fp8", "fp8"]
    assert all(c[-3:] == ["--cache", "/x", "--dry-run"] for c in cmds)
    assert all(("--steps" in c) == (c[3] == "compare") for c in cmds)


def test_real_plan_sizes():
    p = make_plan(dry_run=False)
    assert (p.dit.dim, p.dit.num_layers, p.dit.ffn_dim, p.vae.dim) == (5120, 40, 13824, 96)
    assert (p.compare.width, p.compare.height, p.compare.frames, p.compare.face) == (832, 480, 77, True)
    assert p.offload.face and p.segments == 3 and p.take_frames == 33 + 2 * 28
    assert weights.bytes_needed(p, ["bf16", "fp8"]) / 1e9 == pytest.approx(34.55 + 18.40 + 0.51, abs=0.02)


# ---------------------------------------------------------------- the dry run


def _cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.gpu_realsize", *args, "--dry-run"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def dry(tmp_path_factory):
    """build and offload in their own processes (as on a GPU machine), then compare bf16, compare
    fp8, report and clean in this one (saves two imports of the host) from the files they wrote."""
    cache = str(tmp_path_factory.mktemp("gpu_realsize"))
    rc, out = {}, {}
    for name in ("build", "offload"):
        done = _cli(name, "--cache", cache)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        rc[name], out[name] = done.returncode, done.stdout
    plan = make_plan(dry_run=True)
    for name, step, fmt, formats in (
        ("bf16", "compare", "bf16", []),
        ("fp8", "compare", "fp8", []),
        ("report", "report", "bf16", []),
        ("clean", "clean", "bf16", ["bf16"]),
    ):
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            rc[name] = run_step(step, plan, cache, formats, fmt)
        out[name] = text.getvalue()
    return types.SimpleNamespace(cache=cache, rc=rc, out=out, results=checks.load_all(cache))


@pytest.mark.slow
def test_dry_run_build_writes_both_formats_and_the_host_detects_them(dry):
    assert "bf16 written" in dry.out["build"] and "fp8 converted on cpu" in dry.out["build"], dry.out["build"]
    # the clean step (after the others) deleted the bf16 file and its manifest entry
    with open(os.path.join(dry.cache, weights.MANIFEST)) as f:
        assert sorted(json.load(f)["files"]) == ["fp8", "vae"]
    assert dry.rc["clean"] == 0 and not os.path.exists(os.path.join(dry.cache, weights.FILES["bf16"]))
    bf16, fp8 = dry.results["compare_bf16"]["model"], dry.results["compare_fp8"]["model"]
    assert bf16["class"] == fp8["class"] == "WAN22_Animate", (bf16, fp8)
    assert bf16["scaled_fp8"] == "None" and fp8["scaled_fp8"] == "torch.float8_e4m3fn"
    assert fp8["gib"] < bf16["gib"]
    # a second build finds the fp8 file and writes nothing
    again = _cli("build", "--formats", "fp8", "--cache", dry.cache, timeout=120)
    assert again.returncode == 0 and "weights already built" in again.stdout, again.stdout + again.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["bf16", "fp8"])
def test_dry_run_compare_chains_agree_with_the_face_path_on(dry, fmt):
    res, text = dry.results[f"compare_{fmt}"], dry.out[fmt]
    assert dry.rc[fmt] == 0 and res["problems"] == [], text
    assert res["window"]["face"] and res["finite"]
    a = res["agreement"]
    # fp32 on the CPU: only the face crops' encoding order differs (per frame vs batched)
    assert a["same_shape"] and a["latent_rel"] <= checks.DRY_RUN_AGREEMENT and a["frames_max_diff"] <= 1, a
    assert a["latent_std"] > 0.1
    for chain in ("native", "dreamactor"):
        r = res[chain]
        assert r["s_per_step"] > 0 and r["ram_gib"] > 0.1 and r["vram_gib"] is None, r
        assert f"{chain:10s} s/step" in text and "peak VRAM n/a (CPU)" in text
    assert "ratios dreamactor/native: s/step" in text and "agreement: latent max |diff|" in text


@pytest.mark.slow
def test_dry_run_offload_take_has_three_segments_and_every_frame(dry):
    res, text = dry.results["offload"], dry.out["offload"]
    assert dry.rc["offload"] == 0 and res["problems"] == [], text
    assert len(res["segments"]) == res["expected_segments"] == 3
    assert res["frames"] == res["expected_frames"] == 13 and res["finite"]
    for i, seg in enumerate(res["segments"]):
        assert seg["ram_gib"] > 0.1 and seg["s_per_step"] > 0 and seg["vram_gib"] is None, seg
        assert seg["loaded_fraction"] == 1.0  # the CPU is its own load device: nothing to offload
        assert f"segment {i + 1}: peak VRAM n/a (CPU)" in text
    assert res["vram_flat"] is None and res["ram_flat"]["first"] > 0  # no VRAM on the CPU
    assert res["window"]["face"] and "face path on" in text and "face motion given per frame" in text
    assert "3 segments, 13 frames stitched (expected 3, 13)" in text


@pytest.mark.slow
def test_dry_run_report_prints_the_figures_side_by_side(dry):
    text = dry.out["report"]
    assert dry.rc["report"] == 0, text
    for fmt in ("bf16", "fp8"):
        assert f"[{fmt}] s/step    native" in text and f"[{fmt}] peak RAM  native" in text, text
        assert f"[{fmt}] latent max |diff|" in text
    assert "[offload bf16] no cap (CPU), 3 segments, 13 frames" in text and "PROBLEM" not in text
