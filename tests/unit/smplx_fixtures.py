"""A generated SMPL-X body model in the real file format, for tests.

The real SMPL-X files are a licensed download, so tests write their own: every array
``smplx.SMPLX`` reads from ``SMPLX_NEUTRAL.npz`` (plus the texture arrays the real
file carries), with the real shapes: 10475 vertices, 20908 faces, 55 joints, 486 pose
blend shapes, 10 shape + 10 expression components (the SMPL-X v1.0 layout), 45-D
hand PCA. The geometry is simple but human: each joint sits at SMPL-X's mean-shape
rest position (metres, y up, the body facing +z) inside a cloud of vertices skinned
to it; its J_regressor row averages eight of them (symmetric pairs, so the regressed
joint is exactly the rest position). The landmark vertices the smplx package reads
by index (nose, eyes, ears, toes, heels, finger tips) sit where they belong.

Shape components change bone lengths in a known way (``BONE_CHANGE``): component k
scales bone j's rest vector by ``1 + beta_k * BONE_CHANGE[k][j]``, and every vertex
moves with its joint, so the shaped rest-pose bone lengths are exactly
``rest_bone_lengths(betas)``.
"""

from __future__ import annotations

import pickle

import numpy as np

NUM_VERTS, NUM_FACES, NUM_JOINTS = 10475, 20908, 55
NUM_SHAPE, NUM_EXPR = 10, 10

JOINT_NAMES = (
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "jaw",
    "left_eye_smplhf",
    "right_eye_smplhf",
    *(
        f"{s}_{f}{i}"
        for s in ("left", "right")
        for f in ("index", "middle", "pinky", "ring", "thumb")
        for i in (1, 2, 3)
    ),
)
PARENTS = np.array(
    [
        -1,
        0,
        0,
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        9,
        9,
        12,
        13,
        14,
        16,
        17,
        18,
        19,
        15,
        15,
        15,
        *[
            p
            for w in (20, 21)
            for base in range(5)
            for p in (w, 25 + (w - 20) * 15 + 3 * base, 26 + (w - 20) * 15 + 3 * base)
        ],
    ]
)

# SMPL-X neutral mean-shape rest joints (metres, y up, facing +z), as its J_regressor gives them
_BODY_REST = np.array(
    [
        (0.003, -0.351, 0.012),
        (0.061, -0.444, -0.014),
        (-0.060, -0.455, -0.009),
        (0.000, -0.242, -0.016),
        (0.116, -0.823, -0.003),
        (-0.104, -0.818, -0.006),
        (0.010, -0.110, -0.022),
        (0.073, -1.226, -0.054),
        (-0.089, -1.228, -0.046),
        (-0.002, -0.058, 0.007),
        (0.123, -1.283, 0.072),
        (-0.128, -1.287, 0.079),
        (-0.014, 0.108, -0.019),
        (0.045, 0.027, -0.003),
        (-0.049, 0.027, -0.007),
        (0.011, 0.268, -0.004),
        (0.185, 0.088, -0.016),
        (-0.177, 0.091, -0.018),
        (0.438, 0.074, -0.033),
        (-0.433, 0.075, -0.034),
        (0.686, 0.085, -0.038),
        (-0.684, 0.084, -0.038),
    ]
)
FINGER_BASES = {
    "index": (0.09, 0.0, 0.025),
    "middle": (0.095, 0.0, 0.005),
    "pinky": (0.075, 0.0, -0.04),
    "ring": (0.085, 0.0, -0.02),
    "thumb": (0.03, -0.015, 0.04),
}
LANDMARKS = {  # smplx.vertex_ids.vertex_ids['smplx'] -> (joint index it moves with, rest position)
    9120: (15, (0.011, 0.29, 0.11)),
    9929: (15, (-0.022, 0.32, 0.09)),
    9448: (15, (0.044, 0.32, 0.09)),
    616: (15, (-0.065, 0.30, -0.004)),
    6: (15, (0.087, 0.30, -0.004)),
    5770: (10, (0.12, -1.33, 0.14)),
    5780: (10, (0.16, -1.33, 0.12)),
    8846: (7, (0.07, -1.33, -0.08)),
    8463: (11, (-0.12, -1.33, 0.14)),
    8474: (11, (-0.16, -1.33, 0.12)),
    8635: (8, (-0.09, -1.33, -0.07)),
}


