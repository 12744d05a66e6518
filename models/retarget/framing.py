"""Framing the retargeted motion into the reference picture: a 2D similarity folded into the
output camera (match reference, keep driver, manual)."""

from __future__ import annotations

import numpy as np

from ..core.motion import Motion
from .lengths import seen_mask

FRAMINGS = ("match reference", "keep driver", "manual")
MANUAL_SCALE_RANGE = (0.05, 20.0)


# --------------------------------------------------------------------------- framing
def pixels_per_metre(camera: np.ndarray, points3d: np.ndarray) -> float:
    """Pixels spanned by one metre facing the camera at the mean depth of points3d (N, 3)."""
    return float(camera[0, 0] / max(float(np.mean(points3d[:, 2])), 1e-6))


def _similarity(scale: float, tx: float, ty: float) -> np.ndarray:
    return np.array([[scale, 0.0, tx], [0.0, scale, ty], [0.0, 0.0, 1.0]])


def keep_driver_framing(driver_size, reference_size) -> np.ndarray:
    """(3, 3) the driver's frame resized to cover the reference frame, centred (a centre crop)."""
    (Wd, Hd), (Wr, Hr) = driver_size, reference_size
    s = max(Wr / Wd, Hr / Hd)
    return _similarity(s, (Wr - s * Wd) / 2, (Hr - s * Hd) / 2)


def manual_framing(driver_size, reference_size, manual) -> np.ndarray:
    """(3, 3) the driver's framing, then scaled by ``manual[0]`` about the reference centre and
    shifted by (manual[1] * W, manual[2] * H) of the reference image."""
    m, dx, dy = manual
    Wr, Hr = reference_size
    cx, cy = Wr / 2.0, Hr / 2.0
    about = _similarity(m, cx - m * cx + dx * Wr, cy - m * cy + dy * Hr)
    return about @ keep_driver_framing(driver_size, reference_size)


def anchor_joints(reference: Motion, frame: int, seen: np.ndarray) -> tuple[str, list[int]]:
    """('full body' | 'portrait', joints whose mean is the anchor point) of the reference."""
    sk = reference.skeleton
    idx = sk.index

    def seen_of(names):
        return [idx[n] for n in names if n in idx and seen[frame, idx[n]]]

    ankles = seen_of(("left_ankle", "right_ankle"))
    hips = seen_of(("left_hip", "right_hip"))
    if ankles and len(hips) == 2:
        return "full body", ankles
    head = seen_of(("head",)) or seen_of(("nose", "left_eye", "right_eye", "left_ear", "right_ear"))
    if head:
        return "portrait", head
    return "portrait", list(np.flatnonzero(seen[frame]))


def match_reference_framing(
    out3d: np.ndarray,
    out2d: np.ndarray,
    valid: np.ndarray,
    camera: np.ndarray,
    reference: Motion,
    conf_threshold: float,
) -> tuple[np.ndarray, str]:
    """(3, 3) similarity placing the projected result into the reference image, and a description.

    A full-body reference (hips and an ankle seen) anchors the feet, a portrait the
    head: the anchor point of the first valid output frame lands on the reference's,
    and one metre at the anchor depth spans as many pixels as in the reference
    (focal length / depth), so an unedited head or body keeps the reference's size
    and the artist's edits show as edits. One transform for the whole clip, so the
    driver's own motion is kept.
    out3d (T, J, 3), out2d (T, J, 2) in driver pixels, camera (3, 3) the driver's.
    """
    seen = seen_mask(reference, conf_threshold)
    f0 = int(np.flatnonzero(seen.any(1))[0])
    kind, anchor = anchor_joints(reference, f0, seen)
    ref_anchor = reference.joints2d[f0, anchor].mean(0)
    ref_ppm = pixels_per_metre(reference.camera, reference.joints3d[f0, anchor])
    t0 = int(np.flatnonzero(valid)[0])
    out_anchor = out2d[t0, anchor].mean(0)
    out_ppm = pixels_per_metre(camera, out3d[t0, anchor])
    s = ref_ppm / out_ppm
    tx, ty = ref_anchor - s * out_anchor
    where = "feet" if kind == "full body" else "head"
    return _similarity(s, tx, ty), f"{kind} reference: {where} anchored, scale {s:.3f}"


def apply_similarity(points2d: np.ndarray, S: np.ndarray) -> np.ndarray:
    """points2d (..., 2) -> (..., 2) under a 2D similarity (3, 3)."""
    return points2d * S[0, 0] + S[:2, 2]
