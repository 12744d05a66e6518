// Bone-length retargeting geometry for the browser editor: a pure ES module (no DOM).
//
// The JS twin of models/retarget/bone_edits.py (the edit spec, presets, link_lr) and of
// models/retarget/transfer.py's per-frame core (retarget_pose, project, drag_along_bone).
// tests/vectors/retarget_vectors.json, written from the Python implementation,
// holds both to the same joints within 1e-6 (tests/js/retarget_geometry.test.mjs).
//
// Conventions: camera space in metres, x right, y down, z forward; a pose is an
// array of [x, y, z] per joint, parents before children; a bone is named after its
// child joint; per-bone arrays are indexed by the child joint (root entry unused).

export const BONE_EDITS_VERSION = 1;
export const SCALE_RANGE = [0.25, 4.0];
export const ALLOWED_KEYS = ["version", "preset", "scales", "link_lr", "reference_joints", "ui"];
/** A placed reference joint's coordinates must be finite and within +-this many pixels (PIXEL_LIMIT). */
export const PIXEL_LIMIT = 100000;

/** The pack's body skeleton (models/core/skeleton.py BODY): names and parent indices. */
export const BODY_JOINTS = [
  "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
  "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
  "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
  "left_elbow", "right_elbow", "left_wrist", "right_wrist",
  "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_heel", "right_heel",
];
export const BODY_PARENTS = [
  -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19,
  15, 15, 15, 15, 15, 7, 8,
];

function both(scale, ...suffixes) {
  const out = {};
  for (const s of suffixes) for (const side of ["left", "right"]) out[`${side}_${s}`] = scale;
  return out;
}
const FACE = ["head", "nose", "left_eye", "right_eye", "left_ear", "right_ear"];
const each = (names, scale) => Object.fromEntries(names.map((n) => [n, scale]));

/** Per-bone scale tables; the documentation lives in models/retarget/bone_edits.py. */
export const PRESETS = {
  "match reference": {},
  "keep driver": {},
  heroic: {
    ...both(1.1, "knee", "ankle"), ...both(1.05, "foot", "heel"),
    spine1: 1.06, spine2: 1.06, spine3: 1.06,
    ...both(1.18, "collar", "shoulder"), ...both(1.06, "elbow", "wrist"),
    ...each(FACE, 0.92),
  },
  chibi: {
    ...each(FACE, 1.6), neck: 0.6,
    spine1: 0.7, spine2: 0.7, spine3: 0.7, ...both(0.8, "hip"),
    ...both(0.55, "knee", "ankle"), ...both(0.7, "foot", "heel"),
    ...both(0.75, "collar", "shoulder"), ...both(0.6, "elbow", "wrist"),
  },
  "long legs": { ...both(1.15, "knee"), ...both(1.18, "ankle") },
};

/** Whose measured lengths a preset's scales multiply. */
export function presetBase(preset) {
  return preset === "keep driver" ? "driver" : "reference";
}

/** A user error in a bone-edit spec; the message names the bone and the valid values. */
export class BoneEditError extends Error {
  constructor(what, fix) {
    super(`${what}. Fix: ${fix}`);
    this.name = "BoneEditError";
    this.what = what;
    this.fix = fix;
  }
}

/** The left/right counterpart of a bone name in `names`, or null for the midline. */
export function mirrorName(name, names = BODY_JOINTS) {
  for (const [a, b] of [["left_", "right_"], ["right_", "left_"]]) {
    if (name.startsWith(a)) {
      const other = b + name.slice(a.length);
      return names.includes(other) ? other : null;
    }
  }
  return null;
}

function boneNames(names, parents) {
  return names.filter((_, j) => parents[j] >= 0);
}

function checkBoneNames(scales, names, parents) {
  const bones = boneNames(names, parents);
  const root = names[parents.indexOf(-1)];
  for (const name of Object.keys(scales)) {
    if (name === root) {
      throw new BoneEditError(`'${name}' is the skeleton's root joint, not a bone, so it has no length to scale`,
        `remove '${name}' from scales; scale its child bones instead`);
    }
    if (!bones.includes(name)) {
      throw new BoneEditError(`unknown bone '${name}' in scales`, `use one of the bone names: ${bones.join(", ")}`);
    }
  }
}

function checkScale(name, value) {
  const [lo, hi] = SCALE_RANGE;
  if (typeof value !== "number") {
    throw new BoneEditError(`the scale of bone '${name}' is ${JSON.stringify(value)}, not a number`,
      `give '${name}' a number between ${lo} and ${hi}`);
  }
  if (!Number.isFinite(value) || value < lo || value > hi) {
    throw new BoneEditError(`the scale of bone '${name}' is ${value}, outside the valid range [${lo}, ${hi}]`,
      `give '${name}' a scale between ${lo} and ${hi} (1 keeps the base length)`);
  }
  return value;
}