def rest_joints() -> np.ndarray:
    """(55, 3) mean-shape rest joints: the 22 body joints, jaw and eyes, 2 x 15 finger joints."""
    out = np.zeros((NUM_JOINTS, 3))
    out[:22] = _BODY_REST
    head = _BODY_REST[15]
    out[22] = head + (0.0, -0.025, 0.03)
    out[23] = head + (0.033, 0.05, 0.06)
    out[24] = head + (-0.033, 0.05, 0.06)
    for side, (w, sgn) in enumerate(((20, 1.0), (21, -1.0))):
        for f, (dx, dy, dz) in enumerate(FINGER_BASES.values()):
            base = 25 + 15 * side + 3 * f
            for i in range(3):
                out[base + i] = out[w] + (sgn * (dx + 0.03 * i), dy, dz + (0.015 * i if f == 4 else 0.0))
    return out


def _bone_set(*names: str) -> list[int]:
    return [JOINT_NAMES.index(n) for n in names]


FINGERS = list(range(25, 55))
BONE_CHANGE = {  # component -> {child joint: relative length change per unit beta}
    0: {j: 0.04 for j in range(1, NUM_JOINTS)},  # stature: every bone
    1: {
        **{j: 0.05 for j in _bone_set("left_elbow", "right_elbow", "left_wrist", "right_wrist")},  # long limbs
        **{j: 0.06 for j in _bone_set("left_knee", "right_knee", "left_ankle", "right_ankle")},
        **{j: -0.03 for j in _bone_set("spine1", "spine2", "spine3", "neck")},
    },
    2: {
        **{j: 0.09 for j in _bone_set("left_collar", "right_collar", "left_shoulder", "right_shoulder")},  # broad
        **{j: 0.03 for j in _bone_set("left_elbow", "right_elbow")},
        **{j: 0.04 for j in _bone_set("left_hip", "right_hip")},
        **{j: -0.03 for j in _bone_set("left_knee", "right_knee")},
    },
    3: {
        **{j: 0.06 for j in _bone_set("left_wrist", "right_wrist")},  # long forearms and shins
        **{j: 0.05 for j in _bone_set("left_ankle", "right_ankle", "left_foot", "right_foot")},
        **{j: -0.02 for j in _bone_set("left_elbow", "right_elbow")},
    },
    **{k: {j: 0.02 * (k - 3) for j in FINGERS} for k in range(4, NUM_SHAPE)},  # hands only
}
"""The generated model's shape components, as bone-length changes (SMPL-X's are PCA
components of real scans; these are made so a test knows the answer)."""


def _joint_offsets(change: dict[int, float], rest: np.ndarray) -> np.ndarray:
    """(55, 3) joint displacement of one unit of a component: bone j's rest vector grows by
    change[j] of itself, and every joint moves with its parent chain (exactly linear)."""
    out = np.zeros_like(rest)
    for j in range(1, NUM_JOINTS):
        p = PARENTS[j]
        out[j] = out[p] + change.get(j, 0.0) * (rest[j] - rest[p])
    return out


def rest_bone_lengths(betas) -> np.ndarray:
    """(55,) shaped rest-pose bone lengths (0 at the root), from BONE_CHANGE alone."""
    rest = rest_joints()
    base = np.linalg.norm(rest - rest[np.maximum(PARENTS, 0)], axis=-1)
    factor = np.ones(NUM_JOINTS)
    for k, b in enumerate(np.asarray(betas, np.float64)):
        factor += b * np.array([BONE_CHANGE.get(k, {}).get(j, 0.0) for j in range(NUM_JOINTS)])
    out = base * factor
    out[0] = 0.0
    return out


