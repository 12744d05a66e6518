"""OpenPose-layout keypoints from a motion, and the ``POSE_KEYPOINT`` JSON frames.

OpenPose-18 order (what DWPose, ControlNet and Wan2.2-Animate draw):
nose, neck, r_shoulder, r_elbow, r_wrist, l_shoulder, l_elbow, l_wrist, r_hip,
r_knee, r_ankle, l_hip, l_knee, l_ankle, r_eye, l_eye, r_ear, l_ear.
The neck is not a detector point: DWPose and Wan take the mid-point of the two
shoulders (``split_kp2ds_for_aa`` in Wan2.2 ``wan/modules/animate/preprocess/
pose2d_utils.py`` averages COCO points 5 and 6, positions and scores alike), so
it is that here too, never the SMPL-X ``neck`` joint. Wan adds two toe points
after the 18 (mean of big and small toe); the pack's ``left_foot`` /
``right_foot`` stand for them.

``POSE_KEYPOINT`` is the type comfyui_controlnet_aux passes between nodes (and
newer ComfyUI cores' SDPose nodes): a list with one dict per frame in OpenPose's
JSON output layout::

    {"people": [{"pose_keypoints_2d": [x, y, c] * 18,
                 "face_keypoints_2d": [x, y, c] * 70,
                 "hand_left_keypoints_2d": [x, y, c] * 21,
                 "hand_right_keypoints_2d": [x, y, c] * 21}],
     "canvas_height": H, "canvas_width": W}

Every part of a person is always a full list, never ``None``: core's
``SDPoseDrawKeypoints`` reshapes face (70), hands (21) and body (18) without a
check, controlnet_aux's ``FacialPartColoringFromPoseKps`` takes the face's
``len``. A missing point or part is zeros (``[0, 0, 0]`` per point): every
reader skips it (controlnet_aux's ``decode_json_as_poses`` treats ``c < 1`` as
missing, core's drawer ``c < threshold``, core's face boxes skip a face with no
extent). Coordinates are absolute canvas pixels; a kept point has ``c = 1.0``
(real scores below 1 would be thrown away by controlnet_aux); a frame with
nobody is ``people: []``. "Left hand" is the person's left.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import DreamActorError
from ..core.motion import Motion
from .fit import FrameFit, fit_frame

OPENPOSE18 = (
    "nose",
    "neck",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "right_eye",
    "left_eye",
    "right_ear",
    "left_ear",
)
WAN_TOES = ("left_toe", "right_toe")
"""Wan-Animate's points 18 and 19, after the OpenPose 18."""

# The pack's BODY joints each OpenPose point is the mean of.
_SOURCES = {name: (name,) for name in OPENPOSE18}
_SOURCES["neck"] = ("left_shoulder", "right_shoulder")
_SOURCES["left_toe"] = ("left_foot",)
_SOURCES["right_toe"] = ("right_foot",)

POSE_KEYPOINT_THRESHOLD = 0.3
"""DWPose keeps a point when its score is at least 0.3 (``Wholebody.format_result``)."""


def openpose_body(motion: Motion, t: int, with_toes: bool = False) -> np.ndarray:
    """Frame ``t`` in OpenPose order -> (18, 3) or (20, 3) [x, y, conf], source pixels.

    Each point averages its source joints' positions and confidences (the neck
    is the shoulders' mean, as Wan computes it).
    """
    names = OPENPOSE18 + (WAN_TOES if with_toes else ())
    sk = motion.skeleton
    missing = sorted({j for n in names for j in _SOURCES[n] if j not in sk.index})
    if missing:
        raise DreamActorError(
            f"the motion's skeleton lacks the joints {missing} that OpenPose needs",
            fix="extract the motion with this pack's body skeleton",
            input="motion",
        )
    out = np.zeros((len(names), 3), np.float64)
    for i, n in enumerate(names):
        idx = [sk[j] for j in _SOURCES[n]]
        out[i, :2] = motion.joints2d[t, idx].mean(0)
        out[i, 2] = motion.conf[t, idx].mean()
    return out


