"""The head sphere on its body's scale, so heads of two motions can be compared and moved.

``fit_head_sphere`` sizes a detected head from the face (an average adult face, 0.095 m) and
places it at the depth that face size gives; the body's joints get their depth from another
model. On sports2d's demo.mp4 the sphere sits 1.3 m behind the head joint (8.5 vs 7.2 m).
Scaled about the camera centre a sphere keeps its disc in the image, so each frame's sphere is
brought to the depth of the body's own head centre (``body_head_centres``: ears, head joint,
nose): then its radius is in the body's metres (a chibi's big detected head is big next to its
body) and its centre is a short offset from the head joint, which the retarget may scale by the
head ratio without sending the sphere metres behind the character. A head fitted to a
silhouette (``fitted_head``) is on its body's scale already (factor 1).
"""

from __future__ import annotations

import numpy as np

from ..core.motion import Motion
from ..head.sphere import body_head_centres


def body_scale(motion: Motion) -> np.ndarray:
    """(T,) factor bringing each frame's head sphere to its body's depth: the body's head centre
    depth / the sphere centre's; frames without both take the median of the others (1 if none)."""
    body, ok = body_head_centres(motion)
    centre_z = np.asarray(motion.head_center, np.float64)[:, 2]
    ok &= np.asarray(motion.valid, bool) & (np.asarray(motion.head_radius) > 0) & (centre_z > 1e-6)
    k = np.ones(motion.num_frames)
    k[ok] = body[ok, 2] / centre_z[ok]
    k[~ok] = float(np.median(k[ok])) if ok.any() else 1.0
    return k


def body_scale_heads(motion: Motion) -> tuple[np.ndarray, np.ndarray]:
    """(centre (T, 3), radius (T,)) of the head sphere on the body's scale (same disc in the image)."""
    k = body_scale(motion)
    return np.asarray(motion.head_center, np.float64) * k[:, None], np.asarray(motion.head_radius, np.float64) * k


def body_scale_radius(motion: Motion) -> float:
    """Median head radius (m, body scale) over valid frames with a head; NaN when there is none."""
    _, radius = body_scale_heads(motion)
    use = np.asarray(motion.valid, bool) & (radius > 0)
    return float(np.median(radius[use])) if use.any() else float("nan")


def _offsets(motion: Motion) -> tuple[np.ndarray, np.ndarray]:
    """((T, 3) body-scale sphere centre - head joint, (T,) bool frames with a head)."""
    centre, radius = body_scale_heads(motion)
    head = np.asarray(motion.joints3d, np.float64)[:, motion.skeleton.index.get("head", 0)]
    return centre - head, np.asarray(motion.valid, bool) & (radius > 0)


def sphere_offsets(driving: Motion, reference: Motion | None, reference_ratio: float) -> np.ndarray:
    """(T, 3) the output's sphere centre minus its head joint, per unit of head ratio.

    The driver's offset per frame (it turns with the head), moved so that on average it is the
    reference's own offset / ``reference_ratio`` (the unedited head ratio): the sphere sits where
    the character's sits relative to its head joint (a silhouette-fitted head is centred on it; a
    person's is a few cm above), not where the driver's would, scaled up by a chibi's head ratio.
    Times the (edited) head ratio this is the offset, so an edit's ratio scales it exactly.
    ``reference=None`` (lengths from the driver): the driver's offsets as they are."""
    off, ok = _offsets(driving)
    if reference is None or not ok.any():
        return off
    ref_off, ref_ok = _offsets(reference)
    if not ref_ok.any() or not np.isfinite(reference_ratio) or reference_ratio <= 0:
        return off
    r0 = int(np.flatnonzero(ref_ok)[0])
    return off + (ref_off[r0] / reference_ratio - np.median(off[ok], axis=0))