/** reference_joints -> {joint: [x, y]} (bone_edits._check_placements): known joints, two finite numbers. */
function checkPlacements(placed, names) {
  if (placed === undefined || placed === null) return {};
  if (typeof placed !== "object" || Array.isArray(placed)) {
    throw new BoneEditError(`reference_joints must be an object of joint name -> [x, y], got ${Array.isArray(placed) ? "list" : typeof placed}`,
      'write e.g. "reference_joints": {"left_wrist": [212.5, 140.0]}, or reset the pose in the editor');
  }
  const out = {};
  for (const [name, xy] of Object.entries(placed)) {
    if (!names.includes(name)) {
      throw new BoneEditError(`unknown joint '${name}' in reference_joints`, `use one of the joint names: ${names.join(", ")}`);
    }
    const ok = Array.isArray(xy) && xy.length === 2 && xy.every((v) => typeof v === "number" && Number.isFinite(v) && Math.abs(v) <= PIXEL_LIMIT);
    if (!ok) {
      throw new BoneEditError(`the placed reference joint '${name}' is ${JSON.stringify(xy)}, not [x, y] pixels`,
        `give '${name}' two finite numbers within +-${PIXEL_LIMIT} (pixels of the reference picture)`);
    }
    out[name] = [xy[0], xy[1]];
  }
  return out;
}

/**
 * Validate a bone-edit spec (JSON text, an object, or null / "" for the defaults).
 * Returns {version, preset, scales, link_lr[, reference_joints]}; throws BoneEditError like parse_bone_edits.
 */
export function parseBoneEdits(spec, names = BODY_JOINTS, parents = BODY_PARENTS) {
  if (spec === null || spec === undefined || (typeof spec === "string" && !spec.trim())) {
    return { version: BONE_EDITS_VERSION, preset: "match reference", scales: {}, link_lr: true };
  }
  if (typeof spec === "string") {
    try {
      spec = JSON.parse(spec);
    } catch (e) {
      throw new BoneEditError(`the bone edits are not valid JSON (${e.message})`,
        'reset the bone editor, or write e.g. {"version": 1, "preset": "match reference", "scales": {}, "link_lr": true}');
    }
  }
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    throw new BoneEditError(`the bone edits must be a JSON object, got ${Array.isArray(spec) ? "list" : typeof spec}`,
      'write an object such as {"version": 1, "preset": "heroic"}');
  }
  const unknown = Object.keys(spec).filter((k) => !ALLOWED_KEYS.includes(k)).sort();
  if (unknown.length) {
    throw new BoneEditError(`unknown key(s) [${unknown.join(", ")}] in the bone edits`,
      `use only the keys ${ALLOWED_KEYS.join(", ")}`);
  }
  const version = "version" in spec ? spec.version : BONE_EDITS_VERSION;
  if (version !== BONE_EDITS_VERSION) {
    throw new BoneEditError(`bone edits version ${JSON.stringify(version)} is not supported; this pack reads version ${BONE_EDITS_VERSION}`,
      `set "version": ${BONE_EDITS_VERSION} (update ComfyUI-DreamActor for newer editors)`);
  }
  const preset = "preset" in spec ? spec.preset : "match reference";
  if (typeof preset !== "string" || !Object.hasOwn(PRESETS, preset)) {
    throw new BoneEditError(`unknown preset ${JSON.stringify(preset)}`, `choose one of: ${Object.keys(PRESETS).join(", ")}`);
  }
  const linkLr = "link_lr" in spec ? spec.link_lr : true;
  if (typeof linkLr !== "boolean") {
    throw new BoneEditError(`link_lr must be true or false, got ${JSON.stringify(linkLr)}`, 'set "link_lr": true or false');
  }
  const scales = spec.scales ?? {};
  if (typeof scales !== "object" || Array.isArray(scales)) {
    throw new BoneEditError(`scales must be an object of bone name -> number, got ${Array.isArray(scales) ? "list" : typeof scales}`,
      'write e.g. "scales": {"left_knee": 1.2}');
  }
  checkBoneNames(scales, names, parents);
  const clean = {};
  for (const [name, value] of Object.entries(scales)) clean[name] = checkScale(name, value);
  const placed = checkPlacements(spec.reference_joints, names);
  const out = { version: BONE_EDITS_VERSION, preset, scales: clean, link_lr: linkLr };
  if (Object.keys(placed).length) out.reference_joints = placed; // only when used, like BoneEdits.to_dict
  return out;
}

/** The final scale of every bone, by name: preset, then edits, then link_lr (BoneEdits.resolved). */
export function resolveScalesByName(edits, names = BODY_JOINTS, parents = BODY_PARENTS) {
  const e = parseBoneEdits(edits, names, parents);
  const table = PRESETS[e.preset];
  const out = {};
  for (const name of boneNames(names, parents)) out[name] = table[name] ?? 1.0;
  Object.assign(out, e.scales);
  if (e.link_lr) {
    for (const [name, value] of Object.entries(e.scales)) {
      const mirror = mirrorName(name, names);
      if (mirror !== null && !(mirror in e.scales)) out[mirror] = value;
    }
  }
  return out;
}

