"""Extraction speed: Skeleton Extract + Head Sphere Fit on sports2d's demo.mp4 scaled to 720p,
next to MediaPipe's bare PoseLandmarker (full model, VIDEO mode, whole frame) on the same
frames, in the same run; the pipeline as shipped (the hands on a second thread,
``models.extract.body_parts``) and on one thread; and where the time goes (each model's
calls timed, on whichever thread ran them).

    python -m benchmarks.bench_extract
    python -m benchmarks.bench_extract --before /path/to/older/checkout   # and that tree's, alternately
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict

import cv2
import numpy as np

from models.extract import face_mesh, landmarkers
from models.extract.driver import extract_motion
from models.extract.landmarkers import TaskRunner
from models.head.sphere import fit_head_sphere
from models.io.video import ArrayVideo, FileVideo
from scripts.harness.fetch_media import fetch, fetch_models

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

GOAL_FPS = 30.0


def frames_720p() -> tuple[np.ndarray, float]:
    video = FileVideo(fetch("demo.mp4"))
    W, H = video.size
    size = (int(round(W * 720 / H / 2)) * 2, 720)
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in video.iter_frames()]), video.fps


def bare_pose(frames: np.ndarray) -> tuple[float, int]:
    """Seconds and frames with a body for the bare PoseLandmarker on whole frames."""

    def make(vision, base, mode):
        return vision.PoseLandmarker.create_from_options(
            vision.PoseLandmarkerOptions(base_options=base, running_mode=mode, num_poses=1)
        )

    runner = TaskRunner("pose_landmarker_full.task", True, make)
    runner.run(frames[0])  # model load outside the timing
    runner.reset()
    t0, found = time.perf_counter(), 0
    for f in frames:
        found += bool(runner.run(f).pose_landmarks)
    runner.close()
    return time.perf_counter() - t0, found


def timed_pipeline(frames: np.ndarray, fps: float, threaded: bool = True) -> tuple[float, dict, object]:
    """Seconds for extract_motion + fit_head_sphere, and seconds spent inside each model."""
    spent: dict[str, float] = defaultdict(float)
    lock = threading.Lock()
    patched = []
    for cls, method, label in (
        (landmarkers.PoseLandmarker, "process", "pose model"),
        (landmarkers.HandLandmarker, "process", "hand model"),
        (face_mesh.FaceMeshDetector, "detect", "face model"),
    ):
        original = getattr(cls, method)

        def wrapper(self, *a, _orig=original, _label=label, **k):
            t = time.perf_counter()
            try:
                return _orig(self, *a, **k)
            finally:
                with lock:
                    spent[_label] += time.perf_counter() - t

        setattr(cls, method, wrapper)
        patched.append((cls, method, original))
    try:
        t0 = time.perf_counter()
        motion = extract_motion(ArrayVideo(frames, fps=fps), threaded=threaded)
        t1 = time.perf_counter()
        fit_head_sphere(motion)
        spent["head sphere fit"] = time.perf_counter() - t1
        total = time.perf_counter() - t0
    finally:
        for cls, method, original in patched:
            setattr(cls, method, original)
    return total, dict(spent), motion


def report(label: str, T: int, total: float, spent: dict, motion, bare_s: float) -> None:
    print(
        f"  {label:48s} {T / total:6.1f} frames/s, body on {int(motion.valid.sum())}/{T} "
        f"(goal {GOAL_FPS:.0f}); ratio to bare pose {bare_s / total:.2f}"
    )
    inside = sum(spent.values())
    for name, s in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(
            f"    {name:16s} {s:6.2f} s  {100 * s / inside:5.1f} % of the models' time  ({1000 * s / T:.1f} ms/frame)"
        )


CHILD = (
    "import json, time; from benchmarks.bench_extract import frames_720p, timed_pipeline; f, fps = frames_720p(); "
    "c = time.process_time(); t, s, m = timed_pipeline(f, fps); c = time.process_time() - c; "
    "print('RESULT', json.dumps([len(f) / t, 1000 * c / len(f)]))"
)


def compare_with(tree: str, frames: np.ndarray, fps: float, reps: int = 3) -> None:
    """This tree's pipeline and ``tree``'s (its own ``timed_pipeline``, in a child process),
    alternately ``reps`` times, so both see the same load; medians of frames/s and of CPU
    time per frame (all threads: the work done, which other load changes least)."""
    ours, theirs = [], []
    for _ in range(reps):
        c = time.process_time()
        total, _, _ = timed_pipeline(frames, fps)
        ours.append((len(frames) / total, 1000 * (time.process_time() - c) / len(frames)))
        out = subprocess.run([sys.executable, "-c", CHILD], cwd=tree, capture_output=True, text=True, check=True)
        theirs.append(json.loads(out.stdout.split("RESULT", 1)[1]))
    (a_fps, a_cpu), (b_fps, b_cpu) = np.median(ours, 0), np.median(theirs, 0)
    print(f"== this tree vs {tree}, alternately {reps}x, medians:")
    print(f"   frames/s {a_fps:.1f} vs {b_fps:.1f} (x{a_fps / b_fps:.2f}; runs {np.round(ours, 1)[:, 0].tolist()} vs")
    print(f"   {np.round(theirs, 1)[:, 0].tolist()}); CPU ms per frame {a_cpu:.1f} vs {b_cpu:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", help="an older checkout: its pipeline and this one's, timed alternately")
    args = parser.parse_args()
    os.environ.setdefault("DREAMACTOR_MEDIAPIPE_DIR", fetch_models())
    frames, fps = frames_720p()
    T = len(frames)
    print(f"demo.mp4 scaled to {frames.shape[2]}x{frames.shape[1]}, {T} frames; {os.cpu_count()} CPUs")
    print(f"  load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    bare_s, bare_found = bare_pose(frames)
    print(f"  bare PoseLandmarker (full, VIDEO, whole frame):  {T / bare_s:6.1f} frames/s, body on {bare_found}/{T}")
    c0 = time.process_time()
    total, spent, motion = timed_pipeline(frames, fps)
    cores = (time.process_time() - c0) / total
    report("Skeleton Extract + Head Sphere Fit:", T, total, spent, motion, bare_s)
    print(f"    (the hands on a second thread; {cores:.2f} cores busy on average)")
    one_total, one_spent, one_motion = timed_pipeline(frames, fps, threaded=False)
    report("the same on one thread:", T, one_total, one_spent, one_motion, bare_s)
    rest = one_total - sum(one_spent.values())
    print(
        f"    {'rest':16s} {rest:6.2f} s  (cropping, tracking, smoothing, camera fit: {100 * rest / one_total:.1f} %)"
    )
    same = all(
        np.array_equal(getattr(motion, k), getattr(one_motion, k)) for k in ("hands2d", "hands_conf", "face2d")
    ) and np.array_equal(motion.get("face_valid"), one_motion.get("face_valid"))
    print(f"  second thread: {one_total / total:.2f}x faster than one thread; same hands and faces: {same}")
    if args.before:
        compare_with(args.before, frames, fps)
