"""POSE_KEYPOINT as its consumers read it: every field they access is there, complete.

The readers (read with the search tools; nothing of them is re-implemented here, the
test checks the fields and lengths they touch, as they touch them):

- comfyui_controlnet_aux ``src/custom_controlnet_aux/dwpose/__init__.py``
  ``decode_json_as_poses``: ``frame["canvas_height"]``, ``frame["canvas_width"]``,
  ``frame.get("people", [])``; per person ``.get("pose_keypoints_2d")``,
  ``.get("hand_left_keypoints_2d")``, ``.get("hand_right_keypoints_2d")``,
  ``.get("face_keypoints_2d")``, each ``assert len(numbers) % 3 == 0``, a point with
  ``c < 1.0`` is missing.
- comfyui_controlnet_aux ``node_wrappers/pose_keypoint_postprocess.py``:
  ``SavePoseKpsAsJsonFile`` reads ``pose_kps[0]["canvas_width"]`` / ``["canvas_height"]``
  and ``json.dump``s the list; ``FacialPartColoringFromPoseKps`` does
  ``len(person["face_keypoints_2d"]) // 3`` and indexes face points 0..67.
- ComfyUI core (newest) ``comfy_extras/nodes_sdpose.py``: ``SDPoseDrawKeypoints`` takes
  ``keypoints[0]["canvas_height"]`` / ``["canvas_width"]`` into ``np.zeros((h, w, 3))``,
  then per ``frame["people"]`` reshapes ``person["pose_keypoints_2d"]`` to (18, 3),
  ``person["face_keypoints_2d"]`` to (70, 3), ``person["hand_right_keypoints_2d"]`` and
  ``person["hand_left_keypoints_2d"]`` to (21, 3) as float32, and
  ``person.get("foot_keypoints_2d")`` to (6, 3) only when present;
  ``SDPoseFaceBBoxes`` reads ``person.get("face_keypoints_2d", [])`` reshaped (-1, 3).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from models.core.skeleton import BODY
from models.render.pose_keypoint import to_pose_keypoint
from tests.unit.motion_fixtures import person_motion

PARTS = {"pose_keypoints_2d": 18, "face_keypoints_2d": 70, "hand_left_keypoints_2d": 21, "hand_right_keypoints_2d": 21}


def check_readable(frames: list) -> None:
    """Assert what the readers above access, as they access it."""
    frames = json.loads(json.dumps(frames))  # SavePoseKpsAsJsonFile: json.dump of the list
    for frame in frames:
        h, w = frame["canvas_height"], frame["canvas_width"]
        assert isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0
        np.zeros((h, w, 3), np.uint8)  # SDPoseDrawKeypoints' canvas
        assert isinstance(frame["people"], list)
        for person in frame["people"]:
            for key, n in PARTS.items():
                numbers = person[key]  # core indexes, never .get: None or a missing key crashes it
                assert isinstance(numbers, list) and len(numbers) == 3 * n, key
                points = np.array(numbers, dtype=np.float32).reshape(n, 3)  # core's _parse
                assert np.isfinite(points).all(), key
                c = points[:, 2]
                assert np.isin(c, (0.0, 1.0)).all(), key  # controlnet_aux keeps only c >= 1
                assert (points[c == 0] == 0).all(), key  # a missing point is [0, 0, 0]
                kept = points[c == 1, :2]
                assert ((kept >= 0) & (kept <= (w, h))).all(), key
            assert len(person["face_keypoints_2d"]) // 3 >= 68  # FacialPartColoring indexes 0..67
            foot = person.get("foot_keypoints_2d")
            assert not foot or len(foot) == 18  # core reads (6, 3) only when present


def _kept(person, key) -> int:
    return int((np.array(person[key]).reshape(-1, 3)[:, 2] == 1).sum())


def test_complete_person_missing_hands_lost_body_and_nobody():
    m = person_motion(4, image_size=(320, 240))
    m.hands_conf[1, 0] = 0.0  # frame 1: left hand not seen
    m.hands_conf[1, 1, :5] = 0.1  # and five right-hand points below the threshold
    m.conf[2] = 0.05  # frame 2: the whole body below the threshold
    m.valid[3] = False  # frame 3: nobody
    frames = to_pose_keypoint(m, width=416, height=240)
    check_readable(frames)
    first, hands, lost = (f["people"][0] for f in frames[:3])
    assert [_kept(first, k) for k in PARTS] == [18, 0, 21, 21]  # this motion has no 68/70-point face
    assert (_kept(hands, "hand_left_keypoints_2d"), _kept(hands, "hand_right_keypoints_2d")) == (0, 16)
    assert _kept(lost, "pose_keypoints_2d") == 0 and _kept(lost, "hand_left_keypoints_2d") == 21
    assert frames[3]["people"] == []


@pytest.mark.parametrize("points", [68, 70])
def test_a_68_or_70_point_face_is_written_as_openpose_70(points):
    m = person_motion(2, image_size=(320, 240))
    rng = np.random.default_rng(0)
    nose = m.joints2d[:, BODY["nose"]]
    m = m.replace(face2d=(nose[:, None] + rng.uniform(-10, 10, (2, points, 2))).astype(np.float32))
    m = m.replace(face_valid=np.array([True, False]))
    frames = to_pose_keypoint(m)
    check_readable(frames)
    seen, hidden = (f["people"][0] for f in frames)
    assert _kept(seen, "face_keypoints_2d") == 70 and _kept(hidden, "face_keypoints_2d") == 0
    face = np.array(seen["face_keypoints_2d"]).reshape(70, 3)
    assert np.allclose(face[:points, :2], m.face2d[0], atol=1e-4)