def model_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """Every array of an SMPL-X v1.0 model file, with the real keys, shapes and dtypes."""
    rng = np.random.default_rng(seed)
    rest = rest_joints()
    cluster = np.arange(NUM_VERTS) % NUM_JOINTS  # the joint each vertex is skinned to
    for v, (j, _) in LANDMARKS.items():
        cluster[v] = j
    offsets = rng.normal(0.0, 0.02, (NUM_VERTS, 3))
    J_regressor = np.zeros((NUM_JOINTS, NUM_VERTS))
    for j in range(NUM_JOINTS):
        members = [v for v in np.flatnonzero(cluster == j) if v not in LANDMARKS][:8]
        for a, b in zip(members[0::2], members[1::2]):  # symmetric pairs: the mean offset is exactly zero
            offsets[b] = -offsets[a]
        J_regressor[j, members] = 1.0 / len(members)
    v_template = rest[cluster] + offsets
    for v, (_, pos) in LANDMARKS.items():
        v_template[v] = pos
    shapedirs = np.zeros((NUM_VERTS, 3, NUM_SHAPE + NUM_EXPR))
    for k in range(NUM_SHAPE):
        shapedirs[:, :, k] = _joint_offsets(BONE_CHANGE[k], rest)[cluster]
    face = np.flatnonzero((cluster == 15) & (J_regressor.sum(0) == 0))  # head vertices no joint averages
    for k in range(NUM_EXPR):  # expressions move the face only, never a joint
        shapedirs[face, :, NUM_SHAPE + k] = rng.normal(0.0, 0.002, (len(face), 3))
    weights = np.zeros((NUM_VERTS, NUM_JOINTS))
    weights[np.arange(NUM_VERTS), cluster] = 1.0
    f = np.stack([np.arange(NUM_FACES) % (NUM_VERTS - 2 * NUM_JOINTS)] * 3, 1)
    f[:, 1] += NUM_JOINTS
    f[:, 2] += 2 * NUM_JOINTS  # three vertices of one cluster per face
    bary = rng.dirichlet(np.ones(3), 51)
    q_l, _ = np.linalg.qr(rng.normal(size=(45, 45)))
    q_r, _ = np.linalg.qr(rng.normal(size=(45, 45)))
    return {
        "v_template": v_template,
        "f": f.astype(np.uint32),
        "shapedirs": shapedirs,
        "posedirs": np.zeros((NUM_VERTS, 3, 9 * (NUM_JOINTS - 1)), np.float32),  # no pose correctives
        "J_regressor": J_regressor,
        "kintree_table": np.stack([np.where(PARENTS < 0, 2**32 - 1, PARENTS), np.arange(NUM_JOINTS)]).astype(np.uint32),
        "weights": weights,
        "hands_componentsl": q_l,
        "hands_componentsr": q_r,
        "hands_meanl": rng.normal(0.0, 0.1, 45),
        "hands_meanr": rng.normal(0.0, 0.1, 45),
        "hands_coeffsl": rng.normal(0.0, 0.3, (1554, 45)),
        "hands_coeffsr": rng.normal(0.0, 0.3, (1554, 45)),
        "lmk_faces_idx": rng.integers(0, NUM_FACES, 51).astype(np.uint32),
        "lmk_bary_coords": bary,
        "dynamic_lmk_faces_idx": rng.integers(0, NUM_FACES, (79, 17)).astype(np.uint32),
        "dynamic_lmk_bary_coords": rng.dirichlet(np.ones(3), (79, 17)),
        "vt": rng.uniform(0.0, 1.0, (11313, 2)),
        "ft": rng.integers(0, 11313, (NUM_FACES, 3)).astype(np.uint32),
    }


def write_npz(path: str, drop: tuple[str, ...] = ()) -> str:
    """SMPLX_*.npz as the official download has it (np.savez_compressed); ``drop``: keys to leave out."""
    arrays = {k: v for k, v in model_arrays().items() if k not in drop}
    np.savez_compressed(path, **arrays)
    return path


def write_pkl(path: str) -> str:
    """SMPLX_*.pkl: the same arrays pickled as a dict, J_regressor sparse as in the SMPL family's files."""
    from scipy import sparse

    arrays = model_arrays()
    arrays["J_regressor"] = sparse.csc_matrix(arrays["J_regressor"])
    with open(path, "wb") as fh:
        pickle.dump(arrays, fh, protocol=2)
    return path
