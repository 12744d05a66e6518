"""Is the reference picture a frame of the driving clip? (the same person in the same camera)

Then the clip knows the reference's body better than the picture does: one frame's 3D bone
lengths are a single monocular measurement (a forearm foreshortened on that frame comes out
centimetres off), while the clip's median over every frame is the person's. And the camera is
the same, so the driver's pixels already are the reference's: no framing is needed. Measured on
the sample clips driven onto their own first frame (``benchmarks/bench_alignment.py``).
"""

from __future__ import annotations

import numpy as np

from ..core.motion import Motion
from .lengths import seen_mask

SAME_FRAME = 0.05
"""Largest median 2D distance over the joints seen on both, as a share of the reference person's
size (diagonal of its seen joints' box), at which a driving frame counts as the reference picture.
Video and still-image tracking of the very same frame differ by 0.3-2 % of it on the sample clips."""


def reference_is_a_driving_frame(driving: Motion, reference: Motion, conf_threshold: float) -> bool:
    """True when the images have the same size and some valid driving frame shows the reference's
    2D skeleton (joints2d (T, J, 2) against the reference's first seen frame) within SAME_FRAME."""
    if tuple(driving.image_size) != tuple(reference.image_size):
        return False
    ref_seen = seen_mask(reference, conf_threshold)
    r0 = int(np.flatnonzero(ref_seen.any(1))[0])
    pts = reference.joints2d[r0, ref_seen[r0]]
    if len(pts) < 3:
        return False
    size = float(np.linalg.norm(pts.max(0) - pts.min(0)))
    both = seen_mask(driving, conf_threshold) & ref_seen[r0] & driving.valid[:, None]  # (T, J)
    dist = np.linalg.norm(driving.joints2d - reference.joints2d[r0], axis=-1)  # (T, J)
    ok = both.sum(1) >= 3
    if not ok.any():
        return False
    med = np.nanmedian(np.where(both[ok], dist[ok], np.nan), axis=1)
    return bool(med.min() <= SAME_FRAME * size)
