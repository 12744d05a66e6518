"""Test assets built on demand (tiny random-weight checkpoints in the real key layouts)."""
