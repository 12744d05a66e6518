"""Bone-length retargeting: the driving motion on the reference character's body, with the bone editor."""

from __future__ import annotations

import os
import shutil

import folder_paths
from comfy_api.latest import io
from PIL import Image

from ..models.core.errors import DreamActorError
from ..models.io.video import to_uint8_rgb
from ..models.retarget.bone_edits import SCALE_RANGE, BoneEdits, parse_bone_edits
from ..models.retarget.ease_in import EASE_IN_SECONDS, EASE_RANGE
from ..models.retarget.framing import FRAMINGS, MANUAL_SCALE_RANGE
from ..models.retarget.preview import (
    MAX_IMAGE_SIDE,
    PREVIEW_FOLDER,
    PreviewRequestError,
    PreviewStore,
    build_preview,
    new_preview_name,
    preview_folder,
    save_preview,
)
from ..models.retarget.preview_inputs import load_inputs, node_part, parse_repose_request, save_inputs
from ..models.retarget.smplx_body import DOWNLOAD_FIX, SmplxBody
from ..models.retarget.smplx_body import EXTENSIONS as SMPLX_EXTENSIONS
from ..models.retarget.smplx_body import FOLDER as SMPLX_FOLDER  # registered by extension.register_model_folders
from ..models.retarget.transfer import retarget_details
from .checks import finite_floats, valid_motions
from .host import node_errors
from .motion_io import describe
from .types import CATEGORY, Motion

NODE_ID = "DreamActorBoneRetarget"
DEFAULT_EDITS = BoneEdits().to_json()
OFFSET_RANGE = (-2.0, 2.0)
NO_BODY_MODEL = "none (priors)"


def body_model_options() -> list[str]:
    """The body_model combo: no model, then the SMPL-X files found (listed afresh on every /object_info)."""
    files = folder_paths.get_filename_list(SMPLX_FOLDER)
    return [NO_BODY_MODEL] + [f for f in files if f.lower().endswith(SMPLX_EXTENSIONS)]


def _body_model(name: str | None) -> SmplxBody | None:
    if not name or name == NO_BODY_MODEL:
        return None
    path = folder_paths.get_full_path(SMPLX_FOLDER, name)
    if path is None:
        raise DreamActorError(
            f"the SMPL-X file {name!r} is not in models/{SMPLX_FOLDER}", fix=DOWNLOAD_FIX, input="body_model"
        )
    return SmplxBody(path, input_name="body_model")


def _save_reference_picture(image, name: str, ref_size) -> tuple[dict | None, str | None]:
    """The first reference IMAGE as <temp>/dreamactor_retarget/<name>.png (at most 1024 px a side),
    described for ComfyUI's /view; and a note when its aspect differs from the reference motion's."""
    if image is None:
        return None, None
    frame = to_uint8_rgb(image[0])
    h, w = frame.shape[:2]
    pic = Image.fromarray(frame)
    k = min(1.0, MAX_IMAGE_SIDE / max(w, h))
    if k < 1.0:
        pic = pic.resize((max(1, round(w * k)), max(1, round(h * k))), Image.LANCZOS)
    folder = preview_folder(folder_paths.get_temp_directory())
    os.makedirs(folder, exist_ok=True)
    pic.save(os.path.join(folder, name + ".png"), compress_level=1)
    W, H = ref_size
    note = None
    if abs(w / h - W / H) > 0.01 * (W / H):
        note = (
            f"reference_image is {w}x{h} but the reference motion was extracted from {W}x{H}: the editor "
            "stretches the picture to the motion's frame"
        )
    if image.shape[0] > 1:
        note = (
            note + "; " if note else ""
        ) + f"reference_image holds {image.shape[0]} images: the editor shows the first"
    return {
        "filename": name + ".png",
        "subfolder": PREVIEW_FOLDER,
        "type": "temp",
        "width": int(pic.width),
        "height": int(pic.height),
    }, note


