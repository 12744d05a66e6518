"""Importing the pack's node modules has no side effects; the extension's load hook registers
the model folders (ComfyUI 0.3.75 never calls on_load, so get_node_list registers too), and a
second registration changes nothing. Runs in a fresh process with the real host's folder_paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.unit import sampler_fixtures as fx

SCRIPT = """
import asyncio, json
from tests.unit import sampler_fixtures as fx
fx.pack()
import folder_paths
import importlib
before = set(folder_paths.folder_names_and_paths)
ext = importlib.import_module(fx.PACK_NAME + ".nodes.extension")
after_import = set(folder_paths.folder_names_and_paths)
asyncio.run(ext.DreamActorExtension().on_load())
once = {k: [list(folder_paths.folder_names_and_paths[k][0]), sorted(folder_paths.folder_names_and_paths[k][1])]
        for k in ext.MODEL_FOLDERS}
asyncio.run(ext.DreamActorExtension().on_load())
nodes = asyncio.run(ext.DreamActorExtension().get_node_list())
twice = {k: [list(folder_paths.folder_names_and_paths[k][0]), sorted(folder_paths.folder_names_and_paths[k][1])]
         for k in ext.MODEL_FOLDERS}
print(json.dumps({"added_by_import": sorted(after_import - before), "once": once, "twice": twice,
                  "models_dir": folder_paths.models_dir, "nodes": len(nodes)}))
"""


@pytest.fixture(scope="module")
def registration():
    fx.host_import.comfy()  # fails clearly when the host is missing
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, cwd=fx.ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_node_modules_registers_no_model_folder(registration):
    assert registration["added_by_import"] == [], (
        "a node module registers a model folder when imported: add it to MODEL_FOLDERS in "
        "nodes/extension.py instead (registered by the extension's load hook)"
    )


def test_on_load_registers_each_model_folder_once_with_its_extensions(registration):
    assert {"smplx", "mediapipe"} <= set(registration["once"])
    for name, (paths, exts) in registration["once"].items():
        assert paths == [os.path.join(registration["models_dir"], name)]
        assert exts and all(e.startswith(".") for e in exts)
    assert registration["twice"] == registration["once"]  # idempotent: on_load, again, get_node_list
    assert registration["nodes"] > 10
