// The bone editor's "Pose reference" mode used as a person would, in the real ComfyUI frontend
// (Debian chromium through playwright-core): build the retarget graph, queue it, switch the mode
// on with its button, drag the character's head joint with the mouse, wait for the server's
// repose, reload the workflow, queue again, undo. Prints one JSON line for
// tests/browser/test_reference_pose.py; exit code 0 = ran.
// usage: node reference_pose_check.mjs <server url> <video in input/> <image in input/> <frames> <screenshot.png>
import { buildRetargetGraph, editsValue, frameEditorNode, launchBrowser, openFrontend, screenshotNode, waitPreview } from "./bone_editor_session.mjs";

const [url, videoName, imageName, frameCount, screenshot] = process.argv.slice(2);
const JOINT = "head";
const browser = await launchBrowser();
const result = { consoleErrors: [], steps: [] };
const t0 = Date.now();
const step = (name) => result.steps.push([name, (Date.now() - t0) / 1000]);

/** What the editor of node `id` shows now: preview name, its placements, the reference skeleton
 * as drawn and the predicted output on the framing frame. */
const shown = (page, id) => page.evaluate((id) => {
  const ed = window.app.graph.getNodeById(id).boneEditor;
  const P = ed.preview;
  const t = P.framing.t0;
  return {
    name: P.name,
    previewPlacements: P.edits.reference_joints ?? null,
    referenceDrawn: ed.referencePoints(),
    referenceServer: P.reference.joints2d,
    frame: t,
    predicted: ed.predictAt(t)?.joints2d ?? null,
    status: ed.statusEl.textContent,
  };
}, id);

/** Wait until the shown preview was computed with the widget's placements (the repose arrived). */
const waitReposed = (page, id, notName) => page.waitForFunction(({ id, notName }) => {
  const node = window.app.graph.getNodeById(id);
  const ed = node.boneEditor;
  const want = JSON.stringify(JSON.parse(node.widgets.find((w) => w.name === "bone_edits").value).reference_joints ?? null);
  return ed?.preview && ed.preview.name !== notName && !ed.reposing && ed.frames.has(ed.preview.framing.t0) &&
    JSON.stringify(ed.preview.edits.reference_joints ?? null) === want;
}, { id, notName }, { timeout: 60000 });

