"""Skeleton Extract on a picture of any character: the landmark models first, the
silhouette fit (``models.extract.character_fit``) when they find nobody or a body that does
not agree with the character's silhouette.

A detection is kept when its confident body joints inside the picture fall on the silhouette
(dilated by ``SLACK`` of its height: ``AGREE`` of them at least), its nose is in the
silhouette's upper half and, for a whole figure (silhouette clear of the picture's bottom
edge; a bust keeps whatever agrees), at least 5 joints were seen and its ankles are in the
lower third. A silhouette flatter than ``MIN_ASPECT`` is no upright character and is not
fitted. Photos of people on busy backgrounds have no silhouette
(``models.extract.silhouette``) and keep the detection whatever it is, as before.

The fitted Motion: the 2D fit lifted on the camera rays at the depth where the character's
height is ``BODY_HEIGHT_M`` (the depth only sets the metric scale, which framing and bone
lengths read consistently), a flat pose facing the camera; confidences from the fit (0.5
measured, 0.3 guessed); the head circle as ``fitted_head`` (1, 4): centre xyz and radius in
metres, which ``models.head.sphere`` uses for the head sphere; a face mesh the detectors found
on the character's head is kept (the sphere's turn, the expression); ``info`` says it is a fit.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import ndimage

from ..core.errors import DreamActorError
from ..core.motion import Motion, default_camera
from ..core.skeleton import BODY
from .character_fit import FIT_CONF, GUESS_CONF, CharacterFit, fit_character
from .driver import extract_image
from .face_mesh import NUM_BLENDSHAPES
from .landmarkers import NUM_HAND_LANDMARKS
from .silhouette import foreground

BODY_HEIGHT_M = 1.7
SLACK = 0.04
AGREE = 0.9
MIN_ASPECT = 0.7
"""Silhouettes flatter than this (height / width) are no upright character (the dev set: 1.0-3.5)."""
CHECKED = (
    "nose",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
"""The body joints a detection is checked on."""


def joints_inside(points: np.ndarray, silhouette: np.ndarray, slack: float = SLACK) -> np.ndarray:
    """(N,) bool: points (N, 2) px on the silhouette dilated by ``slack`` of its height."""
    rows = np.flatnonzero(silhouette.any(1))
    grow = max(1, int(round(slack * (rows[-1] - rows[0] + 1))))
    dilated = ndimage.binary_dilation(silhouette, iterations=grow)
    H, W = silhouette.shape
    p = np.round(np.asarray(points, float)).astype(int)
    ok = (p[:, 0] >= 0) & (p[:, 0] < W) & (p[:, 1] >= 0) & (p[:, 1] < H)
    out = np.zeros(len(p), bool)
    out[ok] = dilated[p[ok, 1], p[ok, 0]]
    return out


def upright(silhouette: np.ndarray) -> bool:
    """A silhouette that can hold a standing figure: at least ``MIN_ASPECT`` times as tall as wide
    (a car or a landscape object is not fitted)."""
    ys, xs = np.nonzero(silhouette)
    return bool(ys.max() - ys.min() + 1 >= MIN_ASPECT * (xs.max() - xs.min() + 1))


def disagreement(motion: Motion, silhouette: np.ndarray, min_conf: float = 0.5) -> str | None:
    """Why a one-frame detection does not match the character's silhouette, or None."""
    idx = [BODY[n] for n in CHECKED]
    conf, pts = motion.conf[0, idx], motion.joints2d[0, idx]
    H, W = silhouette.shape
    in_picture = (pts[:, 0] >= 0) & (pts[:, 0] < W) & (pts[:, 1] >= 0) & (pts[:, 1] < H)
    seen = (conf >= min_conf) & in_picture  # joints beyond the frame are guesses: not checked
    if not seen.any():
        return "no body joint was detected in the picture"
    inside = joints_inside(pts[seen], silhouette)
    if inside.mean() < AGREE:
        return f"only {inside.mean():.0%} of the detected joints lie on the character"
    rows = np.flatnonzero(silhouette.any(1))
    top, height = rows[0], rows[-1] - rows[0] + 1
    nose = motion.joints2d[0, BODY["nose"]]
    if motion.conf[0, BODY["nose"]] >= min_conf and nose[1] > top + 0.5 * height:
        return "the detected head is in the character's lower half"
    if rows[-1] >= H - 2:  # cut off by the bottom edge (a bust): what was seen agrees
        return None
    if seen.sum() < 5:  # the whole figure is in the picture: a few joints are not its body
        return f"only {int(seen.sum())} body joints were detected"
    ankles = [BODY["left_ankle"], BODY["right_ankle"]]
    if not all(motion.conf[0, a] >= min_conf and motion.joints2d[0, a, 1] >= top + 2 / 3 * height for a in ankles):
        return "the detection stops short of the character's feet"
    return None


FACE_KEYS = ("face3d", "face_valid", "face_blendshapes", "face_matrix")


