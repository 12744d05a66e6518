// The person picker's geometry (web/js/person_picker_model.js): where the frontend draws a
// node's single preview picture, and which numbered box a click lands in.
// Run from the repo root: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";

import { SIZE_LINE, boxRect, personAt, pictureRect } from "../../web/js/person_picker_model.js";

test("the picture is fitted like the frontend's preview: never enlarged, centred", () => {
  // a 512x354 preview in a 560 px wide node, widget at y=400, 500 px tall, with the size line
  assert.deepEqual(pictureRect(560, 400, 500, 512, 354, SIZE_LINE), { x: 24, y: 400 + (485 - 354) / 2, w: 512, h: 354 });
  // a narrow node shrinks it to the width
  const r = pictureRect(256, 0, 500, 512, 354);
  assert.equal(r.w, 256);
  assert.equal(r.h, 177);
  assert.equal(r.x, 0);
  // a short widget shrinks it to the height
  const s = pictureRect(560, 10, 187, 512, 354);
  assert.equal(s.h, 187);
  assert.equal(s.y, 10);
  assert.ok(Math.abs(s.w - 512 * (187 / 354)) < 1e-9);
});

test("a click picks the box it lands in, the smallest where boxes overlap, none outside", () => {
  const rect = { x: 10, y: 20, w: 200, h: 100 };
  const boxes = [
    [0.0, 0.0, 0.5, 1.0], // 1: the left half
    [0.3, 0.2, 0.45, 0.6], // 2: a person in front, inside box 1
    [0.6, 0.1, 0.9, 0.9], // 3
  ];
  const b = boxRect(boxes[2], rect);
  assert.deepEqual([b.x, b.y, b.w, b.h].map((v) => Math.round(v * 1e6) / 1e6), [130, 30, 60, 80]);
  assert.equal(personAt(boxes, rect, 20, 100), 1);
  assert.equal(personAt(boxes, rect, 10 + 0.4 * 200, 20 + 0.4 * 100), 2);
  assert.equal(personAt(boxes, rect, 10 + 0.7 * 200, 20 + 0.5 * 100), 3);
  assert.equal(personAt(boxes, rect, 10 + 0.55 * 200, 20 + 0.5 * 100), 0); // between the boxes
  assert.equal(personAt(boxes, rect, 5, 5), 0); // outside the picture
});
