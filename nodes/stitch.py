"""Long-video stitching: DreamActor Stitch (segments on disk -> one streamed video)."""

from __future__ import annotations

from comfy_api.latest import io, ui

from ..models.stitch.stitched_video import ANCHORS, StitchedVideo
from .checks import finite_floats
from .host import Progress, node_errors
from .types import CATEGORY, Segments, Video, video_to_image

NODE_ID = "DreamActorStitch"


class DreamActorStitch(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id=NODE_ID,
            display_name="DreamActor Stitch",
            category=CATEGORY,
            description="Joins the sampler's segments into one video with every driving frame exactly once: "
            "seams cross-faded over the carried frames, colour drift removed by anchoring each "
            "frame's Oklab statistics (smoothed over time) to the first segment or the reference. "
            "Streams from disk: any length.",
            inputs=[
                Segments.Input("segments", tooltip="The finished segments from DreamActor Sampler."),
                io.Boolean.Input(
                    "blend_seams",
                    default=True,
                    tooltip="Cross-fade into each next segment over the frames it carried over (off: hard cuts).",
                ),
                io.Combo.Input(
                    "colour_anchor",
                    options=list(ANCHORS),
                    default="first segment",
                    tooltip="Keep colours as in the first segment (or the reference picture) for the "
                    "whole video; off = no colour correction.",
                ),
                io.Float.Input(
                    "colour_strength",
                    default=1.0,
                    min=0.0,
                    max=1.0,
                    step=0.05,
                    tooltip="How much of the colour drift to remove (1 = all).",
                ),
                io.Float.Input(
                    "smoothing",
                    default=0.0,
                    min=0.0,
                    max=10000.0,
                    step=1.0,
                    tooltip="How slowly the colour correction may change, in frames (Gaussian "
                    "sigma); 0 = one segment's length.",
                ),
            ],
            outputs=[
                Video.Output(
                    display_name="video",
                    tooltip="The stitched video, streamed from the cache (with "
                    "the driving clip's audio); connect Save Video.",
                ),
                io.Image.Output(
                    display_name="images",
                    tooltip="The frames as IMAGE (first frame only when the whole video would not fit in RAM).",
                ),
            ],
        )

    @classmethod
    def execute(cls, segments, blend_seams, colour_anchor, colour_strength, smoothing) -> io.NodeOutput:
        with node_errors(NODE_ID):
            finite_floats(colour_strength=colour_strength, smoothing=smoothing)
            manifest = segments.manifest()
            progress = Progress(int(manifest["info"]["frames"]) * 2)
            video = StitchedVideo(
                segments.folder,
                blend=blend_seams,
                anchor=colour_anchor,
                strength=colour_strength,
                smoothing=smoothing,
                audio=segments.audio(),
                progress=progress,
            )
            n = video.num_frames
            images, note = video_to_image(video, lambda i, count: progress(n + i * n // count))
        info = video.describe() + note
        return io.NodeOutput(video, images, ui={**ui.PreviewImage(images[:1], cls=cls).as_dict(), "text": [info]})


NODES = [DreamActorStitch]
