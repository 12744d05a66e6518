"""In-process access to the host's core Wan nodes and to this pack's node modules, plus
small real inputs for the sampler (tiny checkpoints, a person motion, face crops).

- ``core_wan_nodes()``: ``comfy_extras.nodes_wan`` (WanAnimateToVideo). It imports
  the host's top-level ``nodes`` module, whose name is also this pack's folder: the
  host's ``nodes.py`` is put in ``sys.modules['nodes']`` only while nodes_wan is
  imported (nodes_wan keeps its own reference), then the previous entry is restored.
- ``pack()``: the repo root imported as the package ``dreamactor_pack`` (as ComfyUI
  imports a custom node folder), so ``dreamactor_pack.nodes.engine.run`` and its
  relative imports work. Its ``models`` are a second copy: compare errors by
  class name, not identity.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types

import numpy as np
import torch

from tests import host_import

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PACK_NAME = "dreamactor_pack"


def core_wan_nodes():
    """The host's comfy_extras.nodes_wan module (imported once)."""
    host = host_import.comfy()
    if "comfy_extras.nodes_wan" in sys.modules:
        return sys.modules["comfy_extras.nodes_wan"]
    saved = sys.modules.pop("nodes", None)
    try:
        spec = importlib.util.spec_from_file_location("nodes", os.path.join(host, "nodes.py"))
        core = importlib.util.module_from_spec(spec)
        sys.modules["nodes"] = core
        spec.loader.exec_module(core)
        import comfy_extras.nodes_wan as nodes_wan
    finally:
        if saved is not None:
            sys.modules["nodes"] = saved
        else:
            sys.modules.pop("nodes", None)
    return nodes_wan


def pack():
    """This repo as the package ``dreamactor_pack`` (its nodes/ need a parent package)."""
    host_import.comfy()
    if PACK_NAME in sys.modules:
        return sys.modules[PACK_NAME]
    spec = importlib.util.spec_from_file_location(
        PACK_NAME, os.path.join(ROOT, "__init__.py"), submodule_search_locations=[ROOT]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACK_NAME] = module
    spec.loader.exec_module(module)
    return module


def engine_module(name: str = "run"):
    """The sampler's host-side engine module ``nodes.engine.<name>`` (run, conditioning)."""
    pack()
    import importlib

    return importlib.import_module(f"{PACK_NAME}.nodes.engine.{name}")


# ---------------------------------------------------------------- inputs


def load_tiny(kind: str = "animate"):
    """The tiny checkpoint loaded like UNETLoader / VAELoader do (fp32 DiT)."""
    host_import.comfy()
    import comfy.sd
    import comfy.utils

    from tests.assets import tiny_wan

    paths = tiny_wan.ensure_assets()
    if kind == "vae":
        return comfy.sd.VAE(sd=comfy.utils.load_torch_file(paths["vae"]))
    return comfy.sd.load_diffusion_model(paths[kind], model_options={"dtype": torch.float32})


def text_conditioning(seed: int, length: int = 16):
    """CONDITIONING [[(1, length, 4096), {}]]: a stand-in for umt5-xxl text embeddings."""
    g = torch.Generator().manual_seed(seed)
    return [[torch.randn(1, length, 4096, generator=g), {}]]


def clip_vision(seed: int = 5):
    """A CLIP_VISION_OUTPUT stand-in with clip_vision_h's penultimate shape (1, 257, 1280)."""
    host_import.comfy()
    import comfy.clip_vision

    out = comfy.clip_vision.Output()
    out["penultimate_hidden_states"] = torch.randn(1, 257, 1280, generator=torch.Generator().manual_seed(seed))
    return out


def moving_person(num_frames: int, image_size=(96, 64)):
    """A person motion (tests/unit/motion_fixtures) whose arms swing, so every frame differs."""
    from models.core.skeleton import BODY
    from tests.unit import motion_fixtures as mf

    m = mf.person_motion(num_frames, image_size=image_size, pelvis=(0.0, 0.05, 3.5))
    for t in range(num_frames):
        for side, sign in (("left", 1.0), ("right", -1.0)):
            a = 0.6 * np.sin(0.7 * t) * sign
            m.joints3d[t, BODY[f"{side}_wrist"], 1] += 0.3 * a
            m.joints3d[t, BODY[f"{side}_elbow"], 1] += 0.15 * a
    return mf.reproject(m)


def face_track(num_frames: int, size: int = 64, seed: int = 3):
    """A DA_FACE over a small in-memory clip whose frames change over time."""
    from models.face.crops import FaceTrack
    from models.io.video import ArrayVideo

    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (48, 48, 3)).astype(np.float32)
    frames = np.stack([np.clip(base * (0.6 + 0.4 * np.cos(0.5 * t)) + 10 * t, 0, 255) for t in range(num_frames)])
    video = ArrayVideo(frames.astype(np.uint8), fps=25.0)
    boxes = np.tile(np.array([[24.0, 24.0, 40.0, 0.0]], np.float32), (num_frames, 1))
    return FaceTrack(video=video, boxes=boxes, valid=np.ones(num_frames, bool), size=size)


def reference_image(width: int = 80, height: int = 64, seed: int = 9) -> torch.Tensor:
    """IMAGE (1, height, width, 3): a smooth colourful picture."""
    y, x = np.mgrid[0:height, 0:width] / np.array([height, width])[:, None, None]
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, np.pi, 3)
    img = np.stack([0.5 + 0.4 * np.sin(4 * x + 3 * y + p) for p in phase], -1)
    return torch.from_numpy(img.astype(np.float32))[None]


def host_modules():
    host_import.comfy()
    import comfy.conds
    import comfy.model_management
    import comfy.sample
    import comfy.utils

    return types.SimpleNamespace(sample=comfy.sample, conds=comfy.conds, utils=comfy.utils, mm=comfy.model_management)
