"""Whom Skeleton Extract takes in photos of several people, before and after issue 20, side by side.

Before: the pose model's whole-frame and square searches only (``models.extract.tracking``), and
the largest box of visible landmarks (a face in view first). After: the people found by their
faces too (``models.extract.face_seeds``) and the most prominent of them
(``models.extract.people.prominence``: the visible box inside the frame, weighed by how central it
is). Per photo: how many people each finds, whom each takes (the nose, frame px) and the seconds
the first-frame search takes (2 cores, one run: a rough figure).

    .venv/bin/python -m benchmarks.bench_people

Measured (2 cores shared, load about 10, so the seconds are rough): people found before -> after
3 -> 6 on t1.jpg, 1 -> 3 on its right half and on the composite, 1 -> 2 on bus.jpg, the same on
zidane.jpg, astronaut.png, sports2d frame 0 and the four Pose2Sim views; the person taken changes
on t1.jpg (the woman at the left edge -> the tall man standing), its right half (the seated man
-> the standing man) and the composite (the jumper behind -> the man in front), and on none of
the others. The first-frame search costs 0.2-1.5 s more (t1.jpg 0.98 -> 2.52 s).
"""

from __future__ import annotations

import time

import numpy as np

from models.extract.people import body_box, face_in_view
from models.extract.tracking import PersonFollower
from tests.unit import alignment_measure as am


def photos() -> dict[str, np.ndarray]:
    """The real photos (registry media) and one made of two of them."""
    scene = am.photo("demo.mp4", 0).copy()
    scene[294:994, 790:1210] = am.photo("t1.jpg")[0:700, 860:1280]  # t1's standing man in front of the jumper
    return {
        "t1.jpg (six people at a table)": am.photo("t1.jpg"),
        "t1.jpg right half": np.ascontiguousarray(am.photo("t1.jpg")[:, 560:]),
        "t1 man 700 px before sports2d's jumper": scene,
        "bus.jpg": am.photo("bus.jpg"),
        "zidane.jpg": am.photo("zidane.jpg"),
        "astronaut.png": am.photo("astronaut.png"),
        "demo.mp4 frame 0": am.photo("demo.mp4", 0),
        **{f"Pose2Sim cam0{k} frame 0": am.photo(f"p2s_cam0{k}.mp4", 0) for k in (1, 2, 3, 4)},
    }


def old_choice(people, size):
    """The rule before issue 20: a face in view first, then the largest box of visible landmarks."""
    return max(people, key=lambda p: (face_in_view(p, *size), float(np.prod(body_box(p)[2:] - body_box(p)[:2]))))


def search(image: np.ndarray, faces: bool) -> tuple[int, np.ndarray | None, float]:
    """(people found, nose (2,) of the one taken or None, seconds)."""
    follower = PersonFollower(faces=faces)
    try:
        t0 = time.perf_counter()
        chosen, people = follower.start(image)
        seconds = time.perf_counter() - t0
    finally:
        follower.close()
    if not faces and people:
        chosen = old_choice(people, (image.shape[1], image.shape[0]))
    return len(people), (None if chosen is None else chosen.image[0, :2]), seconds


def main() -> None:
    print(f"{'photo':42s} {'people before -> after':>24s}   taken (nose px) before -> after          seconds")
    for name, image in photos().items():
        search(image, True)  # warm the model files and the tasks
        n0, nose0, s0 = search(image, False)
        n1, nose1, s1 = search(image, True)

        def at(nose) -> str:
            return "nobody" if nose is None else f"({nose[0]:.0f}, {nose[1]:.0f})"

        same = nose0 is not None and nose1 is not None and np.linalg.norm(nose0 - nose1) < 10
        taken = f"{at(nose0)} -> {at(nose1)}{' (same)' if same else ''}"
        print(f"{name:42s} {n0:>15d} -> {n1:<6d}   {taken:38s} {s0:5.2f} -> {s1:5.2f}")


if __name__ == "__main__":
    main()
