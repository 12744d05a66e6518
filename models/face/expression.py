"""Expression controls on the implicit face motion (Face Encode with a MODEL).

Wan-Animate's motion encoder maps each 512x512 face crop to a 512-d vector that
lies in the span of 20 learned motion directions (``Generator.get_motion``), so
the motion is linear in its 20 coefficients: scaling a frame's offset from a
neutral frame scales the expression, and averaging neighbouring frames calms it.

- ``intensity``: m'(t) = m(n) + k (m(t) - m(n)) for the neutral frame n
  (0 = every frame wears the neutral face, 1 = as driven, > 1 = exaggerated);
- ``smoothing``: the pack's temporal smoother (``models.core.smoothing.smooth_series``,
  a Gaussian-weighted local line, sigma in frames) before the intensity, for jittery
  face crops (small faces, compressed clips); no lag at the clip's ends.

Pure numpy: no ComfyUI here.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import DreamActorError
from ..core.smoothing import smooth_series

INTENSITY_RANGE = (0.0, 3.0)
SMOOTHING_RANGE = (0.0, 10.0)


def neutral_index(valid: np.ndarray, requested: int) -> tuple[int, str | None]:
    """The neutral frame to use: ``requested`` if the face is seen there, else the nearest frame
    where it is (and a note saying so). valid: (N,) bool, the face track's per-frame flags."""
    n = int(valid.shape[0])
    if not 0 <= requested < n:
        raise DreamActorError(
            f"neutral_frame {requested} is outside the clip's {n} frames",
            fix=f"choose a frame from 0 to {n - 1} where the face is calm",
            input="neutral_frame",
        )
    if valid[requested]:
        return int(requested), None
    seen = np.flatnonzero(valid)
    if seen.size == 0:
        raise DreamActorError(
            "the face is not seen on any frame", fix="use a clip where the face is visible", input="motion"
        )
    nearest = int(seen[np.argmin(np.abs(seen - requested))])
    return nearest, f"the face is not seen on frame {requested}; frame {nearest} is the neutral one"


def shape_expression(motion: np.ndarray, neutral: int, intensity: float = 1.0, smoothing: float = 0.0) -> np.ndarray:
    """Per-frame face motion (N, D) -> (N, D) float32 with the expression controls applied.

    At intensity 1 and smoothing 0 the rows are returned bit for bit (so precomputed
    motion gives exactly the frames the sampler would make from the crops).
    """
    lo, hi = INTENSITY_RANGE
    if not lo <= intensity <= hi:
        raise DreamActorError(
            f"intensity {intensity} is out of range", fix=f"choose {lo} to {hi} (1 = as driven)", input="intensity"
        )
    lo, hi = SMOOTHING_RANGE
    if not lo <= smoothing <= hi:
        raise DreamActorError(
            f"token_smoothing {smoothing} is out of range",
            fix=f"choose {lo} to {hi} frames (0 = off)",
            input="token_smoothing",
        )
    out = np.asarray(motion, np.float32)
    base = out[neutral].copy()
    if smoothing > 0:
        out = smooth_series(out, smoothing).astype(np.float32)
    if intensity != 1.0:
        out = (base + np.float32(intensity) * (out - base)).astype(np.float32)
    return out
