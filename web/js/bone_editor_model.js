// The bone editor's model: a pure ES module (no DOM), tested by `node --test tests/js/`.
//
// - Edit operations on the bone-edit spec (models/retarget/bone_edits.py): set / reset one bone
//   with the left/right link, presets, linking and unlinking, a canonical JSON text
//   (the same text Python's BoneEdits.to_json writes) and an undo history.
// - predictFrame: the node's output for one frame under new edits and framing, from the
//   preview the node published (models/retarget/preview.py). It keeps every bone's
//   direction as the server computed it, gives it the new length (retargetFrame), moves
//   the root path as the server does for the new leg ratio and re-frames like the server. For the
//   edits and framing the node ran with it IS the node's output; for edits above the
//   pelvis and any framing it is exact too; leg edits are close (the server also
//   re-plants the feet). tests/vectors/bone_editor_vectors.json holds it to that.
// - View maths: fitting the picture and the motion into the canvas, hit-testing handles.
import {
  BONE_EDITS_VERSION, PRESETS, SCALE_RANGE, dragAlongBone, mirrorName, parseBoneEdits, presetBase, project,
  resolveScales, resolveScalesByName, retargetFrame,
} from "./retarget_geometry.js";

export const DEFAULT_EDITS = Object.freeze({ version: BONE_EDITS_VERSION, preset: "match reference", scales: {}, link_lr: true });
export const PRESET_NAMES = Object.keys(PRESETS);

/** Friendly names an artist reads in the editor (a bone is named after its child joint). */
export const BONE_LABELS = {
  left_hip: "L hip", right_hip: "R hip", spine1: "lower back", spine2: "mid back", spine3: "upper back",
  left_knee: "L thigh", right_knee: "R thigh", left_ankle: "L shin", right_ankle: "R shin",
  left_foot: "L foot", right_foot: "R foot", left_heel: "L heel", right_heel: "R heel",
  neck: "neck", left_collar: "L collarbone", right_collar: "R collarbone", head: "head",
  left_shoulder: "L shoulder", right_shoulder: "R shoulder", left_elbow: "L upper arm", right_elbow: "R upper arm",
  left_wrist: "L forearm", right_wrist: "R forearm", nose: "nose", left_eye: "L eye", right_eye: "R eye",
  left_ear: "L ear", right_ear: "R ear",
};
/** Bones whose child joint gets a drag handle (the face bones all sit on the head: edit them by slider). */
export const HANDLE_BONES = Object.keys(BONE_LABELS).filter((b) => !["nose", "left_eye", "right_eye", "left_ear", "right_ear"].includes(b));
export const LEGS = { left: ["left_knee", "left_ankle"], right: ["right_knee", "right_ankle"] };

const round4 = (v) => Math.round(v * 1e4) / 1e4;
const clampScale = (v) => Math.min(SCALE_RANGE[1], Math.max(SCALE_RANGE[0], v));

// ------------------------------------------------------------------ edit operations
function copy(edits) {
  const e = typeof edits === "string" || edits == null ? parseBoneEdits(edits) : edits;
  const out = { version: BONE_EDITS_VERSION, preset: e.preset ?? "match reference", scales: { ...(e.scales ?? {}) },
    link_lr: e.link_lr ?? true };
  const placed = Object.entries(e.reference_joints ?? {});
  if (placed.length) out.reference_joints = Object.fromEntries(placed.map(([k, [x, y]]) => [k, [x, y]]));
  if (e.ui !== undefined) out.ui = e.ui;
  return out;
}

/** Parse a widget value: {edits, error}; a bad value gives the defaults and the BoneEditError text. */
export function readEdits(text) {
  try {
    const parsed = parseBoneEdits(text);
    let ui;
    try { ui = typeof text === "string" && text.trim() ? JSON.parse(text).ui : undefined; } catch { ui = undefined; }
    return { edits: ui === undefined ? parsed : { ...parsed, ui }, error: null };
  } catch (e) {
    return { edits: copy(DEFAULT_EDITS), error: e.message ?? String(e) };
  }
}

