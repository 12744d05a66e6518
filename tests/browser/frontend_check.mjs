// Opens the real ComfyUI frontend in Debian chromium (playwright-core, no downloaded
// browser), checks the pack's extension and nodes, runs a DreamActor node from the
// page and reads what the extension shows. Prints one JSON line; exit code 0 = ran.
// usage: node frontend_check.mjs <server url> <video name in input/> <screenshot.png>
import { chromium } from "playwright-core";

const [url, videoName, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
const result = { consoleErrors: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("pageerror", (e) => result.consoleErrors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") result.consoleErrors.push(m.text()); });
  await page.goto(url, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => window.app?.graph && window.LiteGraph?.registered_node_types, null, { timeout: 90000 });
  await page.waitForFunction(() => window.app.extensions?.some((e) => e.name === "DreamActor.Core"), null, { timeout: 30000 });

  Object.assign(result, await page.evaluate(() => {
    const types = Object.keys(window.LiteGraph.registered_node_types).filter((t) => t.startsWith("DreamActor"));
    return { extensionLoaded: true, nodeTypes: types.sort() };
  }));

  // Build LoadVideo -> SaveVideo from the page, the way a person's graph would be,
  // and queue it through the frontend's own prompt conversion.
  Object.assign(result, await page.evaluate(async (videoName) => {
    const { app, LiteGraph } = window;
    app.graph.clear();
    const load = LiteGraph.createNode("DreamActorLoadVideo");
    const save = LiteGraph.createNode("DreamActorSaveVideo");
    app.graph.add(load); app.graph.add(save);
    load.pos = [60, 120]; save.pos = [520, 120];
    load.widgets.find((w) => w.name === "video").value = videoName;
    load.widgets.find((w) => w.name === "frame_count").value = 8;
    save.widgets.find((w) => w.name === "filename_prefix").value = "tests/browser";
    load.connect(0, save, save.inputs.findIndex((i) => i.name === "video"));
    const { output } = await app.graphToPrompt();
    await app.queuePrompt(0, 1);
    return { promptNodes: Object.values(output).map((n) => n.class_type).sort(), loadNodeId: String(load.id) };
  }, videoName));

  await page.waitForFunction((id) => {
    const n = window.app.graph.getNodeById(Number(id));
    const w = n?.widgets?.find((w) => w.name === "dreamactor_info");
    return w && w.element.textContent.includes("frames");
  }, result.loadNodeId, { timeout: 120000 });
  result.infoText = await page.evaluate((id) => window.app.graph.getNodeById(Number(id))
    .widgets.find((w) => w.name === "dreamactor_info").element.textContent, result.loadNodeId);
  await page.screenshot({ path: screenshot });
} catch (e) {
  result.error = String(e?.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
