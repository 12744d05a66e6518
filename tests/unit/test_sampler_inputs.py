"""The Sampler refuses text conditioning of the wrong width before any work (issue 14),
checked on the tiny Wan-Animate checkpoint loaded by the host's own loader."""

from __future__ import annotations

import pytest
import torch

from tests.unit import sampler_fixtures as sf


@pytest.fixture(scope="module")
def checks():
    sf.pack()
    import importlib

    return importlib.import_module(f"{sf.PACK_NAME}.nodes.checks")


@pytest.fixture(scope="module")
def model():
    return sf.load_tiny("animate")


def test_text_of_the_model_width_passes(checks, model):
    checks.check_text_width(model, positive=sf.text_conditioning(1), negative=sf.text_conditioning(2))


def test_clip_l_width_text_is_refused_naming_the_input(checks, model):
    clip_l = [[torch.zeros(1, 77, 768), {}]]
    error = checks.DreamActorError  # the pack's own class (loaded as dreamactor_pack)
    with pytest.raises(error) as e:
        checks.check_text_width(model, positive=sf.text_conditioning(1), negative=clip_l)
    text = str(e.value)
    assert e.value.input == "negative" and "768 wide" in text and "4096" in text and "Fix:" in text, text


def test_sampler_fingerprint_changes_when_its_cache_is_damaged(tmp_path):
    """What the node tells ComfyUI: 'intact' before and after a clean run (so a finished run is
    reused), something else once a segment file is gone (so queueing again runs it)."""
    import importlib
    import os

    import folder_paths

    from models.dit.segment_cache import SegmentCache, run_segments
    from models.dit.segments import plan_segments

    node = importlib.import_module(f"{sf.PACK_NAME}.nodes.sampler").DreamActorSampler
    saved = folder_paths.get_output_directory()
    folder_paths.set_output_directory(str(tmp_path))
    try:
        assert node.fingerprint_inputs(cache_name="run") == "intact"
        plan = plan_segments(20, 9, 5)
        cache = SegmentCache(str(tmp_path), "run", "c" * 64, plan, {"frames": 20}, 1)
        frames = torch.rand(9, 4, 4, 3).numpy()
        run_segments(cache, lambda seg, carry, seed: (frames[:1, :1], frames[: seg.length]), 5)
        assert node.fingerprint_inputs(cache_name="run") == "intact"
        os.remove(os.path.join(cache.folder, "seg_00001.frames.npy"))
        assert node.fingerprint_inputs(cache_name="run").startswith("damaged:")
        assert node.fingerprint_inputs(cache_name="../run") == "intact"  # execute refuses the name
    finally:
        folder_paths.set_output_directory(saved)