def face_on_character(motion: Motion | None, silhouette: np.ndarray) -> bool:
    """A detected face mesh worth keeping: on the silhouette and in its upper half."""
    if motion is None or not bool(np.asarray(motion.get("face_valid", [False]))[0]):
        return False
    face = motion.face2d[0]
    rows = np.flatnonzero(silhouette.any(1))
    upper = face[:, 1].mean() < rows[0] + 0.5 * (rows[-1] - rows[0] + 1)
    return bool(upper and joints_inside(face, silhouette).mean() >= AGREE)


def fitted_motion(
    image_size: tuple[int, int], fit: CharacterFit, why: str, source: str, face: Motion | None = None
) -> Motion:
    """A one-frame Motion from a silhouette fit (see the module docstring); ``face``: a
    detection whose face mesh (2D, 3D, blendshapes, matrix) is kept."""
    W, H = image_size
    camera = default_camera(W, H)
    f, cx, cy = camera[0, 0], camera[0, 2], camera[1, 2]
    depth = f * BODY_HEIGHT_M / max(float(fit.box[3] - fit.box[1]), 1.0)

    def lift(p):
        p = np.asarray(p, np.float64)
        return np.stack([(p[..., 0] - cx) / f * depth, (p[..., 1] - cy) / f * depth, np.full(p.shape[:-1], depth)], -1)

    m = Motion.empty(1, (W, H), 1.0, BODY, num_face=478, camera=camera)
    m.valid[:] = True
    m.joints2d[0] = fit.joints2d
    m.joints3d[0] = lift(fit.joints2d)
    m.conf[0] = fit.conf
    head = np.concatenate([lift(fit.head_centre), [fit.head_radius * depth / f]])
    notes = "; ".join(fit.notes)
    info = (
        f"skeleton FITTED to the character's silhouette (from {source}), not detected: {why}. "
        f"Head radius {fit.head_radius:.0f} px; confidence {FIT_CONF} on fitted joints"
        + (f", {GUESS_CONF} on guessed ones" if (fit.conf < FIT_CONF).any() else "")
        + (f"; {notes}" if notes else "")
    )
    kept = {}
    if face is not None:
        m.face2d[:] = face.face2d
        kept = {k: face.get(k) for k in FACE_KEYS}
        info += "; the detected face mesh is kept"
    no_face = {
        "face3d": np.zeros((1, 478, 3), np.float32),
        "face_valid": np.zeros(1, bool),
        "face_blendshapes": np.zeros((1, NUM_BLENDSHAPES), np.float32),
        "face_matrix": np.eye(4, dtype=np.float32)[None],
    }
    return m.replace(
        hands3d=np.zeros((1, 2, NUM_HAND_LANDMARKS, 3), np.float32),
        filled=np.zeros(1, bool),
        person_box=fit.box[None].astype(np.float32),
        fitted_head=head[None].astype(np.float32),
        info=info,
        **{**no_face, **kept},
    ).validate()


def detect_or_fit(rgb: np.ndarray, mask: np.ndarray | None, detect: Callable[[], Motion]) -> Motion:
    """``detect()`` (the landmark models on the picture), replaced by the silhouette fit where
    it finds nobody or disagrees with the character (see the module docstring)."""
    silhouette, source = foreground(rgb, mask)
    if silhouette is not None and not upright(silhouette):
        silhouette = None
    try:
        motion = detect()
    except DreamActorError as e:
        if not e.what.startswith("no person"):
            raise
        if silhouette is None:
            raise DreamActorError(
                e.what,
                fix=f"{e.fix}. For a drawn or rendered character: connect its mask (core Load Image's MASK) "
                "or show it upright on a plain background, so the skeleton can be fitted to its silhouette",
                input=e.input,
            ) from None
        motion, why = None, "the landmark models found no person"
    if silhouette is None:
        return motion
    if motion is not None:
        why = disagreement(motion, silhouette)
        if why is None:
            return motion
    H, W = silhouette.shape
    face = motion if face_on_character(motion, silhouette) else None
    return fitted_motion((W, H), fit_character(silhouette), why, source, face)


def extract_character(image: np.ndarray, mask: np.ndarray | None = None, **detector) -> Motion:
    """Skeleton Extract's picture path: :func:`~models.extract.driver.extract_image` (``detector``:
    its keyword arguments) on image (H, W, 3) uint8 RGB, or the silhouette fit (see the module
    docstring). ``mask`` (H, W) in [0, 1]: the character's alpha or its inverse, optional; a
    uniform one counts as none (core Load Image's MASK of a picture without alpha is a 64x64
    block of zeros, and a fully opaque alpha is all zeros: neither outlines anything)."""
    rgb = np.asarray(image)[..., :3]
    if mask is not None:
        mask = np.asarray(mask, np.float32)
        if mask.size == 0 or float(mask.min()) == float(mask.max()):
            mask = None
        elif mask.shape != rgb.shape[:2]:
            raise DreamActorError(
                f"the mask is {mask.shape[1]}x{mask.shape[0]} but the image is {rgb.shape[1]}x{rgb.shape[0]}",
                fix="connect the MASK that came with this image (core Load Image's second output)",
                input="mask",
            )
    return detect_or_fit(rgb, mask, lambda: extract_image(rgb, **detector))
