// chainCallback (web/js/node_hooks.js): the original hook runs first, then ours; the original's
// result is returned. Run from the repo root: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";

import { chainCallback } from "../../web/js/node_hooks.js";

test("the original runs first, then ours, with the same this and arguments", () => {
  const calls = [];
  const proto = { onExecuted(m) { calls.push(["host", this.id, m]); return "host result"; } };
  chainCallback(proto, "onExecuted", function (m) { calls.push(["ours", this.id, m]); return "ignored"; });
  chainCallback(proto, "onExecuted", function (m) { calls.push(["later", this.id, m]); });
  const node = Object.create(proto);
  node.id = 7;
  assert.equal(node.onExecuted({ text: ["x"] }), "host result");
  assert.deepEqual(calls, [["host", 7, { text: ["x"] }], ["ours", 7, { text: ["x"] }], ["later", 7, { text: ["x"] }]]);
});

test("a hook on a method the class does not have yet", () => {
  const proto = {};
  let seen = null;
  chainCallback(proto, "onConfigure", function (info) { seen = info; });
  assert.equal(proto.onConfigure({ a: 1 }), undefined);
  assert.deepEqual(seen, { a: 1 });
});
