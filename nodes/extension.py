"""The pack's ComfyExtension: every node module contributes its NODES list."""

from __future__ import annotations

from comfy_api.latest import ComfyExtension, io
from typing_extensions import override

from . import (
    guidance,
    guide,
    motion_io,
    pseudo_references,
    retarget,  # DreamActorBoneRetarget (+ its /dreamactor/retarget_preview route)
    sampler,
    stitch,
    video_io,
)


class DreamActorExtension(ComfyExtension):
    @override
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [
            *video_io.NODES,
            *motion_io.NODES,
            *guidance.NODES,
            *guide.NODES,
            *retarget.NODES,
            *sampler.NODES,
            *pseudo_references.NODES,
            *stitch.NODES,
        ]
