"""Content keys: a SHA-256 over everything that changes a result, so a cache folder is found
again by the same inputs in any process (``content_key``), and fingerprints of a model's
weights (``module_fingerprint``) and of a video's frames (``video_identity``).

Comfy-free: it walks tensors, arrays, numbers, strings, containers, dataclasses, plain
objects and callables with what they captured (closure cells, defaults, functools.partial
arguments, a bound method's object), never object ids. Keys are salted with the segment cache's format version, so a new
format never finds an old folder.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import types
from typing import Any

import numpy as np

from .segment_cache import FORMAT_VERSION

FULL_HASH_ELEMENTS = 1 << 23  # tensors up to 8M elements are hashed whole, larger ones sampled
SAMPLE_ELEMENTS = 1 << 20
MODULE_SAMPLE_TENSORS = 64  # tensors of a model sampled for its fingerprint
MODULE_SAMPLE_VALUES = 4096  # values per sampled tensor


def _array_bytes(a: np.ndarray) -> bytes:
    a = np.ascontiguousarray(a)
    if a.size > FULL_HASH_ELEMENTS:
        flat = a.reshape(-1)
        step = max(1, flat.size // SAMPLE_ELEMENTS)
        a = np.ascontiguousarray(flat[::step])
    return a.tobytes()


def _tensor_to_numpy(t) -> np.ndarray:
    """A torch tensor as numpy (bf16 / fp8 go through float32; large ones are strided first)."""
    import torch

    t = t.detach()
    if t.numel() > FULL_HASH_ELEMENTS:
        t = t.reshape(-1)[:: max(1, t.numel() // SAMPLE_ELEMENTS)]
    if t.dtype.is_floating_point and t.dtype not in (torch.float16, torch.float32, torch.float64):
        t = t.float()
    return t.cpu().contiguous().numpy()


#: attributes of a host model patcher that follow its load state or lineage, not what it computes
PATCHER_STATE = ("backup", "object_patches_backup", "pinned", "hook_backup", "cached_hook_patches", "parent", "model")


def _is_module(obj) -> bool:
    return hasattr(obj, "named_parameters") and hasattr(obj, "named_buffers") and hasattr(obj, "state_dict")


def _is_patcher(obj) -> bool:
    """A host ModelPatcher (duck-typed): its weights are the model's, its patches are by value."""
    return all(hasattr(obj, a) for a in ("patches", "model_options", "backup", "clone"))


def _update_code(h, code, depth: int, seen: set) -> None:
    """A function's code by value: bytecode, names and constants (nested code included)."""
    h.update(code.co_code)
    h.update(repr(code.co_names).encode())
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _update_code(h, const, depth + 1, seen)
        else:
            _update(h, const, depth + 1, seen)


def _cell_value(cell):
    try:
        return cell.cell_contents
    except ValueError:  # a cell not filled yet
        return "<empty cell>"


def _update_callable(h, obj, depth: int, seen: set) -> bool:
    """Feed a function, functools.partial or bound method with what it captured (closure
    cells, defaults, partial args and keywords, the bound object's state): a strength held
    by a patch function changes the key. Returns False for other objects."""
    if isinstance(obj, functools.partial):
        h.update(b"partial;")
        for part in (obj.func, obj.args, obj.keywords):
            _update(h, part, depth + 1, seen)
    elif isinstance(obj, types.MethodType):
        h.update(b"method;")
        _update(h, obj.__func__, depth + 1, seen)
        _update(h, obj.__self__, depth + 1, seen)
    elif isinstance(obj, types.FunctionType):
        h.update(f"fn:{obj.__module__}.{obj.__qualname__};".encode())
        _update_code(h, obj.__code__, depth, seen)
        for part in (obj.__defaults__, obj.__kwdefaults__, [_cell_value(c) for c in obj.__closure__ or ()]):
            _update(h, part, depth + 1, seen)
    elif isinstance(obj, (type, types.BuiltinFunctionType)):
        h.update(f"fn:{getattr(obj, '__module__', '')}.{obj.__qualname__};".encode())
    else:
        return False
    return True


def _update_object(h, obj, depth: int, seen: set) -> None:
    """A plain or callable object: its class and attributes (private ones too: a patch object
    may keep its strength in ``self._strength``); a torch module by its weights; a host model
    patcher without the attributes that only follow its load state."""
    h.update(f"obj:{type(obj).__module__}.{type(obj).__qualname__};".encode())
    if _is_module(obj):  # weights sampled, and its settings (e.g. a model sampling's shift)
        h.update(module_fingerprint(obj).encode())
        scalars = {
            k: v for k, v in vars(obj).items() if not k.startswith("_") and isinstance(v, (bool, int, float, str))
        }
        _update(h, scalars, depth + 1, seen)
        return
    skip = ()
    if _is_patcher(obj):  # its weights as loaded from the file: the same whether it is loaded (LoRA baked) or not
        backup = obj.backup

        def original(name, tensor):
            return backup[name].weight if name in backup else tensor

        h.update(module_fingerprint(obj.model, original=original).encode())
        skip = PATCHER_STATE
    attrs = {k: v for k, v in vars(obj).items() if not k.startswith("__") and k not in skip}
    _update(h, attrs, depth + 1, seen)


