"""SMPL-X shape fit: the reference's hidden bones from the user's SMPL-X body model.

SMPL-X model files are a licensed download (https://smpl-x.is.tue.mpg.de), so the
pack never needs them. With one in ``ComfyUI/models/smplx``, Bone Retarget fits the
model's body shape to the reference and takes the lengths of the bones the picture
does not show (legs cut off in a portrait, an arm behind the back) from the fitted
body, instead of from generic proportions.

The fit. SMPL-X's rest-pose joints are linear in its shape coefficients:
``J(betas) = R (v_template + shapedirs @ betas)`` with ``R`` the J_regressor, so a
joint distance is ``|a + B betas|``. With the reference's segment lengths ``m_i``
(median over the frames where both ends are seen) it solves, for an overall scale
``s`` and the betas, the MAP problem::

    min  sum_i ((s |a_i + B_i betas| - m_i) / (sigma_i m_i))^2  +  |PRIOR_WEIGHT betas|^2

(betas are unit-variance shape coefficients, held by a small prior; ``sigma_i`` the
relative uncertainty of segment i; ``s`` is free because monocular metres are
approximate: the proportions are what is fitted). Only segments whose ends are anatomical landmarks for both the
detector and SMPL-X are fitted (``FIT_SEGMENTS``): the pack's spine, neck and collar
joints are interpolated by the extractor and would pull the fit towards its
convention. For the same reason the bones in ``CONVENTION_BONES`` are never filled
from the model.

Output (``SmplxBody.bone_lengths``): ``s |bone_j(betas)|`` for every SMPL-X body bone
the reference never shows, unless its mirror is seen (the person's own measurement
wins); NaN elsewhere, so seen bones keep their measured lengths and the joints
beyond the 22 SMPL-X body joints (nose, eyes, ears, heels) keep the usual fallbacks.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from ..core.errors import DreamActorError
from ..core.motion import Motion
from ..core.skeleton import BODY
from .lengths import CONF_THRESHOLD, measured_bone_lengths, seen_mask

FOLDER = "smplx"
"""The ComfyUI model folder (``models/smplx``) the files are listed from."""
EXTENSIONS = (".npz", ".pkl")
"""The file types the smplx package reads."""
DOWNLOAD_FIX = (
    "download SMPL-X from https://smpl-x.is.tue.mpg.de (free registration, licensed; e.g. "
    "SMPLX_NEUTRAL.npz from 'SMPL-X v1.1') and put the .npz or .pkl file in ComfyUI/models/smplx, "
    "or set body_model to 'none (priors)'"
)

NUM_BODY_JOINTS = 22
JOINT_NAMES = BODY.joint_names[:NUM_BODY_JOINTS]
"""SMPL-X joints 0..21, the pack's BODY joints of the same names and order."""
PARENTS = np.asarray(BODY.parents[:NUM_BODY_JOINTS])
"""The kinematic tree of those joints in every SMPL-X file (kintree_table row 0)."""
NUM_BETAS = 10
"""Shape coefficients fitted (the first ones of the file; SMPL-X v1.1 has 300)."""

FIT_SEGMENTS = {
    ("left_shoulder", "left_elbow"): 0.05,
    ("right_shoulder", "right_elbow"): 0.05,  # upper arms
    ("left_elbow", "left_wrist"): 0.05,
    ("right_elbow", "right_wrist"): 0.05,  # forearms
    ("left_hip", "left_knee"): 0.05,
    ("right_hip", "right_knee"): 0.05,  # thighs
    ("left_knee", "left_ankle"): 0.05,
    ("right_knee", "right_ankle"): 0.05,  # shins
    ("left_shoulder", "right_shoulder"): 0.08,  # shoulder width
    ("pelvis", "neck"): 0.10,  # torso: the extractor places the neck by a rule
}
"""Fitted joint pairs -> relative uncertainty (sigma). Limb segments join anatomical
joints in both conventions; the widths and the torso agree less well."""
CONVENTION_BONES = ("neck", "head", "left_collar", "right_collar", "left_shoulder", "right_shoulder")
"""Bones whose joints the extractor places by its own rule (neck raised above the
shoulder line, collars half-way, head between the ears): never taken from SMPL-X."""
PRIOR_WEIGHT = 1 / 3
"""Weight of the prior on each beta: a small one, as betas of real bodies span about
+-3 (unit-variance components); the measured proportions choose within that range."""


