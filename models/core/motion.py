"""``DA_MOTION``: the per-frame motion of one person, and its ``.motion.npz`` file.

Shapes (T frames, J body joints, F face landmarks):

=================  ============  ==================================================
key                shape         meaning
=================  ============  ==================================================
joint_names        (J,)          body joint names (see ``models.core.skeleton``)
parents            (J,) int      parent index per joint, -1 for the root
joints2d           (T, J, 2)     pixels in the source frame, x right, y down
joints3d           (T, J, 3)     metres in camera space (x right, y down, z forward)
conf               (T, J)        per-joint confidence in [0, 1]
valid              (T,) bool     a person was measured (or filled) on this frame
fps                ()            frames per second
image_size         (2,)          (W, H) of the source frames
camera             (3, 3)        pinhole intrinsics K mapping camera space to pixels
hands2d            (T, 2, 21, 2) pixels, hand 0 = person's left, 1 = right
hands_conf         (T, 2, 21)    per-point confidence
face2d             (T, F, 2)     face landmarks in pixels (F = 0 when not extracted)
head_center        (T, 3)        head sphere centre, metres, camera space
head_radius        (T,)          head sphere radius, metres
head_rotation      (T, 3, 3)     head rotation, camera-from-head (columns: head x, y, z)
format_version     ()            int, bumped only when a key changes meaning
=================  ============  ==================================================

Optional keys (absent means "not computed"): ``hands3d`` (T,2,21,3) metres,
``face3d`` (T,F,3) pixels with relative depth, ``face_valid`` (T,) bool,
``head_valid`` (T,) bool, ``filled`` (T,) bool for frames interpolated across a
gap, ``person_box`` (T,4) xyxy pixels, ``face_blendshapes`` (T,52) MediaPipe's
expression scores in [0, 1], ``face_matrix`` (T,4,4) MediaPipe's facial transformation
matrix (canonical face in cm to the camera of the square the face model saw),
``source`` () str, ``info`` () str.
Extra keys are kept on load and written back unchanged.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass, field

import numpy as np

from .errors import DreamActorError
from .motion_file import documented_shapes, read_motion_arrays
from .skeleton import BODY, HAND, SkeletonDef, skeleton_from_arrays

FORMAT_VERSION = 1
NUM_HAND_POINTS = HAND.num_joints

REQUIRED_KEYS = (
    "joint_names",
    "parents",
    "joints2d",
    "joints3d",
    "conf",
    "valid",
    "fps",
    "image_size",
    "camera",
    "hands2d",
    "hands_conf",
    "face2d",
    "head_center",
    "head_radius",
    "head_rotation",
    "format_version",
)

# Per-frame arrays: sliced together, checked for a leading T axis.
PER_FRAME = (
    "joints2d",
    "joints3d",
    "conf",
    "valid",
    "hands2d",
    "hands_conf",
    "face2d",
    "head_center",
    "head_radius",
    "head_rotation",
)
OPTIONAL_PER_FRAME = (
    "hands3d",
    "face3d",
    "face_valid",
    "head_valid",
    "filled",
    "person_box",
    "face_blendshapes",
    "face_matrix",
)


@dataclass
class Motion:
    """Per-frame motion of one person. See the module docstring for shapes and units."""

    skeleton: SkeletonDef
    joints2d: np.ndarray
    joints3d: np.ndarray
    conf: np.ndarray
    valid: np.ndarray
    fps: float
    image_size: tuple[int, int]
    camera: np.ndarray
    hands2d: np.ndarray
    hands_conf: np.ndarray
    face2d: np.ndarray
    head_center: np.ndarray
    head_radius: np.ndarray
    head_rotation: np.ndarray
    optional: dict[str, np.ndarray] = field(default_factory=dict)
    """Optional per-frame keys (``OPTIONAL_PER_FRAME``) and any extra keys, by name."""

    # ------------------------------------------------------------------ build
    @classmethod
    def empty(
        cls,
        num_frames: int,
        image_size: tuple[int, int],
        fps: float,
        skeleton: SkeletonDef = BODY,
        num_face: int = 0,
        camera: np.ndarray | None = None,
    ) -> "Motion":
        """A motion with nothing measured yet: zeros, confidences 0, ``valid`` False,
        head rotation identity. Extraction fills it frame by frame."""
        T, J = int(num_frames), skeleton.num_joints
        W, H = int(image_size[0]), int(image_size[1])
        if camera is None:
            camera = default_camera(W, H)
        return cls(
            skeleton=skeleton,
            joints2d=np.zeros((T, J, 2), np.float32),
            joints3d=np.zeros((T, J, 3), np.float32),
            conf=np.zeros((T, J), np.float32),
            valid=np.zeros((T,), bool),
            fps=float(fps),
            image_size=(W, H),
            camera=np.asarray(camera, np.float64),
            hands2d=np.zeros((T, 2, NUM_HAND_POINTS, 2), np.float32),
            hands_conf=np.zeros((T, 2, NUM_HAND_POINTS), np.float32),
            face2d=np.zeros((T, num_face, 2), np.float32),
            head_center=np.zeros((T, 3), np.float32),
            head_radius=np.zeros((T,), np.float32),
            head_rotation=np.tile(np.eye(3, dtype=np.float32), (T, 1, 1)),
        )

    # ------------------------------------------------------------------ basics
    @property
    def num_frames(self) -> int:
        return int(self.joints2d.shape[0])

    def __len__(self) -> int:
        return self.num_frames

    @property
    def has_head(self) -> bool:
        """True once a head sphere was fitted (any positive radius)."""
        return bool(np.any(self.head_radius > 0))

    def get(self, key: str, default=None):
        """An optional key, or ``default`` when it was not computed."""
        return self.optional.get(key, default)

    def replace(self, **changes) -> "Motion":
        """A shallow copy with some fields (or optional keys) changed; never mutates self."""
        fields = {f.name for f in dataclasses.fields(self)}
        opt = dict(self.optional)
        direct = {}
        for k, v in changes.items():
            if k in fields:
                direct[k] = v
            else:
                opt[k] = v
        return dataclasses.replace(self, optional=opt, **direct)

    def check_range(self, start: int = 0, stop: int | None = None) -> tuple[int, int]:
        """``(start, stop)`` as ints (stop None = the end); a clear error when outside the motion."""
        T = self.num_frames
        start, stop = int(start), (T if stop is None else int(stop))
        if not (0 <= start < stop <= T):
            raise DreamActorError(
                f"frame range {start}:{stop} is outside the motion's {T} frames",
                fix=f"choose start in 0..{T - 1} and an end at most {T}",
                input="frame range",
            )
        return start, stop

    def slice(self, start: int = 0, stop: int | None = None, step: int = 1) -> "Motion":
        """Frames ``start:stop:step`` (fps divided by ``step``)."""
        start, stop = self.check_range(start, stop)
        if step < 1:
            raise DreamActorError(
                f"frame step {step} must be at least 1", fix="use a step of 1 or more", input="frame range"
            )
        sl = np.s_[start:stop:step]
        per = {k: getattr(self, k)[sl] for k in PER_FRAME}
        opt = {k: (v[sl] if k in OPTIONAL_PER_FRAME else v) for k, v in self.optional.items()}
        return dataclasses.replace(self, fps=self.fps / step, optional=opt, **per)

    # ------------------------------------------------------------- validation
    def validate(self, input: str = "motion") -> "Motion":
        """Check shapes, dtypes and value ranges; raise ``DreamActorError`` naming the key.

        ``input`` is the node input blamed in the message ('file' when loading)."""
        T, J = self.joints2d.shape[0], self.skeleton.num_joints
        F = self.face2d.shape[1] if self.face2d.ndim == 3 else -1

        def bad(what: str, fix: str = "re-extract the motion with this version of the pack"):
            return DreamActorError(f"motion key {what}", fix=fix, input=input)

        if T < 1:
            raise DreamActorError(
                "the motion has no frames", fix="extract motion from a clip with at least one frame", input=input
            )
        shapes = documented_shapes(T, J, F)
        arrays = {k: getattr(self, k) for k in PER_FRAME} | {
            k: v for k, v in self.optional.items() if k in OPTIONAL_PER_FRAME
        }
        arrays["camera"] = np.asarray(self.camera)
        for k, a in arrays.items():
            if tuple(np.shape(a)) != shapes[k]:
                raise bad(f"'{k}' has shape {tuple(np.shape(a))}, expected {shapes[k]}")
            if np.asarray(a).dtype.kind == "f" and not np.all(np.isfinite(a)):
                raise bad(f"'{k}' contains NaN or infinity")
        if not (self.camera[0, 0] > 0 and self.camera[1, 1] > 0):
            raise bad(f"'camera' has focal lengths {self.camera[0, 0]:g}, {self.camera[1, 1]:g}; both must be positive")
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise bad(f"'fps' is {self.fps}, not a positive number", fix="set the fps when loading the video")
        W, H = self.image_size
        if W < 1 or H < 1:
            raise bad(f"'image_size' {W}x{H} is empty", fix="re-extract the motion")
        for k in ("conf", "hands_conf"):
            a = getattr(self, k)
            if a.size and (a.min() < 0 or a.max() > 1):
                raise bad(f"'{k}' has values outside [0, 1]")
        if np.any(self.head_radius < 0):
            raise bad("'head_radius' has negative radii")
        return self

    # ------------------------------------------------------------------- I/O
    def to_arrays(self) -> dict[str, np.ndarray]:
        """All keys of the ``.motion.npz`` format, as numpy arrays."""
        out = {
            "joint_names": np.asarray(self.skeleton.joint_names),
            "parents": np.asarray(self.skeleton.parents, np.int32),
            "fps": np.asarray(self.fps, np.float64),
            "image_size": np.asarray(self.image_size, np.int32),
            "camera": np.asarray(self.camera, np.float64),
            "format_version": np.asarray(FORMAT_VERSION, np.int32),
        }
        for k in PER_FRAME:
            out[k] = np.asarray(getattr(self, k))
        for k, v in self.optional.items():
            out[k] = np.asarray(v)
        return out

    def save(self, path: str) -> str:
        """Write ``path`` atomically (temp file + rename), so a crash never leaves half a file."""
        self.validate()
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".npz", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez_compressed(f, **self.to_arrays())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return path

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], source: str = "motion file") -> "Motion":
        """Build and validate a motion from ``.motion.npz`` arrays."""
        if "format_version" not in arrays:
            raise DreamActorError(
                f"{source} has no 'format_version': it is not a DreamActor motion file",
                fix="choose a .motion.npz written by DreamActor Save Motion",
                input="file",
            )
        _check_scalars(arrays, source)
        version = int(np.asarray(arrays["format_version"]))
        if version != FORMAT_VERSION:
            raise DreamActorError(
                f"{source} is format version {version}; this pack reads version {FORMAT_VERSION}",
                fix=(
                    "update ComfyUI-DreamActor to read newer files"
                    if version > FORMAT_VERSION
                    else "re-extract the motion and save it again with this version"
                ),
                input="file",
            )
        missing = [k for k in REQUIRED_KEYS if k not in arrays]
        if missing:
            raise DreamActorError(
                f"{source} lacks the keys {missing}", fix="re-save the motion with DreamActor Save Motion", input="file"
            )
        try:
            skeleton = skeleton_from_arrays(arrays["joint_names"], arrays["parents"])
        except ValueError as e:
            raise DreamActorError(
                f"{source} has an invalid skeleton: {e}",
                fix="re-save the motion with DreamActor Save Motion",
                input="file",
            ) from None
        W, H = (int(v) for v in np.asarray(arrays["image_size"]))
        kwargs = {k: np.asarray(arrays[k]) for k in PER_FRAME}
        kwargs["valid"] = kwargs["valid"].astype(bool)
        optional = {k: np.asarray(v) for k, v in arrays.items() if k not in REQUIRED_KEYS}
        motion = cls(
            skeleton=skeleton,
            fps=float(np.asarray(arrays["fps"])),
            image_size=(W, H),
            camera=np.asarray(arrays["camera"], np.float64),
            optional=optional,
            **kwargs,
        )
        return motion.validate(input="file")

    @classmethod
    def load(cls, path: str) -> "Motion":
        """Read and validate a ``.motion.npz`` file."""
        name = os.path.basename(path)
        arrays = read_motion_arrays(path)
        return cls.from_arrays(arrays, source=f"motion file {name}")


def _check_scalars(arrays: dict, source: str) -> None:
    """The per-file keys (fps, image size, camera, version) are numbers of their documented shape."""
    shapes = documented_shapes(0, 0, 0)
    for k in ("format_version", "fps", "image_size", "camera"):
        if k in arrays and (np.shape(arrays[k]) != shapes[k] or np.asarray(arrays[k]).dtype.kind not in "iuf"):
            raise DreamActorError(
                f"{source} key '{k}' has shape {np.shape(arrays[k])} ({np.asarray(arrays[k]).dtype}), "
                f"expected numbers of shape {shapes[k]}",
                fix="re-save the motion with DreamActor Save Motion",
                input="file",
            )


def default_camera(width: int, height: int, fov_deg: float = 55.0) -> np.ndarray:
    """Pinhole intrinsics for a typical phone / webcam: horizontal FOV ~55 degrees,
    principal point at the image centre. Used until a camera is recovered."""
    f = 0.5 * max(width, height) / np.tan(np.radians(fov_deg) / 2)
    return np.array([[f, 0, width / 2.0], [0, f, height / 2.0], [0, 0, 1]], np.float64)


def project(points3d: np.ndarray, camera: np.ndarray) -> np.ndarray:
    """Pinhole projection. points3d (..., 3) metres in camera space -> (..., 2) pixels."""
    p = np.asarray(points3d, np.float64)
    z = np.clip(p[..., 2:3], 1e-6, None)
    uv = p[..., :2] / z
    K = np.asarray(camera, np.float64)
    return np.stack([K[0, 0] * uv[..., 0] + K[0, 2], K[1, 1] * uv[..., 1] + K[1, 2]], -1)
