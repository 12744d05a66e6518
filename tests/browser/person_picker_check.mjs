// The person picker used as a person would, in the real ComfyUI frontend (Debian chromium through
// playwright-core): a group photo into Skeleton Extract, queued; a mouse click on a numbered box
// of the node's preview sets `person`; queued again, the node takes that person. Then a clip with
// two people: its preview is a grid of frames, a first click opens the first one, a second click
// on a box chooses. Prints one JSON line for tests/browser/test_person_picker.py; exit code 0 = ran.
// usage: node person_picker_check.mjs <server url> <image in input/> <video in input/> <screenshot.png>
import { buildGraph, launchBrowser, openFrontend } from "./bone_editor_session.mjs";

const [url, imageName, videoName, screenshot] = process.argv.slice(2);
const browser = await launchBrowser();
const result = { consoleErrors: [] };

/** The node large and in full view at zoom 1; executed outputs collected in window.__executed. */
function frame(page, id) {
  return page.evaluate((id) => {
    const { app } = window;
    window.__executed = {};
    if (!window.__listening) {
      window.comfyAPI.api.api.addEventListener("executed", (e) => { window.__executed[String(e.detail.node)] = e.detail.output; });
      window.__listening = true;
    }
    const n = app.graph.getNodeById(id);
    n.setSize([560, 900]);
    app.canvas.ds.scale = 1;
    app.canvas.ds.offset = [300 - n.pos[0], 120 - n.pos[1]];
    app.graph.setDirtyCanvas(true, true);
  }, id);
}

/** Queue, wait for node `id`'s output and its preview pictures; its text, people and `person`. */
async function run(page, id, shown = true) {
  await page.evaluate(() => { window.__executed = {}; return window.app.queuePrompt(0, 1); });
  await page.waitForFunction((id) => window.__executed[String(id)], id, { timeout: 240000 });
  await page.waitForFunction((id) => window.app.graph.getNodeById(id).imgs?.[0]?.naturalWidth, id, { timeout: 30000 });
  if (shown) {
    await page.waitForFunction((id) => window.app.graph.getNodeById(id).personPicker?.pictureRect(), id, { timeout: 30000 });
  }
  await page.waitForTimeout(300);
  return page.evaluate((id) => {
    const out = window.__executed[String(id)];
    const n = window.app.graph.getNodeById(id);
    return { text: out.text, people: out.dreamactor_people, images: n.imgs.length, widget: n.widgets.find((w) => w.name === "person").value };
  }, id);
}

/** Client px of a point in node `id`'s coordinates. */
function toClient(page, id, lx, ly) {
  return page.evaluate(({ id, lx, ly }) => {
    const { app } = window;
    const n = app.graph.getNodeById(id);
    const ds = app.canvas.ds;
    const r = app.canvas.canvas.getBoundingClientRect();
    return { x: r.left + (n.pos[0] + lx + ds.offset[0]) * ds.scale, y: r.top + (n.pos[1] + ly + ds.offset[1]) * ds.scale };
  }, { id, lx, ly });
}

/** A point (node coordinates) inside box `number` and in no smaller box, or null. */
function pointIn(page, id, number) {
  return page.evaluate(({ id, number }) => {
    const picker = window.app.graph.getNodeById(id).personPicker;
    const rect = picker.pictureRect();
    const [x0, y0, x1, y1] = picker.people.boxes[number - 1];
    for (let fy = 0.3; fy < 0.95; fy += 0.05) {
      for (let fx = 0.2; fx < 0.85; fx += 0.05) {
        const lx = rect.x + (x0 + fx * (x1 - x0)) * rect.w;
        const ly = rect.y + (y0 + fy * (y1 - y0)) * rect.h;
        if (picker.personAt(lx, ly) === number) return [lx, ly];
      }
    }
    return null;
  }, { id, number });
}

