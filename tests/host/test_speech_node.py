"""DreamActor Speech To Face on a real ComfyUI server: espeak-ng speech (muxed into an mp4, as
the test host has no Load Audio: Load Video gives the AUDIO) + the astronaut photo.

* talking picture -> Save Video of the crops: the mp4 has one frame per speech frame and the
  speech as its sound; bad inputs give errors naming the node and input;
* picture + speech -> Sampler (tiny random-weight Wan-Animate) -> Stitch -> Save Video: the
  mp4's frame count and audio match the speech.
"""

from __future__ import annotations

import os
import uuid

import av
import numpy as np
import pytest

from models.io.video import Audio
from models.io.video_writer import write_mp4
from models.speech.analysis import frame_count
from scripts.harness.comfy_server import PromptError
from scripts.harness.espeak_truth import speak
from tests.host.tiny_sampling import sample_stitch_save

pytestmark = [pytest.mark.host]

FPS = 10.0
EXTRACT = {"person": 0, "hands": False, "face": True, "smooth": True, "min_cutoff": 1.0, "beta": 1.0, "fill_gaps": 8}


def speech_clip(folder: str, text: str = "Hola, buenos días.", voice: str = "es", name: str = "speech_es.mp4"):
    """An mp4 of black 32x32 frames at FPS carrying espeak-ng speech; returns (path, speech seconds)."""
    wave, sr, _ = speak(text, voice)
    frames = frame_count(len(wave), sr, FPS)
    path = os.path.join(folder, name)
    write_mp4(path, (np.zeros((32, 32, 3), np.uint8) for _ in range(frames)), FPS, Audio(wave[None], sr))
    return path, len(wave) / sr


def mp4_facts(path: str) -> tuple[int, float]:
    """(video frames, audio seconds) of a saved mp4."""
    with av.open(path) as c:
        frames = sum(1 for _ in c.decode(video=0))
    with av.open(path) as c:
        samples = sum(f.samples for f in c.decode(audio=0))
        rate = c.streams.audio[0].sample_rate
    return frames, samples / rate


def speech_nodes(clip: str, photo: str, **knobs) -> dict:
    return {
        "load": {
            "class_type": "DreamActorLoadVideo",
            "inputs": {"video": clip, "start_frame": 0, "frame_count": 0, "every_nth": 1, "fps": 0.0},
        },
        "img": {"class_type": "LoadImage", "inputs": {"image": photo}},
        "speech": {
            "class_type": "DreamActorSpeechToFace",
            "inputs": {
                "audio": ["load", 2],
                "picture": ["img", 0],
                "fps": FPS,
                "strength": 1.0,
                "smoothing": 1.0,
                "offset": 0,
                "blend": 1.0,
                "head_motion": 0.0,
                "size": 128,
                **knobs,
            },
        },
    }


def with_save(prompt: dict, prefix: str = "tests/speech_crops") -> dict:
    """``prompt`` plus Save Video of the speech crops (with their sound)."""
    prompt["mp4"] = {
        "class_type": "DreamActorSaveVideo",
        "inputs": {"video": ["speech", 2], "fps": FPS, "filename_prefix": prefix, "crf": 18},
    }
    return prompt


def frames_in_text(entry) -> int:
    text = entry["outputs"]["speech"]["text"][0]
    return int(text.split(": ", 1)[1].split(" frames", 1)[0])


@pytest.fixture(scope="module")
def inputs(server, media, tmp_path_factory):
    path, seconds = speech_clip(str(tmp_path_factory.mktemp("speech")))
    return server.put_input(path), server.put_input(media("astronaut.png")), seconds


def test_talking_picture_crops_carry_the_speech(server, inputs):
    clip, photo, seconds = inputs
    entry = server.run(with_save(speech_nodes(clip, photo)), timeout=300)
    T = frames_in_text(entry)
    assert abs(T / FPS - seconds) <= 1.0 / FPS + 0.05  # the frames cover the speech (AAC pads a little)
    frames, audio_s = mp4_facts(server.output_path(entry["outputs"]["mp4"]["images"][0]))
    assert frames == T
    assert abs(audio_s - T / FPS) < 0.03