/** Per-joint scale array (1 at the root), indexed by child joint (BoneEdits.bone_scales). */
export function resolveScales(edits, names = BODY_JOINTS, parents = BODY_PARENTS) {
  const byName = resolveScalesByName(edits, names, parents);
  return names.map((n) => byName[n] ?? 1.0);
}

const sub = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const norm = (v) => Math.hypot(v[0], v[1], v[2]);

/** Unit bone directions of one pose: {dirs: [J][3], ok: [J] bool}; zero where the bone has no length. */
export function unitDirections(joints, parents = BODY_PARENTS, eps = 1e-9) {
  const dirs = [];
  const ok = [];
  for (let j = 0; j < parents.length; j++) {
    const p = parents[j];
    if (p < 0) { dirs.push([0, 0, 0]); ok.push(false); continue; }
    const v = sub(joints[j], joints[p]);
    const n = norm(v);
    if (n > eps) { dirs.push([v[0] / n, v[1] / n, v[2] / n]); ok.push(true); } else { dirs.push([0, 0, 0]); ok.push(false); }
  }
  return { dirs, ok };
}

/** Joints from a root position, unit bone directions and lengths (forward_kinematics). */
export function forwardKinematics(root, dirs, lengths, parents = BODY_PARENTS) {
  const out = new Array(parents.length);
  for (let j = 0; j < parents.length; j++) {
    const p = parents[j];
    if (p < 0) { out[j] = [root[0], root[1], root[2]]; continue; }
    const L = lengths[j];
    out[j] = [out[p][0] + L * dirs[j][0], out[p][1] + L * dirs[j][1], out[p][2] + L * dirs[j][2]];
  }
  return out;
}

/** Bone lengths of one pose, indexed by child joint (0 at the root). */
export function poseBoneLengths(joints, parents = BODY_PARENTS) {
  return parents.map((p, j) => (p < 0 ? 0 : norm(sub(joints[j], joints[p]))));
}

/**
 * One frame of the retarget (retarget_pose): every bone keeps its direction from
 * `driver` (the driver's 3D joints) and takes the length baseLengths[j] * scales[j];
 * rebuilt from `root` (default: the driver's root).
 */
export function retargetFrame({ driver, baseLengths, scales, parents = BODY_PARENTS, root = null }) {
  const { dirs } = unitDirections(driver, parents);
  const lengths = baseLengths.map((L, j) => L * (scales ? scales[j] : 1));
  return forwardKinematics(root ?? driver[parents.indexOf(-1)], dirs, lengths, parents);
}

/** Pinhole projection of [x, y, z] points with a 3x3 intrinsics matrix (rows) to [u, v] pixels. */
export function project(points, camera) {
  const [[fx, , cx], [, fy, cy]] = camera;
  return points.map(([x, y, z]) => {
    const zz = Math.max(z, 1e-6);
    return [fx * (x / zz) + cx, fy * (y / zz) + cy];
  });
}

/**
 * The bone scale that puts the child joint's projection where the user dragged its
 * handle (drag_along_bone): the child slides along the bone's 3D ray from `parent`;
 * `drag` ([u, v] pixels) is first dropped onto the projected bone line.
 * Returns new 3D length / baseLength, clamped to SCALE_RANGE.
 */
export function dragAlongBone({ parent, child, camera, drag, baseLength }) {
  const [lo, hi] = SCALE_RANGE;
  let d = sub(child, parent);
  const dn = Math.max(norm(d), 1e-12);
  d = [d[0] / dn, d[1] / dn, d[2] / dn];
  const [p0, p1] = project([parent, child], camera);
  const line = [p1[0] - p0[0], p1[1] - p0[1]];
  const ll = line[0] * line[0] + line[1] * line[1];
  let m = [drag[0], drag[1]];
  if (Math.sqrt(ll) > 1e-9) {
    const k = ((m[0] - p0[0]) * line[0] + (m[1] - p0[1]) * line[1]) / ll;
    m = [p0[0] + line[0] * k, p0[1] + line[1] * k];
  }
  const axis = Math.abs(line[0]) >= Math.abs(line[1]) ? 0 : 1;
  const f = camera[axis][axis];
  const c = camera[axis][2];
  const n = (m[axis] - c) / f; // normalised image coordinate: (P_a + t d_a) / (P_z + t d_z) = n
  const denom = d[axis] - n * d[2];
  let t = Math.abs(denom) > 1e-12 ? (n * parent[2] - parent[axis]) / denom : Infinity;
  if (!Number.isFinite(t) || t <= 0) {
    const along = (m[0] - p0[0]) * line[0] + (m[1] - p0[1]) * line[1];
    t = along <= 0 ? lo * baseLength : hi * baseLength;
  }
  return Math.min(hi, Math.max(lo, t / baseLength));
}