const widget = (page, id) => page.evaluate((id) => window.app.graph.getNodeById(id).widgets.find((w) => w.name === "person").value, id);

async function click(page, id, local) {
  const p = await toClient(page, id, local[0], local[1]);
  await page.mouse.move(p.x, p.y);
  await page.waitForTimeout(100); // the canvas draws the hover (the frontend's grid reads it)
  await page.mouse.click(p.x, p.y, { delay: 120 });
  await page.waitForTimeout(250);
}

try {
  const page = await openFrontend(browser, url, result);
  await page.waitForFunction(() => window.app.extensions?.some((e) => e.name === "DreamActor.PersonPicker"), null,
    { timeout: 30000 });

  // ---- a photo: six people
  let ids = await buildGraph(page, {
    image: ["LoadImage", [20, 40], { image: imageName }],
    skel: ["DreamActorSkeletonExtract", [360, 40], { hands: false, face: false }],
    show: ["PreviewImage", [960, 40]],
  }, [["image", 0, "skel", "image"], ["skel", 1, "show", "images"]]);
  let id = ids.skel;
  await frame(page, id);
  result.first = await run(page, id);

  // a click outside every box (the picture's top-left corner) changes nothing
  const rect = await page.evaluate((id) => window.app.graph.getNodeById(id).personPicker.pictureRect(), id);
  const corner = [rect.x + 3, rect.y + 3];
  result.corner = { hit: await page.evaluate(({ id, c }) => window.app.graph.getNodeById(id).personPicker.personAt(...c), { id, c: corner }) };
  await click(page, id, corner);
  result.corner.widget = await widget(page, id);

  // a click on box 1 (the leftmost person) sets person = 1
  result.target = await pointIn(page, id, 1);
  await click(page, id, result.target);
  result.afterClick = await widget(page, id);
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
  const box = await page.evaluate((id) => {
    const { app } = window;
    const node = app.graph.getNodeById(id);
    const ds = app.canvas.ds;
    const r = app.canvas.canvas.getBoundingClientRect();
    const title = window.LiteGraph.NODE_TITLE_HEIGHT;
    return { x: r.left + (node.pos[0] + ds.offset[0]) * ds.scale - 8, y: r.top + (node.pos[1] - title + ds.offset[1]) * ds.scale - 8,
      width: node.size[0] * ds.scale + 16, height: (node.size[1] + title) * ds.scale + 16 };
  }, id);
  await page.screenshot({ path: screenshot, clip: box });
  result.second = await run(page, id);

  // ---- a clip: two people; the preview is a grid of frames
  ids = await buildGraph(page, {
    video: ["DreamActorLoadVideo", [20, 40], { video: videoName, frame_count: 8 }],
    skel: ["DreamActorSkeletonExtract", [360, 40], { hands: false, face: false }],
    show: ["PreviewImage", [960, 40]],
  }, [["video", 0, "skel", "video"], ["skel", 1, "show", "images"]]);
  id = ids.skel;
  await frame(page, id);
  result.clip = await run(page, id, false);
  result.clip.gridShown = await page.evaluate((id) => window.app.graph.getNodeById(id).personPicker.pictureRect() === null, id);
  // the first click opens the first frame (the frontend's own behaviour), the second one chooses
  const cell = await page.evaluate((id) => window.app.graph.getNodeById(id).imageRects?.[0] ?? null, id);
  result.clip.cell = cell;
  await click(page, id, [cell[0] + cell[2] / 2, cell[1] + cell[3] / 2]);
  result.clip.afterOpening = await widget(page, id);
  await page.waitForFunction((id) => window.app.graph.getNodeById(id).personPicker.pictureRect(), id, { timeout: 10000 });
  const other = result.clip.people[0].taken === 1 ? 2 : 1;
  result.clip.other = other;
  await click(page, id, await pointIn(page, id, other));
  result.clip.afterClick = await widget(page, id);
} catch (e) {
  result.error = String(e?.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
