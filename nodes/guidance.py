"""Hybrid motion guidance: skeleton extraction, head-sphere fitting, face crops."""

from __future__ import annotations

import logging

import folder_paths
import numpy as np
from comfy_api.latest import io, ui

from ..models.core.errors import DreamActorError
from ..models.dit import forward as daf
from ..models.dit.sampling import fill_face_motion
from ..models.extract.driver import extract_motion
from ..models.extract.mediapipe_check import FIX as MEDIAPIPE_FIX
from ..models.extract.mediapipe_check import mediapipe_problem
from ..models.extract.model_files import FOLDER as MEDIAPIPE_FOLDER  # registered by extension.MODEL_FOLDERS
from ..models.extract.model_files import POSE_MODELS, find_model, model_path, use_folders
from ..models.extract.stylized import extract_character
from ..models.face.crops import face_track
from ..models.face.expression import INTENSITY_RANGE, SMOOTHING_RANGE, neutral_index, shape_expression
from ..models.head.sphere import fit_head_sphere
from ..models.io.video import ArrayVideo, to_uint8_rgb
from ..models.render.guide_video import GuideVideo
from .checks import finite_floats, valid_motions
from .face_motion import face_motion_store, motion_encoder, motion_source
from .host import Progress, node_errors
from .motion_io import describe
from .people_picker import mark_people, people_line, people_ui
from .types import CATEGORY, Face, Motion, Video, frames_to_image

NODE_FACE = "DreamActorFaceEncode"
NODE_EXTRACT = "DreamActorSkeletonExtract"
log = logging.getLogger(__name__)


MEDIAPIPE_PROBLEM = mediapipe_problem()
"""Checked once at import: the nodes still load and say what is wrong when they run."""
if MEDIAPIPE_PROBLEM:
    log.warning("ComfyUI-DreamActor: %s. Skeleton Extract cannot run. Fix: %s", MEDIAPIPE_PROBLEM, MEDIAPIPE_FIX)


def _mediapipe_models(pose_model: str, hands: bool, face: bool) -> None:
    """Make sure the .task files the extraction needs are in models/mediapipe, downloading
    the missing ones with a progress bar (a clear error names file, URL and folder)."""
    if MEDIAPIPE_PROBLEM:
        raise DreamActorError(MEDIAPIPE_PROBLEM, fix=MEDIAPIPE_FIX, node=NODE_EXTRACT)
    use_folders(folder_paths.get_folder_paths(MEDIAPIPE_FOLDER))
    # the face model also finds people by their faces on the first frame (models.extract.face_seeds)
    names = [POSE_MODELS[pose_model], "face_landmarker.task"] + ["hand_landmarker.task"] * hands
    for name in names:
        if find_model(name) is None:
            bar = Progress(100)
            model_path(name, progress=lambda done, total: bar(int(100 * done / total) if total else 0, 100))


PREVIEW_FRAMES = 4
PREVIEW_WIDTH = 512


def motion_preview(motion, background=None, frames: int = PREVIEW_FRAMES) -> np.ndarray:
    """A few frames spread over the motion from the one the person was chosen on (the first
    one, with everyone found numbered when there are several), the skeleton drawn over its
    source frames: (n, h, 512, 3) uint8, h keeping the source aspect."""
    W, H = motion.image_size
    height = max(16, int(round(PREVIEW_WIDTH * H / W / 2)) * 2)
    guide = GuideVideo(
        motion, PREVIEW_WIDTH, height, "dreamactor", "stretch", background=background, background_dim=0.35
    )
    first = int(motion.get("people_frame", 0))
    picks = np.unique(np.linspace(first, motion.num_frames - 1, min(frames, motion.num_frames - first)).round())
    return mark_people(np.stack([guide.frame(int(t)) for t in picks]), motion)


def _motion_info(motion, person: int = 0) -> str:
    extra = motion.get("info")
    lines = [people_line(motion, person), describe(motion), str(extra) if extra is not None else ""]
    return "\n".join(line for line in lines if line)


