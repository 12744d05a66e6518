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
