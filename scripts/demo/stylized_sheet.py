"""docs/stylized_character.jpg: a real clip's motion on characters no pose detector reads well.

Three characters of the stylized dev set (``scripts.harness.stylized_media``): Kenney's alien
(MediaPipe finds nobody), a flat Noto emoji sprite and a 3D-rendered Fluent emoji person. Per
row: the picture; the skeleton ``extract_character`` gives it (fitted to its silhouette, or the
detection where it agrees with it), drawn over the picture; then the sports2d clip's jumping
jacks (demo.mp4, extracted and head-fitted) retargeted onto it with the defaults (``match
reference``, no edits) and drawn in the dreamactor style over the dimmed picture on a few frames.
Nothing is touched up: these are the pack's own functions, as the nodes run them.

    .venv/bin/python -m scripts.demo.stylized_sheet [OUT]   # default docs/stylized_character.jpg
"""

from __future__ import annotations

import os
import sys

import numpy as np

from models.extract.stylized import extract_character
from models.head.sphere import fit_head_sphere
from models.io.video import ArrayVideo
from models.render.guide_video import GuideVideo
from models.retarget.transfer import retarget
from scripts.demo.contact_sheet import contact_sheet
from scripts.harness.stylized_media import dev_picture
from tests.unit import alignment_measure as am

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHARACTERS = (
    ("kenney_alien_front", "Kenney alien\n(no person found:\nskeleton fitted)"),
    ("noto_person_walking", "Noto emoji sprite\n(64 px, upscaled;\nskeleton fitted)"),
    ("fluent_person_standing", "Fluent 3D emoji\n(MediaPipe's\ndetection kept)"),
)
CLIP, START, COUNT = "demo.mp4", 0, 100
PICKS = (0, 25, 50, 75)
SIDE = 384  # pixels the pictures are drawn at


def over(picture: np.ndarray, motion, frames, dim: float) -> list[np.ndarray]:
    """The guide of ``motion`` on ``frames`` drawn over the picture (dimmed by ``dim``)."""
    background = ArrayVideo(np.broadcast_to(picture, (motion.num_frames, *picture.shape)), motion.fps)
    guide = GuideVideo(motion, SIDE, SIDE, "dreamactor", "stretch", background=background, background_dim=dim)
    return [guide.frame(int(t)) for t in frames]


def rows() -> list[tuple[str, list[np.ndarray]]]:
    driving = am.clip_motion(CLIP, START, COUNT)
    out = []
    for name, label in CHARACTERS:
        picture, _ = dev_picture(name)
        reference = fit_head_sphere(extract_character(picture))
        guided, _ = retarget(driving, reference)
        out.append((label, [picture, *over(picture, reference, [0], 0.5), *over(picture, guided, PICKS, 0.6)]))
    return out


def main(out: str = os.path.join(ROOT, "docs", "stylized_character.jpg")) -> str:
    sheet = contact_sheet(rows())  # one row per character
    sheet.save(out, quality=85)
    return out


if __name__ == "__main__":
    print(main(*sys.argv[1:]))
