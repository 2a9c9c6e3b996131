// The Devices panel and the "Record new data" form, as in Studio's Data acquisition page: the
// project's devices connected over remote management (GET /devices, page after page), a sample
// request sent to one of them (POST /devices/<id>/start-sampling, with the project's key), the
// device's progress as it reports it (the `devices` server-sent event), and the sample it
// uploaded, selected and plotted (samples.js) once the device says sampleFinished.
"use strict";

import {$, el, fmt, load, send} from "./page.js";
import {onRefresh, refresh, select, state} from "./samples.js";

const STEPS = [["sample", "acknowledged"], ["sampleStarted", "sampling"], ["sampleProcessing", "processing"],
               ["sampleUploading", "uploading"], ["sampleFinished", "finished"]];
const rec = {devices: [], recording: null};   // recording: {device, label, before: Set of sample ids}

function when(iso) {
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleTimeString();
}

function sensorText(s) {
  const f = s.frequencies.length ? s.frequencies.map(fmt).join(", ") + " Hz" : "no rate";
  return s.name + " (" + f + ", ≤ " + fmt(s.maxSampleLengthS) + " s)";
}

function stateText(d) {
  if (d.state === "disconnected") return "disconnected since " + when(d.disconnected_at);
  if (d.state === "idle") return d.last_error ? "idle (last error: " + d.last_error + ")" : "idle";
  return d.state === "requested" ? "sample requested" : d.state;
}

function renderDevices() {
  const body = $("devices").tBodies[0];
  body.textContent = "";
  for (const d of rec.devices) {
    const tr = el("tr", {"data-id": d.id, "data-state": d.state});
    for (const c of [d.id, d.type, d.sensors.map(sensorText).join("; "), when(d.connected_at), stateText(d)])
      tr.append(el("td", {}, c));
    if (d.state === "disconnected") tr.classList.add("gone");
    else if (d.state !== "idle") tr.lastChild.classList.add("state-busy");
    body.append(tr);
  }
  $("no-devices").hidden = rec.devices.length > 0;
  $("devices").hidden = $("record").hidden = !rec.devices.length;   // until a device has connected
  fillSelect($("record-device"), rec.devices.filter(d => d.state !== "disconnected").map(d => [d.id, d.id]));
  fillSensors();
}

function fillSelect(select, options) {
  const keep = select.value;
  select.textContent = "";
  for (const [value, label] of options) select.append(el("option", {value: value}, label));
  if (options.some(([v]) => v === keep)) select.value = keep;
}

function chosenDevice() {
  return rec.devices.find(d => d.id === $("record-device").value);
}

function fillSensors() {
  const d = chosenDevice();
  fillSelect($("record-sensor"), d ? d.sensors.map(s => [s.name, s.name]) : []);
  const s = d && d.sensors.find(x => x.name === $("record-sensor").value);
  fillSelect($("record-frequency"), s ? s.frequencies.map(f => [String(f), fmt(f) + " Hz"]) : []);
  if (s) $("record-length").max = s.maxSampleLengthS * 1000;
}

function showProgress(text, bad, stateName) {
  const p = $("record-progress");
  p.textContent = "";
  p.classList.toggle("bad", !!bad);
  p.dataset.state = stateName || "";
  if (typeof text === "string") p.textContent = text;
  else p.append(...text);
}

function progress() {
  const r = rec.recording;
  if (!r) return;
  const d = rec.devices.find(x => x.id === r.device);
  const s = d && d.sample;
  if (!s || s.requested_at !== r.requestedAt) return;
  if (s.state === "failed") {
    showProgress("Failed: " + (s.error || "the device gave no reason"), true, "failed");
    rec.recording = null;
    return;
  }
  const parts = [el("span", {class: "step done"}, "requested")];
  for (const [status, word] of STEPS) {
    parts.push(document.createTextNode(" → "));
    parts.push(el("span", {class: "step" + (s.statuses.includes(status) ? " done" : "")}, word));
  }
  showProgress(parts, false, s.state);
  if (s.state === "finished") found();
}

// The sample the device uploaded: the newest with the label that was not there before the request.
function found() {
  const r = rec.recording;
  if (!r) return;
  const fresh = state.samples.filter(s => s.label === r.label && !r.before.has(s.sample_id));
  if (!fresh.length) {   // stored before sampleFinished: its `change` event is on its way; ask once too
    if (!r.asked) { r.asked = true; refresh(); }
    return;
  }
  rec.recording = null;   // done: later device events leave this line as it is
  const s = fresh[fresh.length - 1];
  select(s.sample_id);
  $("record-progress").append(document.createTextNode(" · stored as " + s.name));
}

async function refreshDevices() {
  const devices = await load("/devices");
  if (!devices) return;
  rec.devices = devices;
  renderDevices();
  progress();
}

async function record(e) {
  e.preventDefault();
  const device = $("record-device").value;
  const body = {label: $("record-label").value.trim(), lengthMs: Number($("record-length").value),
                category: $("record-category").value, sensor: $("record-sensor").value,
                intervalMs: 1000 / Number($("record-frequency").value)};
  if (!device) { showProgress("No device to record with: none is connected", true, "refused"); return; }
  const before = new Set(state.samples.map(s => s.sample_id));
  let answer;
  try {
    // any device id: escaped, a '/' in it too
    const r = await send("/devices/" + encodeURIComponent(device) + "/start-sampling", body);
    if (!r.ok) { showProgress("Refused: " + r.status + " " + (await r.text()), true, "refused"); return; }
    answer = await r.json();
  } catch (err) {
    showProgress("cannot reach the service: " + err.message, true, "refused");
    return;
  }
  rec.recording = {device: device, label: body.label, before: before, requestedAt: answer.sample.requested_at};
  rec.devices = rec.devices.map(d => d.id === answer.id ? answer : d);
  progress();
}

// Shows the devices and the form, and follows them: `devices` events, and a poll besides.
export function start(events, wsUrl) {
  $("ws-url").textContent = wsUrl;
  $("record-device").addEventListener("change", fillSensors);
  $("record-sensor").addEventListener("change", fillSensors);
  $("record").addEventListener("submit", record);
  onRefresh(() => { if (rec.recording) progress(); });
  if (events) {
    events.addEventListener("devices", refreshDevices);
    events.addEventListener("open", refreshDevices);
  }
  refreshDevices();
  setInterval(refreshDevices, events ? 15000 : 2000);
}
