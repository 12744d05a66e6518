"""Separate MediaPipe solutions vs MediaPipe Holistic for skeleton extraction.

    .venv/bin/python -m benchmarks.bench_extract_backends [--frames 120]

Both backends see the same person crops, frame by frame: the pack's person
tracker (``models.extract.tracking``) picks the crop, then

* ``separate`` (what ``models.extract.driver`` runs): Pose on the body crop, Hands on a
  crop per wrist (or on the body crop when hands are large), Face Mesh (478
  points) on a crop around the head;
* ``holistic``: ``mediapipe.solutions.holistic`` (refine_face_landmarks=True,
  smoothing off) on the body crop at full resolution, which finds face and
  hands from its own pose.

Printed per clip, side by side: milliseconds per frame in the landmark models
(the tracker's own search is shared and left out), and quality: the share of
frames with a body / left hand / right hand / face, the face jitter (median
|frame-to-frame acceleration| of the face points, in % of the face size; lower
is steadier) and whether each hand sits at its own side's wrist (% of frames
where it is nearer the pose wrist of its side than the other one's, among
frames where both wrists are visible).

Measured on the build machine (2 CPU cores shared with other jobs, so the
timings move by +-30 % between runs; separate | holistic):

    clip (frames)        ms/frame  body %     L hand %  R hand %  face %    face jitter %  hand side ok %
    demo.mp4 (120)       42 | 27   100 | 100  42 | 23   71 | 52   76 | 48   4.21 | 4.19    100 | 100
    single_face (72)     30 | 22   100 | 100   0 | 0     0 | 0   100 | 100  0.11 | 0.10      - | -
    WolfgangLanger (240) 36 | 22   100 | 100   0 | 0    72 | 7   100 | 100  0.36 | 0.35      - | -

(other runs: 43-64 | 36-50, 34-43 | 21-23, 35-41 | 21-22 ms/frame).
Holistic is faster (1.4-1.6x), but it finds far fewer hands (it crops them from
its own pose: 7 % vs 72 % of the frames on the close-up, where the pose's wrists
are guesses), fewer faces of small people (48 % vs 76 % on demo.mp4), and it
gives no hand world landmarks (``hands3d`` needs them). Face jitter is the same
once the face crop is kept still while tracking (it was 0.23 vs 0.10 % on
single_face.mp4 with a crop that followed the head every frame). So
``models.extract.driver`` runs the separate solutions.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict

import numpy as np

from models.core.roi import SquareCrop
from models.extract import driver as extract
from models.extract import face_mesh, landmarkers
from models.extract.body_mapping import MP
from models.extract.landmarkers import landmark_array
from models.extract.tracking import PersonFollower
from models.io.video import FileVideo
from scripts.harness.fetch_media import fetch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIPS = (("demo.mp4", 120), ("single_face.mp4", 72), ("WolfgangLanger_Pexels.mp4", 240))


class Timer:
    """Adds the wall time of wrapped calls under a name."""

    def __init__(self):
        self.total = defaultdict(float)

    def wrap(self, owner, name: str, key: str):
        original = getattr(owner, name)
        timer = self

        def timed(*a, **k):
            t0 = time.perf_counter()
            try:
                return original(*a, **k)
            finally:
                timer.total[key] += time.perf_counter() - t0

        setattr(owner, name, timed)
        return original


def run_separate(video, frames: int):
    """The pack's pipeline (models.extract.driver.track_person); times the pose model on
    the tracking crop, the hand models and the face model."""
    timer = Timer()
    saved = [
        (landmarkers.HandLandmarker, "process", timer.wrap(landmarkers.HandLandmarker, "process", "hands")),
        (face_mesh.FaceMeshDetector, "detect", timer.wrap(face_mesh.FaceMeshDetector, "detect", "face")),
    ]
    orig_init = PersonFollower.__init__

    def timed_init(self, *a, **k):  # time the tracker's per-frame pose, not the searches
        orig_init(self, *a, **k)
        timer.wrap(self.tracker, "process", "pose")

    PersonFollower.__init__ = timed_init
    try:
        raw = extract.track_person(_first(video, frames))
    finally:
        PersonFollower.__init__ = orig_init
        for owner, name, fn in saved:
            setattr(owner, name, fn)
    ms = 1000 * (timer.total["hands"] + timer.total["face"] + timer.total["pose"]) / frames
    face = np.where(raw.face_valid[:, None, None], raw.face[..., :2], np.nan)
    return ms, dict(
        body=raw.body_valid,
        hands=raw.hand_valid,
        hand_wrist=raw.hand_image[:, :, 0, :2],
        pose=raw.pose_image[..., :2],
        vis=raw.pose_vis,
        face=face,
        face_valid=raw.face_valid,
    )


def run_holistic(video, frames: int):
    """Holistic on the tracker's body crop (at full resolution), its own pose, hands, face."""
    from mediapipe.python.solutions import holistic

    model = holistic.Holistic(
        static_image_mode=False, model_complexity=1, smooth_landmarks=False, refine_face_landmarks=True
    )
    follower = PersonFollower()
    T = frames
    body = np.zeros(T, bool)
    hands = np.zeros((T, 2), bool)
    hand_wrist = np.zeros((T, 2, 2))
    pose = np.zeros((T, 33, 2))
    vis = np.zeros((T, 33))
    face = np.full((T, 478, 2), np.nan)
    spent = 0.0
    for t, frame in enumerate(_first(video, frames).iter_frames()):
        p = follower.start(frame)[0] if follower.track is None else follower.step(frame)
        if p is None:
            continue
        c = p.crop
        crop = SquareCrop(c.x0, c.y0, c.side, int(min(c.side, 1024)))
        t0 = time.perf_counter()
        out = model.process(crop.take(frame))
        spent += time.perf_counter() - t0
        if out.pose_landmarks is None:
            continue
        lm = landmark_array(out.pose_landmarks, ("x", "y", "z", "visibility"))
        body[t], pose[t], vis[t] = True, crop.to_frame(lm[:, :2]), lm[:, 3]
        for k, h in enumerate((out.left_hand_landmarks, out.right_hand_landmarks)):
            if h is not None:
                hands[t, k], hand_wrist[t, k] = True, crop.to_frame(landmark_array(h)[0, :2])
        if out.face_landmarks is not None:
            face[t] = crop.to_frame(landmark_array(out.face_landmarks)[:, :2])
    model.close()
    follower.close()
    return 1000 * spent / frames, dict(
        body=body,
        hands=hands,
        hand_wrist=hand_wrist,
        pose=pose,
        vis=vis,
        face=face,
        face_valid=~np.isnan(face[:, 0, 0]),
    )


