"""What the extraction backend finds on the real sample clips, as figures to compare.

The same measures as the real-media tests (tests/unit/test_extract.py, test_head_sphere.py,
test_face_crops.py), printed instead of asserted, so two backends can be set side by side:
run it once with each (the legacy ``mp.solutions`` one was measured from a worktree of the
commit before the Tasks API, in a venv with mediapipe 0.10.21 and numpy 1.26).

    python -m benchmarks.bench_extract_quality           # all clips (about 2-4 minutes on 2 cores)
"""

from __future__ import annotations

import os
import time

import numpy as np

from models.core.motion import Motion
from models.core.skeleton import BODY
from models.core.smoothing import OneEuroParams
from models.extract.driver import motion_from_track, track_person
from models.extract.face_mesh import detect_faces_in_video
from models.face.crops import face_track
from models.head.sphere import fit_head_sphere, yaw_pitch_roll
from models.io.video import FileVideo
from scripts.harness.fetch_media import fetch, fetch_models

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# demo.mp4 references (tests/unit/test_extract.py)
MAN_HIPS_FRAME0 = (655.0, 271.0)
WOMAN_HIPS = {90: (1118, 715), 120: (822, 724), 150: (543, 722), 170: (326, 737), 180: (193, 743), 190: (100, 730)}
DEMO_VISIBLE = 227
# WolfgangLanger_Pexels.mp4 frames looked at (tests/unit/test_head_sphere.py)
TURNED_TO_HER_RIGHT = [150, 162, 170, 180]
TURNED_TO_HER_LEFT = [396, 400, 404, 410]


def body_jitter(m: Motion) -> float:
    ok = m.valid[2:] & m.valid[1:-1] & m.valid[:-2]
    return float(np.abs(m.joints2d[2:] - 2 * m.joints2d[1:-1] + m.joints2d[:-2])[ok].mean())


def timed(label, fn):
    t0 = time.perf_counter()
    out = fn()
    print(f"  ({label}: {time.perf_counter() - t0:.1f} s)")
    return out


def demo_clip() -> None:
    video = FileVideo(fetch("demo.mp4"))
    print(f"sports2d demo.mp4 ({video.num_frames} frames {video.size[0]}x{video.size[1]}), person='largest':")
    raw = timed("track_person", lambda: track_person(video))
    smooth = motion_from_track(raw, video.fps, video.size)
    rough = motion_from_track(raw, video.fps, video.size, smoothing=OneEuroParams(enabled=False))
    b = smooth.get("person_box")[smooth.valid]
    size = float(np.median(np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])))
    pelvis = smooth.joints2d[:, BODY["pelvis"]]
    both = smooth.valid[1:] & smooth.valid[:-1]
    jumps = np.linalg.norm(np.diff(pelvis, axis=0), axis=-1)[both]
    woman = [np.linalg.norm(pelvis[t] - h) / size for t, h in WOMAN_HIPS.items() if smooth.valid[t]]
    last = int(np.flatnonzero(smooth.valid)[-1])
    print(f"  frames tracked (measured) {int(raw.body_valid[:DEMO_VISIBLE].sum())}/{DEMO_VISIBLE} visible frames")
    print(f"  people found on the start frame {raw.people} (frame {raw.start})")
    print(
        f"  same person: pelvis off the man at frame 0 {np.linalg.norm(pelvis[0] - MAN_HIPS_FRAME0) / size:.3f} "
        f"body sizes; largest root jump {jumps.max() / size:.3f}; nearest to the woman "
        f"{min(woman):.2f}; last frame {last} at x={pelvis[last, 0]:.0f} (body size {size:.0f} px)"
    )
    hands = raw.hand_valid.sum(0)
    print(f"  hands found on {hands[0]} (left) / {hands[1]} (right) frames; face on {int(raw.face_valid.sum())}")
    print(
        f"  body jitter (2nd difference, px) raw {body_jitter(rough):.2f} smoothed {body_jitter(smooth):.2f} "
        f"ratio {body_jitter(smooth) / body_jitter(rough):.2f}"
    )


def portrait_clip(name: str) -> None:
    video = FileVideo(fetch(name))
    raw = timed("track_person", lambda: track_person(video))
    hands = raw.hand_valid.sum(0)
    print(
        f"{name}: body {int(raw.body_valid.sum())}/{video.num_frames}, hands {hands[0]} (left) / {hands[1]} (right), "
        f"face {int(raw.face_valid.sum())}"
    )


def title_card_clip() -> None:
    raw = timed("track_person", lambda: track_person(FileVideo(fetch("face_noface.mov"), count=120)))
    print(
        f"face_noface.mov 0-119: face on {int(raw.face_valid[:72].sum())}/72 face frames, "
        f"{int(raw.face_valid[73:].sum())} of the 47 title frames; body on {int(raw.body_valid[73:].sum())} title frames"
    )


def talking_head() -> None:
    video = FileVideo(fetch("WolfgangLanger_Pexels.mp4"))
    face2d, face3d, valid = timed("detect_faces_in_video", lambda: detect_faces_in_video(video))
    m = Motion.empty(len(valid), video.size, video.fps, num_face=478).replace(
        face2d=face2d, face3d=face3d, face_valid=valid
    )
    head = fit_head_sphere(m)
    raw_head = fit_head_sphere(m, smoothing=0)
    ypr = yaw_pitch_roll(head.head_rotation, head.head_center)
    f = m.face2d
    offset = (f[:, 1, 0] - 0.5 * (f[:, 234, 0] + f[:, 454, 0])) / (f[:, 454, 0] - f[:, 234, 0])
    clear = np.abs(offset) > 0.05
    agree = np.mean(np.sign(ypr[clear, 0]) == -np.sign(offset[clear]))

    def jit(h):
        return float(np.abs(np.diff(yaw_pitch_roll(h.head_rotation), 2, axis=0)).mean())

    print(f"WolfgangLanger_Pexels.mp4: face on {int(valid.sum())}/{len(valid)} frames")
    print(
        f"  yaw on frames turned to her right {np.round(ypr[TURNED_TO_HER_RIGHT, 0], 1).tolist()} (want > 5), "
        f"to her left {np.round(ypr[TURNED_TO_HER_LEFT, 0], 1).tolist()} (want < -3)"
    )
    print(
        f"  yaw sign agrees with the nose offset on {agree:.3f} of {int(clear.sum())} clear frames; "
        f"corr {np.corrcoef(ypr[:, 0], offset)[0, 1]:.3f}"
    )
    print(f"  head angle jitter (deg) raw {jit(raw_head):.3f} smoothed {jit(head):.3f}")
    track = face_track(video, m)
    centroid = np.stack([track.landmarks_in_crop(m.face2d[t].mean(0), t) for t in range(len(track))])
    off = np.linalg.norm(centroid - track.size / 2, axis=1) / track.size
    print(
        f"  crop centring: face centre within 5 % of the crop centre on {np.mean(off < 0.05):.3f} of frames; "
        f"offset p50/p95/max {np.round(np.percentile(off, [50, 95, 100]), 4).tolist()}"
    )


if __name__ == "__main__":
    import mediapipe

    if hasattr(mediapipe, "tasks"):  # the Tasks backend reads its .task files from the host's folder
        os.environ.setdefault("DREAMACTOR_MEDIAPIPE_DIR", fetch_models())
    print(f"mediapipe {mediapipe.__version__}, numpy {np.__version__}")
    demo_clip()
    portrait_clip("single_face.mp4")
    title_card_clip()
    talking_head()
    portrait_clip("WolfgangLanger_Pexels.mp4")
