"""Expression controls on per-frame face motion (models.face.expression)."""

from __future__ import annotations

import numpy as np
import pytest

from models.core.errors import DreamActorError
from models.face.expression import neutral_index, shape_expression


def _motion(n=40, d=512, seed=0):
    rng = np.random.default_rng(seed)
    # a slow expression change plus per-frame jitter, around a resting face
    t = np.arange(n)[:, None]
    return (rng.normal(size=(1, d)) + np.sin(t / 6.0) * rng.normal(size=(1, d)) + 0.3 * rng.normal(size=(n, d))).astype(
        np.float32
    )


def test_neutral_settings_return_the_rows_bit_for_bit():
    m = _motion()
    out = shape_expression(m, 0)
    assert out.dtype == np.float32 and np.array_equal(out, m)


def test_intensity_scales_the_offset_from_the_neutral_frame():
    m = _motion()
    zero = shape_expression(m, 7, intensity=0.0)
    assert np.allclose(zero, m[7][None], atol=0)  # everyone wears the neutral face
    double = shape_expression(m, 7, intensity=2.0)
    np.testing.assert_allclose(double - m[7], 2.0 * (m - m[7]), rtol=1e-5, atol=1e-5)
    half = shape_expression(m, 7, intensity=0.5)
    assert np.linalg.norm(half - m[7]) < 0.51 * np.linalg.norm(m - m[7])


def test_smoothing_calms_frame_to_frame_jitter_and_keeps_the_slow_change():
    m = _motion()
    smooth = shape_expression(m, 0, smoothing=2.0)
    jitter = lambda x: np.abs(np.diff(x, axis=0)).mean()  # noqa: E731
    assert jitter(smooth) < 0.4 * jitter(m)
    # the slow expression survives: correlation with a heavily smoothed version stays high
    from scipy.ndimage import gaussian_filter1d

    slow = gaussian_filter1d(m, 6.0, axis=0, mode="nearest")
    assert np.corrcoef((smooth - smooth.mean(0)).ravel(), (slow - slow.mean(0)).ravel())[0, 1] > 0.8
    assert smooth.shape == m.shape and smooth.dtype == np.float32


def test_neutral_frame_falls_back_to_the_nearest_seen_face():
    valid = np.array([False, False, True, True, False, True])
    assert neutral_index(valid, 3) == (3, None)
    k, note = neutral_index(valid, 0)
    assert k == 2 and "frame 0" in note and "frame 2" in note
    with pytest.raises(DreamActorError) as e:
        neutral_index(valid, 6)
    assert e.value.input == "neutral_frame" and "0 to 5" in str(e.value)


@pytest.mark.parametrize(
    "kw,name",
    [({"intensity": -0.5}, "intensity"), ({"intensity": 9.0}, "intensity"), ({"smoothing": -1.0}, "token_smoothing")],
)
def test_out_of_range_controls_are_named(kw, name):
    with pytest.raises(DreamActorError) as e:
        shape_expression(_motion(5), 0, **kw)
    assert e.value.input == name