@dataclass(frozen=True)
class ShapeSpace:
    """SMPL-X's rest-pose body joints as a linear function of its shape coefficients.

    joints0 (22, 3) metres at betas = 0 (``J_regressor @ v_template``);
    dirs (22, 3, K) the joints' change per unit of each beta (``J_regressor @ shapedirs``).
    """

    name: str
    joints0: np.ndarray
    dirs: np.ndarray

    @property
    def num_betas(self) -> int:
        return int(self.dirs.shape[-1])

    def joints(self, betas) -> np.ndarray:
        """betas (K,) -> (22, 3) rest-pose joints, metres."""
        return self.joints0 + self.dirs @ np.asarray(betas, np.float64)

    def bone_lengths(self, betas) -> np.ndarray:
        """betas (K,) -> (22,) rest-pose bone lengths indexed by child joint (0 at the root)."""
        j = self.joints(betas)
        out = np.linalg.norm(j - j[np.maximum(PARENTS, 0)], axis=-1)
        out[0] = 0.0
        return out

    def distances(self, betas, pairs: np.ndarray) -> np.ndarray:
        """betas (K,), pairs (P, 2) joint indices -> (P,) rest-pose distances."""
        j = self.joints(betas)
        return np.linalg.norm(j[pairs[:, 0]] - j[pairs[:, 1]], axis=-1)


# --------------------------------------------------------------------------- loading
_CACHE: dict[tuple, ShapeSpace] = {}
_CACHE_SIZE = 4


def load_shape_space(path: str, num_betas: int = NUM_BETAS, input_name: str = "body_model") -> ShapeSpace:
    """The shape space of an SMPL-X model file (.npz or .pkl), read by the smplx package.

    Cached by (path, size, modification time): a model file is tens of MB, the shape
    space a few KB. Raises ``DreamActorError`` naming ``input_name`` for a missing,
    unreadable or non-SMPL-X file, or when the smplx package is missing.
    """
    name = os.path.basename(path)
    try:
        st = os.stat(path)
    except OSError:
        raise DreamActorError(
            f"the SMPL-X file {name!r} is not there ({path})", fix=DOWNLOAD_FIX, input=input_name
        ) from None
    key = (os.path.realpath(path), st.st_size, st.st_mtime_ns, int(num_betas))
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = _read(path, int(num_betas), input_name)
    return _CACHE[key]


def _read(path: str, num_betas: int, input_name: str) -> ShapeSpace:
    name = os.path.basename(path)
    ext = os.path.splitext(name)[1].lower()
    if ext not in EXTENSIONS:
        raise DreamActorError(
            f"{name!r} is not an SMPL-X model file (.npz or .pkl)", fix=DOWNLOAD_FIX, input=input_name
        )
    try:
        import smplx
    except ImportError:
        raise DreamActorError(
            "the smplx package is not installed",
            input=input_name,
            fix="run `pip install -r requirements.txt` of ComfyUI-DreamActor (smplx==0.1.28) "
            "in ComfyUI's Python and restart, or set body_model to 'none (priors)'",
        ) from None
    bad = f"{name!r} is not a readable SMPL-X model file"
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # its notice about files with 10 betas
            model = smplx.SMPLX(
                path,
                ext=ext[1:],
                num_betas=num_betas,
                create_global_orient=False,
                create_body_pose=False,
                create_transl=False,
                create_expression=False,
                create_jaw_pose=False,
                create_leye_pose=False,
                create_reye_pose=False,
                create_left_hand_pose=False,
                create_right_hand_pose=False,
            )
    except AttributeError as e:  # smplx's Struct: a key the file lacks
        key = getattr(e, "name", None) or str(e)
        raise DreamActorError(
            f"{bad}: it has no {key!r} (an SMPL or SMPL+H file, or an old or incomplete download?)",
            fix=DOWNLOAD_FIX,
            input=input_name,
        ) from None
    except Exception as e:  # zip, pickle, shape errors: all mean a broken or foreign file
        raise DreamActorError(
            f"{bad} ({type(e).__name__}: {str(e)[:200]})", fix=DOWNLOAD_FIX, input=input_name
        ) from None
    R = model.J_regressor.double().numpy()
    parents = model.parents.numpy()
    if (
        R.shape[0] < NUM_BODY_JOINTS
        or len(parents) < NUM_BODY_JOINTS
        or not np.array_equal(parents[:NUM_BODY_JOINTS], PARENTS)
    ):
        raise DreamActorError(
            f"{bad}: its first {NUM_BODY_JOINTS} joints are not the SMPL-X body joints ({R.shape[0]} joints)",
            fix=DOWNLOAD_FIX,
            input=input_name,
        )
    R = R[:NUM_BODY_JOINTS]
    space = ShapeSpace(
        name=name,
        joints0=R @ model.v_template.double().numpy(),
        dirs=np.einsum("jv,vck->jck", R, model.shapedirs.double().numpy()),
    )
    L = space.bone_lengths(np.zeros(space.num_betas))
    legs = L[JOINT_NAMES.index("left_knee")] + L[JOINT_NAMES.index("left_ankle")]
    if not (np.isfinite(space.dirs).all() and np.isfinite(L).all() and 0.3 < legs < 2.0):
        raise DreamActorError(
            f"{bad}: its rest-pose leg is {legs:.3g} m long, not a human body in metres",
            fix=DOWNLOAD_FIX,
            input=input_name,
        )
    return space


