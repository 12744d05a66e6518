// The bone editor of DreamActor Bone Retarget: a DOM widget that owns its canvas.
//
// It shows the reference picture with the character's skeleton (dashed) and the driving
// pose on the character's bones (coloured: the person's left orange, right blue) for a
// chosen frame. Drag a joint's handle along its bone to lengthen or shorten that bone,
// or pick a bone and move its slider; everything redraws live in the browser
// (bone_editor_model.js predicts the node's output). Presets, a left/right link, undo
// and reset sit above the picture. The editor's state IS the node's `bone_edits` widget
// (JSON), so it is saved with the workflow and sent with the prompt.
//
// The picture and poses come from the node's last run: it publishes a preview name,
// and the editor reads frames from /dreamactor/retarget_preview (see nodes/routes.py).
//
// "Pose reference" mode: drag any joint of the character's own skeleton (Skeleton Extract's)
// onto the picture. The placements live in bone_edits (`reference_joints`, reference pixels).
// A placed joint is drawn exactly where it was dropped at once; the retarget it implies (held
// bones, framing, lengths where a drop is out of reach) is the server's: the editor posts the
// edits to /dreamactor/retarget_repose, which re-runs the node's retarget on its stored inputs
// and answers with a new preview (one request in flight, the latest edits sent next).
import { app } from "../../../scripts/app.js";
import { api } from "../../../scripts/api.js";
import { chainCallback } from "./node_hooks.js";
import {
  BONE_LABELS, DEFAULT_EDITS, EditHistory, HANDLE_BONES, PRESET_NAMES, SLIDER_RANGE, applyPreset, boneIsEdited,
  boneScale, boneSide, dragScale, editsToText, fitView, hitHandle, hitReferenceJoint, placementsKey, predictFrame,
  readEdits, referenceJoints2d, resetBone, resetReferenceJoint, scaleToSlider, setBoneScale, setLink,
  setReferenceJoint, sliderToScale, toCanvas, toPixels,
} from "./bone_editor_model.js";

const NODE_TYPE = "DreamActorBoneRetarget";
const EDITS_WIDGET = "bone_edits";
const ROUTE = "/dreamactor/retarget_preview";
const REPOSE_ROUTE = "/dreamactor/retarget_repose";
const PLACED = "#ff6bd6";
const CHUNK = 120;
const MIN_HEIGHT = 420;
const COLORS = { left: "#ff9f43", right: "#3fb6ff", mid: "#ffd43b" };
const STYLE_ID = "dreamactor-bone-editor-style";

function installStyle() {
  if (document.getElementById(STYLE_ID)) return;
  const style = document.createElement("style");
  style.id = STYLE_ID;
  style.textContent = `
    .da-bone-editor { display: flex; flex-direction: column; gap: 4px; box-sizing: border-box; height: 100%;
      padding: 2px 4px 4px; font: 12px system-ui, sans-serif; color: var(--input-text, #ddd); user-select: none; }
    .da-bone-editor .da-row { display: flex; align-items: center; gap: 6px; min-height: 24px; }
    .da-bone-editor select, .da-bone-editor button { font: inherit; color: inherit; height: 22px; border-radius: 4px;
      background: var(--comfy-input-bg, #222); border: 1px solid var(--border-color, #444); padding: 0 6px; }
    .da-bone-editor button { cursor: pointer; }
    .da-bone-editor button:disabled { opacity: .45; cursor: default; }
    .da-bone-editor button.da-on { background: #2d4a66; border-color: #3fb6ff; }
    .da-bone-editor input[type=range] { flex: 1; min-width: 60px; accent-color: #3fb6ff; }
    .da-bone-editor .da-grow { flex: 1; }
    .da-bone-editor .da-value { min-width: 78px; text-align: right; font-variant-numeric: tabular-nums; }
    .da-bone-editor .da-stage { position: relative; flex: 1; min-height: 200px; border-radius: 6px; overflow: hidden;
      background: #141418; }
    .da-bone-editor canvas { position: absolute; inset: 0; width: 100%; height: 100%; touch-action: none; }
    .da-bone-editor .da-status { color: var(--descrip-text, #999); font-size: 11px; min-height: 14px;
      white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    .da-bone-editor .da-status.da-error { color: #ff8a80; white-space: normal; }
  `;
  document.head.appendChild(style);
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
}

