"""Draws docs/icon.png (the registry icon, 400x400): a jumping-jack pose in the ``dreamactor``
guide style, through the pack's own renderer.

    .venv/bin/python -m scripts.demo.icon
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from models.core.skeleton import BODY
from models.render.frames import render_frame
from tests.unit.motion_fixtures import hand_points, person_motion, reproject

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PATH = os.path.join(ROOT, "docs", "icon.png")
SIZE = 400


def jumping_jack():
    """One frame of a person with both arms raised in a V (tests' standing person, arms moved)."""
    m = person_motion(1, image_size=(512, 512), arms="t", pelvis=(0.0, 0.15, 2.6))
    ix = BODY.index
    for side, sign in (("left", 1), ("right", -1)):
        shoulder = m.joints3d[0, ix[f"{side}_shoulder"]]
        for joint, reach in (("elbow", 0.28), ("wrist", 0.55)):
            m.joints3d[0, ix[f"{side}_{joint}"]] = shoulder + reach * np.array([0.55 * sign, -0.83, 0.0])
    hands = m.optional["hands3d"]
    for h, side in enumerate(("left", "right")):
        hands[0, h] = hand_points(m.joints3d[0, ix[f"{side}_wrist"]], m.joints3d[0, ix[f"{side}_elbow"]])
    return reproject(m)


def main() -> None:
    Image.fromarray(render_frame(jumping_jack(), 0, SIZE, SIZE, style="dreamactor")).save(PATH, optimize=True)
    print(PATH, os.path.getsize(PATH), "bytes")


if __name__ == "__main__":
    main()
