"""Frame timing of a variable-frame-rate clip through FileVideo, before and after issue 14.

The clip (tests/host/test_hostile_inputs.write_vfr_clip): 1 s at 30 fps, 1 s at 60 fps,
1 s at 30 fps, each frame showing its index in binary, beeps at 0.5, 1.5 and 2.5 s. It is
loaded from frame 10 at fps 25 and at fps 0 (the clip's own rate); for each, the worst
distance between an output frame's time and the time of the source frame it shows, the
source frames shown, the worst first showing of a source frame, and the audio's length
against the video's.

"before" is ``models/`` at commit ``BEFORE`` (git archive into a temporary folder), "after"
this checkout; each runs in its own process on the same file.
Run: ``python -m benchmarks.bench_vfr_timing`` (the child script puts each tree first on its path: it compares two trees).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEFORE = "2a7d31e"

CHILD = r"""
import sys
root, clip = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
import numpy as np
from models.io.video import FileVideo
sys.path.insert(0, sys.argv[3])
from tests.host.test_hostile_inputs import read_code, vfr_times
times = vfr_times()
t0 = times[10]
for fps in (25.0, 0.0):
    v = FileVideo(clip, start=10, fps=fps)
    shown = [read_code(f) for f in v.iter_frames()]
    late = max(abs(times[s] - t0 - k / v.fps) for k, s in enumerate(shown))
    first = {s: k for k, s in reversed(list(enumerate(shown)))}
    start = max(abs(times[s] - t0 - k / v.fps) for s, k in first.items())
    a = v.audio()
    print(f"  fps {fps:g}: {v.num_frames} frames at {v.fps:.3f} fps, {len(set(shown))}/110 source frames shown, "
          f"worst frame {late * 1000:.1f} ms off its time, worst first showing {start * 1000:.1f} ms "
          f"(half a period: {500 / v.fps:.1f} ms), "
          f"audio {a.duration:.3f} s for {v.num_frames / v.fps:.3f} s of video")
"""


def main() -> int:
    from tests.host.test_hostile_inputs import write_vfr_clip

    with tempfile.TemporaryDirectory(prefix="bench_vfr_") as folder:
        clip = write_vfr_clip(os.path.join(folder, "vfr.mp4"))
        old = os.path.join(folder, "before")
        os.makedirs(old)
        archive = subprocess.run(["git", "-C", ROOT, "archive", BEFORE, "models"], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", old], input=archive.stdout, check=True)
        for name, root in ((f"before ({BEFORE})", old), ("after (this tree)", ROOT)):
            print(name, flush=True)
            subprocess.run([sys.executable, "-c", CHILD, root, clip, ROOT], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
