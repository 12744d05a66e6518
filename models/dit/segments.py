"""Segment planning for long videos: every driving frame generated exactly once.

Wan models a window of ``4k + 1`` video frames (the VAE keeps frame 0 and packs
each next 4 frames into one latent frame). A long driving range of N frames is
cut into windows of ``segment_length`` L (default 77) that overlap by
``motion_frames`` M (default 5):

- the first segment generates frames [0, L) of the range;
- each next segment starts M frames before the previous one ended: its first M
  frames are *known* (the previous segment's last M generated frames, given to
  the model as continue-motion frames) and it generates the next L - M frames;
- the last segment only needs M known + r remaining frames. When M + r is not a
  valid ``4k + 1`` length, it is rounded UP to the next one (at most 3 frames
  more, never more than L) by repeating the last driving (pose/face) frame; the
  generated frames for that padding are dropped from the output.

So the ``new`` frames of the segments, in order, are exactly 0..N-1.

M must be 0 (independent segments) or ``4j + 1``: then the known frames fill
exactly j + 1 latent frames, which the model sees as fully known.
Pure Python, no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import DreamActorError

DEFAULT_SEGMENT_LENGTH = 77
DEFAULT_MOTION_FRAMES = 5
FRAMES_PER_LATENT = 4  # Wan VAE temporal compression after the first frame


def is_wan_length(n: int) -> bool:
    """True for frame counts the Wan VAE maps to whole latent frames: 1, 5, 9, ..."""
    return n >= 1 and (n - 1) % FRAMES_PER_LATENT == 0


def wan_length_at_least(n: int) -> int:
    """The smallest valid ``4k + 1`` frame count >= n (n >= 1)."""
    return 1 + FRAMES_PER_LATENT * -(-(max(n, 1) - 1) // FRAMES_PER_LATENT)


def latent_frames(n: int) -> int:
    """Latent frames of a ``4k + 1``-frame window: k + 1."""
    return (n - 1) // FRAMES_PER_LATENT + 1


@dataclass(frozen=True)
class Segment:
    """One sampling window over the driving range (indices relative to the range).

    Window frames, in order: ``known`` frames repeated from the previous segment's
    output, ``new`` frames generated and kept, ``pad`` copies of the last driving
    frame whose output is dropped. ``known + new + pad`` is ``4k + 1``.
    """

    index: int
    start: int  # range index of the window's first frame
    known: int
    new: int
    pad: int

    @property
    def length(self) -> int:
        """Frames the model generates for this window (a ``4k + 1`` count)."""
        return self.known + self.new + self.pad

    @property
    def new_start(self) -> int:
        """Range index of the first frame this segment contributes to the output."""
        return self.start + self.known

    @property
    def new_stop(self) -> int:
        """One past the range index of the last frame this segment contributes."""
        return self.new_start + self.new

    @property
    def known_latent_frames(self) -> int:
        """Latent frames fully covered by the known frames (0 when none)."""
        return latent_frames(self.known) if self.known else 0

    def driving_indices(self) -> list[int]:
        """Range index of the driving frame for each window frame (padding repeats the last)."""
        frames = list(range(self.start, self.new_stop))
        return frames + [self.new_stop - 1] * self.pad

    def keep(self) -> slice:
        """The window frames to keep from this segment's output."""
        return slice(self.known, self.known + self.new)


def _check(num_frames: int, segment_length: int, motion_frames: int) -> None:
    if num_frames < 1:
        raise DreamActorError(
            f"the driving range has {num_frames} frames", fix="choose a range of at least 1 frame", input="frame range"
        )
    if not is_wan_length(segment_length):
        raise DreamActorError(
            f"segment_length {segment_length} is not 4k+1",
            fix=f"use a length like {wan_length_at_least(segment_length)} (1, 5, 9, ... 77, 81)",
            input="segment_length",
        )
    if motion_frames != 0 and not is_wan_length(motion_frames):
        raise DreamActorError(
            f"motion_frames {motion_frames} is neither 0 nor 4j+1",
            fix="use 0, 1, 5, 9, ... (5 is the default)",
            input="motion_frames",
        )
    if motion_frames >= segment_length:
        raise DreamActorError(
            f"motion_frames {motion_frames} is not below segment_length {segment_length}",
            fix="use fewer motion frames than the segment length",
            input="motion_frames",
        )


def plan_segments(
    num_frames: int, segment_length: int = DEFAULT_SEGMENT_LENGTH, motion_frames: int = DEFAULT_MOTION_FRAMES
) -> list[Segment]:
    """Windows covering frames 0..num_frames-1 once each (see the module docstring)."""
    _check(num_frames, segment_length, motion_frames)
    segments: list[Segment] = []
    done = 0  # frames generated so far
    while done < num_frames:
        known = 0 if not segments else motion_frames
        new = min(segment_length - known, num_frames - done)
        length = wan_length_at_least(known + new)
        segments.append(
            Segment(index=len(segments), start=done - known, known=known, new=new, pad=length - known - new)
        )
        done += new
    return segments
