"""No module reaches into another module's ``_private`` names (DESIGN.md section 6): in
``models/`` and ``nodes/``, a name that starts with one underscore is used only in its own
module. Import contracts (layers, Comfy-free models) are checked by ``make lint``
(import-linter, pyproject.toml); this is the part import-linter cannot see."""

from __future__ import annotations

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGES = ("models", "nodes")


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _ours(module: str | None) -> bool:
    """An absolute import of the pack's own code (third-party privates are not ours to police)."""
    return bool(module) and module.split(".")[0] in PACKAGES


def private_uses(path: str) -> list[str]:
    """'line: what' for each other-module private name imported or read in the file at ``path``."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    found, modules = [], set()  # modules: local names bound to the pack's own modules
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or _ours(node.module)):
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{node.lineno}: from {'.' * node.level}{node.module or ''} import {alias.name}")
                modules.add(alias.asname or alias.name)  # may be a module (from . import x)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _ours(alias.name):
                    modules.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id in modules and _private(node.attr):
                found.append(f"{node.lineno}: {node.value.id}.{node.attr}")
    return found


def _files():
    for package in PACKAGES:
        for folder, _, files in os.walk(os.path.join(ROOT, package)):
            for f in sorted(files):
                if f.endswith(".py"):
                    yield os.path.relpath(os.path.join(folder, f), ROOT)


@pytest.mark.parametrize("rel", list(_files()))
def test_no_module_uses_another_modules_private_names(rel):
    assert private_uses(os.path.join(ROOT, rel)) == []


def test_the_check_sees_a_private_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from ..retarget.kinematics import _seen\nfrom . import sphere\nimport numpy as np\n"
        "x = sphere._kernel(2) + np._core\n"
    )
    assert private_uses(str(bad)) == ["1: from ..retarget.kinematics import _seen", "4: sphere._kernel"]


def test_the_dev_extra_lists_what_make_setup_installs():
    import tomllib

    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        extra = tomllib.load(f)["project"]["optional-dependencies"]["dev"]
    with open(os.path.join(ROOT, "requirements-dev.txt")) as f:
        listed = [line.split("#")[0].strip() for line in f if line.split("#")[0].strip()]
    assert sorted(extra) == sorted(listed)