class BoneEditor {
  constructor(node) {
    this.node = node;
    this.edits = { ...DEFAULT_EDITS, scales: {} };
    this.lastText = null;
    this.error = null;
    this.history = new EditHistory(200);
    this.bone = "left_wrist";
    this.preview = null; // the route's static facts (frames removed)
    this.frames = new Map();
    this.pending = new Map(); // "name:chunk" -> request in flight
    this.frame = 0;
    this.image = null;
    this.view = null;
    this.prediction = null;
    this.drag = null;
    this.hover = null;
    this.status = "";
    this.generation = 0;
    this.renderQueued = false;
    this.poseMode = false; // "pose reference": the handles are the reference skeleton's joints
    this.joint = null; // the reference joint picked in that mode
    this.reposing = false;
    this.reposeAgain = false;
    installStyle();
    this.buildDom();
    this.widget = node.addDOMWidget("bone_editor", "dreamactor_bone_editor", this.root, {
      serialize: false, hideOnZoom: false, getMinHeight: () => MIN_HEIGHT,
    });
    this.widget.serialize = false; // not part of widgets_values: the state lives in bone_edits
    this.attachEditsWidget();
    this.syncFromWidget();
  }

  // ---------------------------------------------------------------- DOM
  buildDom() {
    const presetSel = el("select", { title: "Preset proportions (clears per-bone edits; Undo brings them back)" },
      ...PRESET_NAMES.map((p) => el("option", { value: p, textContent: p })));
    const link = el("button", { textContent: "L \u2194 R", title: "Link left and right: editing one side edits its mirror too" });
    const undo = el("button", { textContent: "Undo", title: "Undo the last edit (Ctrl+Z)" });
    const reset = el("button", { textContent: "Reset", title: "Back to the reference's own proportions and pose" });
    const pose = el("button", { textContent: "Pose reference", title: "Pose the character by hand: drag any joint of " +
      "its skeleton (dashed) onto the picture; the retarget follows. \u21ba puts the picked joint back, Reset all of them" });
    const boneSel = el("select", { title: "The bone the slider edits (or click a joint in the picture)" },
      ...Object.entries(BONE_LABELS).map(([b, label]) => el("option", { value: b, textContent: label })));
    const slider = el("input", { type: "range", min: String(SLIDER_RANGE[0]), max: String(SLIDER_RANGE[1]),
      step: "0.001", title: "Length of the selected bone, relative to the base (x0.25 to x4)" });
    const value = el("span", { className: "da-value" });
    const boneReset = el("button", { textContent: "\u21ba", title: "Reset this bone to the preset" });
    const frameSlider = el("input", { type: "range", min: "0", max: "0", step: "1", value: "0",
      title: "Frame of the driving motion to show" });
    const frameLabel = el("span", { className: "da-value", textContent: "frame -" });
    const canvas = el("canvas");
    const stage = el("div", { className: "da-stage" }, canvas);
    const status = el("div", { className: "da-status" });
    this.root = el("div", { className: "da-bone-editor" },
      el("div", { className: "da-row" }, el("span", { textContent: "Preset" }), presetSel, link, pose, el("span", { className: "da-grow" }), undo, reset),
      stage,
      el("div", { className: "da-row" }, boneSel, slider, value, boneReset),
      el("div", { className: "da-row" }, el("span", { textContent: "Frame" }), frameSlider, frameLabel),
      status);
    Object.assign(this, { presetSel, link, pose, undo, reset, boneSel, slider, value, boneReset, frameSlider, frameLabel, canvas, stage, statusEl: status });

    presetSel.addEventListener("change", () => this.commit(applyPreset(this.edits, presetSel.value)));
    link.addEventListener("click", () => this.commit(setLink(this.edits, !this.edits.link_lr)));
    undo.addEventListener("click", () => this.undoOnce());
    reset.addEventListener("click", () => this.commit({ ...DEFAULT_EDITS, scales: {} }));
    boneSel.addEventListener("change", () => { this.bone = boneSel.value; this.updateControls(); this.render(); });
    let sliderSession = false;
    slider.addEventListener("input", () => {
      if (!sliderSession) { this.history.push(this.lastText); sliderSession = true; }
      this.apply(setBoneScale(this.edits, this.bone, sliderToScale(Number(slider.value))));
    });
    slider.addEventListener("change", () => { sliderSession = false; });
    boneReset.addEventListener("click", () => this.commit(this.poseMode
      ? resetReferenceJoint(this.edits, this.joint ?? "__none__") : resetBone(this.edits, this.bone)));
    pose.addEventListener("click", () => {
      this.poseMode = !this.poseMode;
      this.hover = null;
      if (this.preview) this.status = this.modeHint();
      this.updateControls();
      this.render();
    });
    frameSlider.addEventListener("input", () => this.showFrame(Number(frameSlider.value)));

    canvas.addEventListener("pointerdown", (e) => this.onPointerDown(e));
    canvas.addEventListener("pointermove", (e) => this.onPointerMove(e));
    canvas.addEventListener("pointerup", (e) => this.onPointerUp(e));
    canvas.addEventListener("pointercancel", (e) => this.onPointerUp(e));
    canvas.addEventListener("pointerleave", () => { if (!this.drag && this.hover) { this.hover = null; this.render(); } });
    this.root.addEventListener("keydown", (e) => {
      e.stopPropagation(); // keep the graph's shortcuts (Delete, Ctrl+Z on the graph) out of the editor
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") { e.preventDefault(); this.undoOnce(); }
    });
    new ResizeObserver(() => this.render()).observe(stage);
  }

