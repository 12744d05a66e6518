"""The One-Euro filter over whole tracks: less jitter when still, no lag when fast.

Casiez, Roussel & Vogel (CHI 2012): an exponential low-pass whose cutoff rises
with the signal's speed, ``cutoff = min_cutoff + beta * |speed|``. Slow motion
gets a low cutoff (jitter removed); fast motion a high one (it is followed).

* ``min_cutoff`` (Hz): smoothing when still; lower = smoother.
* ``beta`` (1 / signal unit): how fast the cutoff opens with speed; higher = less lag.
* ``d_cutoff`` (Hz): the low-pass on the speed estimate itself.

Extraction is offline, so :func:`one_euro` by default runs the filter forwards
and backwards and averages the two: their lags are equal and opposite, so the
result has no phase lag at all, which a causal filter cannot give.
Tracks are (T, ...) arrays with a (T,) ``valid`` mask; the filter restarts after
every invalid frame (a gap is never smoothed across) and leaves invalid frames
untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OneEuroParams:
    """Filter settings (see the module docstring). ``enabled=False`` returns raw tracks."""

    min_cutoff: float = 1.0
    beta: float = 1.0
    d_cutoff: float = 1.0
    two_way: bool = True
    enabled: bool = True


def _alpha(cutoff, dt: float):
    """Smoothing factor of an exponential low-pass at ``cutoff`` Hz, time step ``dt`` s."""
    tau = 1.0 / (2.0 * np.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


def _one_euro_run(x: np.ndarray, dt: float, p: OneEuroParams) -> np.ndarray:
    """Causal One-Euro over one contiguous run x (n, ...) -> (n, ...)."""
    out = np.empty_like(x)
    out[0] = x[0]
    dx_hat = np.zeros_like(x[0])
    a_d = _alpha(p.d_cutoff, dt)
    for i in range(1, len(x)):
        dx = (x[i] - out[i - 1]) / dt
        dx_hat = a_d * dx + (1.0 - a_d) * dx_hat
        a = _alpha(p.min_cutoff + p.beta * np.abs(dx_hat), dt)
        out[i] = a * x[i] + (1.0 - a) * out[i - 1]
    return out


def runs(valid: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of consecutive True in ``valid`` (T,)."""
    v = np.concatenate([[False], np.asarray(valid, bool), [False]])
    edges = np.flatnonzero(np.diff(v.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def one_euro(
    x: np.ndarray, fps: float, params: OneEuroParams = OneEuroParams(), valid: np.ndarray | None = None
) -> np.ndarray:
    """Smoothed copy of ``x`` (T, ...), filtered along axis 0 at ``fps``.

    ``valid`` (T,) bool: frames to filter; runs between invalid frames are
    filtered separately and invalid frames are copied unchanged."""
    x = np.asarray(x, np.float64)
    out = x.copy()
    if not params.enabled or len(x) < 2:
        return out
    dt = 1.0 / float(fps)
    mask = np.ones(len(x), bool) if valid is None else np.asarray(valid, bool)
    for a, b in runs(mask):
        seg = x[a:b]
        if len(seg) < 2:
            continue
        fwd = _one_euro_run(seg, dt, params)
        if params.two_way:
            out[a:b] = 0.5 * (fwd + _one_euro_run(seg[::-1], dt, params)[::-1])
        else:
            out[a:b] = fwd
    return out
