"""The ComfyUI host in-process (on the GPU for real runs), the VRAM cap, and the peak meters."""

from __future__ import annotations

import logging
import sys

GIB = 2**30
ALLOC_GRANULE = 2 * 2**20  # the CUDA caching allocator rounds large blocks to 2 MiB


def start(device: str) -> None:
    """Import the host with its command line parsed for ``device``.

    tests/host_import.py parses the host's arguments as ``--cpu`` (the tests' setting). A real
    run flips that one argument back before ``comfy.model_management`` reads it, so the host
    picks the GPU exactly as ``python main.py`` with no flags does."""
    from tests import host_import

    host_import.comfy()
    if device == "cuda":
        import comfy.cli_args

        if "comfy.model_management" in sys.modules and comfy.cli_args.args.cpu:
            raise RuntimeError("comfy.model_management was imported in --cpu mode before the GPU run started")
        need_cuda()
        comfy.cli_args.args.cpu = False
    import comfy.model_management  # noqa: F401  (reads the arguments: picks the device)
    import comfy.utils

    comfy.utils.set_progress_bar_enabled(False)  # no tqdm bars between the figures
    if _shorten_missing_keys not in logging.getLogger().filters:
        logging.getLogger().addFilter(_shorten_missing_keys)


def need_cuda() -> None:
    import torch

    if not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU here: add --dry-run for the CPU check")


def _shorten_missing_keys(record: logging.LogRecord) -> bool:
    """The host lists every absent ``scale_input`` of a scaled fp8 file (hundreds at 14B): count them."""
    msg = str(record.msg)
    if msg.startswith("unet missing:"):
        record.msg, record.args = (
            f"unet missing: {msg.count(',') + 1} keys (scale_input / scale_weight of fp8 layers)",
            (),
        )
    return True


# ---------------------------------------------------------------- VRAM cap


def ballast_bytes(free_bytes: int, cap_bytes: int) -> int:
    """Bytes to hold so that ``cap_bytes`` stay free (0 when less than that is free already)."""
    return max(0, (free_bytes - cap_bytes) // ALLOC_GRANULE * ALLOC_GRANULE)


def cap_vram(cap_gib: float):
    """Make the GPU a card with ``cap_gib`` GiB free: one idle allocation holds the rest.

    Why this forces the host to offload (comfy/model_management.py, ComfyUI 0.3.75): the host
    sizes everything from ``get_free_memory``, which reads ``torch.cuda.mem_get_info`` (driver
    free) plus the allocator's cached-but-unused bytes; the ballast is live, so both see only
    the cap. ``load_models_gpu`` then loads ``free - (memory_required + reserve)`` bytes of
    weights (``MIN_WEIGHT_MEMORY_RATIO`` is 0 on NVIDIA) and streams the rest from RAM per layer
    (lowvram), ``free_memory`` unloads to fit VAE calls, and any allocation past the cap fails
    as it would on a 16 GB card. ``--reserve-vram`` alone would steer the same plan but not stop
    the allocator from taking more, and ``set_per_process_memory_fraction`` alone is invisible
    to the host (it reads the driver's free memory), so it plans a full load and runs out.
    Returns (ballast tensor or None, its bytes)."""
    import torch

    free, _ = torch.cuda.mem_get_info()
    size = ballast_bytes(free, int(cap_gib * GIB))
    if size == 0:
        return None, 0
    return torch.empty(size, dtype=torch.uint8, device="cuda"), size


# ---------------------------------------------------------------- peaks


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))


class Peaks:
    """Peak VRAM (torch allocator, less the ballast) and peak RSS of this process since ``reset``."""

    def __init__(self, cuda: bool, ballast: int = 0):
        self.cuda, self.ballast = cuda, ballast

    def reset(self) -> None:
        import torch

        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # VmHWM back to the current RSS

    def read(self) -> dict:
        """{'vram_gib': peak allocated (None on the CPU), 'ram_gib': peak RSS}."""
        import torch

        vram = None
        if self.cuda:
            torch.cuda.synchronize()
            vram = (torch.cuda.max_memory_allocated() - self.ballast) / GIB
        return {"vram_gib": vram, "ram_gib": _status_kib("VmHWM") / 2**20}


def device_name(cuda: bool) -> str:
    import torch

    if not cuda:
        return f"CPU ({torch.get_num_threads()} threads)"
    free, total = torch.cuda.mem_get_info()
    return f"{torch.cuda.get_device_name()} ({total / GIB:.0f} GiB, {free / GIB:.0f} GiB free)"
