"""The on-disk segment cache: keys, atomic files, resuming (no ComfyUI).

The sampling step is a deterministic stand-in (make_segment below) that uses the
carried frames the way the sampler does, so a resumed run can be compared with
an uninterrupted one frame for frame.
"""

from __future__ import annotations

import json
import os
import types

import numpy as np
import pytest
import torch

from models.core.errors import DreamActorError
from models.dit.content_key import content_key, module_fingerprint, video_identity
from models.dit.sampling import fill_face_motion, output_size
from models.dit.segment_cache import (
    SegmentCache,
    SegmentsHandle,
    load_manifest,
    run_segments,
    save_npy,
    segment_seed,
)
from models.dit.segments import plan_segments
from models.io.video import ArrayVideo

H, W = 8, 12


def fake_segment(log):
    """A stand-in sampler: frames from the seed and the carried frames (so carrying matters)."""

    def make(seg, carry, seed):
        log.append((seg.index, None if carry is None else carry.copy(), seed))
        rng = np.random.default_rng(seed % (2**32))
        frames = rng.uniform(0, 1, (seg.length, H, W, 3)).astype(np.float32)
        if carry is not None:
            frames[: seg.known] = carry * 0.9 + 0.05  # the known frames come back slightly changed
            frames[seg.known :] = 0.5 * frames[seg.known :] + 0.5 * carry.mean(0)
        latent = rng.normal(size=(1, 16, (seg.length - 1) // 4 + 1, 2, 3)).astype(np.float32)
        return latent, frames

    return make


def new_cache(root, plan, key="a" * 64, seed=7, name="run"):
    return SegmentCache(str(root), name, key, plan, {"frames": plan[-1].new_stop, "width": W, "height": H}, seed)


def read_all(cache):
    return [(np.array(cache.frames(i)), cache.latent(i), cache.carry(i)) for i in range(len(cache.segments))]


def test_resume_after_a_stop_gives_the_uninterrupted_frames(tmp_path):
    plan = plan_segments(30, 9, 5)
    assert len(plan) == 7
    whole = new_cache(tmp_path, plan, name="whole")
    assert run_segments(whole, fake_segment([]), 5) == 7

    class Crash(Exception):
        pass

    def crash_at_third(i):
        if i == 2:
            raise Crash

    stopped = new_cache(tmp_path, plan, name="stopped")
    with pytest.raises(Crash):
        run_segments(stopped, fake_segment([]), 5, on_saved=crash_at_third)
    assert load_manifest(stopped.folder)["done"] == [0, 1, 2]
    # a fresh process: the cache is opened again from disk
    again = new_cache(tmp_path, plan, name="stopped")
    assert again.finished() == 3
    log = []
    assert run_segments(again, fake_segment(log), 5) == 4
    assert [i for i, _, _ in log] == [3, 4, 5, 6]
    np.testing.assert_array_equal(log[0][1], np.load(os.path.join(again.folder, "seg_00002.carry.npy")))
    for (fa, la, ca), (fb, lb, cb) in zip(read_all(whole), read_all(again)):
        assert np.array_equal(fa, fb) and np.array_equal(la, lb) and np.array_equal(ca, cb)
    assert run_segments(again, fake_segment([]), 5) == 0  # all done: nothing runs


def test_carried_frames_are_the_windows_last_frames_in_float(tmp_path):
    plan = plan_segments(20, 9, 5)
    cache = new_cache(tmp_path, plan)
    log = []
    run_segments(cache, fake_segment(log), 5)
    seg0 = plan[0]
    rng = np.random.default_rng(cache.seed(0) % (2**32))
    first = rng.uniform(0, 1, (seg0.length, H, W, 3)).astype(np.float32)
    np.testing.assert_array_equal(log[1][1], first[seg0.known + seg0.new - 5 : seg0.known + seg0.new])
    assert log[1][1].dtype == np.float32  # not the uint8 frames: the next segment sees exact values
    frames = cache.frames(1)
    assert frames.dtype == np.uint8 and frames.shape == (plan[1].known + plan[1].new, H, W, 3)


def test_seeds_per_segment():
    assert segment_seed(123, 0) == 123  # one segment = the plain seed (parity with KSampler)
    seeds = [segment_seed(123, i) for i in range(50)]
    assert len(set(seeds)) == 50 and all(0 <= s < 2**63 for s in seeds)
    assert seeds == [segment_seed(123, i) for i in range(50)]
    assert segment_seed(124, 1) != segment_seed(123, 1)


def test_files_are_written_atomically(tmp_path):
    path = os.path.join(tmp_path, "x.npy")
    save_npy(path, np.arange(6).reshape(2, 3))
    assert np.array_equal(np.load(path), np.arange(6).reshape(2, 3))

    class Boom:  # an array whose conversion fails half way: the old file must survive
        def __array__(self, *a, **k):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        save_npy(path, Boom())
    assert np.array_equal(np.load(path), np.arange(6).reshape(2, 3))
    assert os.listdir(tmp_path) == ["x.npy"]  # no temp file left behind


def test_half_written_segment_is_not_done(tmp_path):
    plan = plan_segments(12, 5, 1)
    cache = new_cache(tmp_path, plan)
    run_segments(cache, fake_segment([]), 1)
    manifest = load_manifest(cache.folder)
    manifest["done"] = [0, 1]  # as if the process died after segment 1's manifest write ...
    with open(os.path.join(cache.folder, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    os.remove(os.path.join(cache.folder, "seg_00001.carry.npy"))  # ... and a file of it is missing
    open(os.path.join(cache.folder, ".tmp-abc.npy"), "wb").write(b"half a file")  # a write cut short
    again = new_cache(tmp_path, plan)
    assert again.finished() == 1
    assert not any(f.startswith(".tmp-") for f in os.listdir(again.folder))


def test_key_and_folder(tmp_path):
    t = torch.arange(12.0).reshape(3, 4)
    a = content_key({"x": t, "y": [1, 2.5, "s"]}, np.ones(3))
    assert a == content_key({"y": [1, 2.5, "s"], "x": t.clone()}, np.ones(3))  # by value, key order free
    assert a != content_key({"x": t + 1e-6, "y": [1, 2.5, "s"]}, np.ones(3))
    assert content_key(torch.zeros(2, dtype=torch.bfloat16)) != content_key(torch.zeros(2))

    class Thing:
        def __init__(self, v):
            self.v, self._private = v, object()

    assert content_key(Thing(t)) == content_key(Thing(t.clone())) != content_key(Thing(t * 2))
    plan = plan_segments(5, 5, 0)
    c1 = new_cache(tmp_path, plan, key=a)
    c2 = new_cache(tmp_path, plan, key=content_key("other"))
    assert c1.folder != c2.folder and c1.folder.endswith(os.path.join("dreamactor_segments", "run", a[:16]))
    with pytest.raises(DreamActorError) as e:
        new_cache(tmp_path, plan, name="../escape")
    assert "cache_name" in str(e.value)


def test_module_fingerprint_follows_weights():
    torch.manual_seed(0)
    m1 = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Linear(8, 4))
    m2 = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Linear(8, 4))
    assert module_fingerprint(m1) == module_fingerprint(m1)
    assert module_fingerprint(m1) != module_fingerprint(m2)
    assert module_fingerprint(m1) != module_fingerprint(m1, extra={"lora": torch.ones(2)})
    with torch.no_grad():
        m1[1].bias[0] += 1.0
    assert module_fingerprint(m1) != module_fingerprint(m2)


def test_video_identity_by_content():
    frames = np.zeros((3, 4, 4, 3), np.uint8)
    a = video_identity(ArrayVideo(frames, 25.0))
    frames2 = frames.copy()
    frames2[1, 0, 0, 0] = 1
    assert content_key(a) == content_key(video_identity(ArrayVideo(frames.copy(), 25.0)))
    assert content_key(a) != content_key(video_identity(ArrayVideo(frames2, 25.0)))


def test_handle_reads_manifest_and_audio(tmp_path):
    plan = plan_segments(5, 5, 0)
    cache = new_cache(tmp_path, plan)
    audio_source = types.SimpleNamespace(audio=lambda: "the audio")
    handle = SegmentsHandle(cache.folder, audio_source)
    assert handle.manifest()["info"]["frames"] == 5 and handle.audio() == "the audio"


# ---------------------------------------------------------------- face motion rows


class FakeFace:
    def __init__(self, n):
        self.num_frames, self.tokens, self.cut = n, None, []

    def crops(self, a, b):
        self.cut.append((a, b))
        return np.stack([np.full((16, 16, 3), 10 * t, np.uint8) for t in range(a, b)])


def test_face_motion_is_encoded_once_per_frame_and_kept(tmp_path):
    plan = plan_segments(20, 9, 5)
    cache = new_cache(tmp_path, plan)
    face, calls = FakeFace(20), []

    def encode(pixels):  # (1, 3, n, 512, 512) -> (1, n, 4): the mean of each crop
        calls.append(pixels.shape[2])
        assert pixels.shape[-2:] == (512, 512) and pixels.min() >= -1 and pixels.max() <= 1
        return pixels.mean(dim=(1, 3, 4)).unsqueeze(-1).repeat(1, 1, 4)

    store = cache.face_motion(20, dim=4)
    for seg in plan:
        rows = fill_face_motion(store, face, seg.driving_indices(), encode, batch=4)
        assert rows.shape == (seg.length, 4)
        expected = np.array([10 * t / 255 * 2 - 1 for t in seg.driving_indices()], np.float32)
        np.testing.assert_allclose(rows[:, 0], expected, atol=1e-5)
    assert sum(calls) == 20 and max(calls) <= 4  # every frame once, in batches
    # reopened (a resumed run): nothing is encoded again
    again = new_cache(tmp_path, plan)
    fill_face_motion(again.face_motion(20, dim=4), face, range(20), lambda p: pytest.fail("re-encoded"))
    # precomputed per-frame motion on the DA_FACE is used as is
    face.tokens = np.arange(40, dtype=np.float32).reshape(20, 2)
    np.testing.assert_array_equal(fill_face_motion(None, face, [3, 4, 4], None), face.tokens[[3, 4, 4]])


def test_output_size():
    assert output_size(832, 480, (100, 100)) == (832, 480)
    assert output_size(0, 0, (1768, 994)) == (848, 480)  # 16:9 near 832x480
    assert output_size(0, 0, (512, 512)) == (624, 624)
    assert output_size(0, 0, (480, 832)) == (480, 832)  # portrait
    assert output_size(512, 0, (1000, 500)) == (512, 256)
    with pytest.raises(DreamActorError) as e:
        output_size(100, 0, (1, 1))
    assert "input 'width'" in str(e.value)
