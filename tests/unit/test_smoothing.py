"""One-Euro smoothing and gap filling on synthetic signals (fast, no media)."""

from __future__ import annotations

import numpy as np
import pytest

from models.core.gaps import fill_gaps, fillable_gaps
from models.core.smoothing import OneEuroParams, one_euro, runs, smooth_series

FPS = 30.0


def lag_frames(reference: np.ndarray, signal: np.ndarray, max_lag: float = 4.0) -> float:
    """How many frames ``signal`` trails ``reference`` (T,) (negative: leads), 0.1 frame steps."""
    t = np.arange(len(reference), dtype=float)
    edge = int(np.ceil(max_lag))
    best = min(
        np.arange(-max_lag, max_lag + 1e-9, 0.1),
        key=lambda k: np.mean((reference[edge:-edge] - np.interp(t + k, t, signal)[edge:-edge]) ** 2),
    )
    return float(best)


def test_noise_on_a_still_point_is_reduced():
    rng = np.random.default_rng(0)
    x = 5.0 + 0.05 * rng.standard_normal((300, 4, 2))
    y = one_euro(x, FPS)
    assert y.shape == x.shape
    assert np.std(y[20:-20] - 5.0) < 0.35 * np.std(x - 5.0)
    # and frame-to-frame acceleration (what a viewer sees as jitter) much more
    acc = lambda a: np.abs(np.diff(a, 2, axis=0)).mean()  # noqa: E731
    assert acc(y) < 0.2 * acc(x)


def test_a_step_is_followed_without_lag():
    x = np.where(np.arange(120) < 60, 0.0, 1.0)[:, None]
    y = one_euro(x, FPS)[:, 0]
    # two-way: the smoothed step crosses half-way at the step, and settles fast
    assert abs(y[59] + y[60] - 1.0) < 0.1
    assert y[50] < 0.05 and y[70] > 0.95
    assert y.min() >= -1e-9 and y.max() <= 1 + 1e-9  # no overshoot


def test_fast_motion_keeps_its_timing_and_amplitude():
    t = np.arange(90) / FPS
    x = np.sin(2 * np.pi * 2.0 * t)  # 2 Hz, one body size: a flip's pace
    two_way = one_euro(x[:, None], FPS, OneEuroParams(min_cutoff=1.0, beta=1.0))[:, 0]
    causal = one_euro(x[:, None], FPS, OneEuroParams(min_cutoff=1.0, beta=1.0, two_way=False))[:, 0]
    assert abs(lag_frames(x, two_way)) <= 0.2
    assert lag_frames(x, causal) >= 0.5  # the one-way filter does lag: the check can fail
    assert np.abs(two_way[10:-10]).max() > 0.8  # the peaks are kept


def test_higher_beta_lags_less_when_causal():
    t = np.arange(90) / FPS
    x = np.sin(2 * np.pi * 2.0 * t)
    lags = [
        lag_frames(x, one_euro(x[:, None], FPS, OneEuroParams(beta=b, two_way=False))[:, 0]) for b in (0.1, 1.0, 10.0)
    ]
    assert lags[0] > lags[1] > lags[2] >= 0


def test_invalid_frames_are_kept_and_never_smoothed_across():
    x = np.concatenate([np.zeros(30), np.full(5, 99.0), np.ones(30)])[:, None]
    valid = np.ones(65, bool)
    valid[30:35] = False
    y = one_euro(x, FPS, valid=valid)[:, 0]
    assert np.all(y[30:35] == 99.0)
    assert np.allclose(y[:30], 0.0) and np.allclose(y[35:], 1.0)


def test_disabled_returns_the_input():
    x = np.random.default_rng(1).standard_normal((10, 3))
    assert np.array_equal(one_euro(x, FPS, OneEuroParams(enabled=False)), x)


def test_runs():
    assert runs(np.array([0, 1, 1, 0, 1], bool)) == [(1, 3), (4, 5)]
    assert runs(np.zeros(3, bool)) == []


@pytest.mark.parametrize("max_gap, filled_frames", [(3, [2, 3, 4]), (2, [])])
def test_short_gaps_are_interpolated_and_marked(max_gap, filled_frames):
    valid = np.array([1, 1, 0, 0, 0, 1, 1], bool)
    x = np.array([0, 1, 0, 0, 0, 5, 6], float)[:, None]
    out, filled = fill_gaps({"x": x}, valid, max_gap)
    assert np.flatnonzero(filled).tolist() == filled_frames
    if filled_frames:
        assert np.allclose(out["x"][:, 0], [0, 1, 2, 3, 4, 5, 6])
    else:
        assert np.array_equal(out["x"], x)


def test_gaps_at_the_ends_stay_open():
    valid = np.array([0, 1, 1, 0], bool)
    assert fillable_gaps(valid, 10) == []


def test_local_line_listens_only_to_valid_frames_and_bridges_short_gaps():
    """smooth_series: axis 0 is time, any trailing shape; invalid frames are not listened to."""
    t = np.arange(120, dtype=np.float64)
    ramp = np.stack([2.0 + 0.05 * t, -1.0 + 0.01 * t], 1)[:, :, None] * np.ones((1, 1, 3))  # (T, 2, 3)
    valid = np.ones(120, bool)
    valid[50:56] = False
    spoiled = ramp.copy()
    spoiled[50:56] = 99.0  # what a lost detection leaves behind
    out = smooth_series(spoiled, 4.0, valid)
    assert out.shape == ramp.shape and out.dtype == np.float64
    assert np.abs(out - ramp).max() < 1e-9  # the gap is bridged by the line, the junk never heard
    far = np.zeros(40, bool)
    far[:3] = True
    lone = smooth_series(np.arange(40.0), 1.0, far)
    assert np.array_equal(lone[20:], np.arange(20.0, 40.0))  # no valid neighbour: value kept


def test_local_line_has_no_lag_at_the_clip_ends():
    t = np.arange(60, dtype=np.float64)
    move = 0.02 * t**2  # accelerating
    plain = np.convolve(np.pad(move, 6, mode="edge"), np.ones(13) / 13, mode="valid")  # a box blur lags
    smooth = smooth_series(move, 2.0)
    assert abs(smooth[-1] - move[-1]) < 0.2 * abs(plain[-1] - move[-1])
