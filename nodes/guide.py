"""Guide rendering: DA_MOTION -> guide pictures (IMAGE), a lazy guide video, POSE_KEYPOINT."""

from __future__ import annotations

from comfy_api.latest import io, ui

from ..models.render.fit import FITS
from ..models.render.frames import STYLES
from ..models.render.guide_video import GuideVideo
from ..models.render.pose_keypoint import to_pose_keypoint
from . import inputs
from .checks import finite_floats, valid_motions
from .host import Progress, node_errors
from .types import CATEGORY, Motion, PoseKeypoint, Video, video_to_image


class RenderGuide(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DreamActorRenderGuide",
            display_name="DreamActor Render Guide",
            category=CATEGORY,
            description="Draws a motion as guide frames: 'dreamactor' (3D skeleton far-to-near with depth "
            "shading + a head sphere showing its orientation) or 'wan-animate' (the 2D body + hands "
            "picture Wan2.2-Animate was trained on). Frames are drawn on demand.",
            inputs=[
                Motion.Input(
                    "motion", tooltip="The motion to draw (from Skeleton Extract, Head Sphere Fit or Bone Retarget)."
                ),
                io.Combo.Input(
                    "style",
                    options=list(STYLES),
                    default="dreamactor",
                    tooltip="dreamactor: 3D skeleton + head sphere. wan-animate: the pose picture "
                    "the Wan2.2-Animate weights expect.",
                ),
                io.Int.Input("width", default=832, min=16, max=4096, step=16, tooltip="Guide width in pixels."),
                io.Int.Input("height", default=480, min=16, max=4096, step=16, tooltip="Guide height in pixels."),
                io.Combo.Input(
                    "fit",
                    options=list(FITS),
                    default="contain",
                    tooltip="How the source frame is placed: contain = letterbox (keeps aspect), "
                    "cover = fill and crop, stretch = fill and distort.",
                ),
                *inputs.frame_range("First motion frame to draw.", "How many frames to draw (0 = to the end)."),
                Video.Input(
                    "background",
                    optional=True,
                    tooltip="Optional: the clip the motion came from, to draw the guide over it "
                    "(a check of the extraction).",
                ),
                io.Float.Input(
                    "background_dim",
                    default=0.5,
                    min=0.0,
                    max=1.0,
                    step=0.05,
                    tooltip="How much to darken the background under the guide (0 = not at all).",
                ),
            ],
            outputs=[
                io.Image.Output(
                    display_name="guide",
                    tooltip="The guide frames as IMAGE (first frame only when the whole range would not fit in RAM).",
                ),
                Video.Output(display_name="video", tooltip="The guide as a lazy video: any length, streamed."),
                PoseKeypoint.Output(
                    display_name="pose_keypoint", tooltip="OpenPose JSON frames (comfyui_controlnet_aux POSE_KEYPOINT)."
                ),
            ],
        )

    @classmethod
    def execute(
        cls, motion, style, width, height, fit, start_frame, frame_count, background_dim, background=None
    ) -> io.NodeOutput:
        with node_errors("DreamActorRenderGuide"):
            finite_floats(background_dim=background_dim)
            valid_motions(motion=motion)
            guide = GuideVideo(
                motion,
                width,
                height,
                style,
                fit,
                start_frame,
                frame_count,
                background,
                background_dim,
                audio=background.audio() if background is not None else None,
            )
            n = guide.num_frames
            images, note = video_to_image(guide, Progress(n))
            keypoints = to_pose_keypoint(motion, start_frame, start_frame + n, width, height, fit)
        info = f"{n} guide frames, {width}x{height}, {style}" + note
        preview = ui.PreviewImage(images[: min(len(images), 1)], cls=cls)
        return io.NodeOutput(images, guide, keypoints, ui={**preview.as_dict(), "text": [info]})


NODES = [RenderGuide]
