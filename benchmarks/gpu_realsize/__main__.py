"""Command line: ``python -m benchmarks.gpu_realsize STEP [--dry-run] [options]`` (see __init__)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from . import checks
from .plan import EXPECTED_MINUTES, FORMATS, default_cache, describe, make_plan

STEPS = ("build", "compare", "offload", "clean", "report", "all")


def _doc() -> str:
    from . import __doc__ as doc

    return doc.splitlines()[0]


def parse(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.gpu_realsize", description=_doc())
    ap.add_argument("step", choices=STEPS, help="one step (build, compare, offload, clean, report) or all of them")
    ap.add_argument("--dry-run", action="store_true", help="CPU, reduced width and depth: checks the code and values")
    ap.add_argument("--cache", help="folder of the weights and results (default .cache/gpu_realsize/<spec hash>)")
    ap.add_argument("--formats", default=",".join(FORMATS), help="build, clean, all: DiT formats (bf16,fp8)")
    ap.add_argument("--format", default="bf16", choices=FORMATS, help="compare: the DiT format")
    ap.add_argument("--steps", type=int, help="compare: sampling steps (3 real, 2 dry)")
    ap.add_argument("--frames", type=int, help="compare: frames of the window, 4k+1 (77 real, 1 dry)")
    ap.add_argument("--vram-cap", type=float, default=16.0, help="offload: GiB of VRAM the take may use (16)")
    return ap.parse_args(argv)


def step_commands(args: argparse.Namespace) -> list[list[str]]:
    """The fresh-process commands ``all`` runs, in order, each resuming from the files of the last.

    One DiT format is on disk at a time (bf16 34.5 GB, then fp8 18.4 GB): the build of fp8 draws
    the same weights again on the GPU (seconds) after bf16's compare and the offload take."""
    base = [sys.executable, "-m", "benchmarks.gpu_realsize"]
    common = (["--cache", args.cache] if args.cache else []) + (["--dry-run"] if args.dry_run else [])
    sizes = (["--steps", str(args.steps)] if args.steps else []) + (
        ["--frames", str(args.frames)] if args.frames else []
    )
    formats = args.formats.split(",")
    cmds = []
    for i, fmt in enumerate(formats):
        if i:
            cmds.append(base + ["clean", "--formats", formats[i - 1]] + common)
        cmds.append(base + ["build", "--formats", fmt] + common)
        cmds.append(base + ["compare", "--format", fmt] + sizes + common)
        if fmt == "bf16":  # the capped take runs on the bf16 file: the biggest to stream
            cmds.append(base + ["offload", "--vram-cap", f"{args.vram_cap:g}"] + common)
    return cmds + [base + ["report"] + common]


def run_all(args: argparse.Namespace) -> int:
    failed = []
    for cmd in step_commands(args):
        t = time.perf_counter()
        print(f"== {' '.join(cmd[3:])}", flush=True)
        rc = subprocess.run(cmd).returncode
        print(f"== exit {rc} after {time.perf_counter() - t:.0f} s", flush=True)
        if rc:
            failed.append(" ".join(cmd[3:5]))
            if cmd[3] == "build":
                break  # the later steps need its files
    if failed:
        print(f"== failed: {'; '.join(failed)}", flush=True)
    return 1 if failed else 0


def main(argv=None) -> int:
    sys.stdout.reconfigure(line_buffering=True)  # figures appear as they are measured
    args = parse(argv)
    if args.step == "all":
        return run_all(args)
    plan = make_plan(args.dry_run, args.steps, args.frames, args.vram_cap)
    cache = args.cache or default_cache(plan)
    return run_step(args.step, plan, cache, args.formats.split(","), args.format)


def expected_minutes(step: str, formats, fmt: str) -> float:
    if step == "build":
        return sum(EXPECTED_MINUTES[f"build {f}"] for f in formats)
    return EXPECTED_MINUTES.get(f"compare {fmt}" if step == "compare" else step, 0.0)


def run_step(step: str, plan, cache: str, formats, fmt: str) -> int:
    """One step in this process; 0 when its figures passed their checks."""
    from . import host, steps, weights

    name = {"compare": f"compare {fmt}", "build": f"build {'+'.join(formats)}"}.get(step, step)
    t0 = time.perf_counter()

    def say(text: str) -> None:
        print(f"[{name} +{time.perf_counter() - t0:5.1f}s] {text}", flush=True)

    if step in ("report", "clean"):
        if step == "clean":
            weights.clean(plan, cache, formats, say)
            return 0
        results = checks.load_all(cache)
        if not results:
            say(f"no results in {cache}: run the other steps first (same --dry-run and --cache)")
        steps.report(results, say)
        return 1 if any(r.get("problems") for r in results.values()) else 0
    minutes = expected_minutes(step, formats, fmt)
    say(describe(plan) + f"; cache {cache}" + ("" if plan.dry_run else f"; ~{minutes:g} min on one H200 (estimate)"))
    if step == "build":  # torch alone: writing the files needs no host
        if plan.device == "cuda":
            host.need_cuda()
        res = {"step": "build", "timings": weights.build(plan, cache, formats, say), "problems": []}
    else:
        host.start(plan.device)
        res = steps.compare(plan, cache, fmt, say) if step == "compare" else steps.offload(plan, cache, say)
    res["seconds"] = time.perf_counter() - t0
    path = checks.save(cache, name.replace(" ", "_"), res)
    for problem in res["problems"]:
        say(f"PROBLEM: {problem}")
    say(f"{'passed' if not res['problems'] else 'FAILED'} in {res['seconds']:.0f} s; figures in {path}")
    return 1 if res["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
