"""``DA_SEGMENTS``: the on-disk cache of one sampling run, so long runs survive stops and crashes.

A sampling run writes each segment as soon as it is finished, into
``<root>/dreamactor_segments/<name>/<key[:16]>/``:

=====================  ======================================  =======================================
file                   contents                                 shape / dtype
=====================  ======================================  =======================================
``manifest.json``      format, the full key, a summary of the   JSON; ``done`` lists finished segments
                       inputs, the segment plan, the seeds
``seg_00000.latent``   the segment's latent, references cut    (1, 16, T, H/8, W/8) float32 ``.npy``
``seg_00000.frames``   decoded window frames without padding   (known + new, H, W, 3) uint8 ``.npy``
``seg_00000.carry``    the last M decoded frames, exactly as    (M, H, W, 3) float32 ``.npy``
                       the next segment gets them
``reference.npy``      the first reference at the output size  (H, W, 3) uint8
``face_motion.npy``    per-frame implicit face motion           (N, 512) float32 (memory-mapped)
``face_motion.done``   which rows of it are computed            (N,) uint8 ``.npy`` (memory-mapped)
=====================  ======================================  =======================================

Every file is written to a temporary name in the folder and renamed into place
(atomic on POSIX), and the manifest is rewritten only after a segment's files
are all in place: a crash leaves either a finished segment or none.

The folder is named by a **key**: a SHA-256 over everything that changes the
result (model and VAE identity, conditioning tensors, references, motion and
face content, seed, steps, cfg, sampler, scheduler, sizes, lengths, strengths,
guide style, this format's version). Running the same inputs again finds the
folder and continues after its last finished segment; the frames are the same
as an uninterrupted run's because each segment's seed is derived from the run's
seed and its index, and the carried frames are stored in full float precision.

The key and the weight and video fingerprints that go into it are made in
:mod:`models.dit.content_key`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import DreamActorError
from .segments import Segment

FORMAT_VERSION = 1
CACHE_DIRNAME = "dreamactor_segments"
KEY_CHARS = 16  # characters of the key in the folder name
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")  # fullmatch: "$" lets "\n" in


# ---------------------------------------------------------------- atomic files


def _atomic(path: str, write) -> None:
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_npy(path: str, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` atomically (temp file in the same folder + rename)."""
    _atomic(path, lambda f: np.save(f, np.ascontiguousarray(array), allow_pickle=False))


def save_json(path: str, data: dict) -> None:
    """Write JSON to ``path`` atomically."""
    _atomic(path, lambda f: f.write(json.dumps(data, indent=1, sort_keys=True).encode()))


# ---------------------------------------------------------------- the cache


