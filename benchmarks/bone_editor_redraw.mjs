// The bone editor's cost per drag event in the real ComfyUI frontend (headless Debian chromium,
// software rendering), for benchmarks/bench_retarget.py. Builds Load Motion (driving) + Load
// Motion (reference) + Load Image -> DreamActor Bone Retarget, queues it so the editor gets its
// preview, shows the frame where the forearm is longest on screen, then drags the forearm handle
// with real mouse moves (playwright's page.mouse, i.e. CDP input events), one at a time, each
// awaited until the editor has redrawn for it.
//
// Measured in the page with performance.now(), per mouse move:
//   handler  the editor's pointermove handler (hit point -> dragScale -> new edits -> widget,
//            controls; it queues a redraw with requestAnimationFrame)
//   draw     the editor's draw() in that animation frame (predictFrame for the pose and the
//            ghost, then the canvas 2D calls)
//   raster   a 1-pixel getImageData right after draw(): forces the canvas's recorded drawing to
//            be rasterised now, so its pixel cost is inside the figure (it would otherwise be
//            paid later, at paint)
//   work     handler + draw + raster: what the editor costs per drag event
//   latency  from the event's timeStamp (its creation) to the end of the raster: adds the wait
//            for the animation frame and the browser's input queue
// The first WARMUP moves (JIT warm-up) are left out of the figures. Prints one JSON line.
// usage: node bone_editor_redraw.mjs <server url> <driving .motion.npz in input/> <reference .motion.npz> <image> <moves>
import { buildGraph, frameEditorNode, handlePoints, launchBrowser, openFrontend, showLongestBoneFrame, waitPreview }
  from "../tests/browser/bone_editor_session.mjs";

const [url, drivingName, referenceName, imageName, movesArg] = process.argv.slice(2);
const MOVES = Number(movesArg || 200);
const WARMUP = 10;
const FOREARM = "left_wrist"; // the bone elbow -> wrist, named after its child joint
const result = { consoleErrors: [] };
const browser = await launchBrowser();
result.browser = `Chromium ${browser.version()}`;

/** Wrap the editor's pointermove handler and draw() with performance.now() (instance properties:
 * the editor's listeners call this.onPointerMove / this.draw, so they pick the wrappers up). */
function instrument(page, id) {
  return page.evaluate((id) => {
    const ed = window.app.graph.getNodeById(id).boneEditor;
    const rec = (window.__redraw = { events: [] });
    const move = ed.onPointerMove.bind(ed);
    ed.onPointerMove = (e) => {
      const h0 = performance.now();
      move(e);
      const h1 = performance.now();
      if (ed.drag) rec.events.push({ ts: e.timeStamp, h0, h1, queued: ed.renderQueued, scale: ed.edits.scales[ed.drag.bone] });
    };
    const draw = ed.draw.bind(ed);
    ed.draw = () => {
      const d0 = performance.now();
      draw();
      const d1 = performance.now();
      ed.canvas.getContext("2d").getImageData(0, 0, 1, 1);
      const d2 = performance.now();
      for (const r of rec.events) if (r.queued && r.d0 === undefined) Object.assign(r, { d0, d1, d2 });
    };
    // the clock's step (browsers coarsen performance.now(); Chromium to 0.1 ms unless cross-origin isolated)
    let tick = Infinity;
    for (let i = 0, a = performance.now(); i < 200000 && tick === Infinity; i++) {
      const b = performance.now();
      if (b > a) tick = b - a;
    }
    const c = ed.canvas;
    return { w: c.width, h: c.height, dpr: window.devicePixelRatio, clockStepMs: tick };
  }, id);
}

/** `moves` mouse moves along the forearm's screen line, out to 1.45x and back in to 0.7x of its
 * length from the elbow (a triangle wave), each awaited until the editor has redrawn for it. */
async function drag(page, elbow, wrist, moves) {
  const at = (k) => ({ x: elbow.x + k * (wrist.x - elbow.x), y: elbow.y + k * (wrist.y - elbow.y) });
  await page.mouse.move(wrist.x, wrist.y);
  await page.mouse.down();
  for (let i = 1; i <= moves; i++) {
    const phase = (i / 50) % 2; // one cycle out, in and back per 100 moves
    const k = 1 + (phase < 0.5 ? 0.9 * phase : phase < 1.5 ? 0.45 - 0.75 * (phase - 0.5) : -0.3 + 0.6 * (phase - 1.5));
    const p = at(k);
    await page.mouse.move(p.x, p.y);
    await page.waitForFunction((n) => {
      const e = window.__redraw.events;
      return e.length >= n && (e[n - 1].d2 !== undefined || !e[n - 1].queued);
    }, i, { polling: "raf", timeout: 10000 });
  }
  await page.mouse.up();
}

function stats(values) {
  const v = [...values].sort((a, b) => a - b);
  const q = (p) => v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)];
  return { median: q(0.5), p95: q(0.95), max: v[v.length - 1], n: v.length };
}

try {
  const page = await openFrontend(browser, url, result);
  const ids = await buildGraph(page, {
    driving: ["DreamActorLoadMotion", [20, 40], { file: drivingName }],
    reference: ["DreamActorLoadMotion", [20, 240], { file: referenceName }],
    image: ["LoadImage", [20, 440], { image: imageName }],
    rt: ["DreamActorBoneRetarget", [680, 20]],
  }, [["driving", 0, "rt", "driving"], ["reference", 0, "rt", "reference"], ["image", 0, "rt", "reference_image"]]);
  await frameEditorNode(page, ids.rt);
  await page.evaluate(() => window.app.queuePrompt(0, 1));
  await waitPreview(page, ids.rt);
  Object.assign(result, await showLongestBoneFrame(page, ids.rt, FOREARM));
  delete result.referenceLengths;
  delete result.jointNames;
  const { [FOREARM]: wrist, left_elbow: elbow } = await handlePoints(page, ids.rt, [FOREARM, "left_elbow"]);
  result.canvas = await instrument(page, ids.rt);
  await drag(page, elbow, wrist, MOVES);
  const events = await page.evaluate(() => window.__redraw.events);
  const timed = events.slice(WARMUP).filter((e) => e.d2 !== undefined);
  result.events = events.length;
  result.redraws = events.filter((e) => e.d2 !== undefined).length;
  result.timed = timed.length;
  result.warmup = WARMUP;
  const scales = events.map((e) => e.scale).filter((s) => s !== undefined);
  result.scaleRange = [Math.min(...scales), Math.max(...scales)];
  result.stats = {
    handler: stats(timed.map((e) => e.h1 - e.h0)),
    draw: stats(timed.map((e) => e.d1 - e.d0)),
    raster: stats(timed.map((e) => e.d2 - e.d1)),
    work: stats(timed.map((e) => e.h1 - e.h0 + e.d2 - e.d0)),
    latency: stats(timed.map((e) => e.d2 - e.ts)),
  };
} catch (e) {
  result.error = String(e?.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
