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


# ---- issue 20: the person the artist means, in a crowded picture (models.extract.face_seeds)
STANDING_MAN_FACE = (897, 75, 1010, 207)
"""t1.jpg: the face (xyxy px) of the tall man standing at the back right, the most prominent
person of the group (largest body in the picture), whom the whole-frame search misses."""


def _nose(m) -> np.ndarray:
    return m.joints2d[0, BODY["nose"]]


def _in(point, box, dx: float = 0.0) -> bool:
    return box[0] - dx <= point[0] <= box[2] - dx and box[1] <= point[1] <= box[3]


def test_everyone_of_a_group_photo_is_found_and_numbered_from_the_left():
    """t1.jpg, six people round a table: the whole-frame search finds three; the faces find the
    other three (the standing man, the woman behind, the woman on the right)."""
    m = extract_image(am.photo("t1.jpg"), hands=False, face=False)
    boxes = m.get("people_boxes")
    assert len(boxes) == 6, boxes
    assert int(m.get("person_index")) == 4 and _in(_nose(m), STANDING_MAN_FACE), (m.get("person_index"), _nose(m))
    np.testing.assert_allclose(m.get("person_box")[0], boxes[4], atol=1.0)
    # box k of the preview is the person that 'person' k + 1 follows (the same photo: the same search)
    third = extract_image(am.photo("t1.jpg"), person=2, hands=False, face=False)
    assert int(third.get("person_index")) == 2
    np.testing.assert_allclose(third.get("person_box")[0], boxes[2], atol=1.0)


def test_the_prominent_person_is_taken_when_the_whole_frame_search_finds_only_another():
    """t1.jpg cut to its right half: before, the only person found was the seated man in front
    (the standing man above him was missed); now the standing man, the largest, is taken."""
    cut = np.ascontiguousarray(am.photo("t1.jpg")[:, 560:])
    m = extract_image(cut, hands=False, face=False)
    assert len(m.get("people_boxes")) == 3
    assert _in(_nose(m), STANDING_MAN_FACE, dx=560), _nose(m)


def test_a_large_person_in_front_is_taken_over_a_small_one_behind():
    """The press-photo case, from real photos: the standing man of t1.jpg (with the woman in front
    of him) pasted 700 px tall into sports2d's frame, in front of the jumper standing 360 px tall
    on the box behind. Before: only the jumper was found and taken."""
    scene = am.photo("demo.mp4", 0).copy()
    person = am.photo("t1.jpg")[0:700, 860:1280]
    scene[294:994, 790:1210] = person
    m = extract_image(scene, hands=False, face=False)
    assert len(m.get("people_boxes")) == 3
    assert _in(_nose(m), (790 + 37, 294 + 75, 790 + 150, 294 + 207)), _nose(m)


def test_a_number_still_counts_from_the_left():
    cut = np.ascontiguousarray(am.photo("t1.jpg")[:, 560:])
    m = extract_image(cut, person=0, hands=False, face=False)
    boxes = m.get("people_boxes")
    assert int(m.get("person_index")) == 0 and _nose(m)[0] < (boxes[0, 2] + boxes[1, 0]) / 2 + 60


def test_two_men_in_the_street_the_larger_one_stays_taken():
    """bus.jpg: the man in the light coat (found before, 460 px tall) and the man in sunglasses
    beside him (40 px face, found now by his face); the automatic choice keeps the larger one."""
    m = extract_image(am.photo("bus.jpg"), hands=False, face=False)
    boxes = m.get("people_boxes")
    assert len(boxes) == 2 and int(m.get("person_index")) == 0, boxes
    assert _nose(m)[0] < 200, _nose(m)
    other = extract_image(am.photo("bus.jpg"), person=1, hands=False, face=False)
    assert 240 < _nose(other)[0] < 340, _nose(other)
