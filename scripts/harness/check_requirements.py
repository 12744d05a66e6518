"""Do the pack's requirements install, binary wheels only and with numpy 2, on every Python and
platform users run ComfyUI on? CPython 3.10-3.13 x Linux x86_64 / Windows / macOS arm64.

Each of the 12 combinations is a ``pip install --dry-run --only-binary=:all: --python-version
... --platform ...`` against PyPI (pip's HTTP cache makes repeats fast), run in parallel.
torch is ComfyUI's own and is never resolved: pip evaluates environment markers for this
machine, not the target, so torch's Linux-only CUDA dependencies would fail every Windows and
macOS resolution. The one requirement that depends on torch (smplx, pure Python) is resolved
without its dependencies.

    python -m scripts.harness.check_requirements        # exit status 1 if any combination fails
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
PLATFORMS = {
    "linux-x86_64": ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
    "windows": ("win_amd64",),
    "macos-arm64": ("macosx_14_0_arm64", "macosx_13_0_arm64", "macosx_12_0_arm64", "macosx_11_0_arm64"),
}
NO_DEPS = ("smplx",)
"""Requirements resolved without their dependencies (they depend on ComfyUI's torch)."""


def split_requirements(path: str) -> tuple[list[str], list[str]]:
    """(with dependencies, without) requirement lines of ``path``."""
    lines = [ln.split("#")[0].strip() for ln in open(path, encoding="utf-8")]
    lines = [ln for ln in lines if ln]
    no_deps = [ln for ln in lines if ln.split("=")[0].split(">")[0].split("<")[0].strip().lower() in NO_DEPS]
    return [ln for ln in lines if ln not in no_deps], no_deps


def _pip(python: str, platforms, requirements: list[str], no_deps: bool) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "-q"]
        cmd += ["--disable-pip-version-check", "--target", os.path.join(tmp, "t"), "--report", report]
        cmd += ["--only-binary=:all:", "--implementation", "cp", "--python-version", python]
        for p in platforms:
            cmd += ["--platform", p]
        env = dict(os.environ, PIP_CONSTRAINT="")  # the target's own resolution, not this machine's caps
        cmd += (["--no-deps"] if no_deps else []) + requirements
        run = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if run.returncode != 0:
            errors = [ln for ln in run.stderr.splitlines() if ln.startswith("ERROR")]
            return False, " | ".join(errors[-3:]) or run.stderr[-400:]
        got = json.load(open(report))["install"]
        return True, ", ".join(f"{i['metadata']['name']}=={i['metadata']['version']}" for i in got)


def check(python: str, platform: str, requirements_file: str) -> tuple[str, str, bool, str]:
    with_deps, without = split_requirements(requirements_file)
    ok, note = _pip(python, PLATFORMS[platform], with_deps + ["numpy>=2"], no_deps=False)
    if ok and without:
        ok2, note2 = _pip(python, PLATFORMS[platform], without, no_deps=True)
        ok, note = ok2, note + ", " + note2 if ok2 else note2
    return python, platform, ok, note


def main() -> int:
    req = os.path.join(ROOT, "requirements.txt")
    combos = [(py, plat) for py in PYTHONS for plat in PLATFORMS]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda c: check(c[0], c[1], req), combos))
    failed = 0
    for python, platform, ok, note in results:
        failed += not ok
        wanted = [n for n in note.split(", ") if n.split("==")[0].lower() in ("numpy", "mediapipe")]
        print(f"{'ok  ' if ok else 'FAIL'} CPython {python} {platform:13s} {', '.join(wanted) if ok else note}")
    print(f"{len(results) - failed}/{len(results)} combinations resolve with numpy 2, binary wheels only")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
