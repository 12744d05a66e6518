"""The viseme set: a small set of mouth shapes speech is reduced to, per video frame."""

from __future__ import annotations

CLOSED, OPEN, ROUNDED, SPREAD, FV, CONSONANT, SILENCE = range(7)
NAMES = ("closed m/b/p", "open vowel", "rounded vowel", "spread vowel", "f/v", "other consonant", "silence")
VOWELS = (OPEN, ROUNDED, SPREAD)
