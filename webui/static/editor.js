// portrait-drag's page: open a photo, pick a face, place handle/target pairs (and a region), drag, apply.
// Plain JavaScript, no build step, nothing from a CDN. The server does the editing; this page only
// shows its state and sends what the user clicked. Points are (x, y) in crop px on the wire.
"use strict";

const $ = (id) => document.getElementById(id);
const VIEW = 512; // the crop canvas side, px
const state = {
  sid: null, source: null, lastEvent: 0, faces: [], photo: null,
  size: 0, landmarks: [], image: null, pairs: [], tracked: null,
  tool: "points", grab: null, painting: false, busy: false, inverted: false,
  mask: document.createElement("canvas"), maskUsed: false,
};
// What the end-to-end test (and a curious user in the console) can read.
window.__editor = { frames: 0, firstFrameMs: null, dragClickedAt: null, status: "", steps: [], lastHandles: null };
state.mask.width = state.mask.height = VIEW;

// ---------- talking to the server ----------
async function api(path, options = {}) {
  const init = { method: "POST", ...options };
  if (options.json !== undefined) {
    init.body = JSON.stringify(options.json);
    init.headers = { "Content-Type": "application/json" };
  }
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({ error: "the server sent an unreadable answer" }));
  if (!response.ok) throw new Error(body.error || `the server answered ${response.status}`);
  return body;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function setStatus(text) {
  $("status").textContent = text;
  window.__editor.status = text;
}

async function guarded(action) {
  showError("");
  try { await action(); } catch (err) { showError(err.message); setBusy(false); }
}

function setBusy(busy) {
  state.busy = busy;
  for (const id of ["drag", "undo", "reset", "apply", "preset"]) $(id).disabled = busy || !state.inverted;
  $("stop").disabled = !busy;
}

// ---------- 1. opening a photo ----------
async function openWith(promise) {
  closeSession();
  setStatus("finding faces…");
  const opened = await promise;
  state.sid = opened.id;
  state.faces = opened.faces;
  listen();
  const img = new Image();
  img.onload = () => { state.photo = { img, width: opened.width, height: opened.height }; drawPhoto(); };
  img.src = opened.photo;
  $("faces").hidden = false;
  $("edit").hidden = true;
  $("result").hidden = true;
  setStatus(`${opened.faces.length} face${opened.faces.length > 1 ? "s" : ""} found: click the one to edit`);
  if (opened.faces.length === 1) await chooseFace(0);
}

function uploadFile(file) {
  if (!file) return;
  guarded(() => openWith(api("/api/sessions", { body: file, headers: { "Content-Type": "application/octet-stream" } })));
}

function drawPhoto() {
  const { img, width } = state.photo;
  const canvas = $("photo-canvas");
  const scale = Math.min(1, 900 / img.naturalWidth);
  canvas.width = img.naturalWidth * scale;
  canvas.height = img.naturalHeight * scale;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  const k = canvas.width / width;
  ctx.lineWidth = 2;
  ctx.font = "bold 16px system-ui";
  for (const face of state.faces) {
    const [l, t, r, b] = face.box.map((v) => v * k);
    ctx.strokeStyle = "#ffd400";
    ctx.strokeRect(l, t, r - l, b - t);
    ctx.fillStyle = "#ffd400";
    ctx.fillText(String(face.index), l + 4, t + 18);
  }
}

function faceAt(event) {
  const canvas = $("photo-canvas");
  const rect = canvas.getBoundingClientRect();
  const k = state.photo.width / rect.width;
  const x = (event.clientX - rect.left) * k, y = (event.clientY - rect.top) * k;
  return state.faces.find((f) => x >= f.box[0] && x <= f.box[2] && y >= f.box[1] && y <= f.box[3]);
}