try {
  const page = await openFrontend(browser, url, result);
  step("frontend loaded");
  result.ids = await buildRetargetGraph(page, videoName, imageName, frameCount, "tests/reference_pose");
  const id = result.ids.rt;
  await frameEditorNode(page, id);
  await page.evaluate(() => window.app.queuePrompt(0, 1));
  result.firstPreview = await waitPreview(page, id);
  result.before = await shown(page, id);
  step("first run shown");

  // ---- the mode, switched on with its button (a real click)
  const editor = page.locator(".da-bone-editor");
  const button = editor.locator("button", { hasText: "Pose reference" });
  result.buttonTitle = await button.getAttribute("title");
  await button.click();
  result.modeOn = await page.evaluate((id) => {
    const ed = window.app.graph.getNodeById(id).boneEditor;
    return { poseMode: ed.poseMode, pressed: ed.pose.getAttribute("aria-pressed"), status: ed.statusEl.textContent };
  }, id);
  await page.waitForFunction((id) => !window.app.graph.getNodeById(id).boneEditor.renderQueued, id);

  // ---- drag the character's head joint with the mouse: 40 canvas px right, 12 up
  const from = await page.evaluate(({ id, j }) => window.app.graph.getNodeById(id).boneEditor.referenceClientPoint(j), { id, j: JOINT });
  const to = { x: from.x + 40, y: from.y - 12 };
  Object.assign(result, { dragFrom: from, dragTo: to });
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 10 });
  result.widgetDuringDrag = await editsValue(page, id);
  await page.mouse.up();
  result.widgetAfter = await editsValue(page, id);
  result.jointAfterDrag = await page.evaluate(({ id, j }) => window.app.graph.getNodeById(id).boneEditor.referenceClientPoint(j), { id, j: JOINT });
  await waitReposed(page, id, result.firstPreview);
  result.after = await shown(page, id);
  result.jointAfterRepose = await page.evaluate(({ id, j }) => window.app.graph.getNodeById(id).boneEditor.referenceClientPoint(j), { id, j: JOINT });
  result.undoEnabled = await page.evaluate((id) => !window.app.graph.getNodeById(id).boneEditor.undo.disabled, id);
  step("head dragged, server reposed");

  // ---- the picture for people: the editor in pose mode, after the drag
  await page.waitForFunction((id) => !window.app.graph.getNodeById(id).boneEditor.renderQueued, id);
  await page.waitForTimeout(200);
  await screenshotNode(page, id, screenshot);

  // ---- undo takes the placement back (the server reposes without it); then the edit is put
  // back the way a workflow load would put it
  await editor.locator("button", { hasText: "Undo" }).click();
  result.afterUndo = await editsValue(page, id);
  await waitReposed(page, id, result.after.name);
  result.undone = await shown(page, id);
  await page.evaluate(({ id, text }) => {
    const node = window.app.graph.getNodeById(id);
    node.widgets.find((w) => w.name === "bone_edits").value = text;
    node.boneEditor.syncFromWidget();
  }, { id, text: result.widgetAfter });
  await waitReposed(page, id, result.undone.name);
  result.restored = await shown(page, id);
  step("undone and restored");

  // ---- the workflow round trip: serialise, load it back, the same reference and retarget
  result.reload = await page.evaluate(async (id) => {
    const { app } = window;
    const workflow = app.graph.serialize();
    const saved = workflow.nodes.find((n) => n.id === id);
    await app.loadGraphData(JSON.parse(JSON.stringify(workflow)));
    return { savedWidgetsValues: saved.widgets_values, previewProperty: saved.properties.dreamactor_preview };
  }, id);
  await page.waitForFunction((id) => {
    const ed = window.app.graph.getNodeById(id).boneEditor;
    return ed?.preview && ed.frames.has(ed.preview.framing.t0) && ed.prediction && !ed.reposing;
  }, id, { timeout: 60000 });
  result.reloaded = await shown(page, id);
  result.reloadedWidget = await editsValue(page, id);
  result.editorsInPage = await page.evaluate(() => document.querySelectorAll(".da-bone-editor").length);
  step("workflow reloaded");

  // ---- queue with the placement: the server's run uses it
  await page.evaluate(() => { window.__executed = {}; return window.app.queuePrompt(0, 1); });
  await page.waitForFunction(({ rt, save }) => window.__executed[String(rt)] && window.__executed[String(save)],
    { rt: id, save: result.ids.save }, { timeout: 240000 });
  Object.assign(result, await page.evaluate(({ rt, save }) => ({
    saveText: window.__executed[String(save)].text,
    runText: window.__executed[String(rt)].text,
    runPreview: window.__executed[String(rt)].dreamactor_retarget[0].name,
  }), { rt: id, save: result.ids.save }));
  await waitPreview(page, id, result.reloaded.name);
  result.run = await shown(page, id);
  step("second run");

  // ---- Reset: back to Skeleton Extract's pose (the server reposes without the placement)
  await editor.locator("button", { hasText: "Reset" }).click();
  result.afterReset = await editsValue(page, id);
  await waitReposed(page, id, result.run.name);
  result.reset = await shown(page, id);
  step("reset");

  // ---- the picture for the README: the mode on again (the reload made a new editor), both
  // hands placed where the stylized_character workflow places them
  await button.click();
  const clientOf = (px) => page.evaluate(({ id, px }) => {
    const ed = window.app.graph.getNodeById(id).boneEditor;
    const v = ed.view;
    const r = ed.canvas.getBoundingClientRect();
    return { x: r.left + ((v.ox + v.scale * px[0]) * r.width) / ed.canvas.clientWidth,
      y: r.top + ((v.oy + v.scale * px[1]) * r.height) / ed.canvas.clientHeight };
  }, { id, px });
  for (const [joint, px] of [["right_wrist", [142, 486]], ["left_wrist", [328, 402]]]) {
    const a = await page.evaluate(({ id, j }) => window.app.graph.getNodeById(id).boneEditor.referenceClientPoint(j), { id, j: joint });
    const b = await clientOf(px);
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(b.x, b.y, { steps: 8 });
    await page.mouse.up();
  }
  result.handsPlaced = JSON.parse(await editsValue(page, id)).reference_joints;
  await waitReposed(page, id, result.reset.name);
  await page.waitForFunction((id) => !window.app.graph.getNodeById(id).boneEditor.renderQueued, id);
  await screenshotNode(page, id, screenshot.replace(/\.png$/, "_hands.png"));
  step("hands placed for the picture");
} catch (e) {
  result.error = String(e?.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
