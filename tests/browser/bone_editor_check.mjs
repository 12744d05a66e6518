// The bone editor used as a person would, in the real ComfyUI frontend (Debian chromium
// through playwright-core): build the retarget graph from the real nodes, queue it, drag
// the forearm handle with the mouse, queue again, reload the workflow. Prints one JSON
// line for tests/browser/test_bone_editor.py; exit code 0 = ran.
// usage: node bone_editor_check.mjs <server url> <video in input/> <image in input/> <frames> <screenshot.png>
import { chromium } from "playwright-core";

const [url, videoName, imageName, frameCount, screenshot] = process.argv.slice(2);
const FOREARM = "left_wrist"; // the bone elbow -> wrist, named after its child joint
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
const result = { consoleErrors: [], steps: [] };
const t0 = Date.now();
const step = (name) => result.steps.push([name, (Date.now() - t0) / 1000]);
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
  page.on("pageerror", (e) => result.consoleErrors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") result.consoleErrors.push(m.text()); });
  result.failedRequests = [];
  page.on("response", (r) => { if (r.status() >= 400) result.failedRequests.push(`${r.status()} ${r.url()}`); });
  await page.goto(url, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => window.app?.graph && window.LiteGraph?.registered_node_types, null, { timeout: 90000 });
  await page.waitForFunction(() => window.app.extensions?.some((e) => e.name === "DreamActor.BoneEditor"), null, { timeout: 30000 });
  step("frontend loaded");

  // ---- the graph, built from the real nodes the way a person wires it
  result.ids = await page.evaluate(({ videoName, imageName, frameCount }) => {
    const { app, LiteGraph } = window;
    app.graph.clear();
    const add = (type, pos, values = {}) => {
      const n = LiteGraph.createNode(type);
      app.graph.add(n);
      n.pos = pos;
      for (const [k, v] of Object.entries(values)) n.widgets.find((w) => w.name === k).value = v;
      return n;
    };
    const link = (a, slot, b, input) => a.connect(slot, b, b.inputs.findIndex((i) => i.name === input));
    const video = add("DreamActorLoadVideo", [20, 40], { video: videoName, frame_count: Number(frameCount) });
    const skelD = add("DreamActorSkeletonExtract", [20, 420]);
    const headD = add("DreamActorHeadSphereFit", [20, 760]);
    const image = add("LoadImage", [340, 40], { image: imageName });
    const skelR = add("DreamActorSkeletonExtract", [340, 420]);
    const headR = add("DreamActorHeadSphereFit", [340, 760]);
    const rt = add("DreamActorBoneRetarget", [680, 20]);
    const save = add("DreamActorSaveMotion", [1240, 40], { filename_prefix: "tests/bone_editor" });
    link(video, 0, skelD, "video"); link(skelD, 0, headD, "motion"); link(headD, 0, rt, "driving");
    link(image, 0, skelR, "image"); link(skelR, 0, headR, "motion"); link(headR, 0, rt, "reference");
    link(image, 0, rt, "reference_image"); link(rt, 0, save, "motion");
    window.__executed = {};
    window.comfyAPI.api.api.addEventListener("executed", (e) => { window.__executed[String(e.detail.node)] = e.detail.output; });
    // the editor node large and in full view, clear of the menu bar (for the screenshot)
    rt.setSize([640, 900]);
    app.canvas.ds.scale = 1;
    app.canvas.ds.offset = [420 - rt.pos[0], 140 - rt.pos[1]];
    app.graph.setDirtyCanvas(true, true);
    return { rt: rt.id, save: save.id };
  }, { videoName, imageName, frameCount });

  const waitPreview = async (notName) => page.waitForFunction(({ id, notName }) => {
    const ed = window.app.graph.getNodeById(id)?.boneEditor;
    return ed?.preview && ed.preview.name !== notName && ed.image && ed.prediction ? ed.preview.name : false;
  }, { id: result.ids.rt, notName }, { timeout: 240000 });

  result.widgetBefore = await page.evaluate((id) => window.app.graph.getNodeById(id).widgets.find((w) => w.name === "bone_edits").value, result.ids.rt);
  result.editsWidgetHidden = await page.evaluate((id) => window.app.graph.getNodeById(id).widgets.find((w) => w.name === "bone_edits").hidden === true, result.ids.rt);
  await page.evaluate(() => window.app.queuePrompt(0, 1));
  result.firstPreview = await (await waitPreview(null)).jsonValue();
  step("first run shown in the editor");

  // ---- pick the frame where the forearm reads longest on screen, with the real frame slider
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
  }, { id: result.ids.rt, bone: FOREARM });
  Object.assign(result, pick);
  await page.waitForFunction(({ id, frame }) => {
    const ed = window.app.graph.getNodeById(id).boneEditor;
    return ed.frame === frame && ed.prediction && !ed.renderQueued;
  }, { id: result.ids.rt, frame: pick.frame });

  const grab = () => page.evaluate((id) => {
    const ed = window.app.graph.getNodeById(id).boneEditor;
    const c = ed.canvas;
    return { data: Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data), w: c.width, h: c.height };
  }, result.ids.rt);
  const before = await grab();
  const handles = await page.evaluate(({ id, bone }) => {
    const ed = window.app.graph.getNodeById(id).boneEditor;
    return { wrist: ed.handleClientPoint(bone), elbow: ed.handleClientPoint("left_elbow") };
  }, { id: result.ids.rt, bone: FOREARM });
  result.handles = handles;

  // ---- drag the forearm handle outwards along the bone, with real mouse events
  const { wrist, elbow } = handles;
  const target = { x: wrist.x + 0.45 * (wrist.x - elbow.x), y: wrist.y + 0.45 * (wrist.y - elbow.y) };
  result.dropPoint = target;
  await page.mouse.move(wrist.x, wrist.y);
  await page.mouse.down();
  await page.mouse.move(target.x, target.y, { steps: 12 });
  result.widgetDuringDrag = await page.evaluate((id) => window.app.graph.getNodeById(id).widgets.find((w) => w.name === "bone_edits").value, result.ids.rt);
  await page.mouse.up();
  await page.waitForFunction((id) => !window.app.graph.getNodeById(id).boneEditor.renderQueued, result.ids.rt);
  step("forearm dragged");
  const after = await grab();
  let changed = 0;
  for (let i = 0; i < before.data.length; i += 4) {
    const d = Math.abs(before.data[i] - after.data[i]) + Math.abs(before.data[i + 1] - after.data[i + 1]) + Math.abs(before.data[i + 2] - after.data[i + 2]);
    if (d > 30) changed++;
  }
  result.canvasPixelsChanged = changed;
  result.canvasPixels = before.w * before.h;
  Object.assign(result, await page.evaluate(({ id, bone }) => {
    const node = window.app.graph.getNodeById(id);
    const ed = node.boneEditor;
    return {
      widgetAfter: node.widgets.find((w) => w.name === "bone_edits").value,
      wristAfterDrag: ed.handleClientPoint(bone),
      predictedJoints2d: ed.prediction.joints2d,
      sliderLabel: ed.value.textContent,
      selectedBone: ed.boneSel.value,
      undoEnabled: !ed.undo.disabled,
    };
  }, { id: result.ids.rt, bone: FOREARM }));

  // ---- the picture for people: the editor node, after the edit
  await page.evaluate((id) => {
    const n = window.app.graph.getNodeById(id);
    window.app.canvas.selectNode(n);
    window.app.graph.setDirtyCanvas(true, true);
  }, result.ids.rt);
  await page.waitForTimeout(300);
  const box = await page.evaluate((id) => {
    const n = window.app.graph.getNodeById(id);
    const ds = window.app.canvas.ds;
    const r = window.app.canvas.canvas.getBoundingClientRect();
    const title = window.LiteGraph.NODE_TITLE_HEIGHT;
    return { x: r.left + (n.pos[0] + ds.offset[0]) * ds.scale - 8, y: r.top + (n.pos[1] - title + ds.offset[1]) * ds.scale - 8,
      width: n.size[0] * ds.scale + 16, height: (n.size[1] + title) * ds.scale + 16 };
  }, result.ids.rt);
  result.screenshotBox = box;
  await page.screenshot({ path: screenshot, clip: box });

  // ---- queue with the edit: the server's output carries it
  await page.evaluate(() => { window.__executed = {}; return window.app.queuePrompt(0, 1); });
  result.secondPreview = await (await waitPreview(result.firstPreview)).jsonValue();
  await page.waitForFunction((id) => window.__executed[String(id)], result.ids.save, { timeout: 120000 });
  result.saveText = await page.evaluate((id) => window.__executed[String(id)].text, result.ids.save);
  result.serverPreviewEdits = await page.evaluate((id) => window.app.graph.getNodeById(id).boneEditor.preview.edits, result.ids.rt);
  step("second run");

  // ---- undo, redo by hand, then the workflow round trip
  result.undo = await page.evaluate(async (id) => {
    const node = window.app.graph.getNodeById(id);
    const w = node.widgets.find((x) => x.name === "bone_edits");
    const edited = w.value;
    node.boneEditor.undo.click();
    const undone = w.value;
    w.value = edited; // put the edit back the way a workflow load would
    node.boneEditor.syncFromWidget();
    return { undone, restored: w.value === edited };
  }, result.ids.rt);
  result.reload = await page.evaluate(async (id) => {
    const { app } = window;
    const workflow = app.graph.serialize();
    const saved = workflow.nodes.find((n) => n.id === id);
    await app.loadGraphData(JSON.parse(JSON.stringify(workflow)));
    const node = app.graph.getNodeById(id);
    const ed = node.boneEditor;
    await new Promise((r) => setTimeout(r, 300));
    return {
      savedWidgetsValues: saved.widgets_values,
      widgetValue: node.widgets.find((w) => w.name === "bone_edits").value,
      editorScale: ed.edits.scales?.left_wrist ?? null,
      editorSlider: ed.value.textContent,
      previewProperty: node.properties.dreamactor_preview,
      editorsInPage: document.querySelectorAll(".da-bone-editor").length,
    };
  }, result.ids.rt);
  await page.waitForFunction((id) => window.app.graph.getNodeById(id).boneEditor?.preview?.name, result.ids.rt, { timeout: 30000 });
  result.reloadPreview = await page.evaluate((id) => window.app.graph.getNodeById(id).boneEditor.preview.name, result.ids.rt);
  step("reloaded");

  // ---- the controls, clicked: a preset, the left/right link, undo
  const widgetValue = () => page.evaluate((id) => window.app.graph.getNodeById(id).widgets.find((w) => w.name === "bone_edits").value, result.ids.rt);
  const editor = page.locator(".da-bone-editor");
  await editor.locator("select").first().selectOption("chibi");
  result.afterPreset = await widgetValue();
  await editor.locator("button", { hasText: "Undo" }).click();
  result.afterPresetUndo = await widgetValue();
  await editor.locator("button", { hasText: "L \u2194 R" }).click();
  result.afterUnlink = await widgetValue();
  step("controls clicked");
} catch (e) {
  result.error = String(e?.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
