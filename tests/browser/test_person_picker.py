"""The person picker in the real ComfyUI frontend (headless chromium): t1.jpg (six people round a
table) into Skeleton Extract, a mouse click on box 1 of the node's preview sets `person` to 1,
and the next run takes that person; on a clip with two people (Pose2Sim's cam01), the first
frame of the preview grid opened by a click, then a click on the other person's box."""

from __future__ import annotations

import os

import pytest

from tests.browser.test_frontend import run_node_script

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def session(server, put_media, artifacts_dir):
    image = put_media("t1.jpg")
    video = put_media("p2s_cam01.mp4")
    shot = os.path.join(artifacts_dir, "person_picker.png")
    result = run_node_script("person_picker_check.mjs", server.url, image, video, shot, timeout=600)
    assert "error" not in result, result.get("error") + "\n" + server.log_tail()
    return result, shot


def test_the_first_run_numbers_everyone_and_says_who_was_taken(session):
    r, _ = session
    first = r["first"]
    people = first["people"][0]
    assert len(people["boxes"]) == 6 and people["taken"] == 5 and people["person"] == 0, people
    text = first["text"][0]
    assert "6 people found; took #5 (the most prominent" in text, text
    assert "Set 'person' to 1-6" in text and "click a box in the preview" in text, text
    assert first["widget"] == 0


def test_a_click_on_a_box_sets_person(session):
    r, _ = session
    assert r["corner"]["hit"] == 0 and r["corner"]["widget"] == 0, r["corner"]  # outside every box: nothing
    assert r["target"] is not None
    assert r["afterClick"] == 1, r["afterClick"]
    assert r["nextOutlinePixels"] > 300, r["nextOutlinePixels"]  # box 1 outlined for the next run


def test_the_next_run_takes_the_person_clicked(session):
    r, _ = session
    second = r["second"]
    assert second["widget"] == 1
    assert second["people"][0]["taken"] == 1 and second["people"][0]["person"] == 1, second["people"]
    assert "took #1 ('person' is 1)" in second["text"][0], second["text"]


def test_on_a_clip_the_first_frame_is_opened_then_a_box_clicked(session):
    r, _ = session
    clip = r["clip"]
    assert clip["images"] == 4 and len(clip["people"][0]["boxes"]) == 2, clip
    assert "2 people found on frame 0; took #" in clip["text"][0], clip["text"]
    assert clip["gridShown"] and clip["cell"] is not None  # the grid: no picking there
    assert clip["afterOpening"] == 0  # opening the first frame chooses nobody
    assert clip["afterClick"] == clip["other"], clip


def test_screenshot_and_no_errors_of_ours(session):
    r, shot = session
    assert os.path.getsize(shot) > 20_000
    ours = [e for e in r["consoleErrors"] if "dreamactor" in e.lower() or "person" in e.lower()]
    assert not ours, ours
