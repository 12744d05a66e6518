"""Pseudo multi-reference: extra reference frames picked from a first sampler pass."""

from __future__ import annotations

import numpy as np
from comfy_api.latest import io, ui

from ..models.core.errors import DreamActorError
from ..models.dit.pseudo_references import fit_cover, pick_views
from ..models.io.video import to_uint8_rgb
from ..models.stitch.stitched_video import StitchedVideo
from .checks import finite_floats, valid_motions
from .host import node_errors
from .types import CATEGORY, Motion, Segments, frames_to_image

NODE_ID = "DreamActorPseudoReferences"


class DreamActorPseudoReferences(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id=NODE_ID,
            display_name="DreamActor Pseudo References",
            category=CATEGORY,
            description="DreamActor-M1's complementary references: from a first sampler pass, picks the frames "
            "that show the character from the most different head directions (yaw, pitch) and "
            "returns them after the reference as one batch, for a second sampler pass that then "
            "keeps the character's unseen sides consistent.",
            inputs=[
                Segments.Input("segments", tooltip="The first pass: DreamActor Sampler's segments (all finished)."),
                Motion.Input(
                    "motion", tooltip="The motion that drove the first pass (its head directions choose the frames)."
                ),
                io.Image.Input(
                    "reference", tooltip="The character picture the first pass used; it stays first in the batch."
                ),
                io.Int.Input(
                    "count",
                    default=2,
                    min=1,
                    max=8,
                    tooltip="Extra reference frames to pick (each costs one latent frame of attention in "
                    "every segment).",
                ),
                io.Float.Input(
                    "min_angle",
                    default=15.0,
                    min=0.0,
                    max=90.0,
                    step=1.0,
                    tooltip="A frame whose head direction is within this many degrees of a view "
                    "already covered adds nothing and is not picked.",
                ),
                Motion.Input(
                    "reference_motion",
                    optional=True,
                    tooltip="Optional: the reference picture's motion (Head Sphere Fit), so its own head "
                    "direction counts as covered; without it the reference is taken as frontal.",
                ),
            ],
            outputs=[
                io.Image.Output(
                    display_name="references",
                    tooltip="The reference followed by the picked frames, at the first pass's "
                    "size: connect to the second sampler's 'reference'.",
                )
            ],
        )

    @classmethod
    def execute(cls, segments, motion, reference, count, min_angle, reference_motion=None) -> io.NodeOutput:
        with node_errors(NODE_ID):
            finite_floats(min_angle=min_angle)
            valid_motions(motion=motion, reference_motion=reference_motion)
            video = StitchedVideo(segments.folder, anchor="off")
            if motion.num_frames != video.num_frames:
                raise DreamActorError(
                    f"the motion has {motion.num_frames} frames but the first pass {video.num_frames}",
                    fix="connect the motion that drove that sampler",
                    input="motion",
                )
            if reference is None or reference.shape[0] < 1:
                raise DreamActorError("no reference image", fix="connect the character's picture", input="reference")
            picks, note = pick_views(motion, count, reference_motion, min_angle)
            first = fit_cover(to_uint8_rgb(reference[0]), video.width, video.height)
            frames = np.stack([first] + [video.frame(p.frame) for p in picks])
        lines = [f"{len(picks)} extra reference(s) of {count} asked; {note}"]
        lines += [
            f"frame {p.frame}: yaw {p.yaw:+.0f} deg, pitch {p.pitch:+.0f} deg "
            f"({p.distance:.0f} deg from the nearest view)"
            for p in picks
        ]
        if len(picks) < count:
            lines.append(f"no other frame turns more than {min_angle:g} deg from the views already covered")
        images = frames_to_image(frames)
        return io.NodeOutput(images, ui={**ui.PreviewImage(images, cls=cls).as_dict(), "text": ["\n".join(lines)]})


NODES = [DreamActorPseudoReferences]
