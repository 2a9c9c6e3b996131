// The project's stored samples: the list (GET /samples, page after page), filtered by category
// and label, newest first; the chosen one's details, downloads and plot (GET /samples/<id>). The
// filters and the chosen sample are kept in the page's address. Other parts of the page (the
// Devices panel, a recording's view) follow the list through onRefresh() and select().
"use strict";

import {$, el, fmt, load, read, status} from "./page.js";
import {plot} from "./plot.js";

const NO_LABEL = "\u0000";   // the label filter's value for samples without a label

export const state = {samples: [], seen: null, category: "", label: "", selected: null};
const refreshed = [];   // called after each refresh of the list

export function onRefresh(f) { refreshed.push(f); }

// ---- what the table shows -------------------------------------------------------------------

export function length(s) {
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

export async function refresh() {
  const samples = await load("/samples");
  if (!samples) return;
  state.samples = samples;
  renderLabels();
  renderTable();
  state.seen = new Set(state.samples.map(s => s.sample_id));
  if (state.selected !== null && !state.seen.has(state.selected)) select(null);
  else if (state.selected !== null && !$("detail").dataset.id) select(state.selected);
  for (const f of refreshed) f();
}

// ---- one sample ----------------------------------------------------------------------------------

export async function select(id) {
  state.selected = id;
  saveHash();
  for (const tr of $("samples").tBodies[0].rows) tr.classList.toggle("selected", Number(tr.dataset.id) === id);
  const detail = $("detail");
  if (id === null) { detail.hidden = true; delete detail.dataset.id; return; }
  let s;
  try {
    s = (await read("/samples/" + id + "?max_points=4000")).body;
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
  plot($("plot"), s);
}

// ---- the page's state, in its address: #category=training&label=wave&sample=12 --------------------

function saveHash() {
  const p = new URLSearchParams(location.hash.slice(1));   // other parts' keys stay (recording=)
  for (const k of ["category", "label", "sample"]) p.delete(k);
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

// Shows the samples, and follows them: `change` events, and a poll every 15 s besides.
export function start(events) {
  $("category").addEventListener("change", e => { state.category = e.target.value; saveHash(); renderTable(); });
  $("label").addEventListener("change", e => { state.label = e.target.value; saveHash(); renderTable(); });
  $("filters").addEventListener("submit", e => e.preventDefault());
  window.addEventListener("hashchange", () => { loadHash(); renderLabels(); renderTable(); select(state.selected); });
  loadHash();
  refresh();
  if (events) events.addEventListener("change", refresh);
  setInterval(refresh, events ? 15000 : 2000);   // a missed event costs at most 15 s
}
