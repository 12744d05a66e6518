"""Skeleton definitions: joint names and the parent hierarchy.

The body skeleton is named after the SMPL-X body joints (the first 22 joints of
SMPL-X, root at the pelvis), plus the five face points and two heels that 2D
detectors see and the rendering conventions (OpenPose / Wan-Animate) draw.
Hands use the 21-point layout shared by MediaPipe Hands and OpenPose:
wrist, then four joints per finger from thumb to pinky.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class SkeletonDef:
    """A tree of named joints. ``parents[j]`` is the index of j's parent, -1 for the root.

    Parents always come before their children, so a single pass in index order
    is a valid forward-kinematics order.
    """

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]

    def __post_init__(self):
        if len(self.joint_names) != len(self.parents):
            raise ValueError(f"skeleton {self.name}: {len(self.joint_names)} names but {len(self.parents)} parents")
        if len(set(self.joint_names)) != len(self.joint_names):
            raise ValueError(f"skeleton {self.name}: duplicate joint names")
        roots = [j for j, p in enumerate(self.parents) if p < 0]
        if len(roots) != 1 or roots[0] != 0:
            raise ValueError(f"skeleton {self.name}: joint 0 must be the only root")
        for j, p in enumerate(self.parents):
            if p >= j:
                raise ValueError(f"skeleton {self.name}: parent of {self.joint_names[j]} must come before it")

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @cached_property
    def index(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.joint_names)}

    def __getitem__(self, name: str) -> int:
        try:
            return self.index[name]
        except KeyError:
            raise KeyError(f"skeleton {self.name} has no joint {name!r}") from None

    @cached_property
    def bones(self) -> tuple[tuple[int, int], ...]:
        """(parent, child) index pairs, one per non-root joint, in FK order."""
        return tuple((p, j) for j, p in enumerate(self.parents) if p >= 0)

    def bone_name(self, child: int) -> str:
        """A bone is named after its child joint (the joint it moves)."""
        return self.joint_names[child]

    def mirror(self, name: str) -> str | None:
        """The left/right counterpart of a joint or bone name, or None for the midline."""
        for a, b in (("left_", "right_"), ("right_", "left_")):
            if name.startswith(a):
                other = b + name[len(a) :]
                return other if other in self.index else None
        return None

    def same_as(self, other: "SkeletonDef") -> bool:
        return self.joint_names == other.joint_names and self.parents == other.parents


_BODY = [
    # name,            parent
    ("pelvis", None),
    ("left_hip", "pelvis"),
    ("right_hip", "pelvis"),
    ("spine1", "pelvis"),
    ("left_knee", "left_hip"),
    ("right_knee", "right_hip"),
    ("spine2", "spine1"),
    ("left_ankle", "left_knee"),
    ("right_ankle", "right_knee"),
    ("spine3", "spine2"),
    ("left_foot", "left_ankle"),
    ("right_foot", "right_ankle"),
    ("neck", "spine3"),
    ("left_collar", "spine3"),
    ("right_collar", "spine3"),
    ("head", "neck"),
    ("left_shoulder", "left_collar"),
    ("right_shoulder", "right_collar"),
    ("left_elbow", "left_shoulder"),
    ("right_elbow", "right_shoulder"),
    ("left_wrist", "left_elbow"),
    ("right_wrist", "right_elbow"),
    # beyond the 22 SMPL-X body joints: points detectors see and renderers draw
    ("nose", "head"),
    ("left_eye", "head"),
    ("right_eye", "head"),
    ("left_ear", "head"),
    ("right_ear", "head"),
    ("left_heel", "left_ankle"),
    ("right_heel", "right_ankle"),
]


def _build(name: str, table: list[tuple[str, str | None]]) -> SkeletonDef:
    names = tuple(n for n, _ in table)
    idx = {n: i for i, n in enumerate(names)}
    parents = tuple(-1 if p is None else idx[p] for _, p in table)
    return SkeletonDef(name, names, parents)


BODY = _build("smplx_body29", _BODY)
"""The pack's body skeleton: 22 SMPL-X body joints + nose, eyes, ears, heels (29 joints)."""

HAND_JOINT_NAMES = (
    "wrist",
    "thumb_cmc",
    "thumb_mcp",
    "thumb_ip",
    "thumb_tip",
    "index_mcp",
    "index_pip",
    "index_dip",
    "index_tip",
    "middle_mcp",
    "middle_pip",
    "middle_dip",
    "middle_tip",
    "ring_mcp",
    "ring_pip",
    "ring_dip",
    "ring_tip",
    "pinky_mcp",
    "pinky_pip",
    "pinky_dip",
    "pinky_tip",
)
HAND = SkeletonDef(
    "hand21",
    HAND_JOINT_NAMES,
    (-1, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 0, 13, 14, 15, 0, 17, 18, 19),
)
"""21-point hand (MediaPipe / OpenPose order). Hands are stored left (0), right (1) of the person."""

HAND_SIDES = ("left", "right")

# Registered skeletons by name, so a saved motion can name its definition.
SKELETONS = {s.name: s for s in (BODY, HAND)}


def skeleton_from_arrays(joint_names, parents) -> SkeletonDef:
    """Rebuild a definition from saved arrays, reusing the registered one when identical."""
    names = tuple(str(n) for n in np.asarray(joint_names).tolist())
    pars = tuple(int(p) for p in np.asarray(parents).tolist())
    for s in SKELETONS.values():
        if s.joint_names == names and s.parents == pars:
            return s
    return SkeletonDef("custom", names, pars)