def segment_seed(seed: int, index: int) -> int:
    """Seed of segment ``index``: the run's seed for the first, a fixed mix for the rest
    (a different noise per segment, the same on every run)."""
    if index == 0:
        return int(seed)
    digest = hashlib.sha256(f"dreamactor-seed;{int(seed)};{int(index)}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & 0x7FFF_FFFF_FFFF_FFFF


def check_cache_name(name: str) -> str:
    if not _NAME_RE.fullmatch(name or ""):
        raise DreamActorError(
            f"cache name '{name}' is not a plain folder name",
            fix="use letters, digits, '-', '_' or '.' (up to 64 characters, no slashes)",
            input="cache_name",
        )
    return name


@dataclass
class SegmentsHandle:
    """``DA_SEGMENTS``: where a run's segments are, plus the driving clip's audio source."""

    folder: str
    audio_source: Any = None  # a LazyVideo whose audio() goes with the result, or None

    def manifest(self) -> dict:
        return load_manifest(self.folder)

    def audio(self):
        return self.audio_source.audio() if self.audio_source is not None else None


MANIFEST_KEYS = {"format": int, "key": str, "info": dict, "done": list, "segments": list}


def read_manifest(path: str) -> dict | None:
    """The manifest at ``path``, or None when it is damaged (not JSON, or missing a key);
    FileNotFoundError when it is absent."""
    try:
        with open(path, "rb") as f:
            manifest = json.loads(f.read().decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):  # JSONDecodeError is a ValueError
        return None
    if not isinstance(manifest, dict) or any(not isinstance(manifest.get(k), t) for k, t in MANIFEST_KEYS.items()):
        return None
    return manifest


def load_manifest(folder: str) -> dict:
    path = os.path.join(folder, "manifest.json")
    try:
        manifest = read_manifest(path)
    except FileNotFoundError:
        raise DreamActorError(
            f"no segment cache at {folder}",
            fix="run DreamActor Sampler again (the cache folder was deleted or moved; change its "
            "cache_name so that ComfyUI runs it again)",
            input="segments",
        ) from None
    if manifest is None:
        raise DreamActorError(
            f"the segment cache's manifest {path} is damaged",
            fix="queue DreamActor Sampler again: it rebuilds the manifest from the finished segment files "
            "in that folder (or delete the folder to sample from scratch)",
            input="segments",
        )
    if manifest.get("format") != FORMAT_VERSION:
        raise DreamActorError(
            f"the segment cache at {folder} has format {manifest.get('format')}",
            fix=f"delete that folder and sample again (this pack writes format {FORMAT_VERSION})",
            input="segments",
        )
    return manifest


def segment_files_ok(folder: str, index: int) -> bool:
    """Segment ``index``'s three files in ``folder`` exist and open as arrays of their stated
    size (a missing, truncated or damaged one makes the segment run again)."""
    try:
        for w in ("latent", "frames", "carry"):
            np.load(os.path.join(folder, f"seg_{index:05d}.{w}.npy"), mmap_mode="r")
    except (OSError, ValueError, EOFError):
        return False
    return True


def damaged_runs(root: str, name: str) -> list[str]:
    """Run folders under cache ``name`` (sorted) whose manifest is damaged or one of whose
    finished segments lost a file; empty while all are intact. The Sampler reports this to
    the host, so a damaged cache makes it run again (and re-make what is missing)."""
    base = os.path.join(root, CACHE_DIRNAME, name)
    try:
        runs = sorted(os.listdir(base))
    except OSError:
        return []
    bad = []
    for run in runs:
        folder = os.path.join(base, run)
        path = os.path.join(folder, "manifest.json")
        if not os.path.isfile(path):
            continue
        try:
            manifest = read_manifest(path)
        except OSError:
            manifest = None
        done = manifest["done"] if manifest is not None else []
        if manifest is None or not all(isinstance(i, int) and segment_files_ok(folder, i) for i in done):
            bad.append(run)
    return bad


class SegmentCache:
    """One run's folder: finished segments, their carried frames, the face-motion rows.

    ``segments`` is the run's plan (models.dit.segments.plan_segments); ``info`` is a
    JSON-able summary stored in the manifest (frame count, size, fps, ...).
    """

    def __init__(self, root: str, name: str, key: str, segments: list[Segment], info: dict, seed: int):
        self.key = key
        self.segments = list(segments)
        self.folder = os.path.join(root, CACHE_DIRNAME, check_cache_name(name), key[:KEY_CHARS])
        os.makedirs(self.folder, exist_ok=True)
        for leftover in os.listdir(self.folder):  # temp files of a write a crash cut short
            if leftover.startswith(".tmp-"):
                os.unlink(os.path.join(self.folder, leftover))
        path = os.path.join(self.folder, "manifest.json")
        manifest, rebuild = None, False
        if os.path.exists(path):
            rebuild = read_manifest(path) is None  # damaged: rebuilt below from the segment files
            manifest = None if rebuild else load_manifest(self.folder)
            if manifest is not None and manifest.get("key") != key:  # a key-prefix collision: start over
                manifest = None
        if manifest is None:
            manifest = {
                "format": FORMAT_VERSION,
                "key": key,
                "created": time.time(),
                "info": info,
                "done": [],
                "segments": [dict(dataclasses.asdict(s), seed=segment_seed(seed, s.index)) for s in self.segments],
            }
            if rebuild:  # each segment's files are renamed into place whole, so present ones are finished
                self.manifest = manifest
                manifest["done"] = [s.index for s in self.segments if self._files_ok(s.index)]
            save_json(path, manifest)
        self.manifest = manifest
        self._face = None

    # ------------------------------------------------------------ segments
    def _path(self, index: int, what: str) -> str:
        return os.path.join(self.folder, f"seg_{index:05d}.{what}.npy")

    def is_done(self, index: int) -> bool:
        return index in self.manifest["done"] and self._files_ok(index)

    def _files_ok(self, index: int) -> bool:
        return segment_files_ok(self.folder, index)

    def finished(self) -> int:
        """Number of leading segments already finished."""
        n = 0
        while n < len(self.segments) and self.is_done(n):
            n += 1
        return n

    def seed(self, index: int) -> int:
        return int(self.manifest["segments"][index]["seed"])

    def save_segment(self, index: int, latent: np.ndarray, frames: np.ndarray, carry: np.ndarray) -> None:
        """Store a finished segment: latent (1, 16, T, h, w), window frames without padding
        (known + new, H, W, 3) uint8, carried frames (M, H, W, 3) float32; then mark it done."""
        seg = self.segments[index]
        if frames.shape[0] != seg.known + seg.new or frames.dtype != np.uint8:
            raise ValueError(
                f"segment {index} frames {frames.shape} {frames.dtype}: expected {seg.known + seg.new} uint8 frames"
            )
        save_npy(self._path(index, "latent"), np.asarray(latent, np.float32))
        save_npy(self._path(index, "frames"), frames)
        save_npy(self._path(index, "carry"), np.asarray(carry, np.float32))
        if index not in self.manifest["done"]:
            self.manifest["done"] = sorted(self.manifest["done"] + [index])
        save_json(os.path.join(self.folder, "manifest.json"), self.manifest)

    def carry(self, index: int) -> np.ndarray:
        """(M, H, W, 3) float32: segment ``index``'s frames the next segment continues from."""
        return np.load(self._path(index, "carry"))

    def frames(self, index: int, mmap: bool = True) -> np.ndarray:
        return np.load(self._path(index, "frames"), mmap_mode="r" if mmap else None)

    def latent(self, index: int) -> np.ndarray:
        return np.load(self._path(index, "latent"))

    def save_reference(self, image: np.ndarray) -> None:
        path = os.path.join(self.folder, "reference.npy")
        if not os.path.exists(path):
            save_npy(path, image)

    # ------------------------------------------------------------ face motion
    def face_motion(self, num_frames: int, dim: int = 512) -> "FaceMotionStore":
        if self._face is None:
            self._face = FaceMotionStore(self.folder, num_frames, dim)
        return self._face


class FaceMotionStore:
    """Per-frame implicit face motion (N, dim) float32 on disk, filled window by window.

    Rows are written and flushed before they are marked done, so a crash can only
    lose rows, never mark a half-written one. Memory-mapped: RAM does not grow with N.
    """

    def __init__(self, folder: str, num_frames: int, dim: int):
        values, done = os.path.join(folder, "face_motion.npy"), os.path.join(folder, "face_motion.done.npy")
        fresh = not (os.path.exists(values) and os.path.exists(done))
        if not fresh:
            try:
                self.values = np.load(values, mmap_mode="r+")
                self.done = np.load(done, mmap_mode="r+")
                fresh = self.values.shape != (num_frames, dim) or self.done.shape != (num_frames,)
            except (ValueError, OSError):
                fresh = True
        if fresh:
            self.values = np.lib.format.open_memmap(values, mode="w+", dtype=np.float32, shape=(num_frames, dim))
            self.done = np.lib.format.open_memmap(done, mode="w+", dtype=np.uint8, shape=(num_frames,))

    def missing(self, indices) -> list[int]:
        """Distinct frame indices among ``indices`` not yet computed, in order."""
        return [int(i) for i in dict.fromkeys(int(i) for i in indices) if not self.done[int(i)]]

    def put(self, indices: list[int], rows: np.ndarray) -> None:
        self.values[indices] = rows
        self.values.flush()
        self.done[indices] = 1
        self.done.flush()

    def get(self, indices) -> np.ndarray:
        idx = np.asarray(indices, np.int64)
        if not self.done[idx].all():
            raise RuntimeError("face motion requested for frames that were not computed")
        return np.asarray(self.values[idx])


# ---------------------------------------------------------------- the loop


def to_uint8(frames: np.ndarray) -> np.ndarray:
    """(..., 3) float in [0, 1] -> uint8, rounded (NaN becomes 0).

    Frame by frame along the first axis: the float temporaries are one frame, not four
    copies of a whole window (a 77-frame 720p window is 850 MB as float32).
    """
    frames = np.asarray(frames)
    if frames.ndim < 4:
        return (np.nan_to_num(np.clip(frames, 0.0, 1.0), nan=0.0) * 255.0 + 0.5).astype(np.uint8)
    out = np.empty(frames.shape, np.uint8)
    for i, frame in enumerate(frames):
        out[i] = to_uint8(frame)
    return out


def run_segments(cache: SegmentCache, make_segment, motion_frames: int, on_saved=None) -> int:
    """Run every unfinished segment of ``cache`` in order; returns how many ran now.

    ``make_segment(segment, carry, seed)`` samples one window and returns
    ``(latent, frames)``: latent (1, 16, T, h, w) float32 without the reference
    frames, frames (length, H, W, 3) float32 in [0, 1], the decoded window.
    ``carry`` is None for the first segment, else the previous segment's last
    ``motion_frames`` decoded frames (M, H, W, 3) float32, read back from the cache
    so a resumed run continues from exactly the values an uninterrupted one used.
    ``on_saved(index)`` is called after each segment is on disk.
    """
    ran = 0
    for i in range(cache.finished(), len(cache.segments)):
        seg = cache.segments[i]
        carry = cache.carry(i - 1) if seg.known else None
        if carry is not None and carry.shape[0] != seg.known:
            raise RuntimeError(f"segment {i} needs {seg.known} carried frames, the cache holds {carry.shape[0]}")
        latent, frames = make_segment(seg, carry, cache.seed(i))
        frames = np.asarray(frames, np.float32)
        if frames.shape[0] != seg.length:
            raise RuntimeError(f"segment {i} decoded to {frames.shape[0]} frames, expected {seg.length}")
        window = frames[: seg.known + seg.new]
        carried = window[max(0, window.shape[0] - motion_frames) :] if motion_frames else window[:0]
        cache.save_segment(i, np.asarray(latent, np.float32), to_uint8(window), carried)
        ran += 1
        if on_saved is not None:
            on_saved(i)
    return ran
