"""Hand-made motions for unit tests: a person standing facing the camera.

Camera space is x right, y down, z forward, in metres; a person FACING the
camera has their left side at +x (image right). Head rotation convention used
here (see ``models.render.sphere``): head x = the person's right, y = down,
z = out of the face, so a frontal head is ``diag(-1, 1, -1)``.
"""

from __future__ import annotations

import numpy as np

from models.core.motion import Motion, project
from models.core.skeleton import BODY

# Offsets from the pelvis (metres, camera axes) of a person facing the camera.
_STANDING = {
    "pelvis": (0.0, 0.0, 0.0),
    "left_hip": (0.09, 0.05, 0.0),
    "right_hip": (-0.09, 0.05, 0.0),
    "spine1": (0.0, -0.10, 0.0),
    "spine2": (0.0, -0.22, 0.0),
    "spine3": (0.0, -0.35, 0.0),
    "left_knee": (0.10, 0.47, 0.0),
    "right_knee": (-0.10, 0.47, 0.0),
    "left_ankle": (0.10, 0.88, 0.02),
    "right_ankle": (-0.10, 0.88, 0.02),
    "left_foot": (0.11, 0.93, -0.12),
    "right_foot": (-0.11, 0.93, -0.12),
    "left_heel": (0.10, 0.94, 0.05),
    "right_heel": (-0.10, 0.94, 0.05),
    "neck": (0.0, -0.50, 0.0),
    "left_collar": (0.07, -0.45, 0.0),
    "right_collar": (-0.07, -0.45, 0.0),
    "head": (0.0, -0.62, 0.0),
    "left_shoulder": (0.18, -0.46, 0.0),
    "right_shoulder": (-0.18, -0.46, 0.0),
    "nose": (0.0, -0.63, -0.10),
    "left_eye": (0.035, -0.67, -0.08),
    "right_eye": (-0.035, -0.67, -0.08),
    "left_ear": (0.08, -0.65, 0.0),
    "right_ear": (-0.08, -0.65, 0.0),
}
_ARMS = {
    "t": {
        "left_elbow": (0.45, -0.46, 0.0),
        "left_wrist": (0.70, -0.46, 0.0),
        "right_elbow": (-0.45, -0.46, 0.0),
        "right_wrist": (-0.70, -0.46, 0.0),
    },
    "a": {
        "left_elbow": (0.30, -0.24, 0.0),
        "left_wrist": (0.42, -0.03, 0.0),
        "right_elbow": (-0.30, -0.24, 0.0),
        "right_wrist": (-0.42, -0.03, 0.0),
    },
}
FRONTAL_HEAD = np.diag([-1.0, 1.0, -1.0])
HEAD_RADIUS = 0.095


def yaw(deg: float) -> np.ndarray:
    """Rotation about the camera's vertical (y) axis by ``deg`` degrees."""
    a = np.radians(deg)
    return np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])


def standing_joints(arms: str = "t", pelvis=(0.0, 0.05, 3.0)) -> np.ndarray:
    """(29, 3) BODY joints in camera space, metres, for a person facing the camera."""
    table = {**_STANDING, **_ARMS[arms]}
    return np.array([table[n] for n in BODY.joint_names], np.float64) + np.asarray(pelvis, np.float64)


def hand_points(wrist: np.ndarray, elbow: np.ndarray) -> np.ndarray:
    """(21, 3) a flat open hand continuing the forearm from ``wrist`` (metres)."""
    d = (wrist - elbow) / np.linalg.norm(wrist - elbow)
    side = np.cross(d, [0.0, 0.0, 1.0])
    side = side / np.linalg.norm(side) if np.linalg.norm(side) > 1e-6 else np.array([0.0, 1.0, 0.0])
    pts = [wrist]
    for finger in range(5):
        spread = (finger - 2) * 0.022 + (0.02 if finger == 0 else 0.0)
        reach = (0.025, 0.05, 0.07, 0.09) if finger else (0.02, 0.04, 0.055, 0.07)
        base = wrist + side * spread
        pts += [base + d * r + side * spread * 0.3 * k for k, r in enumerate(reach)]
    return np.array(pts)


def person_motion(
    num_frames: int = 1,
    image_size=(640, 480),
    arms: str = "t",
    with_hands3d: bool = True,
    head: bool = True,
    pelvis=(0.0, 0.05, 3.0),
) -> Motion:
    """A confident, valid person standing facing the camera on every frame.

    joints2d / hands2d are the projections of the 3D points with the default camera.
    """
    m = Motion.empty(num_frames, image_size, fps=25.0)
    j3 = standing_joints(arms, pelvis)
    ix = BODY.index
    hands = np.stack(
        [
            hand_points(j3[ix["left_wrist"]], j3[ix["left_elbow"]]),
            hand_points(j3[ix["right_wrist"]], j3[ix["right_elbow"]]),
        ]
    )
    m.joints3d[:] = j3
    m.conf[:] = 1.0
    m.valid[:] = True
    m.hands_conf[:] = 1.0
    m = m.replace(hands3d=np.tile(hands[None], (num_frames, 1, 1, 1)).astype(np.float32))
    if head:
        m.head_center[:] = j3[ix["head"]] + (0.0, -0.03, 0.0)
        m.head_radius[:] = HEAD_RADIUS
        m.head_rotation[:] = FRONTAL_HEAD
    m = reproject(m)
    if not with_hands3d:
        m.optional.pop("hands3d")
    return m.validate()


def reproject(m: Motion) -> Motion:
    """Recompute joints2d (and hands2d from hands3d when present) from the 3D points, in place."""
    m.joints2d[:] = project(m.joints3d, m.camera)
    if "hands3d" in m.optional:
        m.hands2d[:] = project(m.optional["hands3d"], m.camera)
    return m


def set_joint(m: Motion, t: int, name: str, xyz) -> Motion:
    """Move one body joint of frame ``t`` in 3D and re-project, in place."""
    m.joints3d[t, BODY[name]] = xyz
    return reproject(m)


def joint2d(m: Motion, t: int, name: str) -> np.ndarray:
    return m.joints2d[t, BODY[name]].astype(np.float64)
