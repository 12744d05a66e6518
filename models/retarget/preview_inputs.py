"""What a bone-editor preview needs to be recomputed: the run's input motions and settings.

When the artist drags a joint of the *reference* in the editor ("pose reference"), the
retarget changes in ways the browser cannot predict from one preview (held bones, framing,
lengths where a placement is out of reach). So DreamActor Bone Retarget also writes its
inputs next to its preview (``<temp>/dreamactor_retarget/<run>.inputs.npz``: the driving and
reference motions, unposed, and the settings it ran with), and the editor asks the server
to *repose* (``POST /dreamactor/retarget_repose`` with ``{"name": <preview>, "bone_edits":
<the editor's JSON>}``): the server re-runs the retarget with the new edits and writes a new
preview that carries the same run's inputs. The answer is computed by the same code as the
node's output, so the editor's preview is exactly what queueing the prompt makes.
"""

from __future__ import annotations

import json
import os

import numpy as np

from ..core.errors import DreamActorError
from ..core.motion import Motion
from .bone_edits import BoneEdits, parse_bone_edits
from .preview import INPUTS_SUFFIX, PreviewRequestError, check_name, preview_folder

KEEP_INPUTS = 8
"""Newest runs whose inputs are kept (an older run's previews still show; they cannot be reposed)."""
MAX_REPOSE_BYTES = 32768
REPOSE_KEYS = ("name", "bone_edits")
_PARTS = ("driving", "reference")


def inputs_path(temp_dir: str, run: str) -> str:
    return os.path.join(preview_folder(temp_dir), check_name(run) + INPUTS_SUFFIX)


def save_inputs(temp_dir: str, run: str, driving: Motion, reference: Motion, settings: dict) -> str:
    """Write the run's inputs (atomically) and delete all but the ``KEEP_INPUTS`` newest. Returns the path.
    ``settings``: JSON-able {framing, manual, plant, body_model, image}."""
    path = inputs_path(temp_dir, run)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    arrays = {f"{part}__{k}": v for part, m in zip(_PARTS, (driving, reference)) for k, v in m.to_arrays().items()}
    arrays["settings"] = np.asarray(json.dumps(settings))
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)
    folder = preview_folder(temp_dir)
    runs = [os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(INPUTS_SUFFIX)]
    runs.sort(key=os.path.getmtime, reverse=True)
    for old in runs[KEEP_INPUTS:]:
        try:
            os.remove(old)
        except OSError:
            pass
    return path


def load_inputs(temp_dir: str, run: str) -> tuple[Motion, Motion, dict]:
    """(driving, reference, settings) of a run; a 404 ``PreviewRequestError`` when they expired."""
    path = inputs_path(temp_dir, run)
    if not os.path.exists(path):
        raise PreviewRequestError(
            f"the inputs of run {run!r} expired (the server keeps the newest {KEEP_INPUTS} runs); "
            "queue the prompt to make a new preview",
            status=404,
        )
    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    motions = [
        Motion.from_arrays({k[len(part) + 2 :]: v for k, v in data.items() if k.startswith(part + "__")}, part)
        for part in _PARTS
    ]
    return motions[0], motions[1], json.loads(str(data["settings"]))


def parse_repose_request(params) -> tuple[str, BoneEdits]:
    """Validate a repose request -> (preview name, bone edits); a 400 ``PreviewRequestError`` otherwise."""
    if not isinstance(params, dict):
        raise PreviewRequestError(
            'the request body must be a JSON object such as {"name": "retarget_12_0123456789ab", "bone_edits": "{}"}'
        )
    unknown = sorted(str(k)[:32] for k in params if k not in REPOSE_KEYS)
    if unknown:
        raise PreviewRequestError(f"unknown parameter(s) {unknown}; allowed: {', '.join(REPOSE_KEYS)}")
    name = check_name(params.get("name"))
    spec = params.get("bone_edits")
    if not isinstance(spec, (str, dict)):
        raise PreviewRequestError("'bone_edits' must be the bone editor's JSON (a string or an object)")
    try:
        return name, parse_bone_edits(spec)
    except DreamActorError as e:
        raise PreviewRequestError(str(e)) from None


def node_part(name: str) -> str:
    """The node part of a preview name ``retarget_<node>_<hex>`` (a repose keeps the node's)."""
    return check_name(name)[len("retarget_") : -13]
