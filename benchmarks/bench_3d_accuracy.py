"""Single-view 3D bone directions against a multi-view reference (Pose2Sim's Demo_MultiPerson).

Four calibrated, synchronised views (``Calib.qca.txt``) of the same people, fetched pinned from
the ``pose2sim==0.10.49`` wheel (``scripts.harness.fetch_media``). Each view is extracted on
its own (``models.extract.driver``, MediaPipe), for each person number; per person the
combination of one track per view that triangulates with the smallest reprojection error is
the reference (linear triangulation of the joints seen in at least two views, undistorted).
Then, per view, the limb bones (upper arms, forearms, thighs, shins) of

* ours: ``joints3d`` (camera space, on the rays of the 2D, ``models.extract.camera``), and
* MediaPipe's own world landmarks (mapped to the same joints),

are compared with the reference's turned into that camera: angle between directions in
degrees, median and p90 over bones seen by the reference, and how many exceed 90 degrees (a
left/right or front/back swap). Goal (issue 11): median <= 10, p90 <= 20, no swap left.

    .venv/bin/python -m benchmarks.bench_3d_accuracy

Two references are scored: the linear triangulation of every view that sees a joint, and
Pose2Sim's own rule (:func:`consensus_triangulate`: only views that agree within 15 px), which
leaves out a view whose 2D is on another limb (the first reference's left elbow and wrist
reproject 100-145 px off in three views on frames 58-79). Ours is printed before and after
the left/right swap and depth-sign repair (``models.extract.swaps``; ``motion_from_track(...,
repair=True)``), beside MediaPipe's world landmarks.

Measured (2 cores under load ~4, 100 frames, 7 tracks, ~23 s; the QCA reading that
triangulates best is the stored rotation with y and z flipped, reference reprojection 15.8 px
median), median / p90 degrees (bones beyond 90):

=============================  ===================  ===================  ===================
reference                      ours before repair   ours after repair    MediaPipe world
=============================  ===================  ===================  ===================
every view                     10.4 / 28.6 (5)      10.4 / 28.6 (5)      14.3 / 34.2 (22)
views within 15 px (Pose2Sim)  11.6 / 30.5 (40)     11.6 / 30.5 (40)     16.1 / 35.2 (45)
=============================  ===================  ===================  ===================

(Before seen bones were pulled towards one length on the rays, ``models.extract.camera.
depth_at_length``: 10.8 / 28.6 (5) and 11.5 / 30.5 (39) after repair.)

The retarget follows a refit of ours at one length per bone (``models.retarget.clip_fit``, the
"fit" column, of the repaired motion): median / p90 10.6 / 31.6 (6) every view, 11.6 / 32.7 (34)
within 15 px. Holding each limb at one length turns 2D noise on a bone lying across the image into depth, so it
scores below the per-frame ``joints3d`` (which therefore keeps the metric model's depths), and
the guide gains: same-person sports2d p90 15.27 -> 6.80 % (``benchmarks.bench_alignment``).

What bounds these figures (one run, 2 cores, same frames): the two references disagree with
each other by 4.2 / 22.6 degrees (printed last); our 2D with the reference's own depth steps
scores 3.4 / 11.4, so depth is what is missing; with the reference's front/back sign and our
depth magnitudes 9.9 / 23.7; choosing per frame the better of our depth and an exact-length
depth (at the reference's clip length, an oracle) 8.5 / 22.8. On the bones where the two
references agree within 5 degrees (1586 of 2920; printed last) ours is 9.2 / 18.9, the clip fit
9.3 / 19.0 and MediaPipe's 13.8 / 25.1: the goal holds where the reference is sure of itself.
Over all bones p90 <= 20 is not reachable from MediaPipe's depth cue against this reference.

The repair finds swaps on one of the four scored tracks (cam01, 3 frame-groups) and changes
its figures by < 2 degrees (median 12.6 -> 12.4, p90 38.9 -> 38.9 on the first reference): the errors left are not label swaps (cam03's left elbow and wrist, 16
bones beyond 90 each, are detected 39 / 13 px median off the consensus, not on the mirror
limb) nor depth-sign flips (the metric model's depth steps are smooth; their size is off).
The goal is not met.
"""

