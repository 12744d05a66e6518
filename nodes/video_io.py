"""Video in and out: load a clip lazily, wrap an IMAGE batch, save a streaming mp4."""

from __future__ import annotations

import os

import folder_paths
import torch
from comfy_api.latest import io, ui

from ..models.core.errors import DreamActorError
from ..models.io.video import ArrayVideo, FileVideo, LazyVideo
from ..models.io.video_writer import write_mp4
from . import inputs
from .checks import file_fingerprint, file_validation, finite_floats, listed_files, resolve_input_file
from .host import Progress, node_errors
from .types import CATEGORY, Video, audio_from_core, audio_to_core, frames_to_image

SILENT_RATE = 44100
VIDEO_FIX = (
    "upload the clip with the node's upload button (or copy it into ComfyUI's input folder) and pick it in the list"
)


def _input_videos() -> list[str]:
    folder = folder_paths.get_input_directory()
    files = folder_paths.filter_files_content_types(os.listdir(folder), ["video"])
    return sorted(listed_files(files))


class LoadVideo(io.ComfyNode):
    """A clip from ComfyUI's input folder as a lazy DA_VIDEO (decoded a window at a time)."""

    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DreamActorLoadVideo",
            display_name="DreamActor Load Video",
            category=CATEGORY,
            description="Loads a driving clip lazily: frames are decoded a window at a time, so clips of "
            "any length fit in memory. Also gives the first frame, the audio and the frame rate.",
            inputs=[
                io.Combo.Input(
                    "video",
                    options=_input_videos(),
                    upload=io.UploadType.video,
                    tooltip="A video in ComfyUI's input folder (mp4, mov, webm, mkv). "
                    "Use the upload button to add one.",
                ),
                *inputs.frame_range(
                    "First source frame to use (0 = the beginning).",
                    "How many frames to use after start_frame (counted after every_nth). 0 = to the end of the clip.",
                ),
                inputs.every_nth(
                    "Keep every n-th source frame (2 halves the frame rate; the duration and the audio stay the same)."
                ),
                inputs.fps(
                    "Resample the selection to this frame rate (frames are repeated or dropped, duration kept). "
                    "0 = keep the clip's own rate.",
                    default=0.0,
                    zero_keeps=True,
                ),
            ],
            outputs=[
                Video.Output(display_name="video", tooltip="The lazy clip, for DreamActor nodes."),
                io.Image.Output(display_name="first_frame", tooltip="The first selected frame, as IMAGE."),
                io.Audio.Output(
                    display_name="audio", tooltip="The audio under the selected range (silence when the file has none)."
                ),
                io.Float.Output(display_name="fps", tooltip="Frame rate of the selection."),
            ],
        )

    @classmethod
    def validate_inputs(cls, video):
        # only 'video' is taken here: ComfyUI then still checks the other inputs' ranges
        return file_validation("DreamActorLoadVideo", video, input="video", fix=VIDEO_FIX)

    @classmethod
    def fingerprint_inputs(cls, video, **kwargs):
        return file_fingerprint(video, input="video")

    @classmethod
    def execute(cls, video, start_frame, frame_count, every_nth, fps) -> io.NodeOutput:
        with node_errors("DreamActorLoadVideo"):
            finite_floats(fps=fps)
            path = resolve_input_file(video, input="video", fix=VIDEO_FIX)
            clip = FileVideo(path, start=start_frame, count=frame_count, every_nth=every_nth, fps=fps)
            first = frames_to_image(clip.window(0, 1))
            audio = clip.audio()
        if audio is None:  # silence of any length without its memory: one sample, expanded
            length = max(1, int(round(clip.duration * SILENT_RATE)))
            core_audio = {"waveform": torch.zeros(1, 2, 1).expand(1, 2, length), "sample_rate": SILENT_RATE}
        else:
            core_audio = audio_to_core(audio)
        info = f"{os.path.basename(path)}: {clip.describe()}, " + ("audio" if audio is not None else "no audio")
        return io.NodeOutput(clip, first, core_audio, clip.fps, ui=ui.PreviewText(info))


