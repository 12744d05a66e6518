"""A real ComfyUI server with the pack loaded, shared by all host tests of a session."""
from __future__ import annotations

import os

import pytest

from comfy_server import ComfyServer


@pytest.fixture(scope="session")
def server():
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


def prompt_error_text(exc) -> str:
    """Everything the server said about a failed prompt, as one string to search."""
    return str(exc) + " " + repr(getattr(exc, "details", ""))