def test_bad_inputs_name_node_and_input(server, inputs, tmp_path):
    clip, photo, _ = inputs
    neither = speech_nodes(clip, photo)
    del neither["speech"]["inputs"]["picture"]
    with pytest.raises(PromptError, match=r"DreamActorSpeechToFace.*face.*neither"):
        server.run(with_save(neither), timeout=120)
    blank = os.path.join(str(tmp_path), f"blank_{uuid.uuid4().hex[:6]}.png")
    from PIL import Image

    Image.fromarray(np.full((96, 96, 3), 128, np.uint8)).save(blank)
    with pytest.raises(PromptError, match=r"DreamActorSpeechToFace.*picture.*no face was found"):
        server.run(with_save(speech_nodes(clip, server.put_input(blank))), timeout=120)


def test_redub_a_sample_clip(server, inputs, media):
    clip, _, _ = inputs
    video = server.put_input(media("single_face.mp4"))
    prompt = speech_nodes(clip, "unused")
    del prompt["img"], prompt["speech"]["inputs"]["picture"]
    prompt["speech"]["inputs"].update(face=["face", 0], fps=25.0, size=512)
    prompt["drive"] = dict(prompt["load"], inputs=dict(prompt["load"]["inputs"], video=video))
    prompt["skel"] = {"class_type": "DreamActorSkeletonExtract", "inputs": {"video": ["drive", 0], **EXTRACT}}
    prompt["face"] = {
        "class_type": "DreamActorFaceEncode",
        "inputs": {
            "video": ["drive", 0],
            "motion": ["skel", 0],
            "size": 128,
            "scale": 1.2,
            "smoothing": 2.0,
            "intensity": 1.0,
            "neutral_frame": 0,
            "token_smoothing": 0.0,
        },
    }
    entry = server.run(with_save(prompt, "tests/speech_redub"), timeout=600)
    text = entry["outputs"]["speech"]["text"][0]
    assert text.startswith("re-dub: 72 frames at 30.000 fps"), text
    assert "the audio ends" in text and "before the clip" in text, text  # 1.25 s of speech, a 2.4 s clip
    frames, audio_s = mp4_facts(server.output_path(entry["outputs"]["mp4"]["images"][0]))
    assert frames == 72 and abs(audio_s - 72 / 30.0) < 0.03


@pytest.mark.slow
def test_picture_and_speech_run_the_whole_pipeline(test_nodes_server, tiny_models, media, tmp_path_factory):
    srv = test_nodes_server
    path, _ = speech_clip(str(tmp_path_factory.mktemp("speech2")), "Hola.", name="speech_hola.mp4")
    clip, photo = srv.put_input(path), srv.put_input(media("astronaut.png"))
    name = f"speech-{uuid.uuid4().hex[:8]}"
    prompt = speech_nodes(clip, photo)
    prompt["skel"] = {
        "class_type": "DreamActorSkeletonExtract",
        "inputs": {
            "image": ["img", 0],
            "person": 0,
            "hands": True,
            "face": True,
            "smooth": True,
            "min_cutoff": 1.0,
            "beta": 1.0,
            "fill_gaps": 8,
        },
    }
    prompt["speech"]["inputs"]["reference_motion"] = ["skel", 0]
    prompt.update(
        sample_stitch_save(
            tiny_models,
            ["img", 0],
            ["speech", 1],
            ["speech", 0],
            name,
            text="an astronaut talking",
            seed=3,
            steps=1,
            cfg=1.0,
            segment_length=9,
            motion_frames=1,
        )
    )
    entry = srv.run(prompt, timeout=900)
    T = frames_in_text(entry)
    frames, audio_s = mp4_facts(srv.output_path(entry["outputs"]["mp4"]["images"][0]))
    assert frames == T  # one output frame per speech frame
    assert abs(audio_s - T / FPS) < 0.03  # the speech went along, cut to the frames: frame k at k / fps


