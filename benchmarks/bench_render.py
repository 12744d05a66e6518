"""Guide rendering speed: ms per frame for each style at 832x480 and 1280x720.

    .venv/bin/python -m benchmarks.bench_render [--frames 120] [--repeat 3] [--all-cores]

Renders a synthetic person (tests/unit/motion_fixtures.py) whose arms swing and
head turns, through ``models.render.frames.render_frames`` (the path a sampler takes),
pinned to one CPU core unless --all-cores. Prints the best of --repeat runs.
"""

from __future__ import annotations

import argparse
import os
import time

import cv2
import numpy as np

from models.core.skeleton import BODY
from models.render.frames import STYLES, render_frames
from tests.unit.motion_fixtures import FRONTAL_HEAD, person_motion, reproject, yaw

SIZES = ((832, 480), (1280, 720))


def moving_person(frames: int):
    """A person whose arms swing forward/back and whose head turns, over ``frames`` frames."""
    m = person_motion(frames, image_size=(1280, 720), arms="a", pelvis=(0.0, 0.0, 3.6))
    phase = np.linspace(0, 4 * np.pi, frames)
    for hand, (side, sign) in enumerate((("left", 1.0), ("right", -1.0))):
        for joint, reach in (("elbow", 0.2), ("wrist", 0.45)):
            j = BODY[f"{side}_{joint}"]
            before = m.joints3d[:, j].copy()
            m.joints3d[:, j, 2] += sign * reach * np.sin(phase)
            m.joints3d[:, j, 1] -= 0.5 * reach * np.abs(np.sin(phase))
            if joint == "wrist":  # the hand follows its wrist
                m.optional["hands3d"][:, hand] += (m.joints3d[:, j] - before)[:, None]
    for t, a in enumerate(phase):
        m.head_rotation[t] = yaw(50 * np.sin(a)) @ FRONTAL_HEAD
    return reproject(m)


def ms_per_frame(motion, style: str, size, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in render_frames(motion, 0, motion.num_frames, *size, style=style):
            pass
        best = min(best, (time.perf_counter() - t0) / motion.num_frames)
    return best * 1000.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--all-cores", action="store_true", help="do not pin the process to one core")
    args = ap.parse_args()
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        cv2.setNumThreads(1)
    motion = moving_person(args.frames)
    cores = "all cores" if args.all_cores else "1 core"
    print(f"guide rendering, ms/frame ({args.frames} frames, best of {args.repeat}, {cores})")
    print(f"{'style':<14}" + "".join(f"{w}x{h:<10}" for w, h in SIZES))
    for style in STYLES:
        cells = [ms_per_frame(motion, style, size, args.repeat) for size in SIZES]
        print(f"{style:<14}" + "".join(f"{c:<14.2f}" for c in cells))


if __name__ == "__main__":
    main()
