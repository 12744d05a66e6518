"""Segment planning: exact coverage of the driving range, valid Wan lengths."""

from __future__ import annotations

import itertools

import pytest

from models.core.errors import DreamActorError
from models.dit.segments import Segment, is_wan_length, latent_frames, plan_segments, wan_length_at_least

LENGTHS = [1, 5, 9, 13, 17, 33, 77, 81]
MOTIONS = [0, 1, 5, 9]
COUNTS = list(range(1, 40)) + [76, 77, 78, 79, 80, 81, 82, 149, 150, 151, 152, 153, 154, 155, 300, 1001, 18000]


def combos():
    for n, length, m in itertools.product(COUNTS, LENGTHS, MOTIONS):
        if m < length:
            yield n, length, m


def test_wan_length_helpers():
    assert [n for n in range(1, 20) if is_wan_length(n)] == [1, 5, 9, 13, 17]
    assert [wan_length_at_least(n) for n in range(1, 11)] == [1, 5, 5, 5, 5, 9, 9, 9, 9, 13]
    assert [latent_frames(n) for n in (1, 5, 9, 77, 81)] == [1, 2, 3, 20, 21]


def test_every_frame_exactly_once_over_many_combos():
    checked = 0
    for n, length, m in combos():
        segs = plan_segments(n, length, m)
        produced = [f for s in segs for f in range(s.new_start, s.new_stop)]
        assert produced == list(range(n)), (n, length, m)
        checked += 1
    assert checked > 1000


@pytest.mark.parametrize("n,length,m", list(combos())[::7])
def test_segment_invariants(n, length, m):
    segs = plan_segments(n, length, m)
    assert [s.index for s in segs] == list(range(len(segs)))
    for i, s in enumerate(segs):
        assert is_wan_length(s.length) and s.length <= length
        assert s.new >= 1 and 0 <= s.pad < 4
        assert s.start >= 0 and s.new_stop <= n
        assert len(s.driving_indices()) == s.length
        assert s.driving_indices()[-1] == s.new_stop - 1  # padding repeats the last driving frame
        kept = s.driving_indices()[s.keep()]
        assert kept == list(range(s.new_start, s.new_stop))
        if i == 0:
            assert s.known == 0 and s.start == 0
        else:
            prev = segs[i - 1]
            assert s.known == m
            # known frames are exactly the previous segment's last m generated frames
            assert s.start == prev.new_stop - m and s.new_start == prev.new_stop
            assert prev.pad == 0  # only the last segment is padded
        if i < len(segs) - 1:
            assert s.length == length and s.pad == 0  # all but the last are full windows


def test_first_segment_makes_full_window_then_l_minus_m():
    segs = plan_segments(300, 77, 5)
    assert segs[0] == Segment(index=0, start=0, known=0, new=77, pad=0)
    assert segs[1] == Segment(index=1, start=72, known=5, new=72, pad=0)
    assert segs[1].known_latent_frames == 2
    last = segs[-1]
    # 300 = 77 + 3 * 72 + 7: the last holds 5 known + 7 new = 12 frames -> 13 with 1 pad
    assert [s.new for s in segs] == [77, 72, 72, 72, 7]
    assert (last.known, last.new, last.pad, last.length) == (5, 7, 1, 13)
    assert last.driving_indices()[-2:] == [299, 299]


def test_single_frame_range():
    assert plan_segments(1) == [Segment(index=0, start=0, known=0, new=1, pad=0)]
    assert plan_segments(1, 1, 0) == [Segment(index=0, start=0, known=0, new=1, pad=0)]


def test_range_shorter_than_segment_is_one_padded_window():
    segs = plan_segments(10, 77, 5)
    assert segs == [Segment(index=0, start=0, known=0, new=10, pad=3)]
    assert segs[0].length == 13 and segs[0].driving_indices()[-4:] == [9, 9, 9, 9]


def test_exact_fit_needs_no_padding():
    segs = plan_segments(77 + 72 * 3, 77, 5)
    assert len(segs) == 4 and all(s.pad == 0 for s in segs)


def test_no_motion_frames_gives_independent_windows():
    segs = plan_segments(20, 9, 0)
    assert [(s.start, s.known, s.new, s.pad) for s in segs] == [(0, 0, 9, 0), (9, 0, 9, 0), (18, 0, 2, 3)]


@pytest.mark.parametrize(
    "n,length,m,field",
    [
        (0, 77, 5, "frame range"),
        (10, 76, 5, "segment_length"),
        (10, 0, 0, "segment_length"),
        (10, 77, 4, "motion_frames"),
        (10, 9, 9, "motion_frames"),
        (10, 5, 13, "motion_frames"),
    ],
)
def test_invalid_plans_raise_clear_errors(n, length, m, field):
    with pytest.raises(DreamActorError) as err:
        plan_segments(n, length, m)
    assert err.value.input == field and "Fix:" in str(err.value)
