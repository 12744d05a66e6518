// The person picker used as a person would, in the real ComfyUI frontend (Debian chromium through
// playwright-core): a group photo into Skeleton Extract, queued; a mouse click on a numbered box
// of the node's preview sets `person`; queued again, the node takes that person. Prints one JSON
// line for tests/browser/test_person_picker.py; exit code 0 = ran.
// usage: node person_picker_check.mjs <server url> <image in input/> <screenshot.png>
import { buildGraph, launchBrowser, openFrontend } from "./bone_editor_session.mjs";

const [url, imageName, screenshot] = process.argv.slice(2);
const browser = await launchBrowser();
const result = { consoleErrors: [] };
try {
  const page = await openFrontend(browser, url, result);
  await page.waitForFunction(() => window.app.extensions?.some((e) => e.name === "DreamActor.PersonPicker"), null,
    { timeout: 30000 });
  result.ids = await buildGraph(page, {
    image: ["LoadImage", [20, 40], { image: imageName }],
    skel: ["DreamActorSkeletonExtract", [360, 40], { hands: false, face: false }],
    show: ["PreviewImage", [960, 40]],
  }, [["image", 0, "skel", "image"], ["skel", 1, "show", "images"]]);
  const id = result.ids.skel;
  await page.evaluate((id) => {
    const { app } = window;
    window.__executed = {};
    window.comfyAPI.api.api.addEventListener("executed", (e) => { window.__executed[String(e.detail.node)] = e.detail.output; });
    const n = app.graph.getNodeById(id);
    n.setSize([560, 900]);
    app.canvas.ds.scale = 1;
    app.canvas.ds.offset = [300 - n.pos[0], 120 - n.pos[1]];
    app.graph.setDirtyCanvas(true, true);
  }, id);

  const run = async () => {
    await page.evaluate(() => { window.__executed = {}; return window.app.queuePrompt(0, 1); });
    await page.waitForFunction((id) => window.__executed[String(id)], id, { timeout: 240000 });
    // the picture loaded and drawn, so the picker knows where it is
    await page.waitForFunction((id) => window.app.graph.getNodeById(id).personPicker?.pictureRect(), id, { timeout: 30000 });
    await page.waitForTimeout(300);
    return page.evaluate((id) => {
      const out = window.__executed[String(id)];
      return { text: out.text, people: out.dreamactor_people, widget: window.app.graph.getNodeById(id).widgets.find((w) => w.name === "person").value };
    }, id);
  };
  result.first = await run();

  // where box `number` is on screen: a point inside it and no smaller box, in client px
  const pointIn = (number) => page.evaluate(({ id, number }) => {
    const { app } = window;
    const n = app.graph.getNodeById(id);
    const picker = n.personPicker;
    const rect = picker.pictureRect();
    const [x0, y0, x1, y1] = picker.people.boxes[number - 1];
    const ds = app.canvas.ds;
    const r = app.canvas.canvas.getBoundingClientRect();
    for (let fy = 0.3; fy < 0.95; fy += 0.05) {
      for (let fx = 0.2; fx < 0.85; fx += 0.05) {
        const lx = rect.x + (x0 + fx * (x1 - x0)) * rect.w;
        const ly = rect.y + (y0 + fy * (y1 - y0)) * rect.h;
        if (picker.personAt(lx, ly) === number) {
          return { x: r.left + (n.pos[0] + lx + ds.offset[0]) * ds.scale, y: r.top + (n.pos[1] + ly + ds.offset[1]) * ds.scale,
            local: [lx, ly], rect };
        }
      }
    }
    return null;
  }, { id, number });
  const widget = () => page.evaluate((id) => window.app.graph.getNodeById(id).widgets.find((w) => w.name === "person").value, id);

  // a click outside every box (the picture's top-left corner) changes nothing
  const corner = await page.evaluate((id) => {
    const { app } = window;
    const n = app.graph.getNodeById(id);
    const rect = n.personPicker.pictureRect();
    const ds = app.canvas.ds;
    const r = app.canvas.canvas.getBoundingClientRect();
    const lx = rect.x + 3, ly = rect.y + 3;
    return { x: r.left + (n.pos[0] + lx + ds.offset[0]) * ds.scale, y: r.top + (n.pos[1] + ly + ds.offset[1]) * ds.scale,
      hit: n.personPicker.personAt(lx, ly) };
  }, id);
  await page.mouse.click(corner.x, corner.y);
  result.corner = { ...corner, widget: await widget() };

  // a click on box 1 (the leftmost person) sets person = 1
  const target = await pointIn(1);
  result.target = target;
  await page.mouse.click(target.x, target.y);
  await page.waitForTimeout(200);
  result.afterClick = await widget();
  await page.waitForTimeout(300);
  // the person asked for is outlined on the picture ("next run"), in its own green
  result.nextOutlinePixels = await page.evaluate((id) => {
    const { app } = window;
    const n = app.graph.getNodeById(id);
    const picker = n.personPicker;
    const rect = picker.pictureRect();
    const [x0, y0, x1, y1] = picker.people.boxes[0];
    const ds = app.canvas.ds;
    const c = app.canvas.canvas;
    const k = c.width / c.getBoundingClientRect().width;
    const sx = Math.floor((n.pos[0] + rect.x + x0 * rect.w - 4 + ds.offset[0]) * ds.scale * k);
    const sy = Math.floor((n.pos[1] + rect.y + y0 * rect.h - 4 + ds.offset[1]) * ds.scale * k);
    const w = Math.ceil(((x1 - x0) * rect.w + 8) * ds.scale * k);
    const h = Math.ceil(((y1 - y0) * rect.h + 8) * ds.scale * k);
    const d = c.getContext("2d").getImageData(sx, sy, w, h).data;
    let count = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - 124) < 30 && d[i + 1] > 220 && d[i + 2] < 40) count++;
    return count;
  }, id);
  const n = await page.evaluate((id) => {
    const { app } = window;
    const node = app.graph.getNodeById(id);
    const ds = app.canvas.ds;
    const r = app.canvas.canvas.getBoundingClientRect();
    const title = window.LiteGraph.NODE_TITLE_HEIGHT;
    return { x: r.left + (node.pos[0] + ds.offset[0]) * ds.scale - 8, y: r.top + (node.pos[1] - title + ds.offset[1]) * ds.scale - 8,
      width: node.size[0] * ds.scale + 16, height: (node.size[1] + title) * ds.scale + 16 };
  }, id);
  await page.screenshot({ path: screenshot, clip: n });

  result.second = await run();
} catch (e) {
  result.error = String(e?.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
