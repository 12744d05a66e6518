// Every example workflow loaded into the real ComfyUI frontend (Debian chromium through
// playwright-core), as a person opens it: the first one from the template URL that
// `make demo` prints, then each file through the frontend's own loader. For each:
// node types the frontend lacks, widget values outside their options, the missing-models
// dialog, the graph as "Export Workflow" writes it, the API prompt it queues, and a
// screenshot. Prints one JSON line for tests/browser/test_workflows.py; exit code 0 = ran.
// usage: node workflows_check.mjs <server url> <template url path> <files.json> <screenshot dir>
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [url, templatePath, filesJson, shotDir] = process.argv.slice(2);
const files = JSON.parse(readFileSync(filesJson, "utf8")); // [[name, path], ...]
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
const result = { consoleErrors: [], workflows: {} };

// What the page holds now: unknown node types, bad widget values, dialogs, export, prompt.
const inspect = (page) => page.evaluate(async () => {
  const { app, LiteGraph } = window;
  const missingTypes = app.graph.nodes.filter((n) => !(n.type in LiteGraph.registered_node_types)).map((n) => n.type);
  const widgetErrors = [];
  for (const node of app.graph.nodes) {
    for (const w of node.widgets ?? []) {
      if (w.options?.serialize === false || w.serialize === false || w.element) continue;
      const where = `${node.type} #${node.id} ${w.name}=${JSON.stringify(w.value)}`;
      if (w.type === "combo") {
        let values = w.options?.values;
        if (typeof values === "function") values = values(w, node);
        if (Array.isArray(values) && !values.includes(w.value)) widgetErrors.push(`${where} not in its list`);
      } else if (w.type === "number") {
        const { min, max } = w.options ?? {};
        if (typeof w.value !== "number" || Number.isNaN(w.value)) widgetErrors.push(`${where} is not a number`);
        else if ((min != null && w.value < min) || (max != null && w.value > max)) widgetErrors.push(`${where} outside [${min}, ${max}]`);
      }
    }
  }
  const dialogs = [...document.querySelectorAll(".p-dialog")].map((d) => d.innerText);
  const { workflow, output } = await app.graphToPrompt();
  const sizes = Object.fromEntries(app.graph.nodes.map((n) => [n.id, { size: [...n.size], min: n.computeSize() }]));
  return { missingTypes, widgetErrors, dialogs, workflow, output, sizes, nodeCount: app.graph.nodes.length };
});

const closeDialogs = async (page) => {
  for (let i = 0; i < 5 && await page.locator(".p-dialog").count(); i++) {
    await page.keyboard.press("Escape");
    await page.waitForTimeout(200);
  }
};

try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on("pageerror", (e) => result.consoleErrors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") result.consoleErrors.push(m.text()); });
  result.failedRequests = [];
  page.on("response", (r) => { if (r.status() >= 400) result.failedRequests.push(`${r.status()} ${r.url()}`); });

  // ---- the URL `make demo` prints: the template opens by itself
  await page.goto(url + templatePath, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => window.app?.graph && window.LiteGraph?.registered_node_types, null, { timeout: 90000 });
  await page.waitForFunction(() => window.app.graph.nodes.some((n) => n.type === "DreamActorLoadVideo"), null, { timeout: 60000 });
  await page.waitForTimeout(500);
  result.template = await inspect(page);
  result.template.pageUrl = page.url();
  await closeDialogs(page);
  await page.evaluate(() => { // the first-run "Nodes 2.0" banner covers the canvas top: close it for the screenshots
    const text = [...document.querySelectorAll("span")].find((s) => s.textContent.startsWith("Introducing Nodes 2.0"));
    text?.parentElement?.parentElement?.querySelector('i[class*="lucide--x"]')?.closest("button")?.click();
  });

  // ---- each file through the frontend's loader, as a drag-and-drop or Open would
  for (const [name, path] of files) {
    const data = JSON.parse(readFileSync(path, "utf8"));
    await page.evaluate(async ({ data, name }) => { await window.app.loadGraphData(data, true, true, name); }, { data, name });
    await page.waitForFunction(() => [...document.querySelectorAll(".p-dialog")].length > 0 || window.app.graph.nodes.length > 0);
    await page.waitForTimeout(600); // the missing-models dialog opens after its folder look-up
    const r = await inspect(page);
    await closeDialogs(page);
    r.dialogsLeft = await page.locator(".p-dialog").count(); // else the next workflow would see this one's
    await page.waitForTimeout(200);
    await page.screenshot({ path: `${shotDir}/workflow_${name}.png` });
    result.workflows[name] = r;
  }
} catch (e) {
  result.error = String(e?.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
