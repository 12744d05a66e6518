"""DA_MOTION <-> `.motion.npz` files (the documented format in models/core/motion.py)."""

from __future__ import annotations

import os

import folder_paths
from comfy_api.latest import io, ui

from ..models.core.motion import Motion as MotionData
from .checks import file_fingerprint, file_validation, listed_files, resolve_input_file
from .host import node_errors
from .types import CATEGORY, Motion

SUFFIX = ".motion.npz"
MOTION_FIX = "put the .motion.npz in ComfyUI's input folder (or pick one marked [output]) and refresh (press R)"


def _motion_files() -> list[str]:
    """Motion files in the input folder, plus those in the output folder annotated ' [output]'."""
    found = []
    for folder, tag in ((folder_paths.get_input_directory(), ""), (folder_paths.get_output_directory(), " [output]")):
        for dirpath, _, files in os.walk(folder):  # links to folders are not followed (no loops, no walk of /)
            names = [os.path.relpath(os.path.join(dirpath, f), folder).replace(os.sep, "/") for f in files]
            found += listed_files([n for n in names if n.endswith(SUFFIX)], tag)
    return sorted(found)


def describe(motion: MotionData) -> str:
    """One line for the node's UI: frames, validity, size, what was fitted."""
    W, H = motion.image_size
    parts = [
        f"{motion.num_frames} frames @ {motion.fps:.3f} fps",
        f"{W}x{H}",
        f"person on {int(motion.valid.sum())}/{motion.num_frames}",
        f"{motion.skeleton.num_joints} joints",
    ]
    if motion.has_head:
        parts.append("head sphere")
    if motion.face2d.shape[1]:
        parts.append(f"{motion.face2d.shape[1]} face points")
    return ", ".join(parts)


class SaveMotion(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DreamActorSaveMotion",
            display_name="DreamActor Save Motion",
            category=CATEGORY,
            description="Writes a DA_MOTION to a .motion.npz file in the output folder (a documented, "
            "versioned format: numpy arrays readable without ComfyUI).",
            is_output_node=True,
            inputs=[
                Motion.Input("motion", tooltip="The motion to save."),
                io.String.Input(
                    "filename_prefix",
                    default="DreamActor/motion",
                    tooltip="Path prefix inside ComfyUI's output folder; a counter is added.",
                ),
            ],
            outputs=[io.String.Output(display_name="path", tooltip="Full path of the written file.")],
        )

    @classmethod
    def execute(cls, motion, filename_prefix) -> io.NodeOutput:
        with node_errors("DreamActorSaveMotion"):
            folder, name, counter, subfolder, _ = folder_paths.get_save_image_path(
                filename_prefix, folder_paths.get_output_directory()
            )
            path = os.path.join(folder, f"{name}_{counter:05}_{SUFFIX}")
            motion.save(path)
        rel = os.path.relpath(path, folder_paths.get_output_directory()).replace(os.sep, "/")
        return io.NodeOutput(path, ui=ui.PreviewText(f"saved {rel} [output]: {describe(motion)}"))


class LoadMotion(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="DreamActorLoadMotion",
            display_name="DreamActor Load Motion",
            category=CATEGORY,
            description="Reads a .motion.npz (from the input folder, or the output folder for files saved "
            "by DreamActor Save Motion) and checks its version and contents.",
            inputs=[
                io.Combo.Input(
                    "file",
                    options=_motion_files(),
                    tooltip="A .motion.npz in ComfyUI's input folder, or one marked [output] "
                    "that DreamActor Save Motion wrote.",
                ),
            ],
            outputs=[
                Motion.Output(display_name="motion", tooltip="The loaded motion."),
                io.String.Output(display_name="info", tooltip="What the file holds."),
            ],
        )

    @classmethod
    def validate_inputs(cls, file):
        return file_validation("DreamActorLoadMotion", file, input="file", fix=MOTION_FIX)

    @classmethod
    def fingerprint_inputs(cls, file):
        return file_fingerprint(file, input="file")

    @classmethod
    def execute(cls, file) -> io.NodeOutput:
        with node_errors("DreamActorLoadMotion"):
            motion = MotionData.load(resolve_input_file(file, input="file", fix=MOTION_FIX))
        info = describe(motion)
        return io.NodeOutput(motion, info, ui=ui.PreviewText(info))


NODES = [SaveMotion, LoadMotion]