def _first(video, frames: int):
    return FileVideo(video.path, count=frames)


def face_jitter(face: np.ndarray) -> float:
    """Median |second difference| of face points over consecutive valid frames, % of face size."""
    acc = np.abs(face[2:] - 2 * face[1:-1] + face[:-2])  # NaN where any frame lacks a face
    seen = np.isfinite(face[:, 0, 0])
    if not seen.any():
        return float("nan")
    size = np.median((face[seen].max(1) - face[seen].min(1)).max(-1))
    ok = np.isfinite(acc).all(axis=(1, 2))
    return float(100 * np.median(acc[ok]) / size) if ok.any() else float("nan")


def hand_side_ok(r) -> float:
    """% of hands nearer their own side's pose wrist (both wrists visible)."""
    good = total = 0
    for k, side in enumerate(("left", "right")):
        own, other = MP[f"{side}_wrist"], MP[f"{('right', 'left')[k]}_wrist"]
        sel = r["hands"][:, k] & (r["vis"][:, own] >= 0.5) & (r["vis"][:, other] >= 0.5)
        d_own = np.linalg.norm(r["hand_wrist"][sel, k] - r["pose"][sel, own], axis=-1)
        d_other = np.linalg.norm(r["hand_wrist"][sel, k] - r["pose"][sel, other], axis=-1)
        good += int((d_own < d_other).sum())
        total += int(sel.sum())
    return 100.0 * good / total if total else float("nan")


def row(r, frames: int) -> dict[str, float]:
    return {
        "body %": 100 * r["body"].mean(),
        "L hand %": 100 * r["hands"][:, 0].mean(),
        "R hand %": 100 * r["hands"][:, 1].mean(),
        "face %": 100 * r["face_valid"].mean(),
        "face jitter %": face_jitter(r["face"]),
        "hand side ok %": hand_side_ok(r),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=0, help="frames per clip (0 = the defaults above)")
    args = ap.parse_args()
    header = f"{'clip (frames)':24s}{'ms/frame':>16s}"
    keys = ("body %", "L hand %", "R hand %", "face %", "face jitter %", "hand side ok %")
    print("separate | holistic")
    print(header + "".join(f"{k:>18s}" for k in keys))
    for name, default_frames in CLIPS:
        video = FileVideo(fetch(name))
        frames = min(args.frames or default_frames, video.num_frames)
        ms_s, r_s = run_separate(video, frames)
        ms_h, r_h = run_holistic(video, frames)
        a, b = row(r_s, frames), row(r_h, frames)
        cells = "".join(f"{_fmt(a[k]) + ' | ' + _fmt(b[k]):>18s}" for k in keys)
        print(f"{name[:14] + f' ({frames})':24s}{f'{ms_s:.0f} | {ms_h:.0f}':>16s}{cells}", flush=True)


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "-"
    return f"{x:.2f}" if x < 10 and x != int(x) else f"{x:.0f}"


if __name__ == "__main__":
    main()