  // ---------------------------------------------------------------- the bone_edits widget
  attachEditsWidget() {
    this.editsWidget = this.node.widgets?.find((w) => w.name === EDITS_WIDGET);
    if (!this.editsWidget) return;
    this.editsWidget.hidden = true; // the editor is its face; the JSON still saves and queues
    const cb = this.editsWidget.callback;
    this.editsWidget.callback = (...args) => { cb?.apply(this.editsWidget, args); this.syncFromWidget(); };
    for (const name of ["framing", "scale", "dx", "dy"]) {
      const w = this.node.widgets?.find((x) => x.name === name);
      if (!w) continue;
      const prev = w.callback;
      w.callback = (...args) => { prev?.apply(w, args); this.render(); };
    }
  }

  widgetText() {
    return this.editsWidget ? String(this.editsWidget.value ?? "") : editsToText(this.edits);
  }

  /** Re-read bone_edits when it changed outside the editor (workflow loaded, typed, linked). */
  syncFromWidget() {
    const text = this.widgetText();
    if (text === this.lastText) return;
    const { edits, error } = readEdits(text);
    this.edits = edits;
    this.error = error;
    this.lastText = text;
    this.updateControls();
    this.render();
    this.maybeRepose();
  }

  /** Show new edits and write them to the widget (no undo step: see commit). */
  apply(edits) {
    const text = editsToText(edits);
    this.edits = readEdits(text).edits;
    this.error = null;
    this.lastText = text;
    if (this.editsWidget) this.editsWidget.value = text;
    this.node.setDirtyCanvas?.(true, false);
    this.updateControls();
    this.render();
    this.maybeRepose();
  }

  /** Ask the server for the retarget of the placed reference joints when the shown preview was
   * computed with other placements (a drag, undo, reset, a loaded workflow). */
  maybeRepose() {
    const P = this.preview;
    if (!P || this.error || placementsKey(this.edits) === placementsKey(P.edits)) return;
    if (this.reposing) { this.reposeAgain = true; return; }
    this.reposing = true;
    this.setStatus("posing the reference\u2026");
    const body = JSON.stringify({ name: P.name, bone_edits: this.lastText ?? editsToText(this.edits) });
    api.fetchApi(REPOSE_ROUTE, { method: "POST", headers: { "Content-Type": "application/json" }, body })
      .then(async (res) => {
        const answer = await res.json();
        if (!res.ok) throw new Error(answer.error || `HTTP ${res.status}`);
        await this.load(answer.name);
      })
      .catch((e) => this.setStatus(`pose reference: ${e.message}`))
      .finally(() => {
        this.reposing = false;
        if (this.reposeAgain) { this.reposeAgain = false; this.maybeRepose(); }
      });
  }

  /** One undoable edit. */
  commit(edits) {
    const text = editsToText(edits);
    if (text === this.lastText) return;
    this.history.push(this.lastText);
    this.apply(edits);
  }

  undoOnce() {
    const text = this.history.pop();
    if (text === null) return;
    if (this.editsWidget) this.editsWidget.value = text;
    this.syncFromWidget();
  }

  framingValues() {
    const get = (n, d) => this.node.widgets?.find((w) => w.name === n)?.value ?? d;
    return { mode: get("framing", "match reference"), scale: Number(get("scale", 1)), dx: Number(get("dx", 0)), dy: Number(get("dy", 0)) };
  }

