"""Unit tests: ``models/`` on real data, no ComfyUI server; shared fixtures in ``motion_fixtures``,
``sampler_fixtures`` and ``smplx_fixtures``."""
