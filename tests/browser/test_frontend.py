"""The real ComfyUI frontend in headless chromium: the pack's JS loads, its nodes are in
the library, and a graph built in the page runs and shows the node's report."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

pytestmark = pytest.mark.browser
HERE = os.path.dirname(os.path.abspath(__file__))


def run_node_script(script: str, *args: str, timeout: float = 300) -> dict:
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        pytest.fail("playwright-core is missing: run `make setup`")
    proc = subprocess.run(
        ["node", os.path.join(HERE, script), *args], cwd=HERE, capture_output=True, text=True, timeout=timeout
    )
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    assert lines, f"no result from {script}:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(lines[-1])


def test_extension_and_nodes_in_the_real_frontend(server, put_media, artifacts_dir):
    video = put_media("single_face.mp4")
    shot = os.path.join(artifacts_dir, "frontend_nodes.png")
    result = run_node_script("frontend_check.mjs", server.url, video, shot)
    assert "error" not in result, result.get("error")
    assert result["extensionLoaded"]
    for node_id in (
        "DreamActorLoadVideo",
        "DreamActorImagesToVideo",
        "DreamActorSaveVideo",
        "DreamActorSaveMotion",
        "DreamActorLoadMotion",
    ):
        assert node_id in result["nodeTypes"]
    assert result["promptNodes"] == ["DreamActorLoadVideo", "DreamActorSaveVideo"]
    assert "8 frames" in result["infoText"] and "640x360" in result["infoText"]
    assert os.path.getsize(shot) > 10_000
    ours = [e for e in result["consoleErrors"] if "dreamactor" in e.lower()]
    assert not ours, ours