class SkeletonExtract(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DreamActorSkeletonExtract",
            display_name="DreamActor Skeleton Extract",
            category=CATEGORY,
            description="Extracts one person's motion with MediaPipe's landmark models (Tasks API) on the CPU: "
            "a 3D body skeleton (SMPL-X joint names, metres in camera space), 2D joints, hands and the face "
            "mesh with 52 blendshapes; one person tracked through the clip, short gaps filled, One-Euro "
            "smoothing. Model files live in ComfyUI/models/mediapipe and are downloaded on first use."
            + (f" NOT USABLE NOW: {MEDIAPIPE_PROBLEM}. Fix: {MEDIAPIPE_FIX}." if MEDIAPIPE_PROBLEM else ""),
            inputs=[
                Video.Input("video", optional=True, tooltip="The driving clip (connect this or 'image')."),
                io.Image.Input("image", optional=True, tooltip="A reference photo (one image) instead of a video."),
                io.Mask.Input(
                    "mask",
                    optional=True,
                    tooltip="The character's mask for 'image' (optional): core Load Image's MASK (its alpha) "
                    "or any segmentation, either polarity. Where the landmark models miss a stylized character "
                    "(chibi, robot, creature), the skeleton is fitted to this silhouette; without a mask the "
                    "silhouette is read against a plain background (so is a uniform mask: a picture without alpha).",
                ),
                io.Int.Input(
                    "person",
                    default=0,
                    min=0,
                    max=16,
                    tooltip="Who to track: 0 = the most prominent person (one whose face is whole in the "
                    "frame first, then the largest nearest the centre); 1, 2, ... = counted from the left on "
                    "the first frame where anyone is seen, as numbered in the preview (click a box there).",
                ),
                io.Boolean.Input("hands", default=True, tooltip="Also track both hands (21 points each)."),
                io.Boolean.Input(
                    "face",
                    default=True,
                    tooltip="Also track the face mesh (478 points), needed for the head sphere and the face crops.",
                ),
                io.Boolean.Input(
                    "smooth", default=True, tooltip="One-Euro smoothing of the video track (off: raw detections)."
                ),
                io.Float.Input(
                    "min_cutoff",
                    default=1.0,
                    min=0.01,
                    max=30.0,
                    step=0.05,
                    tooltip="One-Euro cutoff at rest (Hz): lower = steadier when still, more lag.",
                ),
                io.Float.Input(
                    "beta",
                    default=1.0,
                    min=0.0,
                    max=50.0,
                    step=0.05,
                    tooltip="One-Euro speed response: higher = less lag in fast moves (flips, "
                    "kicks), a bit more jitter.",
                ),
                io.Int.Input(
                    "fill_gaps",
                    default=8,
                    min=0,
                    max=120,
                    tooltip="Longest gap (frames) without a detection that is filled by "
                    "interpolation (marked as filled). Longer gaps stay empty.",
                ),
                io.Combo.Input(
                    "pose_model",
                    options=list(POSE_MODELS),
                    default="full",
                    optional=True,  # prompts and workflows saved before it existed run with full
                    tooltip="MediaPipe body model (models/mediapipe, downloaded on first use): full (9 MB) "
                    "balances accuracy and speed; heavy (31 MB) is the most accurate, about 3x slower; "
                    "lite (6 MB) is the fastest and least accurate.",
                ),
            ],
            outputs=[
                Motion.Output(display_name="motion", tooltip="The person's motion (DA_MOTION)."),
                io.Image.Output(display_name="preview", tooltip="The skeleton over a few frames."),
            ],
        )

    @classmethod
    def execute(
        cls,
        person,
        hands,
        face,
        smooth,
        min_cutoff,
        beta,
        fill_gaps,
        pose_model="full",
        video=None,
        image=None,
        mask=None,
    ) -> io.NodeOutput:
        with node_errors("DreamActorSkeletonExtract"):
            finite_floats(min_cutoff=min_cutoff, beta=beta)
            if (video is None) == (image is None):
                raise DreamActorError(
                    "connect exactly one of 'video' and 'image'",
                    fix="a driving clip goes to 'video', a reference photo to 'image'",
                    input="video",
                )
            who = "largest" if person == 0 else person - 1
            _mediapipe_models(pose_model, hands, face)
            if image is not None:
                if image.shape[0] != 1:
                    raise DreamActorError(
                        f"'image' holds {image.shape[0]} images; one reference photo is expected",
                        fix="pick one image (core 'Image From Batch'), or use DreamActor "
                        "Images To Video for a frame sequence",
                        input="image",
                    )
                frame = to_uint8_rgb(image[0])
                alpha = None if mask is None else np.asarray(mask).reshape(-1, *np.asarray(mask).shape[-2:])[0]
                motion = extract_character(frame, alpha, person=who, hands=hands, face=face, pose_model=pose_model)
                preview = motion_preview(motion, ArrayVideo(frame[None], fps=1.0))
            else:
                progress = Progress(video.num_frames)
                motion = extract_motion(
                    video,
                    person=who,
                    min_cutoff=min_cutoff,
                    beta=beta,
                    smoothing=smooth,
                    fill_gaps_max=fill_gaps,
                    hands=hands,
                    face=face,
                    pose_model=pose_model,
                    progress=progress,
                    should_stop=progress.should_stop,
                )
                preview = motion_preview(motion, video)
        images = frames_to_image(preview)
        return io.NodeOutput(
            motion,
            images,
            ui={
                **ui.PreviewImage(images, cls=cls).as_dict(),
                "text": [_motion_info(motion, person)],
                **people_ui(motion, person),
            },
        )