async function chooseFace(index) {
  const chosen = await api(`/api/s/${state.sid}/face`, { json: { index } });
  state.size = chosen.size;
  state.landmarks = chosen.landmarks;
  state.pairs = [];
  state.tracked = null;
  state.inverted = false;
  clearMask();
  await loadImage(chosen.crop);
  $("edit").hidden = false;
  $("invert-progress").hidden = false;
  setProgress(0, chosen.reused ? "reusing the saved inversion…" : "inversion queued…");
  setBusy(true);
  $("stop").disabled = true;
  redraw();
}

function loadImage(src) {
  return new Promise((resolve) => {
    const img = new Image();
    img.onload = () => { state.image = img; redraw(); resolve(); };
    img.src = src;
  });
}

// ---------- events from the server ----------
function listen() {
  state.source = new EventSource(`/api/s/${state.sid}/events?after=${state.lastEvent}`);
  state.source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.id) state.lastEvent = event.id;
    (handlers[event.type] || (() => {}))(event);
  };
}

function closeSession() {
  if (state.source) state.source.close();
  if (state.sid) fetch(`/api/s/${state.sid}`, { method: "DELETE" }).catch(() => {});
  state.sid = null;
  state.lastEvent = 0;
}

const handlers = {
  queued(e) { if (e.position > 1) setStatus(`waiting for the device: ${e.position - 1} job(s) ahead`); },
  position(e) {
    if (e.position === null || e.position === undefined) return;
    setStatus(e.position === 0 ? "running…" : `waiting for the device: ${e.position - 1} job(s) ahead of this tab`);
  },
  invert(e) { setProgress(e.done / e.total, `inverting (${e.stage}): step ${e.done} of at most ${e.total}`); },
  inverted(e) {
    state.inverted = true;
    setProgress(1, e.reused ? "inversion reused from an earlier edit" : `inverted in ${e.seconds} s`);
    loadImage(e.image);
    setBusy(false);
    setStatus("ready: click a handle (red) then its target (blue), or choose a preset");
  },
  step(e) {
    const ed = window.__editor;
    if (e.image) {
      ed.frames += 1;
      if (ed.firstFrameMs === null && ed.dragClickedAt !== null) ed.firstFrameMs = performance.now() - ed.dragClickedAt;
      loadImage(e.image);
    }
    ed.steps.push({ step: e.step, handles: e.handles, distances: e.distances, at: performance.now() });
    ed.lastHandles = e.handles;
    state.tracked = e.handles;
    $("drag-info").textContent = `step ${e.step}: ${e.distances.map((d) => d.toFixed(1)).join(", ")} px to go`;
    redraw();
  },
  dragged(e) {
    state.pairs.forEach((pair, i) => { if (e.handles[i]) pair.handle = e.handles[i]; });
    state.tracked = null;
    window.__editor.lastHandles = e.handles;
    loadImage(e.image);
    setStatus(`drag ${e.status} after ${e.steps} steps: press Drag to go on, Undo, or Apply to photo`);
    renderPairs();
  },
  error(e) { showError(e.message); },
  idle() { setBusy(false); },
};

function setProgress(fraction, text) {
  $("invert-bar").style.width = `${Math.round(100 * fraction)}%`;
  $("invert-text").textContent = text;
}

// ---------- 3. drag, stop, undo, reset, apply ----------
async function startDrag() {
  const pairs = state.pairs.filter((p) => p.target);
  if (!pairs.length) throw new Error("click a handle (red) and then its target (blue) first");
  setBusy(true);
  window.__editor.dragClickedAt = performance.now();
  window.__editor.firstFrameMs = null;
  await api(`/api/s/${state.sid}/drag`, {
    json: { handles: pairs.map((p) => p.handle), targets: pairs.map((p) => p.target), mask: maskDataUrl() },
  });
  setStatus("dragging…");
}

async function stepBack(reset) {
  const back = await api(`/api/s/${state.sid}/${reset ? "reset" : "undo"}`);
  state.pairs.forEach((pair, i) => { if (back.handles[i]) pair.handle = back.handles[i]; });
  await loadImage(back.image);
  renderPairs();
  setStatus(back.undone ? (reset ? "back to the start" : "the last drag is undone") : "nothing to undo");
}

