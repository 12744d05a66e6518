"""Bridging short gaps in a track by linear interpolation.

A detector misses a few frames now and then (motion blur, a flip, an arm over
the face). A gap of at most ``max_gap`` frames with a measured frame on both
sides is filled by interpolating between those two frames; longer gaps, and
gaps at the start or end of the clip, stay invalid: inventing seconds of motion
would be worse than saying it is unknown.
"""

from __future__ import annotations

import numpy as np

from .smoothing import runs


def fillable_gaps(valid: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
    """(start, stop) of the invalid runs of ``valid`` (T,) no longer than ``max_gap``
    and enclosed by valid frames."""
    valid = np.asarray(valid, bool)
    if max_gap < 1:
        return []
    return [(a, b) for a, b in runs(~valid) if a > 0 and b < len(valid) and b - a <= max_gap]


def fill_gaps(
    arrays: dict[str, np.ndarray], valid: np.ndarray, max_gap: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Interpolate every array (T, ...) across the short gaps of ``valid`` (T,).

    Returns (the filled copies, ``filled`` (T,) bool marking the frames made up)."""
    valid = np.asarray(valid, bool)
    out = {k: np.array(v, np.float64, copy=True) for k, v in arrays.items()}
    filled = np.zeros_like(valid)
    for a, b in fillable_gaps(valid, max_gap):
        w = (np.arange(a, b) - (a - 1)) / float(b - (a - 1))  # (n,) in (0, 1)
        for k, v in out.items():
            shape = (-1,) + (1,) * (v.ndim - 1)
            v[a:b] = (1 - w.reshape(shape)) * v[a - 1] + w.reshape(shape) * v[b]
        filled[a:b] = True
    return out, filled
