"""Skeleton Extract on a stylized character through a real server: a transparent PNG loaded by
core Load Image (IMAGE without alpha + MASK = 1 - alpha) gets a skeleton fitted to the mask."""

from __future__ import annotations

import os

import pytest

from scripts.harness.stylized_media import fetch

pytestmark = pytest.mark.host

EXTRACT = {"person": 0, "hands": True, "face": True, "smooth": True, "min_cutoff": 1.0, "beta": 1.0, "fill_gaps": 8}


def test_transparent_chibi_with_its_mask_is_fitted_and_gets_a_big_head(server):
    from PIL import Image

    art = Image.open(fetch("kenney_alien_front")).convert("RGBA")
    w, h = art.size
    canvas = Image.new("RGBA", (3 * h, 3 * h), (0, 0, 0, 0))
    canvas.paste(art.resize((2 * w, 2 * h), Image.NEAREST), ((3 * h - 2 * w) // 2, h // 2))
    canvas.save(os.path.join(server.input_dir(), "chibi_alpha.png"))
    prompt = {
        "img": {"class_type": "LoadImage", "inputs": {"image": "chibi_alpha.png"}},
        "skel": {
            "class_type": "DreamActorSkeletonExtract",
            "inputs": {"image": ["img", 0], "mask": ["img", 1], **EXTRACT},
        },
        "head": {
            "class_type": "DreamActorHeadSphereFit",
            "inputs": {"motion": ["skel", 0], "smoothing": 1.5, "max_hold": 12},
        },
        "guide": {
            "class_type": "DreamActorRenderGuide",
            "inputs": {
                "motion": ["head", 0],
                "style": "dreamactor",
                "width": 256,
                "height": 256,
                "fit": "contain",
                "start_frame": 0,
                "frame_count": 0,
                "background_dim": 0.5,
            },
        },
        "show": {"class_type": "PreviewImage", "inputs": {"images": ["guide", 0]}},
    }
    out = server.run(prompt, timeout=300)["outputs"]
    text = out["skel"]["text"][0]
    assert "FITTED" in text and "from the mask" in text
    assert "head sphere" in out["head"]["text"][0]
    assert "1 guide frames" in out["guide"]["text"][0]