async function applyEdit() {
  setBusy(true);
  setStatus("pasting the edit back into the photo…");
  const done = await api(`/api/s/${state.sid}/apply`);
  setBusy(false);
  $("result").hidden = false;
  $("result-image").src = done.preview;
  const links = $("downloads");
  links.replaceChildren();
  const labels = { "before-after.jpg": "before / after", "report.json": "report (JSON)" };
  for (const name of done.files) {
    const a = document.createElement("a");
    a.href = `/api/s/${state.sid}/files/${name}`;
    a.download = name;
    a.id = `download-${name.split(".")[0]}`;
    a.textContent = labels[name] || `edited photo (${done.width}×${done.height})`;
    links.append(a, document.createTextNode("  "));
  }
  const warn = done.flags.length ? ` Check it: ${done.flags.join("; ")}` : "";
  setStatus(`the edited photo is ready (${done.width}×${done.height}).${warn}`);
}

// ---------- wiring ----------
function wire() {
  $("file").onchange = (e) => uploadFile(e.target.files[0]);
  const drop = $("drop");
  drop.ondragover = (e) => { e.preventDefault(); drop.classList.add("over"); };
  drop.ondragleave = () => drop.classList.remove("over");
  drop.ondrop = (e) => { e.preventDefault(); drop.classList.remove("over"); uploadFile(e.dataTransfer.files[0]); };
  $("random").onclick = () => guarded(() => openWith(api("/api/sessions/random", { json: { seed: Number($("seed").value) } })));
  $("photo-canvas").onclick = (e) => { const f = state.photo && faceAt(e); if (f) guarded(() => chooseFace(f.index)); };
  const crop = $("crop-canvas");
  crop.onmousedown = onCropDown;
  crop.onmousemove = onCropMove;
  window.addEventListener("mouseup", onCropUp);
  crop.oncontextmenu = (e) => e.preventDefault();
  for (const radio of document.querySelectorAll("input[name=tool]")) radio.onchange = (e) => { state.tool = e.target.value; };
  $("clear-mask").onclick = () => { clearMask(); redraw(); };
  $("preset").onchange = (e) => guarded(async () => {
    if (!e.target.value) return;
    const placed = await api(`/api/s/${state.sid}/preset`, { json: { name: e.target.value } });
    state.pairs = placed.handles.map((h, i) => ({ handle: h, target: placed.targets[i] }));
    clearMask();
    if (placed.mask) {
      const img = new Image();
      img.onload = () => {
        const ctx = state.mask.getContext("2d");
        ctx.drawImage(img, 0, 0, VIEW, VIEW);
        const data = ctx.getImageData(0, 0, VIEW, VIEW); // black -> transparent, white stays
        for (let i = 0; i < data.data.length; i += 4) data.data[i + 3] = data.data[i];
        ctx.putImageData(data, 0, 0);
        state.maskUsed = true;
        redraw();
      };
      img.src = placed.mask;
    }
    renderPairs();
    redraw();
  });
  $("drag").onclick = () => guarded(startDrag);
  $("stop").onclick = () => guarded(() => api(`/api/s/${state.sid}/stop`));
  $("undo").onclick = () => guarded(() => stepBack(false));
  $("reset").onclick = () => guarded(() => stepBack(true));
  $("apply").onclick = () => guarded(applyEdit);
  window.addEventListener("beforeunload", closeSession);
  setBusy(false);
}

async function start() {
  wire();
  try {
    const info = await api("/api/info", { method: "GET" });
    $("model").textContent = `${info.model} · ${info.resolution} px · ${info.device}`;
    $("license").textContent = `Model weights: ${info.license}.`;
    for (const name of info.presets) $("preset").append(new Option(name, name));
  } catch (err) { showError(err.message); }
}

document.addEventListener("DOMContentLoaded", start);  // after points.js has loaded too
