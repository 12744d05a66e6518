"""Issue 11: a person in any ordinary photo (``models.extract.tracking`` tiled search) and
"largest" judged by what is visible (``models.extract.people.choose_person``), on photos
made from the real sample media."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from models.core.skeleton import BODY
from models.extract.driver import extract_image

from . import alignment_measure as am

MARGIN = 40
"""Pixels kept around the sports2d jumper's box when he is cut out of frame 0."""


def _jumper(height: int) -> tuple[np.ndarray, float]:
    """(image (height, w, 3), his eye line's y in it): sports2d's jumper (frame 0, box + margin)."""
    img = am.photo("demo.mp4", 0)
    m = am.photo_motion("demo.mp4", 0)
    box = m.get("person_box")[0].astype(int)
    top = max(box[1] - MARGIN, 0)
    person = img[top : box[3] + MARGIN, max(box[0] - MARGIN, 0) : box[2] + MARGIN]
    scale = height / person.shape[0]
    small = cv2.resize(person, (round(person.shape[1] * scale), height), interpolation=cv2.INTER_AREA)
    eyes = float(m.joints2d[0, [BODY["left_eye"], BODY["right_eye"]], 1].mean())
    return small, (eyes - top) * scale


@pytest.mark.parametrize("height", [160, 90, 70])
def test_a_small_person_in_a_wide_grey_photo_is_found(height):
    """The jumper shrunk to ``height`` px on a 1600x1200 mid-grey photo: the whole-frame pass
    finds nobody, the tiled search finds him where he stands (70 px: at short side / 6)."""
    small, _ = _jumper(height)
    canvas = np.full((1200, 1600, 3), 128, np.uint8)
    canvas[700 : 700 + height, 900 : 900 + small.shape[1]] = small
    found = extract_image(canvas, hands=False, face=False).get("person_box")[0]
    assert 890 <= found[0] and found[2] <= 910 + small.shape[1] and 690 <= found[1] and found[3] <= 710 + height, found


def _two_people() -> tuple[np.ndarray, float, int]:
    """(canvas (1000, 1200, 3), the big jumper's eye line y, where the astronaut starts in x):
    the jumper 900 px tall on the left, the astronaut's 512 px portrait at 300 px on the right."""
    big, eyes = _jumper(900)
    canvas = np.full((1000, 1200, 3), 128, np.uint8)
    canvas[50:950, 100 : 100 + big.shape[1]] = big
    canvas[600:900, 800:1100] = cv2.resize(am.photo("astronaut.png"), (300, 300), interpolation=cv2.INTER_AREA)
    return canvas, 50 + eyes, 800


def test_largest_is_the_larger_body_when_both_faces_are_in_view():
    canvas, _, astronaut_x = _two_people()
    box = extract_image(canvas, hands=False, face=False).get("person_box")[0]
    assert box[2] < astronaut_x and box[3] - box[1] > 600, box  # the jumper


def test_largest_is_the_visible_face_when_the_larger_bodys_face_is_cut_off():
    """The same photo cut at the jumper's eyes: his body is still found (3x the astronaut's
    box) with his face landmarks squeezed against the edge; the astronaut's whole face wins."""
    canvas, eyes, astronaut_x = _two_people()
    cut = np.ascontiguousarray(canvas[int(eyes) :])
    box = extract_image(cut, hands=False, face=False).get("person_box")[0]
    assert box[0] >= astronaut_x - 20, box  # the astronaut
