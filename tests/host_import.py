"""The one place that makes the vendored ComfyUI host importable in-process.

Tests that need the host's real code (loaders, models, sampler) call
``host_import.comfy()`` before importing any ``comfy.*`` module::

    from tests import host_import
    host_import.comfy()
    import comfy.sd

What it does, once per process:

- appends ``.host/comfyui`` to the END of ``sys.path``: the repo root stays first,
  so ``models`` is this pack's package. ``comfy`` and everything under it import
  only from the host (comfy/ never imports the host's top-level ``nodes`` or
  ``utils`` modules, whose names clash with this pack's folders; so do not import
  ``comfy_extras`` or the host's ``nodes`` from in-process tests);
- parses the host's command line as ``--cpu`` (HOST-NOTES pitfall 8): the host
  reads its arguments at ``comfy.cli_args`` import time, so ``sys.argv`` is swapped
  for that import only and restored afterwards.
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = os.path.join(ROOT, ".host", "comfyui")
HOST_ARGS = ["--cpu"]

_ready = False


def comfy():
    """Make ``comfy.*`` importable with the host parsed as ``--cpu``; returns the host folder."""
    global _ready
    if _ready:
        return HOST
    if not os.path.isdir(os.path.join(HOST, "comfy")):
        raise RuntimeError(f"ComfyUI host not found at {HOST}; run scripts/harness/setup.sh first")
    if HOST not in sys.path:
        sys.path.append(HOST)
    if "comfy.cli_args" not in sys.modules:
        import comfy.options

        comfy.options.enable_args_parsing()
        saved = sys.argv
        sys.argv = [saved[0] if saved else "pytest", *HOST_ARGS]
        try:
            import comfy.cli_args  # noqa: F401  (parses sys.argv here, once)
        finally:
            sys.argv = saved
    import comfy.cli_args

    if not comfy.cli_args.args.cpu:
        raise RuntimeError("comfy.cli_args was imported before host_import.comfy(); the host is not in --cpu mode")
    _ready = True
    return HOST
