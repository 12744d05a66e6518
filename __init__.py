"""ComfyUI-DreamActor: animate a character image with the motion of a driving video
(DreamActor-M1's hybrid guidance on the host's Wan-Animate model).

ComfyUI loads this package from custom_nodes/. Only the V3 entry point is exported
(exporting NODE_CLASS_MAPPINGS too would make the host ignore it).
"""

from __future__ import annotations

WEB_DIRECTORY = "./web"


async def comfy_entrypoint():
    from .nodes.extension import DreamActorExtension

    return DreamActorExtension()


__all__ = ["WEB_DIRECTORY", "comfy_entrypoint"]
