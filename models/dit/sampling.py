"""Per-segment pictures for the sampler, rendered or cut only for the frames a window needs.

The DreamActor Sampler (nodes/sampler.py) walks the segment plan
(models.dit.segments); for each window it needs, in the host's conventions
(WanAnimateToVideo):

- the pose video: the retargeted motion drawn at the output size for the
  window's driving frames (padding repeats the last one), as (L, H, W, 3) uint8;
- the face crops of the same frames at 512x512, in [-1, 1], laid out as the
  host's ``face_video_pixels`` (1, 3, n, 512, 512);
- the output size: given, or from the reference's aspect near 832x480.

The face motion (the expensive 512x512 conv net) is computed per frame once and
stored (``fill_face_motion``); tokens are made per window from those rows.
Pure numpy/torch: no ComfyUI here.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..core.errors import DreamActorError
from ..render.frames import render_frames
from .segments import Segment

DEFAULT_AREA = 832 * 480  # Wan's 480p working size
SIZE_STEP = 16  # the Wan VAE (8x) and patch size (2x) need multiples of 16
FACE_SIZE = 512  # the host's motion encoder input
FACE_BATCH = 8  # face crops per motion-encoder call
GUIDE_FIT = "cover"  # the same centre crop the host gives the reference image


def output_size(width: int, height: int, reference_size: tuple[int, int], area: int = DEFAULT_AREA) -> tuple[int, int]:
    """(width, height) of the video; 0 means 'from the reference's aspect'.

    Both 0: the size with the reference's aspect whose area is nearest ``area``;
    one 0: the other side from the aspect. Sides are multiples of 16.
    """
    rw, rh = reference_size
    aspect = rw / rh
    for name, v in (("width", width), ("height", height)):
        if v < 0 or v % SIZE_STEP:
            raise DreamActorError(
                f"{name} {v} is not a multiple of {SIZE_STEP}",
                fix=f"use a multiple of {SIZE_STEP} (or 0 for the reference's aspect)",
                input=name,
            )
    if width and height:
        return int(width), int(height)
    if not width and not height:
        w = math.sqrt(area * aspect)
        h = w / aspect
    elif width:
        w, h = width, width / aspect
    else:
        w, h = height * aspect, height
    snap = lambda v: max(SIZE_STEP, int(round(v / SIZE_STEP)) * SIZE_STEP)  # noqa: E731
    return snap(w), snap(h)


def pose_window(motion, segment: Segment, width: int, height: int, style: str) -> np.ndarray:
    """The window's guide frames: (segment.length, height, width, 3) uint8.

    Only the frames the window covers are drawn; padding repeats the last one.
    """
    frames = np.stack(
        list(render_frames(motion, segment.start, segment.new_stop, width, height, style=style, fit=GUIDE_FIT))
    )
    if segment.pad:
        frames = np.concatenate([frames, np.repeat(frames[-1:], segment.pad, axis=0)])
    return frames


def face_pixels(crops: np.ndarray) -> torch.Tensor:
    """Face crops (n, s, s, 3) uint8 -> (1, 3, n, 512, 512) float32 in [-1, 1].

    As the host makes ``face_video_pixels`` from an IMAGE batch: area resize to
    512x512, then ``* 2 - 1``.
    """
    x = torch.from_numpy(np.ascontiguousarray(crops)).float().div_(255.0).movedim(-1, 1)  # (n, 3, s, s)
    if x.shape[-2:] != (FACE_SIZE, FACE_SIZE):
        x = F.interpolate(x, size=(FACE_SIZE, FACE_SIZE), mode="area")
    return (x * 2.0 - 1.0).movedim(0, 1).unsqueeze(0)


def window_crops(face, segment: Segment) -> np.ndarray:
    """The window's face crops (segment.length, s, s, 3) uint8; padding repeats the last."""
    crops = face.crops(segment.start, segment.new_stop)
    if segment.pad:
        crops = np.concatenate([crops, np.repeat(crops[-1:], segment.pad, axis=0)])
    return crops


def face_motion_blocks(indices, num_frames: int, batch: int) -> list[tuple[int, int]]:
    """The batch-aligned blocks [k*batch, min((k+1)*batch, num_frames)) that hold ``indices``.

    Every frame is always encoded with the same batch-mates, whatever window asks
    for it first: a conv net's result can change in the last bits with the batch
    it runs in, and this keeps the face motion (and so the video) independent of
    the segment plan and of whether Face Encode or the sampler computed it.
    """
    blocks = sorted({int(i) // batch for i in indices})
    return [(k * batch, min((k + 1) * batch, num_frames)) for k in blocks]


def fill_face_motion(
    store, face, indices, encode, batch: int = FACE_BATCH, should_stop=None, on_rows=None
) -> np.ndarray:
    """Face motion rows (len(indices), D) for driving frames ``indices``.

    Rows missing from ``store`` (models.dit.segment_cache.FaceMotionStore) are computed
    in batch-aligned blocks (``face_motion_blocks``): crops cut from ``face``
    (models.face.crops.FaceTrack) -> ``face_pixels`` -> ``encode(pixels (1, 3, n,
    512, 512)) -> (1, n, D)``, and stored; ``on_rows(n)`` after each block of n.
    A precomputed per-frame motion in ``face.tokens`` (N, D) is used as is.
    """
    if getattr(face, "tokens", None) is not None:
        tokens = np.asarray(face.tokens, np.float32)
        if tokens.ndim != 2 or tokens.shape[0] != face.num_frames:
            raise DreamActorError(
                f"the face's precomputed motion has shape {tokens.shape}, expected "
                f"({face.num_frames}, D): one row per frame",
                fix="re-run DreamActor Face Encode with the same model",
                input="face",
            )
        return tokens[np.asarray(indices, np.int64)]
    for a, b in face_motion_blocks(store.missing(indices), face.num_frames, batch):
        if should_stop is not None:
            should_stop()
        rows = encode(face_pixels(face.crops(a, b)))
        store.put(list(range(a, b)), rows.reshape(b - a, -1).float().cpu().numpy())
        if on_rows is not None:
            on_rows(b - a)
    return store.get(indices)
