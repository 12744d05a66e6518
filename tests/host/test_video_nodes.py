"""Video and motion I/O nodes on a real ComfyUI server, driven through /prompt."""

from __future__ import annotations

import os

import av
import numpy as np
import pytest
from PIL import Image

from scripts.harness.comfy_server import PromptError

pytestmark = pytest.mark.host

PACK_NODES = [
    "DreamActorLoadVideo",
    "DreamActorImagesToVideo",
    "DreamActorSaveVideo",
    "DreamActorSaveMotion",
    "DreamActorLoadMotion",
]


def _load_save(video, start=0, count=0, every_nth=1, fps=0.0, prefix="tests/video"):
    return {
        "1": {
            "class_type": "DreamActorLoadVideo",
            "inputs": {"video": video, "start_frame": start, "frame_count": count, "every_nth": every_nth, "fps": fps},
        },
        "2": {
            "class_type": "DreamActorSaveVideo",
            "inputs": {"video": ["1", 0], "fps": 24.0, "filename_prefix": prefix, "crf": 23},
        },
    }


def _saved_mp4(server, entry, node="2"):
    return server.output_path(entry["outputs"][node]["images"][0])


def test_every_node_is_registered(server):
    info = server.get("/object_info")
    for node_id in PACK_NODES:
        assert node_id in info, node_id
        spec = info[node_id]
        assert spec["category"] == "DreamActor"
        for section in ("required", "optional"):
            for name, (kind, *opts) in spec["input"].get(section, {}).items():
                assert opts and opts[0].get("tooltip"), f"{node_id}.{name} has no tooltip"


def test_load_video_range_to_mp4_keeps_fps_and_audio(server, put_media):
    name = put_media("demo.mp4")
    entry = server.run(_load_save(name, 0, 60))
    path = _saved_mp4(server, entry)
    assert path.endswith(".mp4") and os.path.exists(path)
    with av.open(path) as c:
        v = c.streams.video[0]
        frames = sum(1 for _ in c.decode(v))
        assert frames == 60
        assert abs(float(v.average_rate) - 30.0) < 1e-3
        assert c.streams.audio, "the audio track was not muxed"
    with av.open(path) as c:
        a = c.streams.audio[0]
        audio_seconds = sum(f.samples for f in c.decode(a)) / a.rate
    assert abs(audio_seconds - 2.0) < 0.1
    # the saved frames are the source frames (lossy codecs, so compare loosely)
    with av.open(path) as c:
        out30 = [f for i, f in enumerate(c.decode(video=0)) if i == 30][0].to_ndarray(format="rgb24")
    with av.open(server.input_dir() + "/" + name) as c:
        src30 = [f for i, f in enumerate(c.decode(video=0)) if i == 30][0].to_ndarray(format="rgb24")
    assert np.abs(out30.astype(int) - src30.astype(int)).mean() < 6


def test_load_video_every_nth_and_fps(server, put_media):
    name = put_media("single_face.mp4")
    entry = server.run(_load_save(name, 10, 20, every_nth=2, prefix="tests/nth"))
    with av.open(_saved_mp4(server, entry)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 20
        assert abs(float(c.streams.video[0].average_rate) - 15.0) < 1e-3
    entry = server.run(_load_save(name, 0, 0, fps=10.0, prefix="tests/fps"))
    with av.open(_saved_mp4(server, entry)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 24  # 72 frames at 30 fps = 2.4 s
        assert abs(float(c.streams.video[0].average_rate) - 10.0) < 1e-3


def test_images_to_video_roundtrip(server, media):
    img = server.put_input(media("astronaut.png"))
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": img}},
        "2": {"class_type": "RepeatImageBatch", "inputs": {"image": ["1", 0], "amount": 5}},
        "3": {"class_type": "DreamActorImagesToVideo", "inputs": {"images": ["2", 0], "fps": 12.5}},
        "4": {
            "class_type": "DreamActorSaveVideo",
            "inputs": {"video": ["3", 0], "fps": 24.0, "filename_prefix": "tests/images", "crf": 18},
        },
    }
    path = _saved_mp4(server, server.run(prompt), "4")
    with av.open(path) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        assert abs(float(c.streams.video[0].average_rate) - 12.5) < 1e-3
        assert not c.streams.audio
    assert len(frames) == 5 and frames[0].shape == (512, 512, 3)


def test_save_video_from_image_batch_with_odd_size(server, media):
    img = server.put_input(media("astronaut.png"))
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": img}},
        "2": {"class_type": "ImageCrop", "inputs": {"image": ["1", 0], "width": 301, "height": 199, "x": 10, "y": 10}},
        "3": {
            "class_type": "DreamActorSaveVideo",
            "inputs": {"images": ["2", 0], "fps": 8.0, "filename_prefix": "tests/odd", "crf": 18},
        },
    }
    with av.open(_saved_mp4(server, server.run(prompt), "3")) as c:
        frames = list(c.decode(video=0))
    assert len(frames) == 1 and (frames[0].width, frames[0].height) == (302, 200)