  updateControls() {
    const e = this.edits;
    this.presetSel.value = e.preset;
    this.link.classList.toggle("da-on", e.link_lr);
    this.link.setAttribute("aria-pressed", String(e.link_lr));
    this.pose.classList.toggle("da-on", this.poseMode);
    this.pose.setAttribute("aria-pressed", String(this.poseMode));
    this.undo.disabled = this.history.size === 0;
    this.boneSel.value = this.bone;
    const s = boneScale(e, this.bone);
    this.slider.value = String(scaleToSlider(s));
    const edited = boneIsEdited(e, this.bone);
    this.value.textContent = `\u00d7${s.toFixed(2)}${edited ? "" : " preset"}`;
    this.boneReset.disabled = !edited;
    if (this.poseMode) {
      const placed = Boolean(this.joint && e.reference_joints?.[this.joint]);
      this.boneReset.disabled = !placed;
      this.boneReset.title = "Put the picked reference joint back where Skeleton Extract found it";
    } else {
      this.boneReset.title = "Reset this bone to the preset";
    }
    for (const c of [this.presetSel, this.link, this.boneSel, this.slider, this.boneReset]) c.disabled = Boolean(this.error) && c !== this.presetSel;
    this.setStatus();
  }

  setStatus(text = null) {
    if (text !== null) this.status = text;
    const msg = this.error ? `bone_edits: ${this.error} (Reset or pick a preset to start over)` : this.status;
    this.statusEl.textContent = msg;
    this.statusEl.classList.toggle("da-error", Boolean(this.error));
  }

  // ---------------------------------------------------------------- preview data
  async request(name, start) {
    const chunk = Math.floor(start / CHUNK) * CHUNK;
    const res = await api.fetchApi(`${ROUTE}?name=${encodeURIComponent(name)}&frame=${chunk}&count=${CHUNK}`);
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
    return body;
  }

  /** Frames of the shown preview around `t` (one request per chunk at a time). */
  async fetchFrames(t) {
    const name = this.preview?.name;
    if (!name) return;
    const key = `${name}:${Math.floor(t / CHUNK)}`;
    if (!this.pending.has(key)) {
      const job = this.request(name, t).then((body) => {
        if (this.preview?.name === name) for (const f of body.frames) this.frames.set(f.index, f);
      }).finally(() => this.pending.delete(key));
      this.pending.set(key, job);
    }
    return this.pending.get(key);
  }

  /** Load the preview the node published (after a run, or from the workflow on reload). The
   * picture shown stays until the new one is complete, then everything swaps at once. */
  async load(name) {
    const gen = ++this.generation;
    this.node.properties ??= {};
    this.node.properties.dreamactor_preview = name;
    if (!this.preview) this.setStatus("loading the preview\u2026");
    try {
      const { frames, ...facts } = await this.request(name, 0);
      const map = new Map(frames.map((f) => [f.index, f]));
      const frame = Math.min(this.frame, facts.num_frames - 1);
      for (const t of [frame, facts.framing.t0]) {
        if (!map.has(t)) for (const f of (await this.request(name, t)).frames) map.set(f.index, f);
      }
      let image = null;
      if (facts.image) {
        image = await new Promise((resolve) => {
          const img = new Image();
          img.onload = () => resolve(img);
          img.onerror = () => resolve(null);
          img.src = api.apiURL(`/view?filename=${encodeURIComponent(facts.image.filename)}&type=${facts.image.type}` +
            `&subfolder=${encodeURIComponent(facts.image.subfolder)}`);
        });
      }
      if (gen !== this.generation) return;
      Object.assign(this, { preview: facts, frames: map, pending: new Map(), frame, image });
      this.frameSlider.max = String(facts.num_frames - 1);
      this.frameSlider.value = String(frame);
      this.setStatus(this.modeHint());
    } catch (e) {
      if (gen !== this.generation) return;
      this.preview = null;
      this.setStatus(`No picture yet (${e.message})`);
    }
    this.updateFrameLabel();
    this.render();
    if (gen === this.generation) this.maybeRepose();
  }

  modeHint() {
    return this.poseMode
      ? "Pose reference: drag any joint of the character's skeleton onto the picture \u00b7 \u21ba puts the picked joint back"
      : "Drag a joint along its bone to lengthen or shorten it \u00b7 click a joint to pick its bone";
  }

  async showFrame(t) {
    this.frame = t;
    this.updateFrameLabel();
    if (this.preview && !this.frames.has(t)) {
      try { await this.fetchFrames(t); } catch (e) { this.setStatus(`frame ${t}: ${e.message}`); }
    }
    this.render();
  }

  updateFrameLabel() {
    const T = this.preview?.num_frames;
    this.frameLabel.textContent = T ? `${this.frame} / ${T - 1}` : "frame -";
  }

  onExecuted(message) {
    const info = message?.dreamactor_retarget?.[0];
    if (info?.name) this.load(info.name);
  }

