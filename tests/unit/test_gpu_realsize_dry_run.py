"""benchmarks/gpu_realsize.py's CPU dry run: the real-size GPU script's code path (random real-layout
checkpoint at reduced width and depth, bf16 and scaled fp8 through the host's loader, the native
chain and the DreamActor Sampler side by side, a three-segment take) runs and reports every figure."""

from __future__ import annotations

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_gpu_realsize_dry_run_reports_both_formats():
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.gpu_realsize", "--dry-run"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    for fmt in ("bf16", "fp8"):
        ratio = re.search(rf"\[{fmt}\] s/step +native +([\d.]+) +dreamactor +([\d.]+) +ratio ([\d.]+)", text)
        assert ratio and all(float(v) > 0 for v in ratio.groups()), text
        assert re.search(rf"\[{fmt}\] peak RAM +native +[\d.]+ +dreamactor +[\d.]+ +GiB", text), text
        take = re.search(rf"\[{fmt}\] 3-segment take, peak VRAM per segment: ([\d., ]+) GiB", text)
        assert take and len(take.group(1).split(",")) == 3, text
