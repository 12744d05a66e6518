"""A humanoid skeleton fitted to a character's silhouette, for characters the landmark models
miss (chibi, robots, creatures standing upright, any drawing style).

Nothing here assumes human proportions: every part is measured on the silhouette (H, W) bool,
analysed at ``WORK_HEIGHT`` px tall:

* head: the largest inscribed circle near the top (distance transform; a circle scores its
  radius minus ``HEAD_TOP_PENALTY`` times its gap to the silhouette's top), so a chibi's head
  of half its height is found as well as a realistic one; eyes, ears and nose are drawn
  frontally on it (seen, so the retarget sizes the head from them);
* neck: the narrowest row just under the head;
* legs: the background gap between the feet followed upwards until it closes (the crotch);
  each leg's centre line gives hip, knee and ankle. Feet that do not stand apart at the floor
  (a runner's raised foot, a side view) are the two extremities below the hips farthest along
  the silhouette from the pelvis and from each other, joints at shares of each path; legs that
  never part (a dress, a robot on one block) split the lower body in two, the hips at
  ``TORSO_SHARE`` of the height below the neck;
* arms: the farthest point of each side of the body from its shoulder along the silhouette
  (geodesic distance, legs and head left out): the hand, wherever the arm points; wrist
  and elbow on that shortest path.

Joints are returned in picture pixels with a confidence: ``FIT_CONF`` for a part that was
measured, ``GUESS_CONF`` for one placed by a rule (an arm held against the body, hung along
it); a character cut off by the picture's bottom edge has
its legs at 0 (not seen) and its hips guessed. The character's left is the picture's right (a
character facing the viewer, as character sheets show them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from ..core.skeleton import BODY

WORK_HEIGHT = 256
HEAD_TOP_PENALTY = 0.55
TORSO_SHARE = 0.45
"""Neck-to-hip share of the neck-to-sole height when the legs do not part."""
FOOT_DROP = 0.3
"""A traced foot lies at least this share of the hips-to-sole height below the hips."""
FIT_CONF = 0.5
GUESS_CONF = 0.3
HIDDEN_WHEN_CUT = tuple(f"{side}_{n}" for side in ("left", "right") for n in ("knee", "ankle", "foot", "heel"))
"""Joints given confidence 0 when the silhouette runs off the picture's bottom (a bust)."""
SPINE = {"spine1": 0.22, "spine2": 0.48, "spine3": 0.58}
"""Spine joints on the pelvis -> neck segment (the fractions ``body_mapping`` uses)."""


@dataclass
class CharacterFit:
    """joints2d (29, 2) px and conf (29,) in ``BODY`` order; head centre (2,) px and radius px;
    box (4,) xyxy px of the silhouette; notes: what was measured and what was guessed."""

    joints2d: np.ndarray
    conf: np.ndarray
    head_centre: np.ndarray
    head_radius: float
    box: np.ndarray
    notes: list[str]