def _update(h, obj: Any, depth: int = 0, seen: set | None = None) -> None:
    """Feed ``obj`` into hash ``h`` by value (never by id or address)."""
    if depth > 12:
        h.update(b"<deep>")
        return
    seen = set() if seen is None else seen
    if obj is None or isinstance(obj, (bool, int, float, str, bytes)):
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
        return
    if isinstance(obj, np.generic):
        _update(h, obj.item(), depth, seen)
        return
    if isinstance(obj, np.ndarray):
        h.update(f"nd{obj.dtype.str}{obj.shape};".encode())
        if obj.dtype == object:
            for v in obj.reshape(-1):
                _update(h, v, depth + 1, seen)
        else:
            h.update(_array_bytes(obj))
        return
    if type(obj).__module__.startswith("torch") and hasattr(obj, "detach") and hasattr(obj, "shape"):
        h.update(f"t{obj.dtype}{tuple(obj.shape)};".encode())
        h.update(_array_bytes(_tensor_to_numpy(obj)))
        return
    if id(obj) in seen:
        h.update(b"<cycle>")
        return
    seen = seen | {id(obj)}
    if isinstance(obj, dict):
        h.update(f"dict{len(obj)};".encode())
        for k in sorted(obj, key=repr):
            _update(h, k, depth + 1, seen)
            _update(h, obj[k], depth + 1, seen)
    elif isinstance(obj, (list, tuple)):
        h.update(f"{type(obj).__name__}{len(obj)};".encode())
        for v in obj:
            _update(h, v, depth + 1, seen)
    elif isinstance(obj, (set, frozenset)):
        h.update(f"set{len(obj)};".encode())
        for v in sorted(obj, key=repr):
            _update(h, v, depth + 1, seen)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        h.update(f"dc:{type(obj).__qualname__};".encode())
        for f in dataclasses.fields(obj):
            h.update(f.name.encode())
            _update(h, getattr(obj, f.name), depth + 1, seen)
    elif isinstance(obj, types.ModuleType):
        h.update(f"pymodule:{obj.__name__};".encode())
    elif _update_callable(h, obj, depth, seen):
        return
    elif hasattr(obj, "__dict__"):
        _update_object(h, obj, depth, seen)
    else:
        h.update(f"type:{type(obj).__module__}.{type(obj).__qualname__};".encode())


def content_key(*parts: Any) -> str:
    """SHA-256 hex digest of ``parts`` by value (tensors, arrays, containers, objects)."""
    h = hashlib.sha256(f"dreamactor-segments-v{FORMAT_VERSION};".encode())
    for p in parts:
        _update(h, p)
    return h.hexdigest()


def module_fingerprint(module, extra: Any = None, original=None) -> str:
    """Identity of a torch module's weights without reading them all (a 14B model is 28 GB).

    Hashes every tensor's name, shape and dtype, and a strided sample of values of
    up to ``MODULE_SAMPLE_TENSORS`` tensors spread over the state dict; ``extra``
    (e.g. a patcher's LoRA patches) is hashed by value. ``original(name, tensor)``,
    when given, returns the tensor to sample in place of the live one (the weights as
    loaded from the file, where a host patches LoRAs into the live weights on load).
    """
    h = hashlib.sha256(f"module;{type(module).__module__}.{type(module).__qualname__};".encode())
    named = sorted(list(module.named_parameters()) + list(module.named_buffers()), key=lambda kv: kv[0])
    for name, t in named:
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype};".encode())
    pick = (
        set(np.linspace(0, len(named) - 1, min(len(named), MODULE_SAMPLE_TENSORS)).round().astype(int))
        if named
        else set()
    )
    for i in sorted(pick):
        name, t = named[i]
        t = original(name, t) if original is not None else t
        try:
            flat = t.detach().reshape(-1)
            flat = flat[:: max(1, flat.numel() // MODULE_SAMPLE_VALUES)][:MODULE_SAMPLE_VALUES]
            h.update(name.encode())
            h.update(_tensor_to_numpy(flat).tobytes())
        except Exception:  # quantised tensor types that cannot be viewed: layout only
            h.update(f"{name}:opaque;".encode())
    if extra is not None:
        _update(h, extra)
    return h.hexdigest()


def video_identity(video) -> dict:
    """What identifies a LazyVideo's frames without decoding them: a file's path, size,
    modification time and frame indices, or an in-memory batch's content."""
    out = {"type": type(video).__name__, "frames": int(video.num_frames), "size": tuple(video.size)}
    path = getattr(video, "path", None)
    if path is not None:
        st = os.stat(path)
        out.update(
            path=os.path.abspath(path),
            bytes=st.st_size,
            mtime_ns=st.st_mtime_ns,
            indices=np.asarray(getattr(video, "indices", [])),
            fps=float(video.fps),
        )
    elif getattr(video, "frames", None) is not None:
        out["content"] = content_key(video.frames)
    else:
        out["describe"] = video.describe() if hasattr(video, "describe") else repr(type(video))
    return out
