// The shared retarget vectors, JS side: web/js/retarget_geometry.js must give the
// same joints as the Python implementation for the same edits (within 1e-6).
// Run from the repo root: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

import {
  BODY_JOINTS, BODY_PARENTS, BoneEditError, PRESETS, SCALE_RANGE, dragAlongBone, forwardKinematics,
  mirrorName, parseBoneEdits, poseBoneLengths, presetBase, project, resolveScales, resolveScalesByName,
  retargetFrame, unitDirections,
} from "../../web/js/retarget_geometry.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const V = JSON.parse(readFileSync(path.join(here, "..", "vectors", "retarget_vectors.json"), "utf8"));

function assertClose(got, want, tol, what) {
  const g = got.flat(Infinity);
  const w = want.flat(Infinity);
  assert.equal(g.length, w.length, `${what}: length`);
  for (let i = 0; i < g.length; i++) {
    assert.ok(Math.abs(g[i] - w[i]) <= tol, `${what}[${i}]: ${g[i]} vs ${w[i]}`);
  }
}

test("skeleton, presets and scale range are Python's", () => {
  assert.deepEqual(BODY_JOINTS, V.joint_names);
  assert.deepEqual(BODY_PARENTS, V.parents);
  assert.deepEqual(SCALE_RANGE, V.scale_range);
  assert.deepEqual(PRESETS, V.presets);
  assert.equal(presetBase("keep driver"), "driver");
  assert.equal(presetBase("heroic"), "reference");
});

test("retargetFrame gives Python's joints for the same edits", () => {
  assert.ok(V.cases.length >= 20);
  for (const c of V.cases) {
    const pose = V.poses[c.pose];
    const what = `${pose.name} / edits ${c.edits}`;
    const scales = resolveScales(V.edits[c.edits]);
    assertClose(scales, c.scales, 1e-12, `${what} scales`);
    const joints = retargetFrame({ driver: pose.driver, baseLengths: V.base_lengths, scales, root: pose.root });
    assertClose(joints, c.joints, 1e-6, `${what} joints`);
    assertClose(project(joints, V.cameras[c.camera]), c.projected, 1e-6, `${what} projected`);
  }
});

test("dragAlongBone gives Python's scales", () => {
  for (const [i, d] of V.drags.entries()) {
    const got = dragAlongBone({ parent: d.parent, child: d.child, camera: d.camera, drag: d.drag, baseLength: d.base_length });
    assert.ok(Math.abs(got - d.scale) <= 1e-6, `drag ${i}: ${got} vs ${d.scale}`);
  }
});

test("every edit case parses to Python's BoneEdits.to_dict (reference_joints only when used)", () => {
  assert.equal(V.parsed.length, V.edits.length);
  V.edits.forEach((e, i) => assert.deepEqual(parseBoneEdits(e), V.parsed[i], `edits ${i}`));
  assert.ok(V.parsed.some((p) => p.reference_joints) && V.parsed.some((p) => !("reference_joints" in p)));
});

test("bad edits are rejected with the bone and the valid range", () => {
  for (const e of V.errors) {
    assert.throws(() => parseBoneEdits(e.spec), (err) => {
      assert.ok(err instanceof BoneEditError, String(err));
      for (const w of e.words) assert.ok(err.message.includes(w), `${JSON.stringify(e.spec)}: '${w}' not in '${err.message}'`);
      return true;
    });
  }
});

test("link_lr mirrors an edit unless the mirror is set", () => {
  const s = resolveScalesByName({ preset: "heroic", scales: { left_elbow: 1.5, right_knee: 0.8, left_knee: 1.3 } });
  assert.equal(s.right_elbow, 1.5);
  assert.equal(s.left_knee, 1.3);
  assert.equal(s.right_knee, 0.8);
  const off = resolveScalesByName({ preset: "heroic", scales: { left_elbow: 1.5 }, link_lr: false });
  assert.equal(off.right_elbow, PRESETS.heroic.right_elbow);
  assert.equal(mirrorName("left_eye"), "right_eye");
  assert.equal(mirrorName("neck"), null);
});

test("FK keeps directions and sets lengths exactly", () => {
  const pose = V.poses[1];
  const scales = resolveScales({ preset: "chibi" });
  const joints = retargetFrame({ driver: pose.driver, baseLengths: V.base_lengths, scales });
  const lengths = poseBoneLengths(joints);
  const want = V.base_lengths.map((L, j) => L * scales[j]);
  assertClose(lengths.slice(1), want.slice(1), 1e-9, "lengths");
  const a = unitDirections(joints).dirs;
  const b = unitDirections(pose.driver).dirs;
  for (let j = 1; j < a.length; j++) {
    const cos = a[j][0] * b[j][0] + a[j][1] * b[j][1] + a[j][2] * b[j][2];
    assert.ok(cos > 1 - 1e-12, `bone ${BODY_JOINTS[j]}: cos ${cos}`);
  }
  // rebuilding from its own directions and lengths gives the pose back
  assertClose(forwardKinematics(joints[0], a, lengths), joints, 1e-12, "fk roundtrip");
});
