"""A picture of the speech: the waveform with the mouth-opening curve over it (no matplotlib)."""

from __future__ import annotations

import numpy as np

from .visemes import NAMES

VISEME_COLOURS = np.array(
    [[200, 60, 60], [240, 170, 40], [70, 140, 230], [90, 200, 110], [190, 90, 210], [150, 150, 150], [40, 40, 40]],
    np.uint8,
)


def speech_plot(
    waveform: np.ndarray, sample_rate: int, openness: np.ndarray, viseme: np.ndarray, fps: float, width: int = 1024
) -> np.ndarray:
    """waveform (C, S) + per-frame openness/viseme (T,) -> (height, width, 3) uint8:
    the waveform's min/max per column (grey), the openness curve (orange, 0 at the
    bottom, 1 at the top), a strip of viseme colours and one tick per second (fewer for
    hours of audio). Memory does not grow with the length; NaN or infinite samples draw as 0 / full scale."""
    import cv2

    H, strip = 180, 14
    img = np.full((H + strip, width, 3), 24, np.uint8)
    T = len(openness)
    dur = T / fps
    S = waveform.shape[1]
    cols = np.minimum((np.arange(width + 1) * dur / width * sample_rate).astype(np.int64), S)
    mid = H // 2
    for x in range(width):  # a column at a time: memory does not grow with the length
        a, b = cols[x], max(cols[x + 1], cols[x] + 1)
        seg = np.asarray(waveform[:, a:b], np.float32).mean(0) if a < S else np.zeros(1)
        seg = np.clip(np.nan_to_num(seg, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)  # never a NaN pixel
        lo, hi = float(seg.min()), float(seg.max())
        cv2.line(img, (x, int(mid - hi * mid * 0.9)), (x, int(mid - lo * mid * 0.9)), (110, 110, 110), 1)
    xs = (np.arange(T) + 0.5) / T * width
    ys = (H - 6) - np.clip(np.nan_to_num(openness), 0, 1) * (H - 12)
    cv2.polylines(img, [np.stack([xs, ys], 1).round().astype(np.int32)], False, (255, 150, 30), 2, cv2.LINE_AA)
    frame_of_x = np.minimum(((np.arange(width) + 0.5) * T / width).astype(np.int64), T - 1)
    img[H:] = VISEME_COLOURS[np.clip(np.asarray(viseme)[frame_of_x], 0, len(VISEME_COLOURS) - 1)][None]
    step = max(1, int(np.ceil(dur / width * 4)))  # hours of audio: a tick every few seconds, not per pixel
    for s in range(0, int(dur) + 1, step):
        x = int(s / dur * width) if dur > 0 else 0
        img[H - 8 : H, min(x, width - 1)] = 230
    return img


def legend() -> str:
    """The viseme colours in words, for the node's text."""
    names = ("red", "amber", "blue", "green", "purple", "grey", "black")
    return ", ".join(f"{c} = {n}" for c, n in zip(names, NAMES))
