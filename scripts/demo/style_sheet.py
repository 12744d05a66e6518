"""docs/styles.jpg: the guide styles side by side on one retargeted motion of the sample media.

The sports2d clip's jumping jacks (frames 60-129) are extracted, their head sphere fitted,
retargeted onto the astronaut photo (its bone lengths and framing), and five frames of
that motion are drawn in every style of ``models.render.frames.STYLES``, one row each.
Run: ``.venv/bin/python -m scripts.demo.style_sheet [OUT]`` (default docs/styles.jpg).
"""

from __future__ import annotations

import os
import sys

import numpy as np
from PIL import Image

from models.extract.driver import extract_image, extract_motion
from models.head.sphere import fit_head_sphere
from models.io.video import FileVideo
from models.render.frames import STYLES, render_frame
from models.retarget.transfer import retarget
from scripts.demo.contact_sheet import contact_sheet
from scripts.harness import fetch_media

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLIP, START, COUNT, PICKS = "demo.mp4", 60, 70, 5


def retargeted_motion():
    """The clip's jumping jacks on the astronaut's body, framed into her picture."""
    driving = fit_head_sphere(extract_motion(FileVideo(fetch_media.fetch(CLIP), start=START, count=COUNT)))
    picture = np.asarray(Image.open(fetch_media.fetch("astronaut.png")).convert("RGB"))
    reference = fit_head_sphere(extract_image(picture))
    motion, _ = retarget(driving, reference)
    return motion, picture


def main(out: str = os.path.join(ROOT, "docs", "styles.jpg")) -> str:
    motion, picture = retargeted_motion()
    w, h = motion.image_size
    picks = np.linspace(0, 0.75 * (motion.num_frames - 1), PICKS).round().astype(int)  # she leaves the picture after
    rows = [("the character\n(astronaut.png)", [picture])]
    for style in STYLES:
        rows.append((f"{style}", [render_frame(motion, int(t), w, h, style=style) for t in picks]))
    sheet = contact_sheet(rows)
    sheet.save(out, quality=88)
    return out


if __name__ == "__main__":
    print(main(*sys.argv[1:]))
