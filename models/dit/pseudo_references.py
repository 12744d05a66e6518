"""Pseudo multi-reference (DreamActor-M1's complementary references).

One picture shows the character from one side only; when the driver turns, the
model must invent the unseen side, and it invents it anew in every segment.
DreamActor-M1 samples once, picks generated frames that show the character from
the most different views, and samples again with them as extra references, so
the unseen side is fixed once and then reused.

Views are told apart by the driving head's orientation (yaw, pitch) at each
frame: the picks are made greedily, each the frame whose head direction is
farthest from the reference's and from every earlier pick (farthest-point
sampling). Frames where the head was not measured are skipped; a pick closer
than ``min_angle`` degrees to what is already covered adds nothing and is not made.

Pure numpy: no ComfyUI here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import DreamActorError
from ..core.motion import Motion
from ..head.sphere import yaw_pitch_roll


@dataclass(frozen=True)
class Pick:
    frame: int
    yaw: float  # degrees, > 0: turned to the subject's right
    pitch: float  # degrees, > 0: looking up
    distance: float  # degrees from the nearest view already covered


def head_directions(motion: Motion) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2) yaw, pitch in degrees as the viewer sees them, and (N,) bool: measured there."""
    ypr = yaw_pitch_roll(motion.head_rotation, motion.head_center)
    measured = np.asarray(motion.valid, bool) & np.isfinite(ypr).all(axis=1) & (motion.head_radius > 0)
    head_valid = motion.get("head_valid")
    if head_valid is not None:
        measured &= np.asarray(head_valid, bool)
    return ypr[:, :2], measured


def reference_direction(reference: Motion | None) -> tuple[np.ndarray, str]:
    """The reference picture's (yaw, pitch), and where it came from."""
    if reference is not None:
        directions, measured = head_directions(reference)
        if measured.any():
            return directions[np.flatnonzero(measured)[0]], "measured on the reference"
        return np.zeros(2), "the reference's head was not measured: taken as facing the camera"
    return np.zeros(2), "no reference motion: the reference is taken as facing the camera"


def pick_views(
    motion: Motion, count: int, reference: Motion | None = None, min_angle: float = 15.0
) -> tuple[list[Pick], str]:
    """Up to ``count`` frames of ``motion`` showing the most different head views.

    Returns the picks in the order made (farthest first) and a note on the
    reference's direction. Raises when the head is measured on no frame.
    """
    if count < 1:
        raise DreamActorError(f"count is {count}", fix="pick at least one extra reference", input="count")
    directions, measured = head_directions(motion)
    if not measured.any():
        raise DreamActorError(
            "the driving motion has no measured head on any frame",
            fix="run Head Sphere Fit on the driving motion (Skeleton Extract with face on)",
            input="motion",
        )
    ref, note = reference_direction(reference)
    covered = [ref]
    picks: list[Pick] = []
    for _ in range(int(count)):
        gaps = np.min(np.stack([np.linalg.norm(directions - c, axis=1) for c in covered]), axis=0)
        gaps = np.where(measured, gaps, -np.inf)
        t = int(np.argmax(gaps))
        if gaps[t] < min_angle:
            break
        picks.append(Pick(t, float(directions[t, 0]), float(directions[t, 1]), float(gaps[t])))
        covered.append(directions[t])
    return picks, note


def fit_cover(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """(h, w, 3) uint8 -> (height, width, 3) uint8: scaled to cover, centre-cropped
    (the framing the sampler gives a reference)."""
    from PIL import Image

    h, w = image.shape[:2]
    k = max(width / w, height / h)
    sw, sh = max(width, round(w * k)), max(height, round(h * k))
    scaled = np.asarray(Image.fromarray(image).resize((sw, sh), Image.LANCZOS))
    x0, y0 = (sw - width) // 2, (sh - height) // 2
    return scaled[y0 : y0 + height, x0 : x0 + width]
