"""DreamActorRenderGuide on a real server: both styles, the lazy video, POSE_KEYPOINT."""

from __future__ import annotations

import os

import av
import pytest

from scripts.harness.comfy_server import PromptError
from tests.unit.motion_fixtures import person_motion

pytestmark = pytest.mark.host


@pytest.fixture(scope="module")
def motion_file(server):
    m = person_motion(num_frames=6, image_size=(640, 480))
    m.valid[2] = False
    m.save(os.path.join(server.input_dir(), "standing.motion.npz"))
    return "standing.motion.npz"


def _prompt(file, style, **kw):
    return {
        "m": {"class_type": "DreamActorLoadMotion", "inputs": {"file": file}},
        "g": {
            "class_type": "DreamActorRenderGuide",
            "inputs": {
                "motion": ["m", 0],
                "style": style,
                "width": 320,
                "height": 240,
                "fit": "contain",
                "start_frame": 0,
                "frame_count": 0,
                "background_dim": 0.5,
                **kw,
            },
        },
        "s": {
            "class_type": "DreamActorSaveVideo",
            "inputs": {"video": ["g", 1], "fps": 24.0, "filename_prefix": f"tests/guide_{style}", "crf": 12},
        },
        "i": {
            "class_type": "DreamActorSaveVideo",
            "inputs": {"images": ["g", 0], "fps": 25.0, "filename_prefix": f"tests/guide_img_{style}", "crf": 12},
        },
    }


@pytest.mark.parametrize("style", ["dreamactor", "wan-animate"])
def test_both_styles_render_through_the_server(server, motion_file, style):
    entry = server.run(_prompt(motion_file, style))
    assert "6 guide frames" in entry["outputs"]["g"]["text"][0]
    assert entry["outputs"]["g"]["images"], "no preview image"
    for node in ("s", "i"):
        with av.open(server.output_path(entry["outputs"][node]["images"][0])) as c:
            frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        assert len(frames) == 6 and frames[0].shape == (240, 320, 3)
        assert frames[0].mean() > 1.0, "a valid frame drew nothing"
        assert frames[2].max() < 24, "an invalid frame must stay black"


def test_guide_range_outside_motion_is_a_clear_error(server, motion_file):
    with pytest.raises(PromptError) as e:
        server.run(_prompt(motion_file, "dreamactor", start_frame=4, frame_count=5))
    text = str(e.value)
    assert "DreamActorRenderGuide" in text and "frame_count" in text and "Fix:" in text