class BoneRetarget(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        lo, hi = SCALE_RANGE
        return io.Schema(
            node_id=NODE_ID,
            display_name="DreamActor Bone Retarget",
            category=CATEGORY,
            description="Puts the driving motion on the reference character's body: every bone keeps the driver's "
            "direction and takes the character's length (x the artist's scale from the bone editor), "
            "feet in contact are planted, and the result is framed into the reference picture. "
            "Drag a joint along its bone in the editor to lengthen or shorten that bone, or press "
            "'Pose reference' and drag the character's own joints onto the picture.",
            # an output node: it runs (or re-sends its cached editor preview) on every queue, even with
            # nothing connected downstream, so the bone editor always has its picture
            is_output_node=True,
            inputs=[
                Motion.Input("driving", tooltip="The driving clip's motion (Skeleton Extract -> Head Sphere Fit)."),
                Motion.Input(
                    "reference",
                    tooltip="The character's motion: Skeleton Extract (+ Head Sphere Fit) "
                    "of the reference picture. Its bone lengths are the base.",
                ),
                io.String.Input(
                    "bone_edits",
                    default=DEFAULT_EDITS,
                    tooltip="The bone editor's state as JSON: a preset (match reference, keep driver, "
                    "heroic, chibi, long legs), per-bone scales (the final value, "
                    f"{lo} to {hi}), whether left/right edits are linked, and the reference's "
                    "joints placed by hand ('Pose reference': joint -> [x, y] picture pixels). "
                    "Edit it with the editor below the node.",
                ),
                io.Combo.Input(
                    "framing",
                    options=list(FRAMINGS),
                    default="match reference",
                    tooltip="match reference: the head (portrait) or feet (full body) land where the "
                    "character's are, at the character's size. keep driver: the driver's "
                    "framing, cropped to the reference's aspect. manual: the driver's "
                    "framing scaled by 'scale' and shifted by dx, dy.",
                ),
                io.Float.Input(
                    "scale",
                    default=1.0,
                    min=MANUAL_SCALE_RANGE[0],
                    max=MANUAL_SCALE_RANGE[1],
                    step=0.01,
                    tooltip="Manual framing only: zoom about the picture's centre (1 = the driver's framing).",
                ),
                io.Float.Input(
                    "dx",
                    default=0.0,
                    min=OFFSET_RANGE[0],
                    max=OFFSET_RANGE[1],
                    step=0.01,
                    tooltip="Manual framing only: shift right, as a fraction of the picture's width.",
                ),
                io.Float.Input(
                    "dy",
                    default=0.0,
                    min=OFFSET_RANGE[0],
                    max=OFFSET_RANGE[1],
                    step=0.01,
                    tooltip="Manual framing only: shift down, as a fraction of the picture's height.",
                ),
                io.Boolean.Input(
                    "plant_feet",
                    default=True,
                    tooltip="Hold feet still while they touch the ground in the driving clip (no "
                    "sliding when the character's legs differ from the driver's).",
                ),
                io.Combo.Input(
                    "body_model",
                    options=body_model_options(),
                    default=NO_BODY_MODEL,
                    optional=True,
                    tooltip="Optional SMPL-X body model file (ComfyUI/models/smplx; a licensed download "
                    "from smpl-x.is.tue.mpg.de). Its body shape is fitted to the reference, and "
                    "the bones the picture hides (legs cut off in a portrait) take the fitted "
                    "body's lengths. 'none (priors)': hidden bones copy their mirror or take "
                    "average human proportions.",
                ),
                io.Float.Input(
                    "ease_in",
                    default=EASE_IN_SECONDS,
                    min=EASE_RANGE[0],
                    max=EASE_RANGE[1],
                    step=0.05,
                    optional=True,
                    tooltip="Seconds over which the guide turns from the character's own pose (the "
                    "picture's) into the driver's motion, so the video starts as the picture and no limb "
                    "jumps at frame 0 (a character drawn mid-stride driven by a standing clip). The "
                    "driver's motion is kept under a fading offset. 0 = the driver's pose from the first "
                    "frame. Not applied when the reference is a frame of the driving clip.",
                ),
                io.Image.Input(
                    "reference_image",
                    optional=True,
                    tooltip="Optional: the reference picture, shown under the skeletons in the bone "
                    "editor. Not used by the retargeting itself.",
                ),
            ],
            outputs=[
                Motion.Output(
                    display_name="motion",
                    tooltip="The retargeted motion, in the reference picture's frame (its image size).",
                ),
                io.String.Output(
                    display_name="info",
                    tooltip="What was measured, held, planted and framed: "
                    "fallback lengths, gaps in the driver, foot contacts.",
                ),
            ],
            hidden=[io.Hidden.unique_id],
        )

    @classmethod
    def validate_inputs(cls, bone_edits=None):
        # 'bone_edits' only: the host checks scale, dx and dy against their declared ranges,
        # and the host lists a failed check once per input this method takes
        if isinstance(bone_edits, str):
            try:
                parse_bone_edits(bone_edits)
            except DreamActorError as e:
                return str(e.at(NODE_ID))
        return True

    @classmethod
    def execute(
        cls,
        driving,
        reference,
        bone_edits,
        framing,
        scale,
        dx,
        dy,
        plant_feet,
        body_model=NO_BODY_MODEL,
        ease_in=EASE_IN_SECONDS,
        reference_image=None,
    ) -> io.NodeOutput:
        with node_errors(NODE_ID):
            finite_floats(scale=scale, dx=dx, dy=dy, ease_in=ease_in)
            valid_motions(driving=driving, reference=reference)
            edits = parse_bone_edits(bone_edits, driving.skeleton)
            manual = (scale, dx, dy)
            result = retarget_details(
                driving,
                reference,
                edits,
                framing,
                manual,
                plant=plant_feet,
                body_model=_body_model(body_model),
                ease_in=float(ease_in),
            )
            name = new_preview_name(cls.hidden.unique_id if cls.hidden is not None else None)
            image, note = _save_reference_picture(reference_image, name, reference.image_size)
            temp = folder_paths.get_temp_directory()
            settings = {
                "framing": framing,
                "manual": list(manual),
                "plant": bool(plant_feet),
                "ease_in": float(ease_in),
            }
            save_inputs(temp, name, driving, reference, {**settings, "body_model": body_model, "image": image})
            save_preview(
                build_preview(result, driving, reference, edits, framing, manual, plant_feet, image, inputs=name),
                temp,
                name,
            )
        info = result.info + (f"\n{note}" if note else "")
        text = describe(result.motion) + "\n" + info
        return io.NodeOutput(
            result.motion,
            info,
            ui={
                "text": [text],
                "dreamactor_retarget": [{"name": name, "num_frames": int(result.motion.num_frames)}],
            },
        )


def repose(params, store: PreviewStore) -> dict:
    """The editor's "pose reference" request (``POST /dreamactor/retarget_repose``): the run behind
    preview ``name`` retargeted again with new ``bone_edits``, written as a new preview.
    Returns {"name": <new preview>}; raises ``PreviewRequestError`` (400/404) for a bad request."""
    name, edits = parse_repose_request(params)
    temp = folder_paths.get_temp_directory()
    run = store.load(name)["meta"].get("inputs")
    if not run:
        raise PreviewRequestError(f"preview {name!r} has no stored inputs; queue the prompt to make a new one", 404)
    driving, reference, s = load_inputs(temp, run)
    try:
        edits = parse_bone_edits(edits, driving.skeleton)
        result = retarget_details(
            driving,
            reference,
            edits,
            s["framing"],
            s["manual"],
            plant=s["plant"],
            body_model=_body_model(s["body_model"]),
            ease_in=s.get("ease_in", EASE_IN_SECONDS),  # runs stored before the ease existed
        )
    except DreamActorError as e:
        raise PreviewRequestError(str(e.at(NODE_ID))) from None
    new = new_preview_name(node_part(name))
    image = s["image"] and _copy_picture(temp, s["image"], new)
    arrays = build_preview(result, driving, reference, edits, s["framing"], s["manual"], s["plant"], image, inputs=run)
    save_preview(arrays, temp, new)
    return {"name": new}


def _copy_picture(temp: str, image: dict, name: str) -> dict | None:
    """The run's reference picture linked (or copied) as <name>.png: pruning an old preview keeps it."""
    folder = preview_folder(temp)
    src, dst = os.path.join(folder, image["filename"]), os.path.join(folder, name + ".png")
    try:
        os.link(src, dst)
    except OSError:
        try:
            shutil.copyfile(src, dst)
        except OSError:
            return None
    return {**image, "filename": name + ".png"}


NODES = [BoneRetarget]
