"""Reading a ``.motion.npz`` within a memory budget: every member's size is checked from the
zip directory and its ``.npy`` header against the documented shapes (T frames, J joints, F
face points) before any array is decompressed, so a small file cannot unpack into gigabytes.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

from .errors import DreamActorError

MAX_FRAMES = 2_000_000
MAX_JOINTS = 512
MAX_FACE_POINTS = 2048
MAX_EXTRA_KEYS = 32
MAX_EXTRA_BYTES = 64 << 20
"""Extra keys are kept as they are; together they may hold at most this much."""
HEADER_SLACK = 64 << 10
"""Room for an ``.npy`` header beside the array data in a member's size."""
HAND_POINTS = 21


def documented_shapes(T: int, J: int, F: int) -> dict[str, tuple[int, ...]]:
    """Shape of every documented key (required and optional) of a motion of T frames,
    J joints and F face points; ``source`` and ``info`` are 0-d strings."""
    return {
        "joint_names": (J,),
        "parents": (J,),
        "joints2d": (T, J, 2),
        "joints3d": (T, J, 3),
        "conf": (T, J),
        "valid": (T,),
        "fps": (),
        "image_size": (2,),
        "camera": (3, 3),
        "hands2d": (T, 2, HAND_POINTS, 2),
        "hands_conf": (T, 2, HAND_POINTS),
        "face2d": (T, F, 2),
        "head_center": (T, 3),
        "head_radius": (T,),
        "head_rotation": (T, 3, 3),
        "format_version": (),
        "hands3d": (T, 2, HAND_POINTS, 3),
        "face3d": (T, F, 3),
        "face_valid": (T,),
        "head_valid": (T,),
        "filled": (T,),
        "person_box": (T, 4),
        "face_blendshapes": (T, 52),
        "face_matrix": (T, 4, 4),
        "source": (),
        "info": (),
    }


def _refuse(source: str, what: str, fix: str = "save the motion again with DreamActor Save Motion"):
    return DreamActorError(f"{source} {what}", fix=fix, input="file")


def _headers(z: zipfile.ZipFile, source: str) -> dict[str, tuple[tuple[int, ...], np.dtype, int]]:
    """key -> (shape, dtype, uncompressed member size), read from the directory and the
    first bytes of each member only."""
    infos = z.infolist()
    if len(infos) > len(documented_shapes(0, 0, 0)) + MAX_EXTRA_KEYS:
        raise _refuse(source, f"has {len(infos)} arrays, more than the {MAX_EXTRA_KEYS} extra keys allowed")
    out = {}
    for info in infos:
        if not info.filename.endswith(".npy"):
            raise _refuse(source, f"holds '{info.filename[:64]}', which is not a numpy array")
        with z.open(info) as f:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(f)
        if dtype.hasobject:
            raise _refuse(source, f"key '{info.filename[:-4]}' holds Python objects, which are never loaded")
        out[info.filename[:-4]] = (tuple(int(s) for s in shape), dtype, int(info.file_size))
    return out


def check_sizes(headers: dict, source: str) -> None:
    """Refuse members larger than their documented shape allows, and extra keys over budget."""
    for key in ("joints2d", "joint_names", "face2d"):
        if key not in headers or len(headers[key][0]) != {"joints2d": 3, "joint_names": 1, "face2d": 3}[key]:
            raise _refuse(source, f"has no usable '{key}'")
    T, J, F = headers["joints2d"][0][0], headers["joint_names"][0][0], headers["face2d"][0][1]
    for n, cap, what in ((T, MAX_FRAMES, "frames"), (J, MAX_JOINTS, "joints"), (F, MAX_FACE_POINTS, "face points")):
        if n > cap:
            raise _refuse(source, f"declares {n} {what}, above the limit of {cap}")
    shapes = documented_shapes(T, J, F)
    extra = 0
    for key, (shape, dtype, size) in headers.items():
        data = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if key in shapes and shape != shapes[key]:
            raise _refuse(source, f"key '{key}' has shape {shape}, expected {shapes[key]} (T={T}, J={J}, F={F})")
        if size > data + HEADER_SLACK:
            raise _refuse(source, f"key '{key}' unpacks to {size} bytes, more than its {shape} array needs")
        if key not in shapes:
            extra += size
    n_extra = len(set(headers) - set(shapes))
    if n_extra > MAX_EXTRA_KEYS or extra > MAX_EXTRA_BYTES:
        raise _refuse(
            source,
            f"has {n_extra} extra keys holding {extra / 2**20:.0f} MB; at most {MAX_EXTRA_KEYS} keys and "
            f"{MAX_EXTRA_BYTES >> 20} MB are loaded",
            fix="remove the large extra arrays from the file (the documented keys are all the pack needs)",
        )


def read_motion_arrays(path: str) -> dict[str, np.ndarray]:
    """All arrays of a ``.motion.npz``, after :func:`check_sizes` passed on its directory."""
    source = f"motion file {os.path.basename(path)}"
    try:
        with zipfile.ZipFile(path) as z:
            check_sizes(_headers(z, source), source)
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except DreamActorError:
        raise
    except FileNotFoundError:
        raise _refuse(source, "does not exist", fix="choose an existing .motion.npz") from None
    except Exception as e:  # zip or npy damage
        raise _refuse(
            source,
            f"cannot be read as a numpy archive ({type(e).__name__})",
            fix="the file is damaged; save the motion again",
        ) from None
