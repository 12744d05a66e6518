"""The tracked person's two hands, with MediaPipe Hands on crops chosen by hand size.

Two regimes, picked per frame by how big a hand is next to the body crop:

* **small hands** (full-body shots: a hand is a few dozen pixels, far too small
  for the palm detector on the whole frame): each side gets its own square crop
  around the hand as the body model places it (its knuckle points), 0.4 m wide
  at the body's scale, upsampled to 256 px, with its own
  video-mode hand model. A hand found there belongs to that side if its wrist is
  near that side's pose wrist, and nearer it than the other pose wrist.
* **large hands** (portraits, close-ups: the body model's wrists are guesses,
  often far off the frame, while the hand is big): one video-mode model looking
  for two hands on the whole body crop; hands are given sides by the nearest
  confident pose wrist, else by MediaPipe's handedness label.

MediaPipe's handedness label: the legacy Hands solution (0.10.21) assumed a mirrored
(selfie) image, so on ordinary video its "Left" was the person's right hand; the Tasks
API's Hand Landmarker (1.x) names the person's own side. Checked on
WolfgangLanger_Pexels.mp4, where the hand she raises with her right arm (the image's
left side, next to the pose's right wrist) is labelled "Right" (0.95-0.98) by 1.2.3 and
was labelled "Left" by 0.10.21. On the small, backlit hands of demo.mp4 the legacy label
matched the side on only 47 % (left) / 73 % (right) of the hands found, so it is a
tie-breaker, never the rule there.
"""

from __future__ import annotations

import numpy as np

from ..core.roi import SquareCrop
from .body_mapping import MP
from .landmarkers import HandLandmarker, HandResult, PoseResult

HAND_METRES = 0.19
"""Length of a hand, wrist to middle fingertip."""
LARGE_HAND = 0.12
"""A hand longer than this fraction of the body crop is found on the body crop itself."""
HAND_CROP_METRES = 0.4
"""Crop width at the wrist: a hand is ~0.19 m long, so it fills about half of it."""
HAND_CROP_SIZE = 256
WRIST_GATE_METRES = 0.2
"""A hand's wrist must be this close to the pose wrist of its side."""
SAME_HAND_METRES = 0.04
"""Two detections whose wrists are this close are one hand seen by both crops."""

SIDES = ("left", "right")
HAND_LABEL = {"left": "Left", "right": "Right"}
"""MediaPipe Tasks' handedness label for the person's left / right hand."""


def hand_center(pose: PoseResult, side: str) -> np.ndarray:
    """(2,) frame px: the pose's index and pinky points (knuckles), midway along the hand."""
    return pose.image[[MP[f"{side}_index"], MP[f"{side}_pinky"]], :2].mean(0)


def label_agrees(hand: HandResult, side: str) -> bool:
    return hand.label == HAND_LABEL[side]


class HandPair:
    """The hand models of one tracked person (see the module docstring)."""

    def __init__(self, video_mode: bool = True):
        self.video_mode = video_mode
        self.models: dict[str, HandLandmarker] = {}

    def _model(self, key: str, max_hands: int) -> HandLandmarker:
        if key not in self.models:
            self.models[key] = HandLandmarker(video_mode=self.video_mode, max_hands=max_hands)
        return self.models[key]

    def process(self, frame: np.ndarray, pose: PoseResult, px_per_metre: float) -> dict[str, HandResult | None]:
        """The person's hands on ``frame``: {"left": hand or None, "right": ...}.

        ``px_per_metre``: the body's image scale; ``pose.crop`` is the body crop."""
        hand_px = HAND_METRES * px_per_metre
        if pose.crop is not None and hand_px >= LARGE_HAND * pose.crop.side:
            c = pose.crop  # the body's window at full resolution: the pose crop is downsampled
            hands = self._model("body", 2).process(frame, SquareCrop(c.x0, c.y0, c.side, int(min(c.side, 1024))))
            return assign_sides(hands, pose, px_per_metre)
        found: dict[str, HandResult | None] = {}
        for side in SIDES:
            crop = SquareCrop.around(hand_center(pose, side), HAND_CROP_METRES * px_per_metre, size=HAND_CROP_SIZE)
            hands = self._model(side, 1).process(frame, crop)
            near = [h for h in hands if _own_wrist(h, pose, side, px_per_metre)]
            found[side] = near[0] if near else None
        return _one_owner(found, pose, px_per_metre)

    def reset(self) -> None:
        """Forget the previous hands (the person was lost and found elsewhere)."""
        for m in self.models.values():
            m.reset()

    def close(self) -> None:
        for m in self.models.values():
            m.close()


def _own_wrist(hand: HandResult, pose: PoseResult, side: str, px_per_metre: float) -> bool:
    """Is ``hand``'s wrist within the gate of ``side``'s pose wrist and nearer it than the
    other wrist? (With hands close together, a video-mode hand model can stay on the other
    hand after its crop moved: seen with MediaPipe 1.x on demo.mp4's jumping jacks.)"""
    own = np.linalg.norm(hand.image[0, :2] - pose.image[MP[f"{side}_wrist"], :2])
    other = np.linalg.norm(hand.image[0, :2] - pose.image[MP[f"{SIDES[side == 'left']}_wrist"], :2])
    return bool(own <= WRIST_GATE_METRES * px_per_metre and own < other)


def assign_sides(hands: list[HandResult], pose: PoseResult, px_per_metre: float) -> dict[str, HandResult | None]:
    """Give up to two hands a side each, by the cheapest assignment: a hand costs
    its distance (metres) to a confident pose wrist, plus 0.3 m when MediaPipe's
    label says the other side (the label decides when no wrist is confident)."""
    out: dict[str, HandResult | None] = {s: None for s in SIDES}
    if not hands:
        return out

    def cost(h: HandResult, side: str) -> float:
        c = 0.3 * h.score * (not label_agrees(h, side))
        j = MP[f"{side}_wrist"]
        if pose.visibility[j] >= 0.5:
            c += np.linalg.norm(h.image[0, :2] - pose.image[j, :2]) / px_per_metre
        return c

    hands = sorted(hands, key=lambda h: -h.score)[:2]
    if len(hands) == 1:
        best = min(SIDES, key=lambda s: cost(hands[0], s))
        out[best] = hands[0]
        return out
    a, b = hands
    straight = cost(a, "left") + cost(b, "right")
    crossed = cost(a, "right") + cost(b, "left")
    out["left"], out["right"] = (a, b) if straight <= crossed else (b, a)
    return out


def _one_owner(found: dict, pose: PoseResult, px_per_metre: float) -> dict:
    """When both side crops found the same hand (hands together), give it to one side:
    the one MediaPipe's label agrees with, else the nearer pose wrist."""
    a, b = found["left"], found["right"]
    if a is None or b is None:
        return found
    if np.linalg.norm(a.image[0, :2] - b.image[0, :2]) > SAME_HAND_METRES * px_per_metre:
        return found
    agree = {s: label_agrees(found[s], s) for s in SIDES}
    if agree["left"] != agree["right"]:
        keep = "left" if agree["left"] else "right"
    else:
        dist = {s: np.linalg.norm(found[s].image[0, :2] - pose.image[MP[f"{s}_wrist"], :2]) for s in SIDES}
        keep = min(dist, key=dist.get)
    return {s: (found[s] if s == keep else None) for s in SIDES}
