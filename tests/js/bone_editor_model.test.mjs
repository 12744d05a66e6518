// The bone editor's model (web/js/bone_editor_model.js): edit operations, and the live
// prediction against what the server outputs (tests/vectors/bone_editor_vectors.json,
// written by tests/vectors/make_bone_editor_vectors.py from the Python retarget).
// Run from the repo root: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

import {
  DEFAULT_EDITS, EditHistory, HANDLE_BONES, applyPreset, boneIsEdited, boneScale, dragScale, editsToText,
  fitView, hitHandle, hitReferenceJoint, placementsKey, predictFrame, readEdits, referenceJoints2d, resetBone,
  resetReferenceJoint, scaleToSlider, setBoneScale, setLink, setReferenceJoint, sliderToScale, toCanvas, toPixels,
} from "../../web/js/bone_editor_model.js";
import { SCALE_RANGE, project } from "../../web/js/retarget_geometry.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const V = JSON.parse(readFileSync(path.join(here, "..", "vectors", "bone_editor_vectors.json"), "utf8"));

const maxErr = (a, b) => Math.max(...a.map((p, i) => Math.hypot(p[0] - b[i][0], p[1] - b[i][1])));

test("the canonical text is Python's BoneEdits.to_json", () => {
  assert.equal(editsToText(DEFAULT_EDITS), '{"link_lr": true, "preset": "match reference", "scales": {}, "version": 1}');
  const e = setBoneScale(DEFAULT_EDITS, "left_wrist", 1.23456);
  assert.equal(editsToText(e), '{"link_lr": true, "preset": "match reference", "scales": {"left_wrist": 1.2346}, "version": 1}');
  assert.deepEqual(readEdits(editsToText(e)), { edits: { ...e }, error: null });
});

test("reference joints placed by hand: in the spec, drawn where placed, hit, put back", () => {
  let e = setBoneScale(DEFAULT_EDITS, "head", 1.4);
  e = setReferenceJoint(e, "left_wrist", [212.4567, 140]);
  e = setReferenceJoint(e, "head", [100, 50.5]);
  assert.deepEqual(e.reference_joints, { left_wrist: [212.46, 140], head: [100, 50.5] });
  const text = editsToText(e);
  assert.equal(text, '{"link_lr": true, "preset": "match reference", "reference_joints": {"head": [100, 50.5], ' +
    '"left_wrist": [212.46, 140]}, "scales": {"head": 1.4}, "version": 1}');
  assert.deepEqual(readEdits(text).edits, e); // the widget round trip keeps them
  assert.equal(editsToText(applyPreset(e, "chibi")).includes("reference_joints"), true); // a preset keeps the pose
  assert.equal(placementsKey(e), placementsKey(JSON.parse(text)));
  assert.notEqual(placementsKey(e), placementsKey(DEFAULT_EDITS));
  const P = V.previews[0].preview;
  const drawn = referenceJoints2d(P, e);
  const j = P.joint_names.indexOf("left_wrist");
  assert.deepEqual(drawn[j], [212.46, 140]);
  assert.deepEqual(drawn[1], P.reference.joints2d[1]); // not placed: the preview's
  const view = { scale: 2, ox: 10, oy: 20 };
  assert.equal(hitReferenceJoint(P, drawn, view, toCanvas(view, [213, 141]), 10), "left_wrist");
  e = resetReferenceJoint(e, "head");
  assert.deepEqual(e.reference_joints, { left_wrist: [212.46, 140] });
  e = resetReferenceJoint(e, "left_wrist"); // the last one: the key goes, the text is an old editor's again
  assert.equal(editsToText(e), '{"link_lr": true, "preset": "match reference", "scales": {"head": 1.4}, "version": 1}');
  assert.equal(readEdits('{"reference_joints": {"hed": [1, 2]}}').error.includes("unknown joint 'hed'"), true);
});

test("set, link, unlink, reset, presets", () => {
  let e = setBoneScale(DEFAULT_EDITS, "left_knee", 1.3);
  assert.equal(boneScale(e, "right_knee"), 1.3); // linked: the mirror follows
  assert.ok(boneIsEdited(e, "right_knee"));
  e = setBoneScale(e, "right_knee", 1.1); // linked: one entry, both sides
  assert.deepEqual(e.scales, { right_knee: 1.1 });
  assert.equal(boneScale(e, "left_knee"), 1.1);
  e = setLink(e, false); // unlinking changes nothing visible
  assert.deepEqual(e.scales, { right_knee: 1.1, left_knee: 1.1 });
  e = setBoneScale(e, "left_knee", 0.9);
  assert.equal(boneScale(e, "right_knee"), 1.1);
  assert.equal(boneScale(e, "left_knee"), 0.9);
  e = setLink(e, true); // linking keeps both sides' own values
  assert.equal(boneScale(e, "right_knee"), 1.1);
  e = resetBone(e, "left_knee");
  assert.deepEqual(e.scales, {});
  e = setBoneScale(e, "neck", 99);
  assert.equal(e.scales.neck, SCALE_RANGE[1]); // clamped to the valid range
  const h = applyPreset(e, "chibi");
  assert.equal(h.preset, "chibi");
  assert.deepEqual(h.scales, {});
  assert.equal(boneScale(h, "head"), 1.6);
  assert.throws(() => applyPreset(e, "superhero"));
});

test("a bad widget value reads as the defaults plus the reason", () => {
  const r = readEdits('{"scales": {"left_tail": 1}}');
  assert.match(r.error, /unknown bone 'left_tail'/);
  assert.deepEqual(r.edits.scales, {});
  assert.deepEqual(readEdits('{"preset": "heroic", "ui": {"bone": "neck"}}').edits.ui, { bone: "neck" });
});

