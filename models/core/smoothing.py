"""Temporal smoothing of tracks: one convention, two filters.

Convention (every smoother here): a series is an array ``(T, ...)`` whose axis 0 is
time, ``valid`` is a ``(T,)`` bool mask of the frames to listen to (``None``: all),
and widths are in frames (``sigma``) or in Hz (One-Euro cutoffs, with ``fps``).
Runs of a mask are ``(start, stop)`` with ``stop`` excluded (:func:`runs`).

* :func:`smooth_series`: a Gaussian-weighted local line (offline, no lag at clip ends
  and gap edges, a linear drift kept exactly): head sphere, face boxes, face motion
  tokens, stitch colour drift.
* :func:`one_euro`: the One-Euro filter, forwards and backwards, for landmark tracks
  whose speed varies (a flip after a still stand).

The One-Euro filter (Casiez, Roussel & Vogel, CHI 2012) is an exponential low-pass
whose cutoff rises with the signal's speed, ``cutoff = min_cutoff + beta * |speed|``.
Slow motion gets a low cutoff (jitter removed); fast motion a high one (it is followed).

* ``min_cutoff`` (Hz): smoothing when still; lower = smoother.
* ``beta`` (1 / signal unit): how fast the cutoff opens with speed; higher = less lag.
* ``d_cutoff`` (Hz): the low-pass on the speed estimate itself.

Extraction is offline, so :func:`one_euro` by default runs the filter forwards
and backwards and averages the two: their lags are equal and opposite, so the
result has no phase lag at all, which a causal filter cannot give.
The filter restarts after every invalid frame (a gap is never smoothed across) and
leaves invalid frames untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import correlate1d


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


def gaussian_kernel(sigma: float) -> np.ndarray:
    """(2h+1,) Gaussian weights summing to 1, h = ceil(3 sigma) frames (at least 1)."""
    half = max(1, int(np.ceil(3.0 * sigma)))
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    return k / k.sum()


def smooth_series(values: np.ndarray, sigma: float, valid: np.ndarray | None = None) -> np.ndarray:
    """Gaussian-weighted local-linear smoothing of ``values`` (T, ...) along axis 0 (time).

    Each frame gets the value, at its own time, of a straight line fitted by weighted
    least squares to the ``valid`` (T,) frames within 3 ``sigma`` frames (Gaussian
    weights). Inside a run of valid frames this is the plain Gaussian average; at clip
    ends and gap edges, where the neighbours are all on one side, the line keeps a
    moving value from lagging (a linear drift passes through exactly). An invalid frame
    with valid neighbours gets their line (short gaps are bridged); a frame with one
    usable neighbour time gets the weighted mean; a frame with no valid neighbour keeps
    its value. ``sigma <= 0`` or T < 2 returns a copy.

    Returns float64 (T, ...). O(T * kernel) time, O(T) extra memory per column.
    """
    values = np.asarray(values, np.float64)
    T = len(values)
    if sigma <= 0 or T < 2:
        return values.copy()
    y = values.reshape(T, -1)
    w = np.ones(T) if valid is None else np.asarray(valid, bool).astype(np.float64)
    k = gaussian_kernel(sigma)
    d = np.arange(len(k), dtype=np.float64) - len(k) // 2  # neighbour offset, frames

    def near(x, kern):  # sum over neighbours t + d of kern(d) * x(t + d); zero outside the clip
        return correlate1d(x, kern, axis=0, mode="constant", cval=0.0)

    s0, s1, s2 = near(w, k), near(w, k * d), near(w, k * d * d)  # (T,)
    wy = w[:, None] * y
    y0, y1 = near(wy, k), near(wy, k * d)  # (T, D)
    det = s0 * s2 - s1 * s1
    line = det > 1e-6 * np.maximum(s0 * s2, 1e-12)
    mean = s0 > 1e-9
    out = y.copy()
    out[mean] = y0[mean] / s0[mean, None]
    out[line] = (s2[line, None] * y0[line] - s1[line, None] * y1[line]) / det[line, None]
    return out.reshape(values.shape)