class HeadSphereFit(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DreamActorHeadSphereFit",
            display_name="DreamActor Head Sphere Fit",
            category=CATEGORY,
            description="Fits DreamActor's 3D head sphere per frame: rotation from the face mesh against a "
            "canonical face, centre and radius in camera space; smoothed; frames where the face "
            "is lost are interpolated or held and marked.",
            inputs=[
                Motion.Input("motion", tooltip="A motion with the face mesh (Skeleton Extract with face on)."),
                io.Float.Input(
                    "smoothing",
                    default=1.5,
                    min=0.0,
                    max=10.0,
                    step=0.1,
                    tooltip="Temporal smoothing of the head (Gaussian sigma in frames; 0 = off).",
                ),
                io.Int.Input(
                    "max_hold",
                    default=12,
                    min=0,
                    max=600,
                    tooltip="Longest face gap (frames) bridged by interpolation, and how long the last "
                    "head is held where neither face nor body is seen.",
                ),
            ],
            outputs=[Motion.Output(display_name="motion", tooltip="The motion with the head sphere filled in.")],
        )

    @classmethod
    def execute(cls, motion, smoothing, max_hold) -> io.NodeOutput:
        with node_errors("DreamActorHeadSphereFit"):
            finite_floats(smoothing=smoothing)
            valid_motions(motion=motion)
            fitted = fit_head_sphere(motion, smoothing=smoothing, max_hold=max_hold)
        measured = fitted.get("head_valid")
        note = f"head measured on {int(measured.sum())}/{fitted.num_frames} frames" if measured is not None else ""
        return io.NodeOutput(fitted, ui=ui.PreviewText(describe(fitted) + ("\n" + note if note else "")))


