"""A damaged segment cache recovers (issue 14): a truncated manifest is rebuilt from the
segment files by the sampler's next run and reported with the fix by Stitch; a damaged or
missing segment file is made again instead of read."""

from __future__ import annotations

import os

import numpy as np
import pytest

from models.core.errors import DreamActorError
from models.dit.segment_cache import SegmentCache, check_cache_name, damaged_runs, load_manifest, run_segments
from models.dit.segments import plan_segments
from models.stitch.stitched_video import SegmentFrames

H, W = 8, 12


def make_segment(seg, carry, seed):
    rng = np.random.default_rng(seed % (2**32))
    frames = rng.uniform(0, 1, (seg.length, H, W, 3)).astype(np.float32)
    return np.zeros((1, 16, (seg.length - 1) // 4 + 1, 1, 2), np.float32), frames


def open_cache(root, plan):
    return SegmentCache(str(root), "run", "b" * 64, plan, {"frames": plan[-1].new_stop, "width": W, "height": H}, 3)


@pytest.fixture
def finished(tmp_path):
    plan = plan_segments(30, 9, 5)
    cache = open_cache(tmp_path, plan)
    assert run_segments(cache, make_segment, 5) == len(plan)
    return tmp_path, plan, cache.folder


def test_truncated_manifest_is_reported_then_rebuilt_from_the_segment_files(finished):
    root, plan, folder = finished
    path = os.path.join(folder, "manifest.json")
    with open(path, "rb+") as f:
        f.truncate(os.path.getsize(path) // 2)
    with pytest.raises(DreamActorError) as e:
        load_manifest(folder)  # what Stitch and the resume path read
    assert "damaged" in str(e.value) and "input 'segments'" in str(e.value) and "Fix: queue" in str(e.value)
    again = open_cache(root, plan)  # the sampler's next run
    assert again.finished() == len(plan)
    assert load_manifest(folder)["done"] == list(range(len(plan)))


def test_damaged_segment_file_is_made_again_not_read(finished):
    root, plan, folder = finished
    path = os.path.join(folder, "seg_00002.frames.npy")
    with open(path, "rb+") as f:
        f.truncate(200)
    with pytest.raises(DreamActorError) as e:
        SegmentFrames(folder).get(2)  # Stitch
    assert "segment 2" in str(e.value) and "damaged" in str(e.value)
    again = open_cache(root, plan)
    assert again.finished() == 2
    assert run_segments(again, make_segment, 5) == len(plan) - 2
    assert np.load(path).shape[1:] == (H, W, 3)


@pytest.mark.parametrize("name", ["run\n", "../run", "run/x", ""])
def test_cache_names_are_whole_matches(name):
    with pytest.raises(DreamActorError):
        check_cache_name(name)


def test_damaged_runs_names_a_run_that_lost_a_segment_and_nothing_else(finished):
    root, plan, folder = finished
    run = os.path.basename(folder)
    assert damaged_runs(str(root), "run") == []  # what the Sampler tells the host after a clean run
    os.remove(os.path.join(folder, "seg_00001.carry.npy"))
    assert damaged_runs(str(root), "run") == [run]
    again = open_cache(root, plan)  # the host runs the Sampler again: it re-makes segment 1 on
    assert run_segments(again, make_segment, 5) == len(plan) - 1
    assert damaged_runs(str(root), "run") == []
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        f.write('{"format": 1, "key": ')
    assert damaged_runs(str(root), "run") == [run]
    assert damaged_runs(str(root), "no_such_cache") == []
