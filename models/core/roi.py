"""Square regions of a frame, resampled for a detector, and the way back to frame pixels.

MediaPipe's landmark projection is exact only for square inputs, and its
detectors letterbox to squares anyway, so every image handed to it here is a
square window of the frame (zero padding where the window leaves the frame),
resampled to a fixed size: downsampled for the body (the pose models look at
224-256 px anyway), upsampled for small hands and faces.

    frame_px = crop_px * scale + (x0, y0),   scale = side / size
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class SquareCrop:
    """A ``side`` x ``side`` frame window at (x0, y0), resampled to ``size`` x ``size``."""

    x0: float
    y0: float
    side: float
    size: int

    @classmethod
    def around(cls, center, side: float, size: int | None = None, max_size: int = 512) -> "SquareCrop":
        """A square of ``side`` px centred on ``center`` (x, y); ``size`` defaults to
        ``side`` capped at ``max_size`` (never upsampling unless ``size`` is given)."""
        side = float(max(side, 8.0))
        if size is None:
            size = int(min(round(side), max_size))
        cx, cy = float(center[0]), float(center[1])
        return cls(round(cx - side / 2), round(cy - side / 2), round(side), int(size))

    @classmethod
    def whole(cls, width: int, height: int, max_size: int = 1024) -> "SquareCrop":
        """The whole frame letterboxed into a centred square."""
        side = max(width, height)
        return cls.around((width / 2, height / 2), side, max_size=max_size)

    @property
    def scale(self) -> float:
        """Frame pixels per crop pixel."""
        return self.side / self.size

    @property
    def box(self) -> np.ndarray:
        """(4,) xyxy of the window in frame pixels."""
        return np.array([self.x0, self.y0, self.x0 + self.side, self.y0 + self.side], np.float64)

    def take(self, frame: np.ndarray, mask_boxes=()) -> np.ndarray:
        """The (size, size, 3) uint8 crop of ``frame`` (H, W, 3).

        ``mask_boxes``: xyxy frame boxes painted black first (hide people already found)."""
        H, W = frame.shape[:2]
        x0, y0, side = int(self.x0), int(self.y0), int(self.side)
        window = np.zeros((side, side, frame.shape[2]), np.uint8)
        ax, ay, bx, by = max(x0, 0), max(y0, 0), min(x0 + side, W), min(y0 + side, H)
        if bx > ax and by > ay:
            window[ay - y0 : by - y0, ax - x0 : bx - x0] = frame[ay:by, ax:bx]
        for b in mask_boxes:
            bx0, by0, bx1, by1 = (int(round(v)) for v in np.asarray(b, np.float64) - [x0, y0, x0, y0])
            window[max(by0, 0) : max(by1, 0), max(bx0, 0) : max(bx1, 0)] = 0
        if side == self.size:
            return window
        interp = cv2.INTER_AREA if side > self.size else cv2.INTER_LINEAR
        return cv2.resize(window, (self.size, self.size), interpolation=interp)

    def to_frame(self, normalized: np.ndarray) -> np.ndarray:
        """MediaPipe landmarks (..., >=2) normalised to the crop -> frame pixels.

        x, y map to frame pixels; a third coordinate (MediaPipe's relative depth,
        normalised like x) is scaled to the same frame-pixel units."""
        p = np.array(normalized, np.float64, copy=True)
        p[..., :2] *= self.side
        p[..., 0] += self.x0
        p[..., 1] += self.y0
        if p.shape[-1] > 2:
            p[..., 2] *= self.side
        return p


def box_of(
    points: np.ndarray, weights: np.ndarray | None = None, min_weight: float = 0.5, min_points: int = 4
) -> np.ndarray:
    """(4,) xyxy around points (N, 2), using the ones with ``weights >= min_weight``
    (all of them when fewer than ``min_points`` pass)."""
    pts = np.asarray(points, np.float64)[..., :2]
    if weights is not None:
        keep = np.asarray(weights) >= min_weight
        if keep.sum() >= min_points:
            pts = pts[keep]
    return np.concatenate([pts.min(0), pts.max(0)])


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two xyxy boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / area) if area > 0 else 0.0


class StickyWindow:
    """A crop that stays put while the target moves a little.

    MediaPipe's video mode follows a target from its landmarks in the previous
    image's coordinates; when the crop itself moves every frame, that ROI is off by
    the crop's motion and the tracker loses the target more often (measured on a
    close-up: hands kept on 63 of 240 frames with a crop following the body every
    frame, against 170 with a still one). So a new crop is taken only when the
    wanted one has moved by more than ``shift`` of its side or changed size by more
    than ``resize``.
    """

    def __init__(self, shift: float = 0.1, resize: float = 0.15):
        self.shift, self.resize = shift, resize
        self.current: SquareCrop | None = None

    def update(self, wanted: SquareCrop) -> SquareCrop:
        cur = self.current
        if cur is not None:
            moved = np.hypot(
                wanted.x0 + wanted.side / 2 - cur.x0 - cur.side / 2, wanted.y0 + wanted.side / 2 - cur.y0 - cur.side / 2
            )
            ratio = wanted.side / cur.side
            if moved <= self.shift * cur.side and 1 / (1 + self.resize) <= ratio <= 1 + self.resize:
                return cur
        self.current = wanted
        return wanted

    def reset(self) -> None:
        self.current = None