# ------------------------------------------------------------------ row runs
def _runs(row: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of the True runs of a 1D bool array."""
    d = np.diff(np.concatenate([[0], row.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def _run_at(row: np.ndarray, x: float) -> tuple[int, int] | None:
    """The True run containing column x, else the nearest one (None on an empty row)."""
    runs = _runs(row)
    if not runs:
        return None
    return min(runs, key=lambda r: 0 if r[0] <= x < r[1] else min(abs(x - r[0]), abs(x - r[1] + 1)))


# ------------------------------------------------------------------ parts
def _head(m: np.ndarray, dist: np.ndarray) -> tuple[np.ndarray, float]:
    """Centre (x, y) and radius of the head circle (see the module docstring)."""
    ys = np.arange(m.shape[0])[:, None]
    score = np.where(m, dist - HEAD_TOP_PENALTY * np.maximum(ys - dist, 0.0), -np.inf)
    score[int(0.7 * m.shape[0]) :] = -np.inf  # a head is in the upper part
    y, x = np.unravel_index(np.argmax(score), m.shape)
    return np.array([x, y], float), float(dist[y, x])


def _neck(m: np.ndarray, centre: np.ndarray, r: float, lowest: float) -> tuple[float, float]:
    """(x, y) of the narrowest row from 0.7 to 1.3 radii below the head centre (not below
    ``lowest``), else the chin."""
    best = None
    for y in range(int(centre[1] + 0.7 * r), int(min(m.shape[0] - 1, centre[1] + 1.3 * r, lowest)) + 1):
        run = _run_at(m[y], centre[0])
        if run is not None and (best is None or run[1] - run[0] < best[0]):
            best = (run[1] - run[0], (run[0] + run[1] - 1) / 2, y)
    if best is None or best[0] > 1.6 * r:  # no constriction: the neck sits under the chin
        return float(centre[0]), min(centre[1] + r, m.shape[0] - 1.0)
    return best[1], float(best[2])


def _leg_gap(m: np.ndarray, top: float) -> tuple[int, list[np.ndarray]] | None:
    """Follow the gap between the feet up to the crotch. Returns (crotch row, [centres of
    the picture-left leg, picture-right leg] (rows crotch..bottom, 2) x, y), or None."""
    H, W = m.shape
    bottom = int(np.flatnonzero(m.any(1))[-1])
    start = bottom - max(2, int(0.03 * H))
    runs = sorted(_runs(m[start]), key=lambda r: r[1] - r[0])[-2:]
    if len(runs) < 2:
        return None
    runs.sort()
    x = (runs[0][1] + runs[1][0] - 1) / 2.0
    y = start
    while y > top:
        if m[y - 1, int(round(x))]:
            break
        gap = _run_at(~m[y - 1], x)
        if gap is None or gap[0] == 0 or gap[1] == W:  # the "gap" opened to the outside
            return None
        x, y = (gap[0] + gap[1] - 1) / 2.0, y - 1
    crotch = y
    if bottom - crotch < 0.08 * H:
        return None
    legs: list[list] = [[], []]
    for row in range(crotch, bottom + 1):
        gap = _run_at(~m[row], x) if not m[row, int(round(x))] else None
        sides = (gap[0] - 0.5, gap[1]) if gap else (x - 0.5, x + 0.5)
        for k, edge in enumerate(sides):
            run = _run_at(m[row], edge - 1 if k == 0 else edge)
            if run is not None:
                legs[k].append(((run[0] + run[1] - 1) / 2.0, row))
        if gap:
            x = (gap[0] + gap[1] - 1) / 2.0
    return crotch, [np.array(leg, float) for leg in legs]


def _legs_together(m: np.ndarray, neck_y: float) -> tuple[int, list[np.ndarray]]:
    """Legs that never part: the lower body split down its middle at each row."""
    bottom = int(np.flatnonzero(m.any(1))[-1])
    crotch = int(neck_y + TORSO_SHARE * (bottom - neck_y))
    legs: list[list] = [[], []]
    for row in range(crotch, bottom + 1):
        xs = np.flatnonzero(m[row])
        if len(xs):
            a, b = xs.min(), xs.max()
            legs[0].append((a + 0.3 * (b - a), row))
            legs[1].append((a + 0.7 * (b - a), row))
    return crotch, [np.array(leg, float) for leg in legs]


def _legs_from_rows(m: np.ndarray, crotch: int, lines: list[np.ndarray]) -> tuple[dict, float]:
    """Leg joints from the two leg centre lines (rows crotch..bottom, (N, 2) x, y; picture-left
    first): hips just above the crotch, knees, ankles at fixed shares of the leg height.
    Returns ({joint name: (x, y)}, hip row)."""
    bottom = float(np.flatnonzero(m.any(1))[-1])
    leg_len = bottom - crotch
    hip_y = crotch - 0.08 * leg_len
    knee_y, ankle_y, sole_y = crotch + 0.45 * leg_len, bottom - 0.12 * leg_len, bottom - 0.02 * leg_len
    J = {}
    for side, leg in zip(("right", "left"), lines):  # picture-left = the character's right
        J[f"{side}_hip"] = _along(leg, crotch) + [0.0, hip_y - crotch]
        J[f"{side}_knee"] = _along(leg, knee_y)
        ankle = J[f"{side}_ankle"] = _along(leg, ankle_y)
        J[f"{side}_heel"] = np.array([ankle[0], sole_y])
        sole = _run_at(m[int(sole_y)], ankle[0])
        toe = (sole[0] + sole[1] - 1) / 2 if sole else ankle[0]
        J[f"{side}_foot"] = np.array([np.clip(toe, ankle[0] - 0.3 * leg_len, ankle[0] + 0.3 * leg_len), sole_y])
    return J, hip_y


def _legs_from_paths(m: np.ndarray, x: float, hip_y: float) -> dict | None:
    """Legs that do not stand apart at the floor (a runner's raised foot, a side view): the two
    extremities of the body below the hips farthest along the silhouette from the pelvis and
    from each other; joints at shares of each path. None when there is one (legs together)."""
    low = m & (np.arange(m.shape[0])[:, None] >= int(hip_y))
    run = _run_at(low[int(hip_y)], x)
    if run is None:
        return None
    source = (int(hip_y), int((run[0] + run[1] - 1) // 2))
    dist, pred, index = _geodesic(low, source)
    far = np.where(np.isfinite(dist), dist, -1.0)
    tip1 = np.unravel_index(np.argmax(far), far.shape)
    dist1 = _geodesic(low, tip1)[0]
    apart = np.where(np.isfinite(dist) & np.isfinite(dist1), np.minimum(dist, dist1), -1.0)
    tip2 = np.unravel_index(np.argmax(apart), apart.shape)
    bottom = float(np.flatnonzero(m.any(1))[-1])
    if apart[tip2] < 0.5 * far[tip1] or min(tip1[0], tip2[0]) < hip_y + FOOT_DROP * (bottom - hip_y):
        return None  # one leg, or a "foot" out sideways near the hips: a wing, a tail, a wand
    J = {}
    paths = sorted((_path(pred, index, int(index[t])) for t in (tip1, tip2)), key=lambda p: p[-1, 0])
    for side, path in zip(("right", "left"), paths):
        steps = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
        at = lambda share: path[np.searchsorted(steps, share * steps[-1]).clip(0, len(path) - 1)]  # noqa: E731
        J[f"{side}_hip"] = np.array([at(0.15)[0], hip_y])
        J[f"{side}_knee"], J[f"{side}_ankle"] = at(0.55), at(0.88)
        J[f"{side}_heel"], J[f"{side}_foot"] = at(0.94), at(1.0)
    return J


def _leg_pixels(m: np.ndarray, J: dict) -> np.ndarray:
    """(H, W) bool: the row runs the legs (hip -> knee -> ankle -> foot) pass through."""
    out = np.zeros_like(m)
    for side in ("left", "right"):
        chain = [J[f"{side}_{n}"] for n in ("hip", "knee", "ankle", "foot")]
        for a, b in zip(chain, chain[1:]):
            for t in np.linspace(0.0, 1.0, 2 + int(np.abs(b - a).max())):
                x, y = a + t * (b - a)
                row = int(np.clip(round(y), 0, m.shape[0] - 1))
                run = _run_at(m[row], x)
                if run is not None:
                    out[row, run[0] : run[1]] = True
    return out


def _along(line: np.ndarray, y: float) -> np.ndarray:
    """The point of a leg centre line (N, 2) at row y."""
    return np.array([np.interp(y, line[:, 1], line[:, 0]), y])


def _geodesic(m: np.ndarray, source: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shortest paths inside m (8-connected) from source (row, col): distances (H, W) (inf
    outside), predecessors and the pixel index map."""
    H, W = m.shape
    index = -np.ones((H, W), np.int64)
    index[m] = np.arange(int(m.sum()))
    rows, cols, weights = [], [], []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):  # each neighbour pair once
        xa, xb = max(0, -dx), W - max(0, dx)
        ia, ib = index[: H - dy, xa:xb], index[dy:, xa + dx : xb + dx]
        both = (ia >= 0) & (ib >= 0)
        rows.append(ia[both])
        cols.append(ib[both])
        weights.append(np.full(int(both.sum()), np.hypot(dy, dx)))
    n = int(m.sum())
    graph = coo_matrix((np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    d, pred = dijkstra(graph.tocsr(), directed=False, indices=int(index[source]), return_predecessors=True)
    dist = np.full((H, W), np.inf)
    dist[m] = d
    return dist, pred, index


def _path(pred: np.ndarray, index: np.ndarray, end: int) -> np.ndarray:
    """(N, 2) x, y pixels from the source to pixel number ``end``."""
    coords = np.argwhere(index >= 0)  # row-major, matching the numbering
    out = [end]
    while pred[out[-1]] >= 0:
        out.append(pred[out[-1]])
    return coords[out[::-1]][:, ::-1].astype(float)


def _arm(m: np.ndarray, allowed: np.ndarray, shoulder: np.ndarray, reach: float):
    """(elbow, wrist) of one arm: the farthest ``allowed`` pixel from the shoulder along the
    silhouette ``m``; None for an arm shorter than ``reach`` (it hangs by the body)."""
    s = (int(np.clip(round(shoulder[1]), 0, m.shape[0] - 1)), int(np.clip(round(shoulder[0]), 0, m.shape[1] - 1)))
    if not m[s]:
        ys, xs = np.nonzero(m)
        k = np.argmin((ys - s[0]) ** 2 + (xs - s[1]) ** 2)
        s = (int(ys[k]), int(xs[k]))
    dist, pred, index = _geodesic(m, s)
    d = np.where(allowed & np.isfinite(dist), dist, -1.0)
    tip = np.unravel_index(np.argmax(d), d.shape)
    if d[tip] < reach:
        return None
    path = _path(pred, index, int(index[tip]))
    steps = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
    at = lambda share: path[np.searchsorted(steps, share * steps[-1]).clip(0, len(path) - 1)]  # noqa: E731
    return at(0.45), at(0.88)


# ------------------------------------------------------------------ the fit
def fit_character(silhouette: np.ndarray) -> CharacterFit:
    """Fit the 29-joint ``BODY`` skeleton to a character's silhouette (H, W) bool.
    Returns a :class:`CharacterFit` (see the module docstring)."""
    ys, xs = np.nonzero(silhouette)
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    k = WORK_HEIGHT / (y1 - y0)
    pad = 4
    crop = silhouette[y0:y1, x0:x1].astype(np.float32)
    size = (max(1, round((x1 - x0) * k)), WORK_HEIGHT)
    small = np.asarray(Image.fromarray(crop).resize(size, Image.BILINEAR)) >= 0.5
    m = np.pad(small, pad)
    to_px = lambda p: (np.asarray(p, float) - pad) / k + [x0, y0]  # noqa: E731
    notes = []

    dist = ndimage.distance_transform_edt(m)
    head, r = _head(m, dist)
    bottom = float(np.flatnonzero(m.any(1))[-1])
    chin = min(head[1] + r, bottom)
    legs = _leg_gap(m, chin + 0.15 * (bottom - chin))
    if legs is not None:
        neck = np.array(_neck(m, head, r, chin + 0.3 * (legs[0] - chin)))
        J, hip_y = _legs_from_rows(m, *legs)
    else:
        neck = np.array(_neck(m, head, r, chin + 0.2 * (bottom - chin)))
        hip_y = neck[1] + TORSO_SHARE * (bottom - neck[1])
        J = _legs_from_paths(m, neck[0], hip_y)
        if J is None:
            J, hip_y = _legs_from_rows(m, *_legs_together(m, neck[1]))
            notes.append("legs not apart: split at the middle")
        else:
            notes.append("legs traced from the hips along the silhouette")
    J["pelvis"] = (J["left_hip"] + J["right_hip"]) / 2
    J["neck"] = neck
    torso = hip_y - neck[1]
    sh_y = neck[1] + 0.12 * torso
    widths = [
        _run_at(m[int(y)], neck[0])
        for y in np.linspace(neck[1] + 0.15 * torso, neck[1] + 0.6 * torso, 8)
        if 0 <= y < m.shape[0]
    ]
    chest = min((w[1] - w[0] for w in widths if w), default=2 * r)
    for name, t in SPINE.items():
        J[name] = J["pelvis"] + t * (neck - J["pelvis"])
    J["right_shoulder"], J["left_shoulder"] = (np.array([neck[0] + s * 0.38 * chest, sh_y]) for s in (-1, 1))
    for side in ("left", "right"):
        J[f"{side}_collar"] = (neck + J[f"{side}_shoulder"]) / 2

    # Arms: the farthest pixels of each half from its shoulder, legs and head left out.
    cols = np.arange(m.shape[1])[None, :]
    rows = np.arange(m.shape[0])[:, None]
    off_head = (cols - head[0]) ** 2 + (rows - head[1]) ** 2 > (1.05 * r) ** 2
    leg_pix = _leg_pixels(m, J)
    guessed = []
    for side, sign in (("right", -1), ("left", 1)):
        half = sign * (cols - neck[0]) > 0.15 * chest
        # paths go round the head, so horns, ears and hair are no hands
        found = _arm(m & off_head, m & off_head & ~leg_pix & half, J[f"{side}_shoulder"], 0.25 * torso)
        if found is None:
            sh = J[f"{side}_shoulder"]
            found = (sh + [0.0, 0.45 * torso], sh + [0.0, 0.85 * torso])
            guessed += [f"{side}_elbow", f"{side}_wrist"]
        J[f"{side}_elbow"], J[f"{side}_wrist"] = found
    if guessed:
        notes.append("arms not apart from the body: hung along it")

    # The head: face points drawn frontally on the head circle.
    J["head"] = head
    J["nose"] = head + [0.0, 0.3 * r]
    for side, sign in (("right", -1), ("left", 1)):
        J[f"{side}_eye"] = head + [sign * 0.35 * r, 0.0]
        J[f"{side}_ear"] = head + [sign * 0.85 * r, 0.05 * r]

    joints = np.stack([to_px(J[n]) for n in BODY.joint_names]).astype(np.float32)
    conf = np.full(BODY.num_joints, FIT_CONF, np.float32)
    conf[[BODY[n] for n in guessed]] = GUESS_CONF
    if y1 >= silhouette.shape[0] - 2:  # cut off by the picture's bottom edge: no legs seen
        conf[[BODY[n] for n in HIDDEN_WHEN_CUT]] = 0.0
        conf[[BODY[n] for n in ("pelvis", "left_hip", "right_hip")]] = GUESS_CONF
        notes.append("cut off at the picture's bottom: legs not seen")
    return CharacterFit(joints, conf, to_px(head), r / k, np.array([x0, y0, x1, y1], np.float32), notes)
