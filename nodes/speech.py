"""Lip-sync: speech drives the character's mouth (a face performance from an AUDIO)."""

from __future__ import annotations

import numpy as np
import torch
from comfy_api.latest import io, ui

from ..models.core.errors import DreamActorError
from ..models.io.video import Audio, to_uint8_rgb
from ..models.speech.analysis import analyze_speech, check_audio, float_samples, speech_notes
from ..models.speech.performance import as_face_track
from ..models.speech.plot import legend, speech_plot
from ..models.speech.sources import held_motion, redub, talking_picture, track_points
from .host import Progress, node_errors
from .types import CATEGORY, Face, Motion, Video, frames_to_image

NODE_ID = "DreamActorSpeechToFace"
PREVIEW_FRAMES = 8


class SpeechToFace(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id=NODE_ID,
            display_name="DreamActor Speech To Face",
            category=CATEGORY,
            description="Makes a face performance whose mouth follows speech, in any language: a picture's face "
            "speaking (talking picture) or a driving clip's face crops re-dubbed with new audio. The mouth is moved "
            "by warping the face by its landmarks; connect the face output to the Sampler like Face Encode's.",
            inputs=[
                io.Audio.Input("audio", tooltip="The speech (any sample rate, mono or stereo, any length)."),
                io.Image.Input(
                    "picture", optional=True, tooltip="Talking picture: the reference picture whose face speaks."
                ),
                Face.Input(
                    "face", optional=True, tooltip="Re-dub: the driving clip's face crops (Face Encode, no MODEL)."
                ),
                Motion.Input(
                    "reference_motion",
                    optional=True,
                    tooltip="Talking picture: the picture's motion (Skeleton Extract on it); held still for the "
                    "whole speech and given as the 'motion' output, so picture + audio run the Sampler.",
                ),
                io.Float.Input(
                    "fps",
                    default=25.0,
                    min=1.0,
                    max=120.0,
                    step=0.001,
                    tooltip="Talking picture: frames per second of the performance (re-dub uses the clip's).",
                ),
                io.Float.Input(
                    "strength",
                    default=1.0,
                    min=0.0,
                    max=2.0,
                    step=0.05,
                    tooltip="How wide the mouth opens: 1 = as measured, 0.5 = mumbled, 1.5 = exaggerated.",
                ),
                io.Float.Input(
                    "smoothing",
                    default=1.0,
                    min=0.0,
                    max=6.0,
                    step=0.1,
                    tooltip="Gaussian smoothing of the mouth opening over time, in frames (0 = off).",
                ),
                io.Int.Input(
                    "offset",
                    default=0,
                    min=-12,
                    max=12,
                    tooltip="Shift the mouth against the sound, in frames: negative = lips lead (earlier), "
                    "positive = lips lag.",
                ),
                io.Float.Input(
                    "blend",
                    default=1.0,
                    min=0.0,
                    max=1.0,
                    step=0.05,
                    tooltip="Re-dub: share of the new speech in the mouth (1 = all speech, 0 = the clip's own mouth).",
                ),
                io.Float.Input(
                    "head_motion",
                    default=0.0,
                    min=0.0,
                    max=1.0,
                    step=0.05,
                    tooltip="Talking picture: a small nod following the speech's rhythm (0 = still head).",
                ),
                io.Int.Input(
                    "size",
                    default=512,
                    min=64,
                    max=1024,
                    step=16,
                    tooltip="Talking picture: crop size in pixels (Wan-Animate's face encoder takes 512).",
                ),
            ],
            outputs=[
                Face.Output(display_name="face", tooltip="DA_FACE: crops whose mouth speaks, for the Sampler."),
                Motion.Output(
                    display_name="motion",
                    tooltip="Talking picture: the reference_motion held for every frame (None when not connected).",
                ),
                Video.Output(display_name="crops", tooltip="The crops as a video with the sound (for Save Video)."),
                io.Image.Output(display_name="preview", tooltip="Crops spread over the performance."),
                io.Image.Output(
                    display_name="curve", tooltip="The mouth-opening curve over the waveform, visemes below."
                ),
            ],
        )

    @classmethod
    def execute(
        cls,
        audio=None,
        picture=None,
        face=None,
        reference_motion=None,
        fps=25.0,
        strength=1.0,
        smoothing=1.0,
        offset=0,
        blend=1.0,
        head_motion=0.0,
        size=512,
    ) -> io.NodeOutput:
        with node_errors(NODE_ID):
            sound = _require_audio(audio)
            if (picture is None) == (face is None):
                raise DreamActorError(
                    "connect either a picture (talking picture) or a face (re-dub), not "
                    + ("both" if picture is not None else "neither"),
                    fix="picture + audio animates a still face; Face Encode's face + audio re-dubs a clip",
                    input="picture" if picture is not None else "face",
                )
            redubbing = face is not None
            if redubbing:
                fps = float(face.video.fps)
                speech = analyze_speech(sound.waveform, sound.sample_rate, fps, face.num_frames)
                points, found = track_points(face, Progress(face.num_frames))
                crops = redub(face, points, found, speech, sound, blend, strength, smoothing, offset)
            else:
                speech = analyze_speech(sound.waveform, sound.sample_rate, float(fps))
                image = to_uint8_rgb(picture[0])
                crops = talking_picture(image, speech, sound, int(size), strength, smoothing, offset, head_motion)
            motion = None if reference_motion is None else held_motion(reference_motion, crops.num_frames, crops.fps)
            picks = np.unique(np.linspace(0, crops.num_frames - 1, min(PREVIEW_FRAMES, crops.num_frames)).round())
            preview = np.stack([crops.window(int(k), int(k) + 1)[0] for k in picks])
            curve = speech_plot(sound.waveform, sound.sample_rate, crops.openness, crops.viseme, crops.fps)
            notes = speech_notes(speech, sound.waveform.shape[1], sound.sample_rate, crops.num_frames, redubbing)
            info = (
                f"{'re-dub' if redubbing else 'talking picture'}: {crops.num_frames} frames at {crops.fps:.3f} fps "
                f"({crops.num_frames / crops.fps:.2f} s), audio {sound.duration:.2f} s at {sound.sample_rate} Hz"
                + "".join(f"\nnote: {n}" for n in notes)
                + f"\ncurve: {legend()}"
            )
        return io.NodeOutput(
            as_face_track(crops),
            motion,
            crops,
            frames_to_image(preview),
            frames_to_image(curve[None]),
            ui=ui.PreviewText(info),
        )


def _require_audio(audio) -> Audio:
    """Core AUDIO -> models.io.video.Audio with float32 samples in [-1, 1], refusing a missing,
    empty or broken one (no samples, not numbers, NaN/infinite samples, no audio rate) with a
    message naming the input. Integer PCM is scaled by its full scale, a block at a time."""
    no_audio = DreamActorError(
        "no audio is connected, or it holds no samples",
        fix="connect the speech: Load Video's audio output, or a Load Audio node",
        input="audio",
    )
    if not isinstance(audio, dict) or audio.get("waveform") is None:
        raise no_audio
    wave = audio["waveform"]
    if isinstance(wave, torch.Tensor):
        wave = wave.detach().cpu()
        wave = (wave.float() if wave.dtype in (torch.float16, torch.bfloat16) else wave).numpy()
    wave = np.asarray(wave)
    wave = wave[0] if wave.ndim == 3 else (wave[None] if wave.ndim == 1 else wave)
    if wave.size == 0:
        raise no_audio
    rate = check_audio(wave, audio.get("sample_rate"))
    return Audio(float_samples(wave), rate)


NODES = [SpeechToFace]
