"""How long the bone editor waits for the server after a reference joint is dropped ("Pose
reference"): POST /dreamactor/retarget_repose loads the run's stored inputs, retargets again with
the placement and writes a new preview. Real data: the sports2d clip (30 frames extracted, tiled
to 300) driving the astronaut photo, the head placed 20 px to the right.

    .venv/bin/python -m benchmarks.bench_repose

Prints the median of 5 runs per stage, in milliseconds, and the first frame's head shift.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np

from models.core.motion import OPTIONAL_PER_FRAME, PER_FRAME, Motion
from models.core.skeleton import BODY
from models.retarget.bone_edits import parse_bone_edits
from models.retarget.preview import build_preview, save_preview
from models.retarget.preview_inputs import load_inputs, save_inputs
from models.retarget.transfer import retarget_details
from tests.unit import alignment_measure as am

RUN, NEW = "retarget_1_0123456789ab", "retarget_1_0123456789ac"


def tiled(m: Motion, times: int) -> Motion:
    """The clip played ``times`` times in a row."""
    a = m.to_arrays()
    for k in (*PER_FRAME, *OPTIONAL_PER_FRAME):
        if k in a and np.ndim(a[k]) >= 1:
            a[k] = np.concatenate([a[k]] * times)
    return Motion.from_arrays(a)


def main() -> None:
    driving = tiled(am.clip_motion("demo.mp4", 0, 30), 10)
    reference = am.photo_motion("astronaut.png")
    head = reference.joints2d[0, BODY["head"]].astype(float)
    edits = parse_bone_edits({"reference_joints": {"head": [head[0] + 20.0, head[1]]}})
    tmp = tempfile.mkdtemp()
    save_inputs(tmp, RUN, driving, reference, {})
    times = {"load inputs": [], "retarget": [], "write preview": []}
    for _ in range(5):
        t0 = time.perf_counter()
        d, r, _ = load_inputs(tmp, RUN)
        t1 = time.perf_counter()
        result = retarget_details(d, r, edits)
        t2 = time.perf_counter()
        save_preview(build_preview(result, d, r, edits, "match reference"), tmp, NEW)
        t3 = time.perf_counter()
        for k, v in zip(times, (t1 - t0, t2 - t1, t3 - t2)):
            times[k].append(1000 * v)
    plain = retarget_details(driving, reference).motion.joints2d[0, BODY["head"]]
    shift = result.motion.joints2d[0, BODY["head"]] - plain
    print(f"{driving.num_frames} frames: " + ", ".join(f"{k} {np.median(v):.0f} ms" for k, v in times.items()))
    print(f"output head moved by ({shift[0]:.2f}, {shift[1]:.2f}) px for a placement 20 px to the right")


if __name__ == "__main__":
    main()
