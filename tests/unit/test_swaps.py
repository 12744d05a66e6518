"""Issue 11: left/right swaps and depth-sign flips found and undone (``models.extract.swaps``),
on sports2d's real jumper, where MediaPipe labels him from behind for five frames of his flip."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from models.extract.body_mapping import MP
from models.extract.swaps import ARM, PAIRS, continuous_signs, undo_swaps

LSH, RSH = MP["left_shoulder"], MP["right_shoulder"]


@pytest.fixture(scope="module")
def flip(media):
    """The raw track of demo.mp4 frames 60-84 (the jumper's flip), body only."""
    from models.extract.driver import track_person
    from models.io.video import FileVideo

    return track_person(FileVideo(media("demo.mp4"), start=60, count=25), hands=False, face=False)


def test_the_jumper_labelled_from_behind_mid_flip_is_turned_back(flip):
    x = flip.pose_image[:, [LSH, RSH], 0]
    wrong = x[:, 0] < x[:, 1]  # his left shoulder on the image's left: labelled from behind
    assert 3 <= wrong.sum() <= 8 and not wrong[:5].any() and not wrong[-5:].any()  # in the middle
    fixed, n = undo_swaps(flip)
    fx = fixed.pose_image[:, [LSH, RSH], 0]
    assert n >= wrong.sum() and (fx[:, 0] > fx[:, 1]).all()
    assert np.array_equal(fixed.pose_image[~wrong], flip.pose_image[~wrong])  # the rest untouched


def test_injected_arm_swaps_are_undone_and_crossing_arms_kept(flip):
    clean, _ = undo_swaps(flip)
    bad = clean.pose_image.copy()
    frames = [14, 15, 16]
    a, b = [p for p, _ in ARM], [q for _, q in ARM]
    bad[np.ix_(frames, a + b)] = clean.pose_image[np.ix_(frames, b + a)]
    fixed, n = undo_swaps(replace(clean, pose_image=bad))
    assert n == len(frames) and np.array_equal(fixed.pose_image, clean.pose_image)


def test_depth_steps_keep_a_smooth_sign_change_and_undo_a_jump():
    t = np.linspace(-1, 1, 30)
    smooth = 0.6 * t  # a forearm turning through the picture's plane
    jumpy = np.full(30, 0.5)
    jumpy[10:13] *= -1  # the model's guess flips for three frames
    signs = continuous_signs(np.stack([smooth, jumpy], 1), np.ones(2), np.ones((30, 2), bool))
    assert (signs[:, 0] == 1).all()
    assert (signs[10:13, 1] == -1).all() and (np.delete(signs[:, 1], [10, 11, 12]) == 1).all()


def test_a_pose_labelled_from_behind_throughout_is_turned_by_the_face(media):
    """No jump to see: every frame's labels mirrored. The face mesh (its own left eye is the
    person's left) votes on every frame where it sits on the pose's eyes."""
    from models.extract.driver import track_person
    from models.io.video import FileVideo

    raw = track_person(FileVideo(media("single_face.mp4"), start=0, count=8), hands=False)
    assert raw.face_valid.all() and undo_swaps(raw)[1] == 0  # the detector's own labels stand
    a, b = [p for p, _ in PAIRS], [q for _, q in PAIRS]
    mirrored = raw.pose_image.copy()
    mirrored[:, a + b] = raw.pose_image[:, b + a]
    fixed, n = undo_swaps(replace(raw, pose_image=mirrored))
    assert n == 8 and np.array_equal(fixed.pose_image, raw.pose_image)