# --------------------------------------------------------------------------- fitting
@dataclass(frozen=True)
class ShapeFit:
    """betas (K,), scale s (the model's metres -> the motion's), the fitted segments
    ('a-b' names) and the fit's relative RMS residual over them."""

    betas: np.ndarray
    scale: float
    segments: tuple[str, ...]
    rms: float


def measure_segments(motion: Motion, conf_threshold: float = CONF_THRESHOLD) -> dict[tuple[str, str], float]:
    """The ``FIT_SEGMENTS`` the motion shows: (a, b) -> median distance (metres) over the
    valid frames where both joints are seen."""
    sk = motion.skeleton
    seen = seen_mask(motion, conf_threshold)
    out = {}
    for a, b in FIT_SEGMENTS:
        if a not in sk.index or b not in sk.index:
            continue
        ok = seen[:, sk[a]] & seen[:, sk[b]]
        d = np.linalg.norm(motion.joints3d[ok, sk[a]].astype(np.float64) - motion.joints3d[ok, sk[b]], axis=-1)
        d = d[d > 1e-6]
        if d.size:
            out[(a, b)] = float(np.median(d))
    return out


def fit_shape(space: ShapeSpace, segments: dict[tuple[str, str], float]) -> ShapeFit:
    """Scale and betas whose rest-pose distances best match ``segments`` (see the module
    docstring); ``segments`` must not be empty."""
    names = list(segments)
    pairs = np.array([[JOINT_NAMES.index(a), JOINT_NAMES.index(b)] for a, b in names])
    m = np.array([segments[n] for n in names])
    w = 1.0 / (np.array([FIT_SEGMENTS[n] for n in names]) * m)
    K = space.num_betas

    def residuals(x):
        d = space.distances(x[1:], pairs)
        return np.concatenate([w * (np.exp(x[0]) * d - m), PRIOR_WEIGHT * x[1:]])

    x0 = np.zeros(K + 1)
    x0[0] = np.log(np.median(m / space.distances(x0[1:], pairs)))
    x = least_squares(residuals, x0, method="lm", xtol=1e-12, ftol=1e-12).x
    s = float(np.exp(x[0]))
    rel = s * space.distances(x[1:], pairs) / m - 1.0
    return ShapeFit(
        betas=x[1:], scale=s, segments=tuple(f"{a}-{b}" for a, b in names), rms=float(np.sqrt(np.mean(rel**2)))
    )


class SmplxBody:
    """Bone Retarget's body-model hook for one SMPL-X file: ``bone_lengths(motion)``
    fits the shape to the motion and returns (J,) lengths for the hidden SMPL-X body
    bones (NaN elsewhere); ``note`` says what the last fit was."""

    def __init__(
        self,
        path: str,
        conf_threshold: float = CONF_THRESHOLD,
        input_name: str = "body_model",
        num_betas: int = NUM_BETAS,
    ):
        self.space = load_shape_space(path, num_betas, input_name)
        self.conf_threshold = conf_threshold
        self.last_fit: ShapeFit | None = None

    @property
    def note(self) -> str:
        text = f"SMPL-X fit of {self.space.name}"
        f = self.last_fit
        if f is not None:
            text += (
                f" (scale {f.scale:.3f}, {self.space.num_betas} betas fitted to {len(f.segments)} seen "
                f"segments, residual {100 * f.rms:.1f}%)"
            )
        return text

    def fit(self, motion: Motion) -> ShapeFit | None:
        """The shape fit to ``motion``'s seen segments, or None when it shows none of them."""
        segments = measure_segments(motion, self.conf_threshold)
        self.last_fit = fit_shape(self.space, segments) if segments else None
        return self.last_fit

    def bone_lengths(self, motion: Motion) -> np.ndarray:
        """(J,) metres for the motion's skeleton: the fitted body's length for each SMPL-X
        body bone (outside ``CONVENTION_BONES``) that neither it nor its mirror shows;
        NaN elsewhere."""
        sk = motion.skeleton
        out = np.full(sk.num_joints, np.nan)
        fit = self.fit(motion)
        if fit is None:
            return out
        model = fit.scale * self.space.bone_lengths(fit.betas)
        seen = np.isfinite(measured_bone_lengths(motion, self.conf_threshold))
        for k in range(1, NUM_BODY_JOINTS):
            name = JOINT_NAMES[k]
            j = sk.index.get(name)
            if (
                j is None
                or name in CONVENTION_BONES
                or sk.parents[j] < 0
                or sk.joint_names[sk.parents[j]] != JOINT_NAMES[PARENTS[k]]
            ):
                continue
            mirror = sk.mirror(name)
            if seen[j] or (mirror is not None and seen[sk[mirror]]):
                continue
            out[j] = model[k]
        return out
