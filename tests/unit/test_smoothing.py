"""One-Euro smoothing and gap filling on synthetic signals (fast, no media)."""

from __future__ import annotations

import numpy as np
import pytest

from models.core.gaps import fill_gaps, fillable_gaps
from models.core.smoothing import OneEuroParams, one_euro, runs

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