  // ---------------------------------------------------------------- pointer
  localPoint(e) {
    const r = this.canvas.getBoundingClientRect();
    // the graph may be zoomed: CSS pixels of the canvas -> its layout pixels
    return [((e.clientX - r.left) * this.canvas.clientWidth) / r.width, ((e.clientY - r.top) * this.canvas.clientHeight) / r.height];
  }

  /** The predicted output at frame t (a loaded one) under the current edits (or `edits`), or null. */
  predictAt(t, camera = null, edits = null) {
    const f = this.frames.get(t);
    const t0 = this.preview && this.frames.get(this.preview.framing.t0);
    if (!this.preview || !f || !t0 || this.error) return null;
    return predictFrame(this.preview, f, t0, edits ?? this.edits, this.framingValues(), camera);
  }

  currentPrediction(camera = null) {
    return this.predictAt(this.frame, camera);
  }

  /** The reference skeleton as drawn (reference pixels), or null before a preview. */
  referencePoints() {
    return this.preview ? referenceJoints2d(this.preview, this.edits) : null;
  }

  onPointerDown(e) {
    e.stopPropagation();
    if (e.button === 0 && this.poseMode && this.view && this.preview && !this.error) {
      const joint = hitReferenceJoint(this.preview, this.referencePoints(), this.view, this.localPoint(e), 11);
      if (!joint) return;
      e.preventDefault();
      this.joint = joint;
      this.drag = { joint, view: this.view, pointer: e.pointerId, before: this.lastText, moved: false };
      this.canvas.setPointerCapture(e.pointerId);
      this.canvas.style.cursor = "grabbing";
      this.updateControls();
      this.render();
      return;
    }
    if (e.button !== 0 || !this.prediction || !this.view) return;
    const bone = hitHandle(this.preview, this.prediction.joints2d, this.view, this.localPoint(e), 11);
    if (!bone) return;
    e.preventDefault();
    this.bone = bone;
    // the framing is held still while dragging, so the handle stays under the pointer; it is
    // recomputed (like the server does) when the button is released
    this.drag = { bone, camera: this.prediction.camera, pointer: e.pointerId, before: this.lastText, moved: false };
    this.canvas.setPointerCapture(e.pointerId);
    this.canvas.style.cursor = "grabbing";
    this.updateControls();
    this.render();
  }

  onPointerMove(e) {
    if (!this.view || !this.preview) return;
    const pt = this.localPoint(e);
    if (this.drag?.joint) {
      e.stopPropagation();
      const next = setReferenceJoint(this.edits, this.drag.joint, toPixels(this.view, pt));
      if (editsToText(next) === this.lastText) return;
      if (!this.drag.moved) { this.history.push(this.drag.before); this.drag.moved = true; } // one undo step per drag
      this.apply(next);
      return;
    }
    if (this.drag) {
      e.stopPropagation();
      const pred = this.currentPrediction(this.drag.camera);
      if (!pred) return;
      const s = dragScale(this.preview, pred, this.drag.bone, toPixels(this.view, pt));
      const next = setBoneScale(this.edits, this.drag.bone, s);
      if (editsToText(next) === this.lastText) return;
      if (!this.drag.moved) { this.history.push(this.drag.before); this.drag.moved = true; } // one undo step per drag
      this.apply(next);
      return;
    }
    const hover = this.poseMode ? hitReferenceJoint(this.preview, this.referencePoints(), this.view, pt, 11)
      : this.prediction ? hitHandle(this.preview, this.prediction.joints2d, this.view, pt, 11) : null;
    this.canvas.style.cursor = hover ? "grab" : "default";
    if (hover !== this.hover) { this.hover = hover; this.render(); }
  }

  onPointerUp(e) {
    if (!this.drag) return;
    e.stopPropagation();
    try { this.canvas.releasePointerCapture(this.drag.pointer); } catch { /* already released */ }
    this.drag = null;
    this.canvas.style.cursor = "grab";
    this.updateControls();
    this.render();
  }

  /** Client coordinates of a reference joint as drawn (tests), or null. */
  referenceClientPoint(joint) {
    const pts = this.referencePoints();
    if (!pts || !this.view) return null;
    const [x, y] = toCanvas(this.view, pts[this.preview.joint_names.indexOf(joint)]);
    const r = this.canvas.getBoundingClientRect();
    return { x: r.left + (x * r.width) / this.canvas.clientWidth, y: r.top + (y * r.height) / this.canvas.clientHeight };
  }