test("undo history and the logarithmic slider", () => {
  const h = new EditHistory(3);
  for (const s of ["a", "a", "b", "c", "d"]) h.push(s);
  assert.equal(h.size, 3);
  assert.equal(h.pop(), "d");
  assert.equal(h.pop(), "c");
  assert.equal(h.pop(), "b");
  assert.equal(h.pop(), null);
  for (const s of [0.25, 0.5, 1, 1.37, 4]) assert.ok(Math.abs(sliderToScale(scaleToSlider(s)) - s) < 1e-4);
  assert.ok(Math.abs(scaleToSlider(2) + scaleToSlider(0.5)) < 1e-12);
});

function framesOf(preview) {
  const byIndex = new Map(preview.frames.map((f) => [f.index, f]));
  return { byIndex, t0: byIndex.get(preview.framing.t0) };
}

test("the prediction is the server's output: exactly above the pelvis, closely for leg edits", () => {
  let exactCases = 0;
  let legCases = 0;
  for (const { name, preview, cases } of V.previews) {
    const { byIndex, t0 } = framesOf(preview);
    for (const c of cases) {
      const what = `${name} / ${JSON.stringify(c.edits)} / ${c.framing.mode}`;
      let worst = 0;
      let height = 0;
      c.frames.forEach((t, i) => {
        const p = predictFrame(preview, byIndex.get(t), t0, c.edits, c.framing);
        assert.equal(p !== null, c.valid[i], `${what} frame ${t}: validity`);
        if (!p) return;
        worst = Math.max(worst, maxErr(p.joints2d, c.joints2d[i]));
        const ys = c.joints2d[i].map((q) => q[1]);
        height = Math.max(height, Math.max(...ys) - Math.min(...ys));
        assert.ok(p.head, `${what}: head`);
        const headTol = c.exact ? 2e-3 : 0.03 * height;
        assert.ok(Math.hypot(p.head.center[0] - c.head2d[i][0], p.head.center[1] - c.head2d[i][1]) <= headTol, `${what} head centre`);
        assert.ok(Math.abs(p.head.radius - c.head_radius2d[i]) <= (c.exact ? 2e-3 : 0.03 * c.head_radius2d[i] + 0.5), `${what} head radius`);
      });
      if (c.exact) {
        exactCases++;
        assert.ok(worst < 2e-3, `${what}: ${worst} px from the server's output`);
      } else {
        legCases++;
        // leg edits: the server re-plants the feet and rests the new legs on the floor
        assert.ok(worst < 0.03 * height, `${what}: ${worst.toFixed(2)} px off on a ${height.toFixed(0)} px body`);
      }
    }
  }
  assert.ok(exactCases >= 9 && legCases >= 5, `${exactCases} exact, ${legCases} leg cases`);
});

test("a drag along the forearm gives the scale that puts the wrist under the pointer", () => {
  const { preview } = V.previews[0];
  const { byIndex, t0 } = framesOf(preview);
  const frame = byIndex.get(8);
  const framing = { mode: "match reference" };
  const before = predictFrame(preview, frame, t0, DEFAULT_EDITS, framing);
  const J = preview.joint_names;
  const elbow = before.joints2d[J.indexOf("left_elbow")];
  const wrist = before.joints2d[J.indexOf("left_wrist")];
  const target = [wrist[0] + 0.4 * (wrist[0] - elbow[0]), wrist[1] + 0.4 * (wrist[1] - elbow[1])];
  const s = dragScale(preview, before, "left_wrist", target);
  assert.ok(s > 1.2 && s < 1.6, `scale ${s}`);
  const after = predictFrame(preview, frame, t0, setBoneScale(DEFAULT_EDITS, "left_wrist", s), framing, before.camera);
  const w = after.joints2d[J.indexOf("left_wrist")];
  assert.ok(Math.hypot(w[0] - target[0], w[1] - target[1]) < 0.5, `wrist lands ${w} vs ${target}`);
  // the right forearm followed (linked), the elbows did not move
  assert.ok(maxErr([after.joints2d[J.indexOf("left_elbow")]], [elbow]) < 1e-9);
  assert.ok(maxErr([after.joints2d[J.indexOf("right_wrist")]], [before.joints2d[J.indexOf("right_wrist")]]) > 1);
});

test("the view fits picture and motion; handles are hit where they are drawn", () => {
  const { preview } = V.previews[0];
  const { byIndex, t0 } = framesOf(preview);
  const view = fitView(preview.image_size, preview.bounds, 400, 300);
  const [W, H] = preview.image_size;
  for (const corner of [[0, 0], [W, H]]) {
    const [x, y] = toCanvas(view, corner);
    assert.ok(x >= 11.99 && x <= 388.01 && y >= 11.99 && y <= 288.01, `${corner} -> ${x}, ${y}`);
    assert.deepEqual(toPixels(view, [x, y]).map((v) => Math.round(v * 1e6) / 1e6), corner);
  }
  const p = predictFrame(preview, byIndex.get(0), t0, DEFAULT_EDITS, { mode: "match reference" });
  const wrist = toCanvas(view, p.joints2d[preview.joint_names.indexOf("left_wrist")]);
  assert.equal(hitHandle(preview, p.joints2d, view, [wrist[0] + 2, wrist[1] - 2]), "left_wrist");
  assert.equal(hitHandle(preview, p.joints2d, view, [-500, -500]), null);
  assert.ok(!HANDLE_BONES.includes("nose") && HANDLE_BONES.includes("left_knee"));
  assert.deepEqual(project([[0, 0, 1]], [[1, 0, 5], [0, 1, 6], [0, 0, 1]]), [[5, 6]]);
});
