"""Stitching synthetic segments with a known colour drift (no ComfyUI).

The ground truth is a clip whose colour statistics do not change (a smooth colour
field with a bright square moving across it: the square's position tells the
frame). The segments are written to a real segment cache the way the sampler
writes them (models.dit.segment_cache), each window frame with the colour drift of
the segment that made it: none in the first, then a drift that grows with time
(darker, warmer, more saturated) plus a jump at every new segment.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from models.core.errors import DreamActorError
from models.core.smoothing import smooth_series
from models.dit.segment_cache import SegmentCache, to_uint8
from models.dit.segments import plan_segments
from models.stitch.stitched_video import (
    StitchedVideo,
    blend_weight,
    colour_maps,
    lab_stats,
    oklab_to_rgb,
    rgb_to_oklab,
)

H, W = 48, 64
SQUARE = 10


def truth_clip(n: int) -> np.ndarray:
    """(n, H, W, 3) float32 in [0, 1]: a fixed colour field + a square moving 2 px per frame."""
    y, x = np.mgrid[0:H, 0:W] / np.array([H, W], np.float32)[:, None, None]
    field = np.stack(
        [0.45 + 0.25 * np.sin(5 * x + 1), 0.5 + 0.2 * np.cos(4 * y + 2 * x), 0.4 + 0.2 * np.sin(3 * y)], -1
    ).astype(np.float32)
    rng = np.random.default_rng(0)
    field += rng.normal(0, 0.02, field.shape).astype(np.float32)  # texture
    clip = np.repeat(field[None], n, 0)
    span = W - SQUARE - 4
    for t in range(n):
        x0 = 2 + (2 * t) % span
        y0 = 8 + (t // (span // 2)) % 3 * 10
        clip[t, y0 : y0 + SQUARE, x0 : x0 + SQUARE] = (0.95, 0.9, 0.85)
    return np.clip(clip, 0, 1)


def drift(frame: np.ndarray, segment: int, t: int, first_drifting: int) -> np.ndarray:
    """The colour a segment gives frame t: unchanged in segment 0, then drifting in Oklab."""
    if segment == 0:
        return frame
    u = t - first_drifting
    lab = rgb_to_oklab(frame)
    lab[..., 0] += -0.0015 * u - 0.012 * segment  # darker
    lab[..., 1:] *= 1.0 + 0.004 * u  # more saturated
    lab[..., 1] += 0.0004 * u  # redder
    lab[..., 2] += 0.0012 * u + 0.005 * segment  # yellower
    return oklab_to_rgb(lab)


def write_cache(root, n=80, length=17, motion_frames=5, drifting=True):
    plan = plan_segments(n, length, motion_frames)
    truth = truth_clip(n)
    info = {"frames": n, "width": W, "height": H, "fps": 25.0, "segment_length": length, "motion_frames": motion_frames}
    cache = SegmentCache(str(root), "synthetic", "0" * 64, plan, info, seed=0)
    first_drifting = plan[1].start if len(plan) > 1 else n
    for s in plan:
        idx = s.driving_indices()[: s.known + s.new]
        window = np.stack([drift(truth[t], s.index, t, first_drifting) if drifting else truth[t] for t in idx])
        cache.save_segment(
            s.index,
            np.zeros((1, 16, 1, 2, 2), np.float32),
            to_uint8(window),
            window[-motion_frames:] if motion_frames else window[:0],
        )
    cache.save_reference(to_uint8(truth[0]))
    return cache, plan, truth


def mean_lab(frames) -> np.ndarray:
    return np.stack([rgb_to_oklab(np.asarray(f, np.float32)).reshape(-1, 3).mean(0) for f in frames])


def frames_of(video) -> np.ndarray:
    return np.stack(list(video.iter_frames())).astype(np.float32) / 255.0


@pytest.fixture(scope="module")
def drifting(tmp_path_factory):
    return write_cache(tmp_path_factory.mktemp("stitch"))


def test_colour_drift_is_removed_without_darkening(drifting):
    cache, plan, truth = drifting
    assert len(plan) == 7
    raw = frames_of(StitchedVideo(cache.folder, anchor="off"))
    fixed = frames_of(StitchedVideo(cache.folder, anchor="first segment"))
    target = mean_lab(truth)
    before = np.linalg.norm(mean_lab(raw) - target, axis=1)
    after = np.linalg.norm(mean_lab(fixed) - target, axis=1)
    print(
        f"mean Oklab error: before {before.mean():.4f}, after {after.mean():.4f} "
        f"({before.mean() / after.mean():.1f}x); worst frame before {before.max():.4f}, after {after.max():.4f}"
    )
    assert before.mean() > 0.05  # the drift is real: a visible change
    assert after.mean() * 5 <= before.mean()
    # no darkening: the lightness is back at the truth's, the drift had taken it down
    light_truth, light_raw, light_fixed = target[:, 0].mean(), mean_lab(raw)[:, 0].mean(), mean_lab(fixed)[:, 0].mean()
    assert light_raw < light_truth - 0.03
    assert abs(light_fixed - light_truth) < 0.006
    # no flicker: the remaining error changes slowly from frame to frame
    err_light = mean_lab(fixed)[:, 0] - target[:, 0]
    assert np.abs(np.diff(err_light)).max() < 0.006
    # the first segment (the anchor) is left as it was, up to where the next one blends in
    assert np.abs(fixed[: plan[1].start] - raw[: plan[1].start]).max() <= 1 / 255


def test_every_frame_once_in_order(drifting):
    cache, plan, truth = drifting
    video = StitchedVideo(cache.folder)
    out = frames_of(video)
    assert video.num_frames == len(out) == len(truth) == 80
    assert sorted(t for s in plan for t in range(s.new_start, s.new_stop)) == list(range(80))
    for t in range(len(out)):  # the moving square says which frame it is
        near = range(max(0, t - 3), min(len(truth), t + 4))
        err = [np.abs(out[t] - truth[j]).mean() for j in near]
        assert list(near)[int(np.argmin(err))] == t, t


def test_seams_cross_fade_over_the_carried_frames(drifting):
    cache, plan, _ = drifting
    cut = frames_of(StitchedVideo(cache.folder, blend=False, anchor="off"))
    blended = frames_of(StitchedVideo(cache.folder, blend=True, anchor="off"))
    s1 = plan[1]  # starts at frame 12: its first 5 frames re-make frames 12..16 of segment 0
    a = cache.frames(0)[s1.start : s1.start + s1.known].astype(np.float32) / 255
    b = cache.frames(1)[: s1.known].astype(np.float32) / 255
    for j in range(s1.known):
        w = blend_weight(j, s1.known)
        expected = np.floor(((1 - w) * a[j] + w * b[j]) * 255 + 0.5) / 255
        assert np.abs(blended[s1.start + j] - expected).max() <= 1.01 / 255, j
        assert np.array_equal(cut[s1.start + j], a[j])  # without blending: the first version
    # outside the overlaps nothing is blended
    assert np.array_equal(cut[s1.new_start : plan[2].start], blended[s1.new_start : plan[2].start])
    weights = [blend_weight(j, 5) for j in range(5)]
    assert weights == sorted(weights) and 0 < weights[0] and weights[-1] < 1


def test_reference_anchor_and_strength(drifting):
    cache, _, truth = drifting
    target = mean_lab(truth)
    raw = np.linalg.norm(mean_lab(frames_of(StitchedVideo(cache.folder, anchor="off"))) - target, axis=1).mean()
    ref = np.linalg.norm(mean_lab(frames_of(StitchedVideo(cache.folder, anchor="reference"))) - target, axis=1).mean()
    half = np.linalg.norm(mean_lab(frames_of(StitchedVideo(cache.folder, strength=0.5))) - target, axis=1).mean()
    assert ref * 3 <= raw  # the reference frame has the truth's statistics too (plus the square)
    assert ref < raw and raw * 0.3 < half < raw * 0.7


def test_clean_segments_are_left_alone(tmp_path):
    cache, _, truth = write_cache(tmp_path, n=40, length=13, motion_frames=1, drifting=False)
    out = frames_of(StitchedVideo(cache.folder))
    assert out.shape == truth.shape
    assert np.abs(out - truth).mean() < 0.006  # uint8 storage + a near-identity map


def test_unfinished_or_missing_segments_are_clear_errors(tmp_path):
    cache, plan, _ = write_cache(tmp_path, n=30, length=9, motion_frames=1, drifting=False)
    cache.manifest["done"] = [0, 1]
    from models.dit.segment_cache import save_json

    save_json(os.path.join(cache.folder, "manifest.json"), cache.manifest)
    with pytest.raises(DreamActorError) as e:
        StitchedVideo(cache.folder)
    assert "not finished" in str(e.value) and "resumes" in str(e.value)
    with pytest.raises(DreamActorError) as e:
        StitchedVideo(os.path.join(tmp_path, "nowhere"))
    assert "no segment cache" in str(e.value)


# ---------------------------------------------------------------- building blocks


def test_oklab_round_trip_and_known_values():
    rng = np.random.default_rng(1)
    rgb = rng.uniform(0, 1, (1000, 3)).astype(np.float32)
    assert np.abs(oklab_to_rgb(rgb_to_oklab(rgb)) - rgb).max() < 1e-4
    white, black = rgb_to_oklab(np.ones(3)), rgb_to_oklab(np.zeros(3))
    assert abs(white[0] - 1) < 1e-3 and np.abs(white[1:]).max() < 1e-3 and np.abs(black).max() < 1e-6
    stats = lab_stats(np.full((8, 8, 3), 0.5, np.float32), stride=1)
    assert stats[3:].max() < 1e-6


def test_local_linear_smoothing_keeps_lines_and_removes_jitter():
    t = np.arange(200, dtype=np.float64)
    line = np.stack([0.3 + 0.002 * t, -0.1 * np.ones_like(t)], 1)
    assert np.abs(smooth_series(line, 12.0) - line).max() < 1e-9
    noisy = line + np.random.default_rng(2).normal(0, 0.01, line.shape)
    smoothed = smooth_series(noisy, 12.0)
    assert np.abs(smoothed - line).std() < 0.3 * np.abs(noisy - line).std()


def test_colour_maps_identity_at_the_anchor():
    stats = np.tile([0.6, 0.01, 0.02, 0.1, 0.05, 0.04], (30, 1))
    gain, offset = colour_maps(stats, stats[0], sigma=5.0)
    assert np.allclose(gain, 1) and np.allclose(offset, 0, atol=1e-6)
    gain, offset = colour_maps(stats, stats[0] * [1, 1, 1, 10, 1, 1], sigma=5.0)
    assert np.allclose(gain[:, 0], 1.5)  # clipped std ratio