class ImagesToVideo(io.ComfyNode):
    """An IMAGE batch (from any node) as a DA_VIDEO, so core and VideoHelperSuite nodes plug in."""

    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DreamActorImagesToVideo",
            display_name="DreamActor Images To Video",
            category=CATEGORY,
            description="Wraps an IMAGE batch (or a list of images of one size) with a frame rate and "
            "optional audio as a DA_VIDEO.",
            is_input_list=True,
            inputs=[
                io.Image.Input(
                    "images",
                    tooltip="Frames in order. A list of single images works too, "
                    "as long as they all have the same size.",
                ),
                inputs.fps("Frame rate of the frames."),
                io.Audio.Input("audio", optional=True, tooltip="Optional soundtrack to carry with the video."),
            ],
            outputs=[Video.Output(display_name="video", tooltip="The frames as a DA_VIDEO.")],
        )

    @classmethod
    def execute(cls, images, fps, audio=None) -> io.NodeOutput:
        with node_errors("DreamActorImagesToVideo"):
            finite_floats(fps=fps[0])
            frames = _concat_same_size(images)
            video = ArrayVideo(frames, fps[0], audio_from_core(audio[0] if audio else None))
        return io.NodeOutput(video, ui=ui.PreviewText(video.describe()))


def _concat_same_size(images: list[torch.Tensor]) -> torch.Tensor:
    """A list of IMAGE batches (n_i, H, W, C) -> one (sum n_i, H, W, C); sizes must agree."""
    first = tuple(images[0].shape[1:3])
    for i, im in enumerate(images):
        if tuple(im.shape[1:3]) != first:
            raise DreamActorError(
                f"the images have different sizes: item 0 is {first[1]}x{first[0]}, "
                f"item {i} is {im.shape[2]}x{im.shape[1]}",
                fix="resize all images to one size first (e.g. with the core 'Upscale Image' node)",
                input="images",
            )
    return images[0] if len(images) == 1 else torch.cat(images, 0)


class SaveVideo(io.ComfyNode):
    """Streams a DA_VIDEO or an IMAGE batch into an H.264 mp4 in the output folder."""

    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DreamActorSaveVideo",
            display_name="DreamActor Save Video",
            category=CATEGORY,
            description="Encodes frames one at a time into an H.264 mp4 (never all in memory), muxes the "
            "audio and previews the result in the node.",
            is_output_node=True,
            inputs=[
                Video.Input("video", optional=True, tooltip="A DA_VIDEO to save (connect this or 'images')."),
                io.Image.Input("images", optional=True, tooltip="An IMAGE batch to save instead of a DA_VIDEO."),
                io.Audio.Input(
                    "audio", optional=True, tooltip="Soundtrack to mux. When empty, the DA_VIDEO's own audio is used."
                ),
                inputs.fps("Frame rate for an IMAGE batch (a DA_VIDEO keeps its own)."),
                io.String.Input(
                    "filename_prefix",
                    default="DreamActor/video",
                    tooltip="Output path prefix inside ComfyUI's output folder; a counter is added.",
                ),
                io.Int.Input(
                    "crf",
                    default=19,
                    min=0,
                    max=51,
                    tooltip="H.264 quality: lower is better and bigger (17-23 is typical).",
                ),
            ],
            outputs=[io.String.Output(display_name="path", tooltip="Full path of the written mp4.")],
        )

    @classmethod
    def execute(cls, filename_prefix, fps, crf, video=None, images=None, audio=None) -> io.NodeOutput:
        with node_errors("DreamActorSaveVideo"):
            finite_floats(fps=fps)
            clip = _pick_source(video, images, fps)
            sound = audio_from_core(audio) if audio is not None else clip.audio()
            folder, name, counter, subfolder, _ = folder_paths.get_save_image_path(
                filename_prefix, folder_paths.get_output_directory(), clip.width, clip.height
            )
            file = f"{name}_{counter:05}_.mp4"
            path = os.path.join(folder, file)
            progress = Progress(clip.num_frames)
            write_mp4(path, clip.iter_frames(), clip.fps, sound, crf=crf, on_frame=progress)
        saved = ui.SavedResult(file, subfolder, io.FolderType.output)
        return io.NodeOutput(path, ui=ui.PreviewVideo([saved]))


def _pick_source(video: LazyVideo | None, images: torch.Tensor | None, fps: float) -> LazyVideo:
    if video is not None and images is not None:
        raise DreamActorError("both 'video' and 'images' are connected", fix="connect only one of them", input="video")
    if video is not None:
        return video
    if images is not None:
        return ArrayVideo(images, fps)
    raise DreamActorError(
        "nothing to save", fix="connect a DA_VIDEO to 'video' or an IMAGE batch to 'images'", input="video"
    )


NODES = [LoadVideo, ImagesToVideo, SaveVideo]