# ----------------------------------------------------------------- bad input
def _expect_error(server, prompt, *needles):
    with pytest.raises(PromptError) as e:
        server.run(prompt)
    text = str(e.value) + repr(e.value.details)
    for n in needles:
        assert n in text, f"{n!r} not in error: {text[:1500]}"
    return text


def test_missing_video_is_a_validation_error(server):
    _expect_error(server, _load_save("does_not_exist.mp4"), "DreamActorLoadVideo", "does_not_exist.mp4", "upload")


def test_range_outside_clip(server, put_media):
    name = put_media("single_face.mp4")
    _expect_error(server, _load_save(name, 100, 5), "DreamActorLoadVideo", "start_frame", "Fix:")
    _expect_error(server, _load_save(name, 60, 20), "DreamActorLoadVideo", "frame_count", "Fix:")


def test_truncated_video(server, media):
    data = open(media("demo.mp4"), "rb").read()
    with open(os.path.join(server.input_dir(), "truncated.mp4"), "wb") as f:
        f.write(data[: len(data) // 3])
    _expect_error(server, _load_save("truncated.mp4"), "DreamActorLoadVideo", "'video'", "Fix:")


def test_not_a_video(server):
    with open(os.path.join(server.input_dir(), "not_a_video.mp4"), "wb") as f:
        f.write(b"this is not a video file at all" * 100)
    _expect_error(server, _load_save("not_a_video.mp4"), "DreamActorLoadVideo", "cannot be read", "Fix:")


def test_zero_frames(server):
    path = os.path.join(server.input_dir(), "zero_frames.mp4")
    with av.open(path, "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=24)
        s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
    _expect_error(server, _load_save("zero_frames.mp4"), "DreamActorLoadVideo", "Fix:")


def test_image_list_of_mixed_sizes(server, media):
    folder = os.path.join(server.input_dir(), "mixed_sizes")
    os.makedirs(folder, exist_ok=True)
    Image.new("RGB", (64, 48), "red").save(os.path.join(folder, "a.png"))
    Image.new("RGB", (80, 48), "blue").save(os.path.join(folder, "b.png"))
    prompt = {
        "1": {"class_type": "LoadImageDataSetFromFolder", "inputs": {"folder": "mixed_sizes"}},
        "2": {"class_type": "DreamActorImagesToVideo", "inputs": {"images": ["1", 0], "fps": 24.0}},
        "3": {
            "class_type": "DreamActorSaveVideo",
            "inputs": {"video": ["2", 0], "fps": 24.0, "filename_prefix": "tests/mixed", "crf": 23},
        },
    }
    _expect_error(server, prompt, "DreamActorImagesToVideo", "'images'", "different sizes", "Fix:")


def test_save_video_needs_a_source(server):
    prompt = {
        "1": {"class_type": "DreamActorSaveVideo", "inputs": {"fps": 24.0, "filename_prefix": "tests/none", "crf": 23}}
    }
    _expect_error(server, prompt, "DreamActorSaveVideo", "nothing to save", "Fix:")
