"""Every DreamActor node has a help page the frontend serves, covering each of its inputs."""

from __future__ import annotations

import os
import re
import urllib.request

import pytest

pytestmark = pytest.mark.host
DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "web", "docs")


def test_every_node_has_a_help_page_covering_its_inputs(server):
    info = server.get("/object_info")
    ours = sorted(k for k in info if k.startswith("DreamActor"))
    assert len(ours) >= 9
    for node_id in ours:
        path = os.path.join(DOCS, f"{node_id}.md")
        assert os.path.exists(path), f"{node_id} has no help page web/docs/{node_id}.md"
        text = open(path).read()
        assert text.startswith(f"# {info[node_id]['display_name']}"), node_id
        assert "## Errors and fixes" in text or "## Errors" in text, node_id
        inputs = [*info[node_id]["input"].get("required", {}), *info[node_id]["input"].get("optional", {})]
        for name in inputs:
            assert re.search(rf"\*\*{re.escape(name)}\*\*", text), f"{node_id}: input '{name}' is not described"
        # the path the frontend's node help fetches
        with urllib.request.urlopen(f"{server.url}/extensions/ComfyUI-DreamActor/docs/{node_id}.md") as r:
            assert r.read().decode() == text
