"""Peak RAM of one DreamActor Sampler segment at 1280x720, before and after issue 15.

Each measurement is a fresh process on the tiny real-layout checkpoints (CPU): it loads
the models, then samples ONE segment of ``--frames`` frames at 1280x720 (1 step, cfg 1,
no face path) and reports the process's resident memory before the run and its peak
during it (Linux ``/proc/self/status`` VmRSS / VmHWM, the peak reset with ``clear_refs``
after loading). The transient (peak - before) is what one segment costs in RAM beyond
the models: guide frames, VAE inputs and outputs and the VAE's own activations, their
conversions. A third run uses the tiled VAE option (``--no-tiled`` skips it).

"before" is the pack at commit ``BEFORE`` (the tree before issue 15), extracted with
``git archive`` into a temporary folder that shares this checkout's host and caches;
"after" is this checkout. Both run the same frames, sizes and seed, one after the other.
Run: ``python benchmarks/bench_segment_ram.py [--frames 9] [--no-tiled]`` (about 2 minutes a measurement at 9 frames on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEFORE = "2a7d31e"  # the pack before issue 15 (sampler engine in nodes/sampler.py)
W, H = 1280, 720

CHILD = r"""
import json, os, sys
root, frames, width, height, tiled = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
sys.path.insert(0, root)
sys.path.insert(0, os.path.join(root, "tests", "unit"))
sys.path.insert(0, os.path.join(root, "tests"))
import tempfile
import torch
import sampler_fixtures as fx

engine = fx.engine_module() if hasattr(fx, "engine_module") else fx.sampler_module()
model, vae = fx.load_tiny("animate"), fx.load_tiny("vae")
motion, face = fx.moving_person(frames), fx.face_track(frames)
pos, neg, ref = fx.text_conditioning(1), fx.text_conditioning(2), fx.reference_image()

def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":")) / 1024.0

with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current RSS
before = status("VmRSS")
extra = {"tiled_vae": True} if tiled else {}
with torch.inference_mode():
    engine.sample_segments(model, vae, pos, neg, ref, motion, face, 3, 1, 1.0, "euler", "simple", width, height,
                           segment_length=frames, motion_frames=0, face_strength=0.0, cache_name="ram",
                           cache_root=tempfile.mkdtemp(), **extra)
print(json.dumps({"rss_mb": before, "peak_mb": status("VmHWM")}))
"""


def measure(root: str, frames: int, tiled: bool = False) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, root, str(frames), str(W), str(H), "1" if tiled else "0"],
        capture_output=True,
        text=True,
        cwd=root,
    )
    if out.returncode != 0:
        raise RuntimeError(f"measurement in {root} failed:\n{out.stderr[-3000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["transient_mb"] = res["peak_mb"] - res["rss_mb"]
    return res


def before_tree(tmp: str) -> str | None:
    """The pack at BEFORE, extracted into ``tmp`` with this checkout's host and caches linked."""
    tree = os.path.join(tmp, "before")
    os.makedirs(tree)
    archive = subprocess.run(["git", "-C", ROOT, "archive", BEFORE], capture_output=True)
    if archive.returncode != 0:
        return None
    subprocess.run(["tar", "-x", "-C", tree], input=archive.stdout, check=True)
    for name in (".host", ".cache"):
        if os.path.exists(os.path.join(ROOT, name)):
            os.symlink(os.path.join(ROOT, name), os.path.join(tree, name))
    return tree


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=9, help="frames in the segment (4k+1)")
    ap.add_argument("--no-tiled", action="store_true", help="skip the run with the tiled VAE option (after only)")
    args = ap.parse_args()
    print(f"one segment of {args.frames} frames at {W}x{H}, tiny checkpoints, CPU (MB)")
    with tempfile.TemporaryDirectory() as tmp:
        tree = before_tree(tmp)
        before = measure(tree, args.frames) if tree else None
        after = measure(ROOT, args.frames)
        tiled = None if args.no_tiled else measure(ROOT, args.frames, tiled=True)
    rows = [("before", before), ("after", after), ("after, tiled VAE", tiled)]
    for name, r in rows:
        if r is not None:
            print(
                f"  {name:17s} rss before {r['rss_mb']:8.0f}  peak {r['peak_mb']:8.0f}  transient {r['transient_mb']:8.0f}"
            )
    if before is not None:
        print(f"  transient after/before: {after['transient_mb'] / before['transient_mb']:.2f}")
    else:
        print(f"  (no 'before': git archive {BEFORE} failed)")


if __name__ == "__main__":
    main()
