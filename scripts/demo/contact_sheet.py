"""A contact sheet of the guidance preview: labelled rows of frames picked evenly from videos.

`make demo` writes demo-output/contact_sheet.jpg from the workflow's real outputs
(the dreamactor guide over the driving clip, the retargeted wan-animate guide drawn
over the character picture, the face crops); README's picture is a copy of it.
"""

from __future__ import annotations

import av
import numpy as np
from PIL import Image, ImageDraw

CELL_HEIGHT = 180
LABEL_WIDTH = 150
GAP = 4


def video_frames(path: str, count: int) -> list[np.ndarray]:
    """``count`` frames spread evenly over the mp4 at ``path``, (H, W, 3) uint8 each."""
    with av.open(path) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    picks = np.linspace(0, len(frames) - 1, min(count, len(frames))).round().astype(int)
    return [frames[i] for i in picks]


def over_picture(guides: list[np.ndarray], picture: np.ndarray, dim: float = 0.45) -> list[np.ndarray]:
    """Draw guide frames (black background) over a dimmed ``picture`` of the same size."""
    base = picture.astype(np.float32) * dim
    out = []
    for g in guides:
        lines = g.astype(np.float32)
        alpha = np.clip(lines.max(axis=-1, keepdims=True) / 64.0, 0.0, 1.0)  # guide strokes are bright
        out.append((base * (1 - alpha) + lines * alpha).astype(np.uint8))
    return out


def _cell(frame: np.ndarray) -> Image.Image:
    h, w = frame.shape[:2]
    return Image.fromarray(frame).resize((max(1, round(w * CELL_HEIGHT / h)), CELL_HEIGHT), Image.LANCZOS)


def contact_sheet(rows: list[tuple[str, list[np.ndarray]]]) -> Image.Image:
    """Rows of (label, frames) -> one picture: the label on the left, frames scaled to one height."""
    cells = [(label, [_cell(f) for f in frames]) for label, frames in rows]
    width = LABEL_WIDTH + max(sum(c.width + GAP for c in row) for _, row in cells)
    sheet = Image.new("RGB", (width, len(cells) * (CELL_HEIGHT + GAP) + GAP), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for r, (label, row) in enumerate(cells):
        y = GAP + r * (CELL_HEIGHT + GAP)
        for i, line in enumerate(label.split("\n")):
            draw.text((8, y + 8 + 14 * i), line, fill=(230, 230, 230))
        x = LABEL_WIDTH
        for cell in row:
            sheet.paste(cell, (x, y))
            x += cell.width + GAP
    return sheet
