"""Alignment figures through the real pipeline on the real sample media (issue 11).

Shared by ``tests/unit/test_alignment.py`` (asserts the goals on a few frames) and
``benchmarks/bench_alignment.py`` (prints the same figures on longer ranges). Every
figure goes through ``models.extract.driver`` (MediaPipe on the real photo or clip),
``models.head.sphere.fit_head_sphere`` and ``models.retarget.transfer.retarget_details``:

* self-retarget: a photo's motion retargeted onto the same photo should give back the
  photo's own 2D skeleton: median error over the joints seen on the photo, in % of its
  2D shoulder width;
* same-person clip: a clip driven onto a picture of its own first frame should
  reproduce the clip: errors over the joints seen on each frame (all frames pooled),
  median and p90 in % of the reference's shoulder width;
* the demo pair (sports2d driving the astronaut): on the first frame, the output's
  shoulder width over hers and where its shoulder centre and eyes land, in % of her
  shoulder width;
* reprojection: median px between ``project(joints3d)`` and ``joints2d`` over seen joints.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from models.core.motion import Motion, project
from models.core.skeleton import BODY
from models.extract.driver import extract_image, extract_motion
from models.head.sphere import fit_head_sphere
from models.io.video import FileVideo
from models.retarget.transfer import retarget_details
from scripts.harness.fetch_media import fetch, fetch_models

os.environ.setdefault("DREAMACTOR_MEDIAPIPE_DIR", fetch_models())  # as tests/conftest.py does

SEEN = 0.5
"""A joint counts where its confidence reaches this (the retarget's own threshold)."""
SHOULDERS = (BODY["left_shoulder"], BODY["right_shoulder"])
EYES = (BODY["left_eye"], BODY["right_eye"])

PHOTOS = ("astronaut.png",)
CLIPS = ("demo.mp4", "WolfgangLanger_Pexels.mp4", "single_face.mp4")


@lru_cache(maxsize=None)
def photo(name: str, frame: int = -1) -> np.ndarray:
    """(H, W, 3) uint8: a sample photo, or frame ``frame`` of a sample clip."""
    if frame < 0:
        from PIL import Image

        return np.asarray(Image.open(fetch(name)).convert("RGB"))
    return FileVideo(fetch(name), start=frame, count=1).frame(0)


@lru_cache(maxsize=None)
def photo_motion(name: str, frame: int = -1) -> Motion:
    """The extracted, head-fitted one-frame motion of :func:`photo`."""
    return fit_head_sphere(extract_image(photo(name, frame)))


@lru_cache(maxsize=None)
def clip_motion(name: str, start: int, count: int) -> Motion:
    """The extracted, head-fitted motion of ``count`` frames of a clip from ``start``."""
    return fit_head_sphere(extract_motion(FileVideo(fetch(name), start=start, count=count)))


def shoulder_width(m: Motion, t: int = 0) -> float:
    """2D distance (px) between the shoulders on frame t."""
    a, b = m.joints2d[t, list(SHOULDERS)]
    return float(np.linalg.norm(a - b))


def seen(m: Motion) -> np.ndarray:
    """(T, J) bool: joint seen on a valid frame."""
    return (m.conf >= SEEN) & m.valid[:, None]


def joint_errors(out: Motion, truth: Motion, scale: float) -> np.ndarray:
    """Errors (N,) in % of ``scale`` between out's and truth's 2D joints where truth saw them."""
    sel = seen(truth) & out.valid[:, None]
    return 100.0 * np.linalg.norm(out.joints2d - truth.joints2d, axis=-1)[sel] / scale


@dataclass
class Figures:
    median: float
    p90: float
    joints: int


def _figures(err: np.ndarray) -> Figures:
    return Figures(float(np.median(err)), float(np.percentile(err, 90)), int(err.size))


def self_retarget(m: Motion) -> Figures:
    """A one-frame motion retargeted onto itself vs its own 2D skeleton (% of shoulder width)."""
    out = retarget_details(m, m).motion
    return _figures(joint_errors(out, m, shoulder_width(m)))


def same_person(driving: Motion, reference: Motion, **options) -> Figures:
    """A clip retargeted onto its own first frame vs the clip's 2D (% of the reference's shoulder width).
    ``options`` go to ``retarget_details`` (the bench's breakdown switches stages off)."""
    out = retarget_details(driving, reference, **options).motion
    return _figures(joint_errors(out, driving, shoulder_width(reference)))


def same_person_breakdown(driving: Motion, reference: Motion) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where a same-person error comes from: (per joint (J, 2) median and p90, NaN where never seen;
    per frame (T,) median over the frame's seen joints, NaN where none; per bone (J,) spread of the
    driver's own 3D bone length over the clip, std / mean, 0 at the root)."""
    out = retarget_details(driving, reference).motion
    err = 100.0 * np.linalg.norm(out.joints2d - driving.joints2d, axis=-1) / shoulder_width(reference)
    err = np.where(seen(driving) & out.valid[:, None], err, np.nan)
    with warnings.catch_warnings():  # all-NaN joints / frames (never seen) stay NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        per_joint = np.stack([np.nanmedian(err, 0), np.nanpercentile(err, 90, 0)], 1)
        per_frame = np.nanmedian(err, 1)
    par = np.maximum(np.asarray(driving.skeleton.parents), 0)
    v = driving.valid
    bone = np.linalg.norm(driving.joints3d[v] - driving.joints3d[v][:, par], axis=-1)
    return per_joint, per_frame, np.nan_to_num(bone.std(0) / np.maximum(bone.mean(0), 1e-9))


@dataclass
class PairFigures:
    shoulder_ratio: float
    """Output shoulder width / hers on the first frame."""
    shoulder_offset: float
    """Distance between the shoulder centres, % of her shoulder width."""
    eye_offset: float
    """Distance between the eye centres, % of her shoulder width."""
    eye_rise: float
    """How far the output's eyes are above hers, % of her shoulder width (negative: below)."""


def demo_pair(driving: Motion, reference: Motion) -> PairFigures:
    """The first output frame of ``driving`` retargeted onto ``reference`` against the reference."""
    out = retarget_details(driving, reference).motion
    t = int(np.flatnonzero(out.valid)[0])
    sw = shoulder_width(reference)
    ref_sh, out_sh = reference.joints2d[0, list(SHOULDERS)].mean(0), out.joints2d[t, list(SHOULDERS)].mean(0)
    ref_eye, out_eye = reference.joints2d[0, list(EYES)].mean(0), out.joints2d[t, list(EYES)].mean(0)
    return PairFigures(
        shoulder_width(out, t) / sw,
        100.0 * float(np.linalg.norm(out_sh - ref_sh)) / sw,
        100.0 * float(np.linalg.norm(out_eye - ref_eye)) / sw,
        100.0 * float(ref_eye[1] - out_eye[1]) / sw,
    )


def reprojection_px(m: Motion) -> float:
    """Median px between projected ``joints3d`` and ``joints2d`` over seen joints."""
    sel = seen(m)
    return float(np.median(np.linalg.norm(project(m.joints3d, m.camera) - m.joints2d, axis=-1)[sel]))
