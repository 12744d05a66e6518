// The bone editor used as a person would, in the real ComfyUI frontend (Debian chromium
// through playwright-core): build the retarget graph from the real nodes, queue it, drag
// the forearm handle with the mouse, queue again, reload the workflow. Prints one JSON
// line for tests/browser/test_bone_editor.py; exit code 0 = ran.
// usage: node bone_editor_check.mjs <server url> <video in input/> <image in input/> <frames> <screenshot.png>
import { buildRetargetGraph, editsValue, frameEditorNode, handlePoints, launchBrowser, openFrontend, screenshotNode,
  showLongestBoneFrame, waitPreview } from "./bone_editor_session.mjs";

const [url, videoName, imageName, frameCount, screenshot] = process.argv.slice(2);
const FOREARM = "left_wrist"; // the bone elbow -> wrist, named after its child joint
const browser = await launchBrowser();
const result = { consoleErrors: [], steps: [] };
const t0 = Date.now();
const step = (name) => result.steps.push([name, (Date.now() - t0) / 1000]);
try {
  const page = await openFrontend(browser, url, result);
  step("frontend loaded");

  // ---- the graph, built from the real nodes the way a person wires it
  result.ids = await buildRetargetGraph(page, videoName, imageName, frameCount, "tests/bone_editor");
  await frameEditorNode(page, result.ids.rt); // the editor node large and in full view (for the screenshot)

  result.widgetBefore = await editsValue(page, result.ids.rt);
  result.editsWidgetHidden = await page.evaluate((id) => window.app.graph.getNodeById(id).widgets.find((w) => w.name === "bone_edits").hidden === true, result.ids.rt);
  await page.evaluate(() => window.app.queuePrompt(0, 1));
  result.firstPreview = await waitPreview(page, result.ids.rt);
  await page.waitForTimeout(300); // any hook or timer after the run has had its turn
  result.sizeSet = [640, 900]; // frameEditorNode's size: the artist's own
  result.sizeAfterRun = await page.evaluate((id) => [...window.app.graph.getNodeById(id).size], result.ids.rt);
  step("first run shown in the editor");

  // ---- pick the frame where the forearm reads longest on screen, with the real frame slider
  Object.assign(result, await showLongestBoneFrame(page, result.ids.rt, FOREARM));

  const grab = () => page.evaluate((id) => {
    const ed = window.app.graph.getNodeById(id).boneEditor;
    const c = ed.canvas;
    return { data: Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data), w: c.width, h: c.height };
  }, result.ids.rt);
  const before = await grab();
  const points = await handlePoints(page, result.ids.rt, [FOREARM, "left_elbow"]);
  const handles = { wrist: points[FOREARM], elbow: points.left_elbow };
  result.handles = handles;

  // ---- drag the forearm handle outwards along the bone, with real mouse events
  const { wrist, elbow } = handles;
  const target = { x: wrist.x + 0.45 * (wrist.x - elbow.x), y: wrist.y + 0.45 * (wrist.y - elbow.y) };
  result.dropPoint = target;
  await page.mouse.move(wrist.x, wrist.y);
  await page.mouse.down();
  await page.mouse.move(target.x, target.y, { steps: 12 });
  result.widgetDuringDrag = await editsValue(page, result.ids.rt);
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
  result.screenshotBox = await screenshotNode(page, result.ids.rt, screenshot);

  // ---- queue with the edit: the server's output carries it
  await page.evaluate(() => { window.__executed = {}; return window.app.queuePrompt(0, 1); });
  result.secondPreview = await waitPreview(page, result.ids.rt, result.firstPreview);
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
  const widgetValue = () => editsValue(page, result.ids.rt);
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