class FaceEncode(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        lo, hi = INTENSITY_RANGE
        slo, shi = SMOOTHING_RANGE
        return io.Schema(
            node_id=NODE_FACE,
            display_name="DreamActor Face Encode",
            category=CATEGORY,
            description="Aligned square face crops of the driving clip, stabilised over time, for the implicit "
            "face motion (Face Attn). Without a model the crops stay lazy (cut per window when the "
            "sampler needs them); with the Wan-Animate MODEL connected the face motion tokens are "
            "computed here once, with expression controls, and kept on disk so a stopped run resumes.",
            inputs=[
                Video.Input("video", tooltip="The driving clip the motion was extracted from."),
                Motion.Input("motion", tooltip="Its motion, with the face mesh."),
                io.Int.Input(
                    "size",
                    default=512,
                    min=64,
                    max=2048,
                    step=16,
                    tooltip="Crop size in pixels (Wan-Animate's face encoder takes 512).",
                ),
                io.Float.Input(
                    "scale",
                    default=1.2,
                    min=0.8,
                    max=3.0,
                    step=0.05,
                    tooltip="Crop side as a multiple of the forehead-to-chin length.",
                ),
                io.Float.Input(
                    "smoothing",
                    default=2.0,
                    min=0.0,
                    max=20.0,
                    step=0.1,
                    tooltip="Stabilisation of the crop window over time (frames); 0 = per-frame boxes.",
                ),
                io.Float.Input(
                    "intensity",
                    default=1.0,
                    optional=True,
                    min=lo,
                    max=hi,
                    step=0.05,
                    tooltip="Expression strength relative to the neutral frame: 0 = the neutral face "
                    "throughout, 1 = as driven, above 1 = exaggerated. Needs 'model'.",
                ),
                io.Int.Input(
                    "neutral_frame",
                    default=0,
                    optional=True,
                    min=0,
                    max=1_000_000,
                    tooltip="The clip frame (from 0) with a calm face that 'intensity' is measured "
                    "from; if the face is not seen there, the nearest frame where it is.",
                ),
                io.Float.Input(
                    "token_smoothing",
                    default=0.0,
                    optional=True,
                    min=slo,
                    max=shi,
                    step=0.1,
                    tooltip="Temporal smoothing of the face motion (Gaussian sigma in frames; 0 = off) "
                    "for jittery small or compressed faces. Needs 'model'.",
                ),
                io.Model.Input(
                    "model",
                    optional=True,
                    tooltip="Optional: the Wan-Animate MODEL (the same one the sampler uses) to compute "
                    "the face motion tokens here, with the expression controls. Without it "
                    "the sampler encodes the crops itself.",
                ),
            ],
            outputs=[
                Face.Output(
                    display_name="face",
                    tooltip="The face crops (DA_FACE), with the face motion tokens when a model is connected.",
                ),
                io.Image.Output(display_name="preview", tooltip="Crops of frames spread over the clip."),
            ],
        )

    @classmethod
    def execute(
        cls, video, motion, size, scale, smoothing, intensity=1.0, neutral_frame=0, token_smoothing=0.0, model=None
    ) -> io.NodeOutput:
        with node_errors(NODE_FACE):
            finite_floats(scale=scale, smoothing=smoothing, intensity=intensity, token_smoothing=token_smoothing)
            valid_motions(motion=motion)
            track = face_track(video, motion, size=size, scale=scale, smoothing=smoothing)
            if not track.valid.any():
                raise DreamActorError(
                    "no face was found on any frame of the clip",
                    fix="use a clip where the face is visible and Skeleton Extract with 'face' on",
                    input="motion",
                )
            info = [f"{size}px face crops, face on {int(track.valid.sum())}/{track.num_frames} frames"]
            if model is not None:
                info += encode_tokens(track, model, intensity, neutral_frame, token_smoothing)
            elif intensity != 1.0 or token_smoothing != 0.0:
                name = "intensity" if intensity != 1.0 else "token_smoothing"
                raise DreamActorError(
                    f"{name} acts on the face motion tokens, which need a model",
                    fix="connect the Wan-Animate MODEL to 'model', or set intensity 1 and token_smoothing 0",
                    input=name,
                )
            preview = frames_to_image(track.preview(8))
        return io.NodeOutput(
            track, preview, ui={**ui.PreviewImage(preview, cls=cls).as_dict(), "text": ["\n".join(info)]}
        )


def encode_tokens(track, model, intensity: float, neutral_frame: int, token_smoothing: float) -> list[str]:
    """Fill ``track.tokens`` (N, 512) with the model's face motion, expression controls applied;
    returns info lines. Rows are kept on disk as they are made (a stopped run resumes)."""
    daf.check_is_wan_animate(model)
    neutral, note = neutral_index(track.valid, int(neutral_frame))
    source = motion_source(model)
    n = track.num_frames
    store = face_motion_store(folder_paths.get_output_directory(), source, track)
    cached = n - len(store.missing(range(n)))
    progress = Progress(n)
    done = [cached]
    progress(cached, n)

    def advance(rows: int) -> None:
        done[0] += rows
        progress(done[0], n)

    motion = fill_face_motion(
        store, track, range(n), motion_encoder(model), should_stop=progress.should_stop, on_rows=advance
    )
    track.tokens = shape_expression(motion, neutral, intensity, token_smoothing)
    track.tokens_source = source
    lines = [
        f"face motion tokens: {n - cached} frames encoded now, {cached} from the cache; neutral frame "
        f"{neutral}, intensity {intensity:g}, smoothing {token_smoothing:g}"
    ]
    return lines + ([note] if note else [])


NODES = [SkeletonExtract, HeadSphereFit, FaceEncode]
