// Shared set-up for scripts that use the bone editor in the real ComfyUI frontend (Debian
// chromium through playwright-core): tests/browser/bone_editor_check.mjs (the browser test)
// and benchmarks/bone_editor_redraw.mjs (the redraw benchmark). It lives here, beside
// node_modules, so playwright-core resolves for both.
import { chromium } from "playwright-core";

/** Headless Debian chromium, software rendering (no GPU), nothing fetched from outside. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
}

/** A page with the frontend loaded and the pack's bone editor extension registered. Page errors,
 * console errors and failed requests are collected into `result.consoleErrors` / `result.failedRequests`. */
export async function openFrontend(browser, url, result, viewport = { width: 1500, height: 1100 }) {
  const page = await browser.newPage({ viewport });
  result.consoleErrors ??= [];
  result.failedRequests ??= [];
  page.on("pageerror", (e) => result.consoleErrors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") result.consoleErrors.push(m.text()); });
  page.on("response", (r) => { if (r.status() >= 400) result.failedRequests.push(`${r.status()} ${r.url()}`); });
  await page.goto(url, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => window.app?.graph && window.LiteGraph?.registered_node_types, null, { timeout: 90000 });
  await page.waitForFunction(() => window.app.extensions?.some((e) => e.name === "DreamActor.BoneEditor"), null, { timeout: 30000 });
  return page;
}

/** A new graph from the real node types, wired the way a person wires it.
 * nodes: {key: [type, [x, y], {widget: value}]}; links: [[fromKey, outputSlot, toKey, inputName]].
 * Returns {key: node id}. */
export function buildGraph(page, nodes, links) {
  return page.evaluate(({ nodes, links }) => {
    const { app, LiteGraph } = window;
    app.graph.clear();
    const made = {};
    for (const [key, [type, pos, values = {}]] of Object.entries(nodes)) {
      const n = LiteGraph.createNode(type);
      app.graph.add(n);
      n.pos = pos;
      for (const [k, v] of Object.entries(values)) n.widgets.find((w) => w.name === k).value = v;
      made[key] = n;
    }
    for (const [a, slot, b, input] of links) made[a].connect(slot, made[b], made[b].inputs.findIndex((i) => i.name === input));
    return Object.fromEntries(Object.entries(made).map(([k, n]) => [k, n.id]));
  }, { nodes, links });
}

/** The editor node large (640x900) and in full view at zoom 1, clear of the menu bar. */
export function frameEditorNode(page, id) {
  return page.evaluate((id) => {
    const { app } = window;
    const rt = app.graph.getNodeById(id);
    rt.setSize([640, 900]);
    app.canvas.ds.scale = 1;
    app.canvas.ds.offset = [420 - rt.pos[0], 140 - rt.pos[1]];
    app.graph.setDirtyCanvas(true, true);
  }, id);
}

/** Wait until the editor of node `id` shows a preview other than `notName`, with its picture and
 * a prediction; returns the preview's name. */
export async function waitPreview(page, id, notName = null, timeout = 240000) {
  const handle = await page.waitForFunction(({ id, notName }) => {
    const ed = window.app.graph.getNodeById(id)?.boneEditor;
    return ed?.preview && ed.preview.name !== notName && ed.image && ed.prediction ? ed.preview.name : false;
  }, { id, notName }, { timeout });
  return handle.jsonValue();
}

/** The value of the node's bone_edits widget (the editor's state as JSON). */
export function editsValue(page, id) {
  return page.evaluate((id) => window.app.graph.getNodeById(id).widgets.find((w) => w.name === "bone_edits").value, id);
}

/** Show, with the editor's real frame slider, the frame where `bone` reads longest on screen, and
 * wait until it is drawn. Returns {frame, pixels, numFrames, referenceLengths, jointNames}. */
export async function showLongestBoneFrame(page, id, bone) {
  const pick = await page.evaluate(({ id, bone }) => {
    const ed = window.app.graph.getNodeById(id).boneEditor;
    const P = ed.preview;
    const j = P.joint_names.indexOf(bone);
    const p = P.parents[j];
    let best = 0;
    let bestLen = -1;
    for (const t of ed.frames.keys()) {
      const q = ed.predictAt(t);
      if (!q) continue;
      const len = Math.hypot(q.joints2d[j][0] - q.joints2d[p][0], q.joints2d[j][1] - q.joints2d[p][1]);
      if (len > bestLen) { bestLen = len; best = t; }
    }
    const slider = ed.frameSlider;
    slider.value = String(best);
    slider.dispatchEvent(new Event("input", { bubbles: true }));
    return { frame: best, pixels: bestLen, numFrames: P.num_frames, referenceLengths: P.reference.lengths,
      jointNames: P.joint_names };
  }, { id, bone });
  await page.waitForFunction(({ id, frame }) => {
    const ed = window.app.graph.getNodeById(id).boneEditor;
    return ed.frame === frame && ed.prediction && !ed.renderQueued;
  }, { id, frame: pick.frame });
  return pick;
}

/** Client coordinates of the editor's handles for `bones` ({bone: {x, y}}). */
export function handlePoints(page, id, bones) {
  return page.evaluate(({ id, bones }) => {
    const ed = window.app.graph.getNodeById(id).boneEditor;
    return Object.fromEntries(bones.map((b) => [b, ed.handleClientPoint(b)]));
  }, { id, bones });
}

/** The retarget graph as a person wires it: the clip (Skeleton Extract -> Head Sphere Fit) drives,
 * the picture (the same) is the reference and goes to the editor, the motion is saved. Every
 * node's `executed` output is collected in window.__executed. Returns {key: node id}. */
export async function buildRetargetGraph(page, videoName, imageName, frameCount, savePrefix) {
  const ids = await buildGraph(page, {
    video: ["DreamActorLoadVideo", [20, 40], { video: videoName, frame_count: Number(frameCount) }],
    skelD: ["DreamActorSkeletonExtract", [20, 420]],
    headD: ["DreamActorHeadSphereFit", [20, 760]],
    image: ["LoadImage", [340, 40], { image: imageName }],
    skelR: ["DreamActorSkeletonExtract", [340, 420]],
    headR: ["DreamActorHeadSphereFit", [340, 760]],
    rt: ["DreamActorBoneRetarget", [680, 20]],
    save: ["DreamActorSaveMotion", [1240, 40], { filename_prefix: savePrefix }],
  }, [["video", 0, "skelD", "video"], ["skelD", 0, "headD", "motion"], ["headD", 0, "rt", "driving"],
      ["image", 0, "skelR", "image"], ["skelR", 0, "headR", "motion"], ["headR", 0, "rt", "reference"],
      ["image", 0, "rt", "reference_image"], ["rt", 0, "save", "motion"]]);
  await page.evaluate(() => {
    window.__executed = {};
    window.comfyAPI.api.api.addEventListener("executed", (e) => { window.__executed[String(e.detail.node)] = e.detail.output; });
  });
  return ids;
}

/** A screenshot of node `id` (title included, 8 px around) to `path`; returns the clip box. */
export async function screenshotNode(page, id, path) {
  const box = await page.evaluate((id) => {
    const n = window.app.graph.getNodeById(id);
    const ds = window.app.canvas.ds;
    const r = window.app.canvas.canvas.getBoundingClientRect();
    const title = window.LiteGraph.NODE_TITLE_HEIGHT;
    return { x: r.left + (n.pos[0] + ds.offset[0]) * ds.scale - 8, y: r.top + (n.pos[1] - title + ds.offset[1]) * ds.scale - 8,
      width: n.size[0] * ds.scale + 16, height: (n.size[1] + title) * ds.scale + 16 };
  }, id);
  await page.screenshot({ path, clip: box });
  return box;
}