from __future__ import annotations

import itertools
import re
import time

import numpy as np

from models.core.skeleton import BODY
from models.extract.body_mapping import to_body
from models.extract.driver import motion_from_track, track_person
from models.io.video import FileVideo
from models.retarget.clip_fit import fit_clip_lengths
from scripts.harness.fetch_media import fetch, fetch_models

VIEWS = ("cam01", "cam02", "cam03", "cam04")
FRAMES = 100
SEEN = 0.5
CONSENSUS_PX = 15.0
"""Pose2Sim's own reprojection threshold for triangulation (Demo_MultiPerson's Config.toml)."""
LIMBS = (
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)


def read_qca(path: str) -> list[dict]:
    """Per camera: K (3, 3) px, dist (5,) OpenCV order, R (3, 3) world->camera, t (3,) metres."""
    cams = []
    text = open(path).read()
    for block in re.findall(r"<camera .*?</camera>", text, re.S):
        a = dict(re.findall(r'(\w+)="([^"]*)"', block))
        K = np.array(
            [
                [float(a["focalLengthU"]) / 64, 0, float(a["centerPointU"]) / 64],
                [0, float(a["focalLengthV"]) / 64, float(a["centerPointV"]) / 64],
                [0, 0, 1],
            ]
        )
        dist = np.array([float(a[k]) for k in ("radialDistortion1", "radialDistortion2")] + [0.0, 0.0, 0.0])
        dist[2:4] = float(a["tangentalDistortion1"]), float(a["tangentalDistortion2"])
        r = np.array([[float(a[f"r{i}{j}"]) for j in (1, 2, 3)] for i in (1, 2, 3)])
        pos = np.array([float(a["x"]), float(a["y"]), float(a["z"])]) / 1000.0
        cams.append({"K": K, "dist": dist, "r": r, "pos": pos})
    return cams


def extrinsics(cam: dict, convention: int) -> tuple[np.ndarray, np.ndarray]:
    """World->camera (R, t) under one of four readings of the QCA transform (the one that
    triangulates best is used: the file stores the camera's pose, whose axes may point back)."""
    R = cam["r"].T if convention & 1 else cam["r"]
    if convention & 2:
        R = np.diag([1.0, -1.0, -1.0]) @ R
    return R, -R @ cam["pos"]


def undistort(px: np.ndarray, cam: dict) -> np.ndarray:
    import cv2

    out = cv2.undistortPoints(px.reshape(-1, 1, 2).astype(np.float64), cam["K"], cam["dist"], P=cam["K"])
    return out.reshape(px.shape)


