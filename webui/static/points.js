// portrait-drag's page, part 2: handle/target pairs and the painted region on the crop canvas.
// Shares `state`, `$` and VIEW with editor.js (loaded before it). Points are crop px.
"use strict";

function toCrop(event) {
  const rect = $("crop-canvas").getBoundingClientRect();
  const k = state.size / rect.width;
  return [(event.clientX - rect.left) * k, (event.clientY - rect.top) * k];
}

function nearest(xy) {
  const reach = 12 * state.size / VIEW;
  let best = null;
  state.pairs.forEach((pair, i) => {
    for (const end of ["handle", "target"]) {
      const p = pair[end];
      if (p && Math.hypot(p[0] - xy[0], p[1] - xy[1]) < reach) best = { i, end };
    }
  });
  return best;
}

function paintAt(event) {
  const rect = $("crop-canvas").getBoundingClientRect();
  const x = (event.clientX - rect.left) * VIEW / rect.width, y = (event.clientY - rect.top) * VIEW / rect.height;
  const ctx = state.mask.getContext("2d");
  ctx.globalCompositeOperation = state.tool === "erase" ? "destination-out" : "source-over";
  ctx.fillStyle = "#fff";
  ctx.beginPath();
  ctx.arc(x, y, Number($("brush").value), 0, 2 * Math.PI);
  ctx.fill();
  state.maskUsed = true;
  redraw();
}

function clearMask() {
  state.mask.getContext("2d").clearRect(0, 0, VIEW, VIEW);
  state.maskUsed = false;
}

function maskDataUrl() {
  if (!state.maskUsed) return null;
  const out = document.createElement("canvas");
  out.width = out.height = VIEW;
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, VIEW, VIEW);
  ctx.drawImage(state.mask, 0, 0);
  return out.toDataURL("image/png");
}

function renderPairs() {
  const list = $("point-list");
  list.replaceChildren();
  state.pairs.forEach((pair, i) => {
    const item = document.createElement("li");
    const fmt = (p) => (p ? `(${p[0].toFixed(0)}, ${p[1].toFixed(0)})` : "click its target");
    item.textContent = `${fmt(pair.handle)} → ${fmt(pair.target)}`;
    const remove = document.createElement("button");
    remove.textContent = "×";
    remove.title = "remove this pair";
    remove.onclick = () => { state.pairs.splice(i, 1); renderPairs(); redraw(); };
    item.append(remove);
    list.append(item);
  });
}

function redraw() {
  const canvas = $("crop-canvas");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, VIEW, VIEW);
  if (state.image) ctx.drawImage(state.image, 0, 0, VIEW, VIEW);
  const k = VIEW / (state.size || VIEW);
  ctx.fillStyle = "rgba(255,255,255,0.35)";
  for (const [x, y] of state.landmarks) { ctx.beginPath(); ctx.arc(x * k, y * k, 1.6, 0, 2 * Math.PI); ctx.fill(); }
  ctx.globalAlpha = 0.3;
  ctx.drawImage(state.mask, 0, 0);
  ctx.globalAlpha = 1;
  const dot = (p, colour, r = 6) => {
    ctx.fillStyle = colour; ctx.strokeStyle = "#fff"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(p[0] * k, p[1] * k, r, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
  };
  state.pairs.forEach((pair, i) => {
    const handle = state.tracked && state.tracked[i] ? state.tracked[i] : pair.handle;
    if (pair.target) {
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(handle[0] * k, handle[1] * k); ctx.lineTo(pair.target[0] * k, pair.target[1] * k); ctx.stroke();
      dot(pair.target, "#1e50f0");
    }
    dot(handle, "#e61e1e");
  });
}

function onCropDown(event) {
  if (!state.inverted || state.busy) return;
  if (state.tool !== "points") { state.painting = true; paintAt(event); return; }
  const xy = toCrop(event);
  const hit = nearest(xy);
  if (hit && event.button === 2) { state.pairs.splice(hit.i, 1); renderPairs(); redraw(); return; }
  if (hit) { state.grab = hit; return; }
  const open = state.pairs.find((p) => !p.target);
  if (open) open.target = xy; else state.pairs.push({ handle: xy, target: null });
  renderPairs();
  redraw();
}

function onCropMove(event) {
  if (state.painting) { paintAt(event); return; }
  if (!state.grab) return;
  state.pairs[state.grab.i][state.grab.end] = toCrop(event);
  redraw();
}

function onCropUp() {
  state.painting = false;
  if (state.grab) { state.grab = null; renderPairs(); }
}

