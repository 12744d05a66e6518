"""Benchmarks: scripts that print figures and ratios measured side by side (``make bench`` runs each
as ``python -m benchmarks.bench_x`` from the repo root). Not tests: nothing here asserts on time."""
