"""What each step runs: the real sizes on one GPU, and the CPU dry run's reduced ones.

Real run: a random-weight Wan2.2-Animate-14B in the real layout and dimensions
(tests/assets/tiny_wan.py ``ANIMATE_14B``: dim 5120, 40 layers, ffn 13824, 1441 tensors,
34.5 GB in bf16, 18.4 GB as scaled fp8) and a real-size Wan 2.1 VAE (base width 96).
Dry run: the same code on the CPU at dim 256, 5 layers, VAE width 8, 64x48 frames.

The minutes in :data:`EXPECTED_MINUTES` are estimates for one H200 (16 cores, 128 GiB RAM,
weights on a local disk), NOT measurements: a 77-frame 832x480 window is 32,760 tokens, about
1.7 PFLOP per DiT forward (~5 s at ~400 TFLOP/s with the host's fp32 norms and RoPE); each
chain also runs two VAE encodes of the window (pose, conditioning frames) and one decode;
loading the 34.5 GB bf16 file and copying it into the model takes ~0.5 min from the page
cache, more from a cold disk.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os

from tests.assets import tiny_wan

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE_ROOT = os.path.join(ROOT, ".cache", "gpu_realsize")
FORMATS = ("bf16", "fp8")
SEEDS = {"dit": 1, "vae": 2}
WEIGHTS_VERSION = 1  # bump when the files' contents change

#: estimated minutes on one H200 per step (not measured; see the module docstring)
EXPECTED_MINUTES = {"build bf16": 1.5, "build fp8": 1.0, "compare bf16": 2.5, "compare fp8": 2.0, "offload": 2.5}


@dataclasses.dataclass(frozen=True)
class Window:
    """One sampling setting: frame size, frames per segment, carried frames, steps, face path."""

    width: int
    height: int
    frames: int  # frames of a window (4k+1)
    carry: int  # frames carried into the next segment (0 or 4j+1)
    steps: int
    face: bool


@dataclasses.dataclass(frozen=True)
class Plan:
    dry_run: bool
    device: str
    dit: tiny_wan.WanDiTConfig
    vae: tiny_wan.WanVAEConfig
    text_len: int  # umt5 pads prompts to 512 tokens in ComfyUI
    compare: Window  # one window, native chain vs DreamActor Sampler
    offload: Window  # each of the three segments of the capped take
    segments: int  # segments of the capped take
    vram_cap_gib: float  # free VRAM the capped take is given
    offload_format: str
    # the take's per-frame face motion given, as Face Encode with a MODEL gives it, instead of
    # encoded from the crops by the sampler (dry run: 13 crops would cost a minute of CPU)
    face_motion_given: bool = False

    @property
    def take_frames(self) -> int:
        """Frames of the capped take: the first window, then ``segments - 1`` continuations."""
        w = self.offload
        return w.frames + (self.segments - 1) * (w.frames - w.carry)


def make_plan(dry_run: bool, steps: int | None = None, frames: int | None = None, vram_cap_gib: float = 16.0) -> Plan:
    """The real plan (or the dry run's); ``steps``/``frames`` override the compare window's."""
    if dry_run:
        dit = tiny_wan.WanDiTConfig(dim=256, ffn_dim=256, num_layers=5)
        # 1-frame compare windows: the real-size motion encoder takes 2-5 s per 512x512 crop on
        # 2 CPU cores, and the native chain encodes the crops again at every step
        compare = Window(64, 48, 1, 0, 2, True)
        offload = Window(64, 48, 5, 1, 2, True)
        vae = tiny_wan.WanVAEConfig(dim=8)
        base = Plan(True, "cpu", dit, vae, 16, compare, offload, 3, vram_cap_gib, "bf16", face_motion_given=True)
    else:
        compare = Window(832, 480, 77, 5, 3, True)
        offload = Window(832, 480, 33, 5, 3, True)
        base = Plan(
            False, "cuda", tiny_wan.ANIMATE_14B, tiny_wan.WAN21_VAE, 512, compare, offload, 3, vram_cap_gib, "bf16"
        )
    if steps is not None or frames is not None:
        c = base.compare
        base = dataclasses.replace(
            base, compare=dataclasses.replace(c, steps=steps or c.steps, frames=frames or c.frames)
        )
    return base


def weights_spec(p: Plan) -> dict:
    """What decides the weight files' contents (their cache folder is named by its hash)."""
    return {
        "v": WEIGHTS_VERSION,
        "device": p.device,  # a GPU draws other numbers than a CPU from the same seed
        "dit": dataclasses.asdict(p.dit),
        "vae": dataclasses.asdict(p.vae),
        "seeds": SEEDS,
    }


def default_cache(p: Plan) -> str:
    digest = hashlib.sha1(json.dumps(weights_spec(p), sort_keys=True).encode()).hexdigest()[:10]
    return os.path.join(CACHE_ROOT, ("dry-" if p.dry_run else "") + digest)


def describe(p: Plan) -> str:
    d = p.dit
    return (
        f"{'dry run (CPU, reduced)' if p.dry_run else 'Wan2.2-Animate-14B random weights'}: dim {d.dim}, "
        f"{d.num_layers} layers, ffn {d.ffn_dim}, VAE width {p.vae.dim}"
    )