def triangulate(px: list[np.ndarray], ok: list[np.ndarray], P: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Linear triangulation. px per view (T, J, 2) undistorted, ok (T, J), P (3, 4) ->
    (points (T, J, 3), seen by >= 2 views (T, J))."""
    T, J = ok[0].shape
    A = np.zeros((T, J, 2 * len(P), 4))
    for v, (p, o, M) in enumerate(zip(px, ok, P)):
        w = o[..., None].astype(float)
        A[:, :, 2 * v] = w * (p[..., :1] * M[2] - M[0])
        A[:, :, 2 * v + 1] = w * (p[..., 1:] * M[2] - M[1])
    X = np.linalg.svd(A)[2][..., -1, :]
    X = X[..., :3] / np.where(np.abs(X[..., 3:]) > 1e-12, X[..., 3:], 1e-12)
    return X, np.sum(ok, axis=0) >= 2


def reprojection(X: np.ndarray, px: list[np.ndarray], ok: list[np.ndarray], P: list[np.ndarray]) -> float:
    errs = []
    for p, o, M in zip(px, ok, P):
        h = X @ M[:, :3].T + M[:, 3]
        errs.append(np.linalg.norm(h[..., :2] / h[..., 2:] - p, axis=-1)[o])
    return float(np.median(np.concatenate(errs)))


def bone_angles(pred: np.ndarray, ref: np.ndarray, ok: np.ndarray, bones: np.ndarray | None = None) -> np.ndarray:
    """Degrees between limb bone directions (T, J, 3) of pred and ref where ok (T, J) holds at
    both ends (and ``bones`` (T, J), by the bone's child joint, where given)."""
    par = np.asarray(BODY.parents)
    out = []
    for name in LIMBS:
        j = BODY[name]
        a, b = pred[:, j] - pred[:, par[j]], ref[:, j] - ref[:, par[j]]
        sel = ok[:, j] & ok[:, par[j]] & (True if bones is None else bones[:, j])
        cos = np.sum(a * b, -1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-12)
        out.append(np.degrees(np.arccos(np.clip(cos, -1, 1)))[sel])
    return np.concatenate(out)


AGREE_DEG = 5.0
"""Bones whose two references (every view; Pose2Sim's rule) agree within this are scored apart:
where the reference itself is sure."""


def reference_agreement(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(T, J) degrees between the bones (by child joint) of two references (T, J, 3); 0 at the root."""
    par = np.maximum(np.asarray(BODY.parents), 0)
    u, v = a - a[:, par], b - b[:, par]
    cos = np.sum(u * v, -1) / np.maximum(np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1), 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def consensus_triangulate(
    px: list[np.ndarray], ok: list[np.ndarray], P: list[np.ndarray], threshold: float = CONSENSUS_PX
) -> tuple[np.ndarray, np.ndarray]:
    """Pose2Sim's rule (its Config.toml: ``reproj_error_threshold_triangulation = 15`` px, at
    least 2 cameras): per joint and frame, the largest set of views whose triangulation
    reprojects within ``threshold`` px on average (the lowest error among equal sets), so a
    view whose 2D is on another limb is left out. -> (points (T, J, 3), found (T, J))."""
    T, J = ok[0].shape
    X, size, best = np.zeros((T, J, 3)), np.zeros((T, J), int), np.full((T, J), np.inf)
    for k in range(len(P), 1, -1):
        for views in itertools.combinations(range(len(P)), k):
            Xs, _ = triangulate([px[v] for v in views], [ok[v] for v in views], [P[v] for v in views])
            errs = []
            for v in views:
                h = Xs @ P[v][:, :3].T + P[v][:, 3]
                errs.append(np.linalg.norm(h[..., :2] / h[..., 2:] - px[v], axis=-1))
            e = np.where(np.all([ok[v] for v in views], axis=0), np.mean(errs, axis=0), np.inf)
            better = (e < threshold) & ((k > size) | ((k == size) & (e < best)))
            X[better], size[better], best[better] = Xs[better], k, e[better]
    return X, size >= 2


def _figures(a: np.ndarray) -> str:
    return f"median {np.median(a):5.1f} p90 {np.percentile(a, 90):5.1f} (>90: {int((a > 90).sum()):3d})"


def score(name: str, X: np.ndarray, seen: np.ndarray, cams, conv: int, combo, tracks, bones=None) -> None:
    """Print, per view and over all, the bone-direction errors of ours before / after the swap
    repair, of the retarget's clip fit and of MediaPipe's world landmarks against the reference
    points X (T, J, 3); ``bones`` (T, J): only these bones (by child joint), all where None."""
    totals = {"before": [], "after": [], "fit": [], "mp": []}
    print(f"reference: {name}")
    for v, p in enumerate(combo):
        before, after, world = tracks[v, p]
        R, t = extrinsics(cams[v], conv)
        ref = X @ R.T + t
        ok = seen & (before.conf >= SEEN) & before.valid[:, None]
        row = {
            "before": bone_angles(before.joints3d, ref, ok, bones),
            "after": bone_angles(after.joints3d, ref, ok & (after.conf >= SEEN), bones),
            "fit": bone_angles(
                fit_clip_lengths(after, (after.conf >= SEEN) & after.valid[:, None])[0],
                ref,
                ok & (after.conf >= SEEN),
                bones,
            ),
            "mp": bone_angles(world, ref, ok, bones),
        }
        for k, a in row.items():
            totals[k].append(a)
        print(
            f"  {VIEWS[v]}: " + " | ".join(f"{k} {_figures(a)}" for k, a in row.items()) + f"  ({row['mp'].size} bones)"
        )
    print("  all views: " + " | ".join(f"{k} {_figures(np.concatenate(a))}" for k, a in totals.items()))


def main() -> None:
    import os

    os.environ.setdefault("DREAMACTOR_MEDIAPIPE_DIR", fetch_models())
    t0 = time.time()
    cams = read_qca(fetch("p2s_Calib.qca.txt"))
    tracks = {}  # (view, person) -> (motion, repaired motion, mediapipe world joints)
    for v, name in enumerate(VIEWS):
        video = FileVideo(fetch(f"p2s_{name}.mp4"), start=0, count=FRAMES)
        for person in (0, 1):  # counted from the left on the first frame with anyone
            try:
                raw = track_person(video, person=person, hands=False, face=True)  # the face votes on swaps
            except Exception as e:  # fewer people in this view
                print(f"  {name} person {person}: {str(e)[:80]}")
                continue
            m = motion_from_track(raw, video.fps, video.size, repair=False)
            after = motion_from_track(raw, video.fps, video.size, repair=True)
            tracks[v, person] = (m, after, np.where(m.valid[:, None, None], to_body(raw.pose_world), 0.0))
    print(f"extracted {len(tracks)} tracks in {time.time() - t0:.0f} s")
    best = {}
    for conv in range(4):
        P = [c["K"] @ np.column_stack(extrinsics(c, conv)) for c in cams]
        options = [[p for p in (0, 1) if (v, p) in tracks] for v in range(len(VIEWS))]
        for combo in itertools.product(*options):
            ms = [tracks[v, p][0] for v, p in enumerate(combo)]
            px = [undistort(m.joints2d, c) for m, c in zip(ms, cams)]
            ok = [(m.conf >= SEEN) & m.valid[:, None] for m in ms]
            X, seen = triangulate(px, ok, P)
            err = reprojection(X, px, ok, P)
            if err < best.get("err", np.inf):
                best.update(err=err, conv=conv, combo=combo, X=X, seen=seen, px=px, ok=ok, P=P)
    print(f"reference: convention {best['conv']}, tracks {best['combo']}, reprojection {best['err']:.1f} px")
    args = (cams, best["conv"], best["combo"], tracks)
    score("every view that sees the joint (linear triangulation)", best["X"], best["seen"], *args)
    X, seen = consensus_triangulate(best["px"], best["ok"], best["P"])
    score(f"views that agree within {CONSENSUS_PX:.0f} px (Pose2Sim's rule)", X, seen, *args)
    print(f"  the two references against each other: {_figures(bone_angles(best['X'], X, best['seen'] & seen))}")
    agree = reference_agreement(best["X"], X) < AGREE_DEG
    name = f"every view, on the bones where the two references agree within {AGREE_DEG:.0f} deg"
    score(name, best["X"], best["seen"] & seen, *args, bones=agree)
    print(
        f"(ours before / after the swap repair, the retarget's clip fit of ours (models.retarget.clip_fit), "
        f"MediaPipe's world landmarks; goal median <= 10, p90 <= 20, no bone beyond 90) ({time.time() - t0:.0f} s)"
    )


if __name__ == "__main__":
    main()