def test_silence_is_flagged_and_missing_audio_refused(server, inputs, media):
    _, photo, _ = inputs
    demo = server.put_input(media("demo.mp4"))  # its track is digital silence
    prompt = speech_nodes(demo, photo)
    prompt["load"]["inputs"]["frame_count"] = 20
    entry = server.run(with_save(prompt, "tests/speech_silence"), timeout=300)
    text = entry["outputs"]["speech"]["text"][0]
    assert "no speech was found in the audio" in text, text
    del prompt["speech"]["inputs"]["audio"]
    with pytest.raises(PromptError, match=r"audio"):
        server.run(with_save(prompt, "tests/speech_silence"), timeout=120)


def hostile_audio_prompt(photo: str, kind: str, seconds: float = 2.0, rate: int = 16000, fps: float = FPS) -> dict:
    """Test audio of ``kind`` -> Speech To Face (talking picture) -> its curve saved as .npy."""
    prompt = speech_nodes("unused", photo, audio=["audio", 0], fps=fps)
    del prompt["load"]
    prompt["audio"] = {"class_type": "DreamActorTestAudio", "inputs": {"kind": kind, "seconds": seconds, "rate": rate}}
    prompt["save"] = {
        "class_type": "DreamActorTestSaveImages",
        "inputs": {"images": ["speech", 4], "filename": f"tests/speech_curve_{kind}_{uuid.uuid4().hex[:6]}"},
    }
    return prompt


@pytest.mark.parametrize(
    "kind, message",
    [
        ("nan", r"1 of the audio's 32000 samples are NaN or infinite.*Fix: re-export"),
        ("inf", r"1 of the audio's 32000 samples are NaN or infinite"),
        ("empty", r"no audio is connected, or it holds no samples"),
        ("no_channels", r"no audio is connected, or it holds no samples"),
        ("rate_0", r"sample rate 0 Hz is not an audio rate"),
        ("rate_nan", r"sample rate nan Hz is not an audio rate"),
        ("rate_1e9", r"sample rate 1000000000 Hz is not an audio rate"),
    ],
)
def test_broken_audio_is_refused_by_name(test_nodes_server, media, kind, message):
    """NaN/Inf samples, no samples, no channels and absurd rates: the node's own message naming
    the input and a fix, never a raw exception (the plot of the curve included)."""
    photo = test_nodes_server.put_input(media("astronaut.png"))
    with pytest.raises(PromptError, match=r"DreamActorSpeechToFace, input 'audio'\] " + message):
        test_nodes_server.run(hostile_audio_prompt(photo, kind), timeout=120)


@pytest.mark.parametrize("kind", ["int16", "uint8", "float"])
def test_integer_pcm_reads_like_float(test_nodes_server, media, kind):
    """Integer PCM tensors (int16, 8-bit unsigned) are scaled by their full scale: the same frames
    and no 'clipped' note (unscaled, every sample would read as clipped)."""
    photo = test_nodes_server.put_input(media("astronaut.png"))
    entry = test_nodes_server.run(hostile_audio_prompt(photo, kind), timeout=300)
    text = entry["outputs"]["speech"]["text"][0]
    assert frames_in_text(entry) == 20, text
    assert "clipped" not in text and "no speech" not in text, text


def test_long_audio_at_96khz(test_nodes_server, media):
    """Ten minutes at 96 kHz (a 230 MB tensor) at 1 fps: read in blocks, one frame per second."""
    photo = test_nodes_server.put_input(media("astronaut.png"))
    entry = test_nodes_server.run(hostile_audio_prompt(photo, "float", 600.0, 96000, fps=1.0), timeout=600)
    text = entry["outputs"]["speech"]["text"][0]
    assert text.startswith("talking picture: 600 frames at 1.000 fps"), text
