// The local ingestion service's dashboard: the stored samples, filtered by category and label,
// and the chosen one's axes plotted over time in SVG. No library and no network beyond this
// service: /samples (the list), /samples/<id> (one sample's values), /events (a change happened).
// devices.js adds the Devices panel and the Record form (remote management).
"use strict";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
const NO_LABEL = "\u0000";   // the label filter's value for samples without a label
const SVG = "http://www.w3.org/2000/svg";

const state = {samples: [], seen: null, category: "", label: "", selected: null, events: null};
const refreshed = [];   // functions called after each refresh of the list (devices.js)

function $(id) { return document.getElementById(id); }

function el(tag, attrs, text) {
  const node = tag === "svg" || ["g", "line", "polyline", "text", "circle", "rect"].includes(tag)
    ? document.createElementNS(SVG, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---- what the table shows -------------------------------------------------------------------

function fmt(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1);
  return String(Math.round(v * 1000) / 1000);
}

function length(s) {
  if (s.kind === "image") return s.width + "×" + s.height + " px";
  if (s.rows == null) return (s.size / 1024).toFixed(1) + " kB";
  const rows = s.rows + (s.rows === 1 ? " row" : " rows");
  return s.interval_ms ? rows + ", " + (s.rows * s.interval_ms / 1000).toFixed(2) + " s" : rows;
}

function rate(s) {
  return s.interval_ms ? fmt(1000 / s.interval_ms) + " Hz" : "—";
}

function signed(s) {
  if (!s.signed) return "no";
  if (s.signature_valid === true) return "yes, valid";
  if (s.signature_valid === false) return "yes, INVALID";
  return "yes, not checked";
}

function received(s) {
  const d = new Date(s.received_at);
  return isNaN(d) ? s.received_at : d.toLocaleString();
}

function shown() {
  return state.samples.filter(s =>
    (!state.category || s.category === state.category) &&
    (!state.label || (state.label === NO_LABEL ? s.label == null : s.label === state.label)));
}

// ---- the list ----------------------------------------------------------------------------------

function renderLabels() {
  const select = $("label");
  const labels = [...new Set(state.samples.map(s => s.label == null ? NO_LABEL : s.label))].sort();
  if (state.label && !labels.includes(state.label)) labels.push(state.label);
  select.textContent = "";
  select.append(el("option", {value: ""}, "all"));
  for (const l of labels) select.append(el("option", {value: l}, l === NO_LABEL ? "(no label)" : l));
  select.value = state.label;
}

function renderTable() {
  const body = $("samples").tBodies[0];
  const rows = shown();
  body.textContent = "";
  for (const s of rows.slice().reverse()) {   // newest first
    const tr = el("tr", {"data-id": s.sample_id, "data-name": s.name});
    const cells = [s.name, s.category, s.label == null ? "—" : s.label,
                   s.device_name || s.device_type || "—", length(s), rate(s), signed(s), received(s)];
    for (const c of cells) tr.append(el("td", {}, c));
    if (s.signed && s.signature_valid === false) tr.classList.add("forged");
    if (state.seen && !state.seen.has(s.sample_id)) tr.classList.add("new");
    if (s.sample_id === state.selected) tr.classList.add("selected");
    tr.addEventListener("click", () => select(s.sample_id));
    body.append(tr);
  }
  $("count").textContent = rows.length + " of " + state.samples.length + " samples";
  $("empty").hidden = state.samples.length > 0;
}

async function refresh() {
  try {
    const r = await fetch("/samples", {cache: "no-store"});
    if (!r.ok) throw new Error(r.status + " " + (await r.text()));
    state.samples = await r.json();
  } catch (e) {
    status("cannot reach the service: " + e.message, true);
    return;
  }
  renderLabels();
  renderTable();
  state.seen = new Set(state.samples.map(s => s.sample_id));
  if (state.selected !== null && !state.seen.has(state.selected)) select(null);
  else if (state.selected !== null && !$("detail").dataset.id) select(state.selected);
  for (const f of refreshed) f();
}

// ---- one sample ----------------------------------------------------------------------------------

async function select(id) {
  state.selected = id;
  saveHash();
  for (const tr of $("samples").tBodies[0].rows) tr.classList.toggle("selected", Number(tr.dataset.id) === id);
  const detail = $("detail");
  if (id === null) { detail.hidden = true; delete detail.dataset.id; return; }
  let s;
  try {
    const r = await fetch("/samples/" + id + "?max_points=4000", {cache: "no-store"});
    if (!r.ok) throw new Error(r.status + " " + (await r.text()));
    s = await r.json();
  } catch (e) {
    status("cannot load sample " + id + ": " + e.message, true);
    return;
  }
  if (state.selected !== id) return;   // another was chosen meanwhile
  detail.hidden = false;
  detail.dataset.id = id;
  $("detail-name").textContent = s.name;
  const axes = (s.sensors || []).map(a => a.name + (a.units ? " (" + a.units + ")" : "")).join(", ");
  $("detail-info").textContent = [s.category, s.label == null ? "no label" : "label " + s.label,
    s.device_name ? s.device_name + " (" + (s.device_type || "?") + ")" : s.device_type,
    s.content_type + (s.binary ? ", Ref-BINARY-" + s.binary : ""),
    s.rows != null && axes ? length(s) + " of " + axes : length(s),
    s.interval_ms ? "every " + fmt(s.interval_ms) + " ms" : null,
    "signed: " + signed(s), s.size + " bytes"].filter(Boolean).join(" · ");
  $("download-raw").href = "/samples/" + id + "/raw";
  $("download-csv").href = "/samples/" + id + "/csv";
  $("download-csv").hidden = !s.values;
  plot(s);
}

function ticks(lo, hi, count) {
  const span = hi - lo;
  const raw = span / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(f => f * mag).find(st => span / st <= count) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function plot(s) {
  const box = $("plot");
  box.textContent = "";
  if (s.kind === "image") {
    box.append(el("img", {src: "/samples/" + s.sample_id + "/raw?inline=1", alt: s.name, class: "image"}));
    return;
  }
  const rows = s.values;
  if (!rows || !rows.length) {
    box.append(el("p", {class: "empty"}, "Nothing to plot: a " + s.content_type + " file, kept as received."));
    return;
  }
  const W = 960, H = 340, m = {l: 70, r: 20, t: 14, b: 42};
  const n = rows.length, width = rows[0].length, step = s.step || 1, iv = s.interval_ms || 0;
  const t = i => (iv ? iv : 1) * i * step;   // ms, or the row's index when not a time series
  let lo = Infinity, hi = -Infinity;
  for (const r of rows) for (const v of r) { if (v < lo) lo = v; if (v > hi) hi = v; }
  if (lo === hi) { lo -= 1; hi += 1; }
  const pad = (hi - lo) * 0.05;
  lo -= pad; hi += pad;
  const t1 = n > 1 ? t(n - 1) : 1;
  const x = v => m.l + v / t1 * (W - m.l - m.r);
  const y = v => m.t + (hi - v) / (hi - lo) * (H - m.t - m.b);
  const svg = el("svg", {viewBox: "0 0 " + W + " " + H, class: "chart", role: "img",
                         "aria-label": "values of " + s.name + " over time", "data-rows": n, "data-axes": width,
                         "data-step": step});
  const grid = el("g", {class: "grid"});
  for (const v of ticks(lo, hi, 8)) {
    grid.append(el("line", {x1: m.l, x2: W - m.r, y1: y(v), y2: y(v)}));
    grid.append(el("text", {x: m.l - 6, y: y(v) + 4, "text-anchor": "end"}, fmt(v)));
  }
  for (const v of ticks(0, t1, 8)) {
    grid.append(el("line", {x1: x(v), x2: x(v), y1: m.t, y2: H - m.b}));
    grid.append(el("text", {x: x(v), y: H - m.b + 16, "text-anchor": "middle"}, fmt(v)));
  }
  grid.append(el("text", {x: (W + m.l) / 2, y: H - 6, "text-anchor": "middle", class: "axis-title"},
                 iv ? "time (ms)" : "row"));
  svg.append(grid);
  svg.append(el("rect", {x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, class: "frame"}));
  for (let j = 0; j < width; j++) {
    const name = s.sensors && s.sensors[j] ? s.sensors[j].name : "value " + j;
    const color = COLORS[j % COLORS.length];
    if (n > 1) {
      const points = rows.map((r, i) => x(t(i)).toFixed(2) + "," + y(r[j]).toFixed(2)).join(" ");
      svg.append(el("polyline", {points: points, fill: "none", stroke: color, "stroke-width": 1.5,
                                 class: "series", "data-axis": name}));
    } else {
      svg.append(el("circle", {cx: x(0), cy: y(rows[0][j]), r: 4, fill: color, class: "series", "data-axis": name}));
    }
  }
  box.append(svg);
  const legend = el("p", {class: "legend"});
  (s.sensors || []).forEach((a, j) => {
    const item = el("span", {class: "key"});
    const swatch = el("span", {class: "swatch"});
    swatch.style.background = COLORS[j % COLORS.length];
    item.append(swatch, document.createTextNode(a.name + (a.units ? " (" + a.units + ")" : "")));
    legend.append(item);
  });
  if (step > 1) legend.append(el("span", {class: "note"}, "one row in " + step + " shown; the CSV has them all"));
  box.append(legend);
}

// ---- the page's state, in its address: #category=training&label=wave&sample=12 --------------------

function saveHash() {
  const p = new URLSearchParams();
  if (state.category) p.set("category", state.category);
  if (state.label) p.set("label", state.label === NO_LABEL ? "" : state.label);
  if (state.selected !== null) p.set("sample", state.selected);
  history.replaceState(null, "", p.toString() ? "#" + p.toString() : location.pathname);
}

function loadHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  state.category = p.get("category") || "";
  state.label = p.has("label") ? (p.get("label") === "" ? NO_LABEL : p.get("label")) : "";
  state.selected = p.has("sample") ? Number(p.get("sample")) : null;
  $("category").value = state.category;
}

function status(text, bad) {
  const s = $("status");
  s.textContent = text;
  s.classList.toggle("bad", !!bad);
}

function listen() {
  if (!window.EventSource) { status("polling every 2 s"); setInterval(refresh, 2000); return; }
  const events = state.events = new EventSource("/events");
  events.addEventListener("change", refresh);
  events.onopen = () => { status("live"); refresh(); };
  events.onerror = () => status("reconnecting…", true);
}

$("category").addEventListener("change", e => { state.category = e.target.value; saveHash(); renderTable(); });
$("label").addEventListener("change", e => { state.label = e.target.value; saveHash(); renderTable(); });
$("filters").addEventListener("submit", e => e.preventDefault());
window.addEventListener("hashchange", () => { loadHash(); renderLabels(); renderTable(); select(state.selected); });
loadHash();
refresh();
listen();
setInterval(refresh, 15000);   // besides the events: a missed one costs at most 15 s