function stable(value) {
  if (Array.isArray(value)) return `[${value.map(stable).join(", ")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}: ${stable(value[k])}`).join(", ")}}`;
  }
  return JSON.stringify(value);
}

/** The canonical JSON text of an edit spec: sorted keys, Python's separators (BoneEdits.to_json). */
export function editsToText(edits) {
  return stable(copy(edits));
}

/** The final scale of one bone (preset, own entry, or its linked mirror's entry). */
export function boneScale(edits, bone) {
  return resolveScalesByName(copy(edits))[bone] ?? 1.0;
}

/** True where the bone has its own entry (or follows a linked mirror's). */
export function boneIsEdited(edits, bone) {
  const e = copy(edits);
  if (bone in e.scales) return true;
  const m = mirrorName(bone);
  return e.link_lr && m !== null && m in e.scales;
}

/** Set one bone's final scale (clamped, 4 decimals); with link_lr on, its mirror follows. */
export function setBoneScale(edits, bone, value) {
  const e = copy(edits);
  e.scales[bone] = round4(clampScale(value));
  const m = mirrorName(bone);
  if (e.link_lr && m !== null) delete e.scales[m];
  return e;
}

/** Back to the preset's value for one bone (and its mirror, when linked). */
export function resetBone(edits, bone) {
  const e = copy(edits);
  delete e.scales[bone];
  const m = mirrorName(bone);
  if (e.link_lr && m !== null) delete e.scales[m];
  return e;
}

/** Turn the left/right link on or off without changing any bone: unlinking writes out the
 * mirrors that were following; linking keeps both sides' own values. */
export function setLink(edits, on) {
  const e = copy(edits);
  if (!on && e.link_lr) {
    for (const [bone, v] of Object.entries(e.scales)) {
      const m = mirrorName(bone);
      if (m !== null && !(m in e.scales)) e.scales[m] = v;
    }
  }
  e.link_lr = Boolean(on);
  return e;
}

/** Choose a preset: its table in full (per-bone edits are cleared; undo brings them back; the pose stays). */
export function applyPreset(edits, preset) {
  if (!Object.hasOwn(PRESETS, preset)) throw new Error(`unknown preset ${preset}`);
  return { ...copy(edits), preset, scales: {} };
}

const round2 = (v) => Math.round(v * 100) / 100;

/** Place one joint of the reference skeleton at `xy` (reference-picture pixels, 2 decimals). */
export function setReferenceJoint(edits, joint, xy) {
  const e = copy(edits);
  e.reference_joints = { ...(e.reference_joints ?? {}), [joint]: [round2(xy[0]), round2(xy[1])] };
  return e;
}

/** Put one reference joint back where Skeleton Extract found it (`joint` null: all of them). */
export function resetReferenceJoint(edits, joint = null) {
  const e = copy(edits);
  if (joint !== null && e.reference_joints) delete e.reference_joints[joint];
  if (joint === null || !Object.keys(e.reference_joints ?? {}).length) delete e.reference_joints;
  return e;
}

/** A canonical text of the placements alone: the editor asks the server to repose when the
 * widget's differ from those the shown preview was computed with. */
export function placementsKey(edits) {
  return stable(edits?.reference_joints ?? {});
}

/** The reference skeleton to draw (reference pixels): the preview's posed reference, with the
 * widget's placements exactly where placed (the server's answer for joints riding along may lag). */
export function referenceJoints2d(preview, edits) {
  const out = preview.reference.joints2d.map((q) => [q[0], q[1]]);
  for (const [name, xy] of Object.entries(edits?.reference_joints ?? {})) {
    const j = preview.joint_names.indexOf(name);
    if (j >= 0) out[j] = [xy[0], xy[1]];
  }
  return out;
}

/** The reference joint under a canvas point (within `radius` canvas px), nearest first, or null. */
export function hitReferenceJoint(preview, joints2d, view, point, radius = 10) {
  let best = null;
  let bestD = radius;
  preview.joint_names.forEach((name, j) => {
    const [x, y] = toCanvas(view, joints2d[j]);
    const d = Math.hypot(x - point[0], y - point[1]);
    if (d <= bestD) { best = name; bestD = d; }
  });
  return best;
}

/** Undo history of widget texts. */
export class EditHistory {
  constructor(limit = 100) { this.limit = limit; this.stack = []; }
  push(text) {
    if (this.stack[this.stack.length - 1] === text) return;
    this.stack.push(text);
    if (this.stack.length > this.limit) this.stack.shift();
  }
  pop() { return this.stack.pop() ?? null; }
  get size() { return this.stack.length; }
  clear() { this.stack = []; }
}

/** Slider position <-> scale: logarithmic, so 0.5 and 2 sit equally far from 1. */
export const sliderToScale = (x) => round4(clampScale(Math.exp(x)));
export const scaleToSlider = (s) => Math.log(clampScale(s));
export const SLIDER_RANGE = [Math.log(SCALE_RANGE[0]), Math.log(SCALE_RANGE[1])];

// ------------------------------------------------------------------ prediction
const matmul3 = (A, B) => A.map((row) => [0, 1, 2].map((j) => row[0] * B[0][j] + row[1] * B[1][j] + row[2] * B[2][j]));
const similarity = (s, tx, ty) => [[s, 0, tx], [0, s, ty], [0, 0, 1]];

/** models.retarget.transfer.keep_driver_framing: the driver's frame resized to cover the reference's, centred. */
export function keepDriverFraming([Wd, Hd], [Wr, Hr]) {
  const s = Math.max(Wr / Wd, Hr / Hd);
  return similarity(s, (Wr - s * Wd) / 2, (Hr - s * Hd) / 2);
}

/** models.retarget.transfer.manual_framing. */
export function manualFraming(driverSize, referenceSize, [m, dx, dy]) {
  const [Wr, Hr] = referenceSize;
  const cx = Wr / 2;
  const cy = Hr / 2;
  return matmul3(similarity(m, cx - m * cx + dx * Wr, cy - m * cy + dy * Hr), keepDriverFraming(driverSize, referenceSize));
}

function legLength(lengths, names) {
  const at = (n) => lengths[names.indexOf(n)];
  return (at(LEGS.left[0]) + at(LEGS.left[1]) + at(LEGS.right[0]) + at(LEGS.right[1])) / 2;
}

/** Lengths, scales and base for edits, against a preview's measured lengths. */
export function targetLengths(preview, edits) {
  const names = preview.joint_names;
  const e = parseBoneEdits(copy(edits), names, preview.parents);
  const scales = resolveScales(e, names, preview.parents);
  const baseName = presetBase(e.preset);
  const base = baseName === "driver" ? preview.driver_lengths : preview.reference.lengths;
  const lengths = base.map((L, j) => L * scales[j]);
  return { edits: e, scales, baseName, base, lengths, legRatio: legLength(lengths, names) / legLength(preview.driver_lengths, names) };
}

/**
 * The predicted output for one frame.
 * preview: the route's static facts; frame, t0Frame: frames from the route ({index, valid, pose3d,
 * head_center, head_radius}); t0Frame is frame preview.framing.t0 (the framing anchor);
 * framing: {mode, scale, dx, dy} (the node's widgets); camera: a fixed output camera to draw
 * with (a drag in progress), or null to frame like the server.
 * Returns null for a frame without a person, else {joints3d, joints2d, camera, lengths, scales,
 * head: {center, radius} in pixels or null}.
 */
export function predictFrame(preview, frame, t0Frame, edits, framing, camera = null) {
  if (!frame?.valid) return null;
  const T = targetLengths(preview, edits);
  const dr = T.legRatio - preview.leg_ratio;
  const pose = (f) => {
    const R = f.pose3d[0];
    const root = [0, 1, 2].map((i) => R[i] + dr * f.root_lever[i]);
    return retargetFrame({ driver: f.pose3d, baseLengths: T.base, scales: T.scales, parents: preview.parents, root });
  };
  const joints3d = pose(frame);
  const K = preview.camera_driver;
  const cam = camera ?? matmul3(framingMatrix(preview, framing, () => pose(t0Frame)), K);
  // head sphere: centre offset from the head joint and radius scale with the head ratio
  const hr = preview.head_ratio[T.baseName] * mean(preview.face_bones.map((j) => T.scales[j]));
  let head = null;
  if (frame.head_radius > 0 && preview.head_ratio.used > 0) {
    const h = preview.head_joint;
    const q = hr / preview.head_ratio.used;
    const c = [0, 1, 2].map((i) => joints3d[h][i] + q * (frame.head_center[i] - frame.pose3d[h][i]));
    const [center] = project([c], cam);
    head = { center, radius: (cam[0][0] * frame.head_radius * q) / Math.max(c[2], 1e-6) };
  }
  return { joints3d, joints2d: project(joints3d, cam), camera: cam, base: T.base, lengths: T.lengths, scales: T.scales,
    head };
}

const mean = (a) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : 1);

/** The 2D similarity from driver pixels to the reference picture (models.retarget.transfer framing). */
export function framingMatrix(preview, framing, t0Pose) {
  const mode = framing?.mode ?? preview.framing.mode;
  if (mode === "keep driver") return keepDriverFraming(preview.driver_size, preview.image_size);
  if (mode === "manual") {
    const m = [framing?.scale ?? 1, framing?.dx ?? 0, framing?.dy ?? 0];
    return manualFraming(preview.driver_size, preview.image_size, m);
  }
  const F = preview.framing;
  const K = preview.camera_driver;
  const J = t0Pose();
  const pts = F.anchor.map((j) => J[j]);
  const p2 = project(pts, K);
  const anchor = [mean(p2.map((p) => p[0])), mean(p2.map((p) => p[1]))];
  const ppm = K[0][0] / Math.max(mean(pts.map((p) => p[2])), 1e-6);
  const s = F.ref_ppm / ppm;
  return similarity(s, F.ref_anchor[0] - s * anchor[0], F.ref_anchor[1] - s * anchor[1]);
}

/** The new scale of `bone` when its handle is dragged to `dragPx` (reference pixels). */
export function dragScale(preview, prediction, bone, dragPx) {
  const j = preview.joint_names.indexOf(bone);
  const p = preview.parents[j];
  return round4(dragAlongBone({ parent: prediction.joints3d[p], child: prediction.joints3d[j], camera: prediction.camera,
    drag: dragPx, baseLength: prediction.base[j] }));
}

// ------------------------------------------------------------------ view
/** Fit the reference picture and the motion's 2D bounds (kept within 3x the picture, plus
 * `room` of headroom for limbs an edit makes longer) into a w x h canvas with `pad` pixels
 * of border: {scale, ox, oy} with canvas = ox + scale * pixel. */
export function fitView(imageSize, bounds, w, h, pad = 12, room = 0.06) {
  const [W, H] = imageSize;
  let x0 = 0; let y0 = 0; let x1 = W; let y1 = H;
  if (bounds) {
    const mx = room * (bounds[2] - bounds[0]);
    const my = room * (bounds[3] - bounds[1]);
    x0 = Math.min(x0, Math.max(bounds[0] - mx, -W)); y0 = Math.min(y0, Math.max(bounds[1] - my, -H));
    x1 = Math.max(x1, Math.min(bounds[2] + mx, 2 * W)); y1 = Math.max(y1, Math.min(bounds[3] + my, 2 * H));
  }
  const scale = Math.max(1e-6, Math.min((w - 2 * pad) / (x1 - x0), (h - 2 * pad) / (y1 - y0)));
  return { scale, ox: (w - scale * (x1 - x0)) / 2 - scale * x0, oy: (h - scale * (y1 - y0)) / 2 - scale * y0 };
}

export const toCanvas = (view, [x, y]) => [view.ox + view.scale * x, view.oy + view.scale * y];
export const toPixels = (view, [x, y]) => [(x - view.ox) / view.scale, (y - view.oy) / view.scale];

/** The handle bone under a canvas point (within `radius` canvas px), nearest first, or null. */
export function hitHandle(preview, joints2d, view, point, radius = 10) {
  let best = null;
  let bestD = radius;
  for (const bone of HANDLE_BONES) {
    const j = preview.joint_names.indexOf(bone);
    if (j < 0) continue;
    const [x, y] = toCanvas(view, joints2d[j]);
    const d = Math.hypot(x - point[0], y - point[1]);
    if (d <= bestD) { best = bone; bestD = d; }
  }
  return best;
}

/** 'left' | 'right' | 'mid' for colouring a bone. */
export const boneSide = (bone) => (bone.startsWith("left_") ? "left" : bone.startsWith("right_") ? "right" : "mid");
