"""`make workflows`: (re)write workflows/*.json from scripts/workflows/workflow_specs.py.

Starts the real ComfyUI server with the pack, reads the node definitions from
``/object_info`` and builds every spec against them, so the files always match the
code. ``--check`` writes nothing and exits 1 when a committed file is stale.

    python -m scripts.workflows.build_workflows           # write workflows/<name>.json
    python -m scripts.workflows.build_workflows --check   # compare only
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys

import tomllib

from scripts.harness.comfy_server import BASE, ROOT, ComfyServer  # noqa: E402
from scripts.workflows.workflow_builder import Versions, build, dumps  # noqa: E402
from scripts.workflows.workflow_specs import SPECS  # noqa: E402

WORKFLOWS = os.path.join(ROOT, "workflows")


def names() -> list[str]:
    """The example workflows' names (file names without .json), in the README's order."""
    return [make().name for make in SPECS]


def load(name: str) -> dict:
    """The committed workflow file ``name``."""
    with open(os.path.join(WORKFLOWS, name + ".json")) as f:
        return json.load(f)


def pack_folder_name(base: str = BASE) -> str:
    """The pack's folder name in the host's custom_nodes: ComfyUI serves a pack's workflows/
    as templates under it (app/custom_node_manager.py)."""
    folder = os.path.join(base, "custom_nodes")
    for entry in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if os.path.realpath(os.path.join(folder, entry)) == os.path.realpath(ROOT):
            return entry
    return os.path.basename(ROOT)


def template_path(name: str, base: str = BASE) -> str:
    """The page path that opens workflow ``name`` in the frontend (its ?template= loader)."""
    return f"/?template={name}&source={pack_folder_name(base)}"


def versions(server) -> Versions:
    """The installed frontend, the host's ComfyUI and this pack (from pyproject.toml)."""
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    return Versions(
        frontend=importlib.metadata.version("comfyui_frontend_package"),
        comfyui=server.get("/system_stats")["system"]["comfyui_version"],
        pack_id=project["name"],
        pack_version=project["version"],
    )


def build_all(server) -> dict[str, str]:
    """name -> file text of every workflow, built against the server's node definitions."""
    info, ver = server.get("/object_info"), versions(server)
    texts = {}
    for make in SPECS:
        spec = make()
        texts[spec.name] = dumps(build(spec, info, ver))
    return texts


def stale(texts: dict[str, str], folder: str = WORKFLOWS) -> list[str]:
    """Names whose committed file differs from the rebuilt one (or is missing), plus extra files."""
    out = []
    for name, text in texts.items():
        path = os.path.join(folder, name + ".json")
        if not os.path.exists(path) or json.load(open(path)) != json.loads(text):
            out.append(name)
    extra = {f[:-5] for f in os.listdir(folder) if f.endswith(".json")} - set(texts) if os.path.isdir(folder) else set()
    return out + sorted(f"{name} (no spec)" for name in extra)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when a file is stale")
    args = parser.parse_args()
    with ComfyServer() as server:
        texts = build_all(server)
    if args.check:
        bad = stale(texts)
        print("stale: " + ", ".join(bad) if bad else f"{len(texts)} workflows up to date")
        return 1 if bad else 0
    os.makedirs(WORKFLOWS, exist_ok=True)
    for name, text in texts.items():
        with open(os.path.join(WORKFLOWS, name + ".json"), "w") as f:
            f.write(text)
        print(os.path.relpath(os.path.join(WORKFLOWS, name + ".json"), ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
