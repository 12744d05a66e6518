"""Skeleton extraction, head sphere, face crops and guides on real media, through a real server."""

from __future__ import annotations

import os

import av
import pytest

from models.core.motion import Motion
from scripts.harness.comfy_server import PromptError

pytestmark = pytest.mark.host

EXTRACT = {"person": 0, "hands": True, "face": True, "smooth": True, "min_cutoff": 1.0, "beta": 1.0, "fill_gaps": 8}


def _load(video, start=0, count=0):
    return {
        "class_type": "DreamActorLoadVideo",
        "inputs": {"video": video, "start_frame": start, "frame_count": count, "every_nth": 1, "fps": 0.0},
    }


def test_clip_to_head_sphere_guide_and_face_crops(server, put_media):
    clip = put_media("single_face.mp4")
    prompt = {
        "load": _load(clip, 0, 24),
        "skel": {"class_type": "DreamActorSkeletonExtract", "inputs": {"video": ["load", 0], **EXTRACT}},
        "head": {
            "class_type": "DreamActorHeadSphereFit",
            "inputs": {"motion": ["skel", 0], "smoothing": 1.5, "max_hold": 12},
        },
        "guide": {
            "class_type": "DreamActorRenderGuide",
            "inputs": {
                "motion": ["head", 0],
                "style": "dreamactor",
                "width": 320,
                "height": 192,
                "fit": "contain",
                "start_frame": 0,
                "frame_count": 0,
                "background": ["load", 0],
                "background_dim": 0.5,
            },
        },
        "save": {
            "class_type": "DreamActorSaveVideo",
            "inputs": {"video": ["guide", 1], "fps": 24.0, "filename_prefix": "tests/guidance", "crf": 20},
        },
        "face": {
            "class_type": "DreamActorFaceEncode",
            "inputs": {"video": ["load", 0], "motion": ["head", 0], "size": 256, "scale": 1.2, "smoothing": 2.0},
        },
        "crops": {"class_type": "PreviewImage", "inputs": {"images": ["face", 1]}},
        "keep": {
            "class_type": "DreamActorSaveMotion",
            "inputs": {"motion": ["head", 0], "filename_prefix": "tests/single_face"},
        },
    }
    entry = server.run(prompt, timeout=600)
    out = entry["outputs"]
    assert "24 frames" in out["skel"]["text"][0] and out["skel"]["images"]
    assert "head measured on" in out["head"]["text"][0]
    assert "face on 24/24" in out["face"]["text"][0]
    with av.open(server.output_path(out["save"]["images"][0])) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        assert len(frames) == 24 and frames[0].shape == (192, 320, 3)
        assert c.streams.audio, "the clip's audio should travel with the guide video"
    motion = Motion.load(server.saved_motion_path(entry, "keep"))
    assert motion.valid.all() and (motion.head_radius > 0).all()
    assert len(out["crops"]["images"]) == 8


def test_reference_photo_gives_one_frame_with_head(server, media):
    img = server.put_input(media("astronaut.png"))
    prompt = {
        "img": {"class_type": "LoadImage", "inputs": {"image": img}},
        "skel": {"class_type": "DreamActorSkeletonExtract", "inputs": {"image": ["img", 0], **EXTRACT}},
        "head": {
            "class_type": "DreamActorHeadSphereFit",
            "inputs": {"motion": ["skel", 0], "smoothing": 1.5, "max_hold": 12},
        },
        "wan": {
            "class_type": "DreamActorRenderGuide",
            "inputs": {
                "motion": ["head", 0],
                "style": "wan-animate",
                "width": 512,
                "height": 512,
                "fit": "contain",
                "start_frame": 0,
                "frame_count": 0,
                "background_dim": 0.5,
            },
        },
        "show": {"class_type": "PreviewImage", "inputs": {"images": ["wan", 0]}},
    }
    out = server.run(prompt, timeout=300)["outputs"]
    assert "1 frames" in out["skel"]["text"][0] and "head sphere" in out["head"]["text"][0]
    assert "1 guide frames" in out["wan"]["text"][0]


def test_no_person_in_the_clip_is_a_clear_error(server, put_media):
    clip = put_media("no_face.mp4")
    prompt = {
        "load": _load(clip, 0, 30),
        "skel": {"class_type": "DreamActorSkeletonExtract", "inputs": {"video": ["load", 0], **EXTRACT}},
        "keep": {
            "class_type": "DreamActorSaveMotion",
            "inputs": {"motion": ["skel", 0], "filename_prefix": "tests/none"},
        },
    }
    with pytest.raises(PromptError) as e:
        server.run(prompt, timeout=300)
    assert "DreamActorSkeletonExtract" in str(e.value) and "Fix:" in str(e.value)


