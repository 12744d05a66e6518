"""Checks at the pack's door, shared by the nodes: file names resolved inside ComfyUI's
folders, float inputs that are numbers, motions that hold what the format says.

A file input names a file the way ComfyUI's upload widget does: a path relative to the
input folder, or one annotated ``name [input]`` / ``name [output]`` / ``name [temp]``.
It must resolve (symlinks followed) to a regular file inside that folder; anything else
(absolute paths, ``../``, links out, control characters) is refused with one message
that does not say whether such a file exists.
"""

from __future__ import annotations

import math
import os

import folder_paths

from ..models.core.errors import DreamActorError

MAX_NAME_CHARS = 1024


def _folder_word(name: str) -> str:
    for tag in ("output", "temp"):
        if name.endswith(f"[{tag}]"):
            return tag
    return "input"


def resolve_input_file(name, *, input: str, fix: str) -> str:
    """The real path of the file ``name`` names inside its ComfyUI folder, or a
    DreamActorError (the same for a missing file and one outside the folders)."""
    shown = "".join(c if c.isprintable() else "?" for c in str(name))[:200]
    refused = DreamActorError(
        f"'{shown}' is not a file in ComfyUI's {_folder_word(str(name))} folder", fix=fix, input=input
    )
    if not isinstance(name, str) or not name or len(name) > MAX_NAME_CHARS or not name.isprintable():
        raise refused
    rel, base = folder_paths.annotated_filepath(name)
    root = os.path.realpath(base or folder_paths.get_input_directory())
    if not rel or os.path.isabs(rel):
        raise refused
    path = os.path.realpath(os.path.join(root, rel))
    if os.path.commonpath([root, path]) != root or not os.path.isfile(path):
        raise refused
    return path


def finite_floats(**values) -> None:
    """Refuse NaN and infinity in float inputs (ComfyUI's range check lets NaN through)."""
    for name, value in values.items():
        if value is not None and not math.isfinite(float(value)):
            raise DreamActorError(
                f"{name} is {value}, not a number", fix=f"set {name} to a finite number in its range", input=name
            )


def file_validation(node_id: str, name, *, input: str, fix: str) -> bool | str:
    """``validate_inputs`` answer for a file input: True, or the pack's refusal."""
    try:
        resolve_input_file(name, input=input, fix=fix)
    except DreamActorError as e:
        return str(e.at(node_id))
    return True


def file_fingerprint(name, *, input: str) -> str:
    """``fingerprint_inputs`` of a file input: changes when the file does (path, mtime, size)."""
    try:
        path = resolve_input_file(name, input=input, fix="")
    except DreamActorError:
        return f"refused:{name!r}"
    st = os.stat(path)
    return f"{path}:{st.st_mtime_ns}:{st.st_size}"


def valid_motions(**motions) -> None:
    """Validate each DA_MOTION a node receives (every documented key: shapes, finite values,
    positive focal length), so a bad one is named at its input, not deep in the math."""
    for name, motion in motions.items():
        if motion is not None:
            motion.validate(input=name)


def check_text_width(model, **conditionings) -> None:
    """Each CONDITIONING's embeddings (1, L, C) must be as wide as the MODEL's text input
    (4096 for Wan's umt5-xxl), checked before any work (else a raw matmul error mid-run)."""
    embed = getattr(getattr(getattr(model, "model", None), "diffusion_model", None), "text_embedding", None)
    width = getattr(embed[0], "in_features", None) if embed is not None else None
    if width is None:
        return
    for name, cond in conditionings.items():
        for item in cond or []:
            got = int(item[0].shape[-1])
            if got != width:
                raise DreamActorError(
                    f"the text conditioning is {got} wide; this model reads {width}-wide text embeddings",
                    fix="encode the prompt with CLIP Text Encode from the model's own text encoder "
                    "(Load CLIP: umt5_xxl, type 'wan')",
                    input=name,
                )


def listed_files(names, tag: str = "") -> list[str]:
    """The names (annotated with ``tag``, e.g. ' [output]') that :func:`resolve_input_file`
    accepts, so a combo never offers a file the node would refuse (a link pointing out)."""
    out = []
    for name in names:
        try:
            resolve_input_file(name + tag, input="", fix="")
        except DreamActorError:
            continue
        out.append(name + tag)
    return out
