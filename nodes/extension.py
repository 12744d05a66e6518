"""The pack's ComfyExtension: every node module contributes its NODES list.

Importing a node module has no side effects: the pack's model folders and HTTP routes
are registered by :func:`register` from the extension's load hook.
"""

from __future__ import annotations

import os

import folder_paths
from comfy_api.latest import ComfyExtension, io
from typing_extensions import override

from ..models.extract import model_files
from ..models.retarget import smplx_body
from . import (
    guidance,
    guide,
    motion_io,
    pseudo_references,
    retarget,
    routes,
    sampler,
    speech,
    stitch,
    video_io,
)

# Folders under ComfyUI/models/ the pack reads user files from: name -> file extensions.
# An extra_model_paths.yaml entry of the same name adds folders to one. One line per folder.
MODEL_FOLDERS: dict[str, tuple[str, ...]] = {
    smplx_body.FOLDER: smplx_body.EXTENSIONS,  # SMPL-X body models (a licensed download), Bone Retarget
    model_files.FOLDER: model_files.EXTENSIONS,  # MediaPipe .task files (fetched on first use), Skeleton Extract
}


def register_model_folders() -> None:
    """Make each of :data:`MODEL_FOLDERS` known to ``folder_paths`` with its default place
    ``ComfyUI/models/<name>`` (idempotent: a second call changes nothing)."""
    for name, extensions in MODEL_FOLDERS.items():
        default = os.path.join(folder_paths.models_dir, name)
        if name not in folder_paths.folder_names_and_paths:
            folder_paths.folder_names_and_paths[name] = ([default], set(extensions))
        else:  # already named by extra_model_paths.yaml: keep its folders, add the default one
            folder_paths.add_model_folder_path(name, default)


def register() -> None:
    """Everything the pack adds to the host besides nodes (idempotent): model folders, then
    the bone editor's /dreamactor/retarget_preview route."""
    register_model_folders()
    routes.register()


class DreamActorExtension(ComfyExtension):
    @override
    async def on_load(self) -> None:
        register()

    @override
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        # ComfyUI 0.3.75 (the oldest host supported) never calls on_load: newer hosts call it
        # just before this. The node schemas list the model folders, so register here too;
        # register() is idempotent, so a host that called on_load sees no change.
        register()
        return [
            *video_io.NODES,
            *motion_io.NODES,
            *guidance.NODES,
            *guide.NODES,
            *retarget.NODES,
            *sampler.NODES,
            *pseudo_references.NODES,
            *stitch.NODES,
            *speech.NODES,
        ]
