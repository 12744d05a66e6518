"""Check the pack's import contracts (pyproject.toml ``[tool.importlinter]``) with import-linter.

    .venv/bin/python -m scripts.harness.lint_imports      (``make lint`` runs it)

ComfyUI imports the pack as a package named after its folder (``custom_nodes/<folder>``,
often with a hyphen), and ``nodes/`` reaches ``models/`` through relative imports
(``from ..models...``). To see those imports, the contracts name the pack ``dreamactor``;
this runs import-linter in a temporary folder where ``dreamactor`` links to the repo.
"""

from __future__ import annotations

import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ALIAS = "dreamactor"  # the package name the contracts use for the repo root


def main() -> int:
    from importlinter.cli import lint_imports

    config = os.path.join(ROOT, "pyproject.toml")
    here = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="dreamactor-lint-") as tmp:
        os.symlink(ROOT, os.path.join(tmp, ALIAS), target_is_directory=True)
        sys.path.insert(0, tmp)
        os.chdir(tmp)
        try:
            return lint_imports(config_filename=config, no_cache=True, no_logo=True)
        finally:
            os.chdir(here)
            sys.path.remove(tmp)


if __name__ == "__main__":
    sys.exit(main())