def test_one_frame_video_works(server, put_media):
    clip = put_media("single_face.mp4")
    prompt = {
        "load": _load(clip, 30, 1),
        "skel": {"class_type": "DreamActorSkeletonExtract", "inputs": {"video": ["load", 0], **EXTRACT}},
        "head": {
            "class_type": "DreamActorHeadSphereFit",
            "inputs": {"motion": ["skel", 0], "smoothing": 1.5, "max_hold": 12},
        },
        "keep": {
            "class_type": "DreamActorSaveMotion",
            "inputs": {"motion": ["head", 0], "filename_prefix": "tests/one_frame"},
        },
    }
    out = server.run(prompt, timeout=300)["outputs"]
    assert "1 frames" in out["keep"]["text"][0]


def test_video_and_image_together_is_a_clear_error(server, put_media, media):
    clip = put_media("single_face.mp4")
    img = server.put_input(media("astronaut.png"))
    prompt = {
        "load": _load(clip, 0, 2),
        "img": {"class_type": "LoadImage", "inputs": {"image": img}},
        "skel": {
            "class_type": "DreamActorSkeletonExtract",
            "inputs": {"video": ["load", 0], "image": ["img", 0], **EXTRACT},
        },
        "keep": {
            "class_type": "DreamActorSaveMotion",
            "inputs": {"motion": ["skel", 0], "filename_prefix": "tests/both"},
        },
    }
    with pytest.raises(PromptError) as e:
        server.run(prompt)
    assert "exactly one of 'video' and 'image'" in str(e.value)


def test_photo_without_anyone_is_a_clear_error(server, media):
    from PIL import Image

    from models.io.video import FileVideo

    frame = FileVideo(media("no_face.mp4"), start=40, count=1).frame(0)
    Image.fromarray(frame).save(os.path.join(server.input_dir(), "nobody.png"))
    prompt = {
        "img": {"class_type": "LoadImage", "inputs": {"image": "nobody.png"}},
        "skel": {"class_type": "DreamActorSkeletonExtract", "inputs": {"image": ["img", 0], **EXTRACT}},
        "keep": {
            "class_type": "DreamActorSaveMotion",
            "inputs": {"motion": ["skel", 0], "filename_prefix": "tests/nobody"},
        },
    }
    with pytest.raises(PromptError) as e:
        server.run(prompt)
    assert "DreamActorSkeletonExtract" in str(e.value) and "Fix:" in str(e.value)


def test_face_crops_need_a_face(server, media):
    """A body seen from far with the face not extracted: Face Encode says what to do."""
    clip = server.put_input(media("single_face.mp4"))
    prompt = {
        "load": _load(clip, 0, 4),
        "skel": {
            "class_type": "DreamActorSkeletonExtract",
            "inputs": {"video": ["load", 0], **{**EXTRACT, "face": False}},
        },
        "face": {
            "class_type": "DreamActorFaceEncode",
            "inputs": {"video": ["load", 0], "motion": ["skel", 0], "size": 128, "scale": 1.2, "smoothing": 2.0},
        },
        "show": {"class_type": "PreviewImage", "inputs": {"images": ["face", 1]}},
    }
    with pytest.raises(PromptError) as e:
        server.run(prompt)
    text = str(e.value)
    assert "DreamActorFaceEncode" in text and "face" in text and "Fix:" in text, text


def test_a_group_photo_says_who_was_taken_and_how_to_choose(server, media):
    """t1.jpg, six people: the text says how many, whom it took and why, and how to take another;
    the preview numbers them; 'person' 2 takes the second from the left, and the text says so."""
    img = server.put_input(media("t1.jpg"))

    def run(person: int) -> dict:
        prompt = {
            "img": {"class_type": "LoadImage", "inputs": {"image": img}},
            "skel": {
                "class_type": "DreamActorSkeletonExtract",
                "inputs": {"image": ["img", 0], **{**EXTRACT, "person": person, "hands": False}},
            },
            "keep": {"class_type": "DreamActorSaveMotion", "inputs": {"motion": ["skel", 0], "filename_prefix": "t/g"}},
        }
        entry = server.run(prompt, timeout=300)
        return {**entry["outputs"]["skel"], "motion": Motion.load(server.saved_motion_path(entry, "keep"))}

    auto = run(0)
    text = auto["text"][0]
    assert text.startswith("6 people found; took #5 (the most prominent: large and near the centre). "), text
    assert "Set 'person' to 1-6 to choose another, counted from the left, or click a box in the preview" in text
    people = auto["dreamactor_people"][0]
    assert people["taken"] == 5 and people["person"] == 0 and len(people["boxes"]) == 6, people
    assert all(0 <= v <= 1 for box in people["boxes"] for v in box) and auto["images"]
    boxes = auto["motion"].get("people_boxes")
    assert boxes.shape == (6, 4) and int(auto["motion"].get("person_index")) == 4

    second = run(2)
    assert second["text"][0].startswith("6 people found; took #2 ('person' is 2)."), second["text"][0]
    assert second["dreamactor_people"][0]["taken"] == 2
    got = second["motion"].get("person_box")[0]
    assert abs(got - boxes[1]).max() < 2.0, (got, boxes[1])