def hand_keypoints(motion: Motion, t: int) -> np.ndarray:
    """Frame ``t`` hands -> (2, 21, 3) [x, y, conf], source pixels; 0 = person's left."""
    return np.concatenate([motion.hands2d[t], motion.hands_conf[t][..., None]], -1).astype(np.float64)


FACE_POINTS = 70
"""OpenPose's face: 68 iBUG points + right, left eye."""


def _flatten(points: np.ndarray, keep: np.ndarray, fit: FrameFit) -> list[float]:
    """(N, 2) source px + (N,) bool -> flat [x, y, 1.0 | 0, 0, 0] * N canvas px (all zeros if none kept)."""
    flat = np.zeros((len(points), 3), np.float64)
    if keep.any():
        xy = fit.apply(points)
        flat[keep, :2] = xy[keep]
        flat[keep, 2] = 1.0
    return [float(v) for v in flat.reshape(-1)]


def _face_points(motion: Motion, t: int, body: np.ndarray) -> np.ndarray | None:
    """The 70-point OpenPose face (68 iBUG points + right, left eye) when the motion
    has a 68/70-point face; other layouts (e.g. MediaPipe's 478) have no OpenPose meaning."""
    F = motion.face2d.shape[1]
    if F == FACE_POINTS:
        return motion.face2d[t].astype(np.float64)
    if F == 68:  # DWPose pads its 68 points with the two eyes the same way
        return np.concatenate([motion.face2d[t], body[[14, 15], :2]], 0)
    return None


def pose_keypoint_frame(motion: Motion, t: int, fit: FrameFit, threshold: float = POSE_KEYPOINT_THRESHOLD) -> dict:
    """One ``POSE_KEYPOINT`` frame dict for frame ``t`` (see the module docstring)."""
    frame = {"people": [], "canvas_height": int(fit.height), "canvas_width": int(fit.width)}
    if not bool(motion.valid[t]):
        return frame
    body = openpose_body(motion, t)
    keep = body[:, 2] >= threshold
    sk = motion.skeleton
    # DWPose's neck exists only when both shoulders do.
    keep[1] = bool(
        motion.conf[t, sk["left_shoulder"]] >= threshold and motion.conf[t, sk["right_shoulder"]] >= threshold
    )
    hands = hand_keypoints(motion, t)
    face = _face_points(motion, t, body)
    face_ok = face is not None and bool(np.asarray(motion.get("face_valid", motion.valid))[t])
    if face is None:  # no OpenPose meaning: a zero-confidence face of the full length
        face = np.zeros((FACE_POINTS, 2))
    person = {
        "pose_keypoints_2d": _flatten(body[:, :2], keep, fit),
        "face_keypoints_2d": _flatten(face, np.full(len(face), face_ok), fit),
        "hand_left_keypoints_2d": _flatten(hands[0, :, :2], hands[0, :, 2] >= threshold, fit),
        "hand_right_keypoints_2d": _flatten(hands[1, :, :2], hands[1, :, 2] >= threshold, fit),
    }
    frame["people"].append(person)
    return frame


def to_pose_keypoint(
    motion: Motion,
    start: int = 0,
    stop: int | None = None,
    width: int | None = None,
    height: int | None = None,
    fit: str = "contain",
    threshold: float = POSE_KEYPOINT_THRESHOLD,
) -> list[dict]:
    """Frames ``start:stop`` as ``POSE_KEYPOINT`` dicts (JSON-ready: plain floats and ints).

    The canvas is ``width`` x ``height`` with the source placed by ``fit`` (see
    ``models.render.fit``), so the points line up with a guide rendered at that
    size; left out, it is the motion's own ``image_size`` and the points are the
    motion's ``joints2d`` unchanged.
    """
    start, stop = motion.check_range(start, stop)
    W, H = motion.image_size if width is None or height is None else (width, height)
    placement = fit_frame(motion.image_size, W, H, fit)
    return [pose_keypoint_frame(motion, t, placement, threshold) for t in range(start, stop)]