  /** Client coordinates of a bone's handle in the current drawing (tests and tooltips). */
  handleClientPoint(bone) {
    if (!this.prediction || !this.view) return null;
    const j = this.preview.joint_names.indexOf(bone);
    const [x, y] = toCanvas(this.view, this.prediction.joints2d[j]);
    const r = this.canvas.getBoundingClientRect();
    return { x: r.left + (x * r.width) / this.canvas.clientWidth, y: r.top + (y * r.height) / this.canvas.clientHeight };
  }

  // ---------------------------------------------------------------- drawing
  render() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => { this.renderQueued = false; this.draw(); });
  }

  draw() {
    this.syncFromWidget();
    const c = this.canvas;
    const w = c.clientWidth;
    const h = c.clientHeight;
    if (!w || !h) return;
    const dpr = window.devicePixelRatio || 1;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = "#141418";
    ctx.fillRect(0, 0, w, h);
    const P = this.preview;
    if (!P) {
      this.prediction = null;
      this.view = null;
      this.centerText(ctx, w, h, ["Queue the prompt once to see the character here.",
        "Presets, the bone slider, link and undo work already."]);
      return;
    }
    // posing the reference holds the view still (each repose brings new motion bounds): the
    // picture must not move under the joint being placed
    let view = this.drag?.view ?? fitView(P.image_size, P.bounds, w, h, 14);
    if (this.poseMode) {
      const key = `${w}x${h}:${P.image_size}`;
      if (this.heldView?.key !== key) this.heldView = { key, view };
      view = this.heldView.view;
    } else {
      this.heldView = null;
    }
    this.view = view;
    const [x0, y0] = toCanvas(view, [0, 0]);
    const [x1, y1] = toCanvas(view, P.image_size);
    if (this.image) {
      ctx.drawImage(this.image, x0, y0, x1 - x0, y1 - y0);
      ctx.fillStyle = "rgba(10, 10, 14, 0.3)";
      ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
    } else {
      ctx.fillStyle = "#202027";
      ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
    }
    ctx.strokeStyle = "rgba(255,255,255,0.28)";
    ctx.lineWidth = 1;
    ctx.strokeRect(x0 + 0.5, y0 + 0.5, x1 - x0 - 1, y1 - y0 - 1);
    if (!this.poseMode) this.drawReference(ctx, view);
    const frame = this.frames.get(this.frame);
    const pred = this.currentPrediction(this.drag?.camera ?? null);
    this.prediction = pred;
    ctx.save();
    if (this.poseMode) ctx.globalAlpha = 0.4; // the retarget stays visible behind the joints being posed
    if (!frame) this.banner(ctx, w, `loading frame ${this.frame}\u2026`);
    else if (!frame.valid) this.banner(ctx, w, `nobody in the driving clip on frame ${this.frame}`);
    else if (pred) this.drawPose(ctx, view, pred);
    ctx.restore();
    if (this.poseMode) this.drawPosable(ctx, view);
    this.drawLegend(ctx, h);
  }

  /** Pose-reference mode: the character's skeleton with a handle on every joint (placed ones pink,
   * unseen ones hollow) and the picked joint's name. */
  drawPosable(ctx, view) {
    const P = this.preview;
    const pts = this.referencePoints().map((q) => toCanvas(view, q));
    const placed = this.edits.reference_joints ?? {};
    const seen = (j) => P.reference.seen[j] || P.joint_names[j] in placed;
    ctx.save();
    ctx.lineCap = "round";
    P.parents.forEach((p, j) => {
      if (p < 0) return;
      const solid = seen(j) && seen(p);
      ctx.setLineDash(solid ? [] : [4, 4]);
      ctx.lineWidth = solid ? 3 : 1.5;
      ctx.strokeStyle = solid ? "rgba(255,255,255,0.95)" : "rgba(255,255,255,0.5)";
      ctx.beginPath();
      ctx.moveTo(...pts[p]);
      ctx.lineTo(...pts[j]);
      ctx.stroke();
    });
    ctx.setLineDash([]);
    P.joint_names.forEach((name, j) => {
      const big = name === this.joint || name === this.hover || name === this.drag?.joint;
      ctx.beginPath();
      ctx.arc(pts[j][0], pts[j][1], big ? 7 : 4.5, 0, 2 * Math.PI);
      if (seen(j)) { ctx.fillStyle = name in placed ? PLACED : COLORS[boneSide(name)]; ctx.fill(); }
      ctx.lineWidth = big ? 2.5 : 1.5;
      ctx.strokeStyle = name in placed ? "#fff" : seen(j) ? "#fff" : "rgba(255,255,255,0.7)";
      ctx.stroke();
    });
    ctx.restore();
    const name = this.drag?.joint ?? this.joint;
    if (name) {
      const [x, y] = pts[P.joint_names.indexOf(name)];
      this.pill(ctx, `${name.replaceAll("_", " ")}${name in placed ? " (placed)" : ""}`, x + 14, y, PLACED);
    }
  }

  drawReference(ctx, view) {
    const P = this.preview;
    const ref = P.reference;
    ctx.save();
    ctx.setLineDash([5, 4]);
    ctx.lineWidth = 2;
    ctx.strokeStyle = "rgba(255,255,255,0.75)";
    ctx.beginPath();
    P.parents.forEach((p, j) => {
      if (p < 0 || !ref.seen[j] || !ref.seen[p]) return;
      const [ax, ay] = toCanvas(view, ref.joints2d[p]);
      const [bx, by] = toCanvas(view, ref.joints2d[j]);
      ctx.moveTo(ax, ay);
      ctx.lineTo(bx, by);
    });
    ctx.stroke();
    ctx.restore();
  }

  /** The pose with the preset alone (no per-bone edits), drawn with the same camera: what the edits changed. */
  ghostPrediction(pred) {
    if (!Object.keys(this.edits.scales).length) return null;
    return this.predictAt(this.frame, pred.camera, { ...this.edits, scales: {} });
  }

  drawPose(ctx, view, pred) {
    const P = this.preview;
    const pts = pred.joints2d.map((q) => toCanvas(view, q));
    if (pred.head) {
      const [hx, hy] = toCanvas(view, pred.head.center);
      ctx.beginPath();
      ctx.arc(hx, hy, Math.max(2, pred.head.radius * view.scale), 0, 2 * Math.PI);
      ctx.fillStyle = "rgba(255, 212, 59, 0.10)";
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = "rgba(255, 212, 59, 0.85)";
      ctx.stroke();
    }
    ctx.lineCap = "round";
    const bones = P.parents.map((p, j) => [p, j]).filter(([p]) => p >= 0);
    for (const pass of ["shadow", "colour"]) {
      for (const [p, j] of bones) {
        const bone = P.joint_names[j];
        const selected = bone === this.bone;
        ctx.beginPath();
        ctx.moveTo(...pts[p]);
        ctx.lineTo(...pts[j]);
        if (pass === "shadow") {
          ctx.lineWidth = selected ? 9 : 6;
          ctx.strokeStyle = selected ? "rgba(255,255,255,0.85)" : "rgba(0,0,0,0.55)";
        } else {
          ctx.lineWidth = selected ? 5 : 3.5;
          ctx.strokeStyle = COLORS[boneSide(bone)];
        }
        ctx.stroke();
      }
    }
    for (const bone of HANDLE_BONES) {
      const j = P.joint_names.indexOf(bone);
      if (j < 0) continue;
      const big = bone === this.bone || bone === this.hover || bone === this.drag?.bone;
      ctx.beginPath();
      ctx.arc(pts[j][0], pts[j][1], big ? 7 : 4.5, 0, 2 * Math.PI);
      ctx.fillStyle = COLORS[boneSide(bone)];
      ctx.fill();
      ctx.lineWidth = big ? 2.5 : 1.5;
      ctx.strokeStyle = "#fff";
      ctx.stroke();
    }
    // where the joints were before the per-bone edits (a bone keeps its direction, so the old
    // joint sits on the new bone or its extension: a hollow ring marks it)
    const ghost = this.ghostPrediction(pred);
    if (ghost) {
      ctx.save();
      ctx.setLineDash([3, 2]);
      ctx.lineWidth = 1.75;
      ctx.strokeStyle = "rgba(235, 235, 245, 0.95)";
      ghost.joints2d.forEach((q, i) => {
        const [gx, gy] = toCanvas(view, q);
        if (Math.hypot(gx - pts[i][0], gy - pts[i][1]) < 2) return;
        ctx.beginPath();
        ctx.arc(gx, gy, 6, 0, 2 * Math.PI);
        ctx.stroke();
      });
      ctx.restore();
    }
    const j = P.joint_names.indexOf(this.bone);
    const p = P.parents[j];
    if (j > 0 && !this.poseMode) {
      // the label sits beside the bone's middle, on the side away from the body (sideways first)
      const label = `${BONE_LABELS[this.bone] ?? this.bone} \u00d7${boneScale(this.edits, this.bone).toFixed(2)}`;
      const [ax, ay] = pts[p];
      const [bx, by] = pts[j];
      const len = Math.hypot(bx - ax, by - ay) || 1;
      let [nx, ny] = [-(by - ay) / len, (bx - ax) / len];
      const mx = (ax + bx) / 2;
      const my = (ay + by) / 2;
      const cx = pts.reduce((a, q) => a + q[0], 0) / pts.length;
      const cy = pts.reduce((a, q) => a + q[1], 0) / pts.length;
      const away = Math.abs(nx) > 0.3 ? nx * (mx - cx) : ny * (my - cy);
      if (away < 0) [nx, ny] = [-nx, -ny];
      this.pill(ctx, label, mx + 16 * nx, my + 16 * ny, COLORS[boneSide(this.bone)], nx < 0);
    }
  }

  /** A label in a rounded box whose left edge (or right edge, `leftOf`) is at x, centred on y. */
  pill(ctx, text, x, y, color, leftOf = false) {
    ctx.font = "600 12px system-ui, sans-serif";
    const tw = ctx.measureText(text).width;
    const W = this.canvas.clientWidth;
    const H = this.canvas.clientHeight;
    const bx = Math.min(Math.max(4, leftOf ? x - tw - 14 : x), W - tw - 18);
    const by = Math.min(Math.max(4, y - 10), H - 44);
    ctx.fillStyle = "rgba(12,12,16,0.85)";
    ctx.beginPath();
    ctx.roundRect(bx, by, tw + 14, 20, 10);
    ctx.fill();
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5;
    ctx.stroke();
    ctx.fillStyle = "#fff";
    ctx.fillText(text, bx + 7, by + 14);
  }

  banner(ctx, w, text) {
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillStyle = "rgba(12,12,16,0.8)";
    ctx.fillRect(0, 0, w, 22);
    ctx.fillStyle = "#ffd43b";
    ctx.fillText(text, 8, 15);
  }

  drawLegend(ctx, h) {
    const items = this.poseMode
      ? [["#fff", "character (drag its joints)"], [PLACED, "placed by hand"], [COLORS.left, "left"], [COLORS.right, "right"]]
      : [["dashed", "character (reference)"], [COLORS.left, "left"], [COLORS.right, "right"]];
    if (this.prediction && Object.keys(this.edits.scales).length) items.push(["ghost", "joint before bone edits"]);
    ctx.font = "11px system-ui, sans-serif";
    let x = 8;
    const y = h - 9;
    ctx.fillStyle = "rgba(12,12,16,0.7)";
    ctx.fillRect(0, h - 20, items.reduce((a, [, t]) => a + 28 + ctx.measureText(t).width, 8), 20);
    for (const [style, text] of items) {
      ctx.save();
      ctx.lineWidth = style === "dashed" ? 2 : style === "ghost" ? 1.75 : 3.5;
      ctx.strokeStyle = { dashed: "rgba(255,255,255,0.8)", ghost: "rgba(235,235,245,0.95)" }[style] ?? style;
      if (style === "dashed") ctx.setLineDash([4, 3]);
      if (style === "ghost") ctx.setLineDash([3, 2]);
      ctx.beginPath();
      if (style === "ghost") ctx.arc(x + 8, y - 3, 5, 0, 2 * Math.PI);
      else { ctx.moveTo(x, y - 3); ctx.lineTo(x + 16, y - 3); }
      ctx.stroke();
      ctx.restore();
      ctx.fillStyle = "#ddd";
      ctx.fillText(text, x + 20, y + 1);
      x += 28 + ctx.measureText(text).width;
    }
  }

  centerText(ctx, w, h, lines) {
    ctx.font = "13px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.fillStyle = "#aaa";
    lines.forEach((l, i) => ctx.fillText(l, w / 2, h / 2 + (i - (lines.length - 1) / 2) * 20));
    ctx.textAlign = "start";
  }
}

app.registerExtension({
  name: "DreamActor.BoneEditor",
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData.name !== NODE_TYPE) return;
    chainCallback(nodeType.prototype, "onNodeCreated", function () {
      this.boneEditor = new BoneEditor(this);
      const [w, h] = this.computeSize();
      this.setSize([Math.max(w, 520), Math.max(h, 780)]);
    });
    chainCallback(nodeType.prototype, "onConfigure", function (info) {
      const ed = this.boneEditor;
      if (!ed) return;
      ed.syncFromWidget();
      const name = info?.properties?.dreamactor_preview;
      if (name && name !== ed.preview?.name) ed.load(name);
    });
    // the node keeps the artist's size after a run: the report line (dreamactor.js) only grows it
    chainCallback(nodeType.prototype, "onExecuted", function (message) {
      this.boneEditor?.onExecuted(message);
    });
  },
});
