// The Recordings panel: the project's recordings (GET /recordings, page after page), and one of
// them joined into a timeline: its windows in window order, each placed at its offset_ms for
// its rows × interval_ms, plotted as one (GET /recordings/<id>/windows: every step-th row of the
// whole recording, thinned by the service), with a red mark where a window does not follow the
// one before it (a gap: rows missing, and why when it is known; an overlap: rows twice) or keeps
// another interval_ms than the rest; each window's late rows in its table. The timeline fills
// in as windows arrive (`change` events). The chosen recording is kept in the page's address.
"use strict";

import {$, el, fmt, load, status} from "./page.js";
import {chart} from "./plot.js";
import {select} from "./samples.js";

const POINTS = 4000;   // rows the whole recording's plot holds at most
const view = {recordings: [], rid: null};   // the listed recordings, the one shown

// ---- what a recording's windows say -----------------------------------------------------------

function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

function rows(n) { return plural(n, "row"); }

function duration(ms) { return ms >= 1000 ? fmt(ms / 1000) + " s" : fmt(ms) + " ms"; }

// What does not join in a recording's summary (GET /recordings/<id>), or [] when it all joins.
function problems(r) {
  const out = [];
  if (r.gaps) out.push(plural(r.gaps, "gap") + " (" + rows(r.gap_rows) + ")");
  if (r.overlaps) out.push(plural(r.overlaps, "overlap") + " (" + rows(r.overlap_rows) + ")");
  if (r.missing_windows) out.push(plural(r.missing_windows, "window") + " missing");
  if (r.interval_differs) out.push(plural(r.interval_differs, "window") + " at another interval");
  if (r.unplaced) out.push(plural(r.unplaced, "sample") + " without a place");
  return out;
}

// Where a window starts, in ms from the recording's start: its offset_ms, else first_row × interval.
function begins(w, interval) { return w.offset_ms ?? w.first_row * interval; }

function ends(w, interval) { return begins(w, interval) + w.rows * w.interval_ms; }

// The red marks of a recording's windows (in window order), each a span of time and what it means.
function marks(windows, r) {
  const out = [];
  let before = null;
  for (const w of windows) {
    const from = before ? ends(before, r.interval_ms) : 0, at = begins(w, r.interval_ms);
    const missing = w.missing_before
      ? (w.missing_before === 1 ? "window " + (w.window - 1) : "windows " + (w.window - w.missing_before) + "–" + (w.window - 1))
        + " missing: dropped, or still queued on the board" : null;
    if (w.gap_rows) {
      const why = [w.lost_before ? "the sensor's FIFO overran: about " + rows(w.lost_before) + " lost before window " + w.window : null,
                   missing].filter(Boolean);
      out.push({kind: "gap", window: w.window, from: Math.min(from, at), to: Math.max(from, at), short: "gap, " + rows(w.gap_rows),
                text: "Gap before window " + w.window + ": " + rows(w.gap_rows) + " missing (rows " + w.expected_row + "–" +
                      (w.first_row - 1) + ")" + (why.length ? "; " + why.join("; ") : "")});
    } else if (w.overlap_rows) {
      out.push({kind: "overlap", window: w.window, from: Math.min(from, at), to: Math.max(from, at),
                short: "overlap, " + rows(w.overlap_rows),
                text: "Overlap: window " + w.window + (w.repeated ? " again" : "") + " starts at row " + w.first_row + ", " +
                      rows(w.overlap_rows) + " before " + (before && before.window === w.window ? "its other copy" : "window " + (before ? before.window : "?")) +
                      " ends (row " + w.expected_row + "): those rows are there twice"});
    } else if (missing) {
      out.push({kind: "gap", window: w.window, from: at, to: at, short: "window missing",
                text: missing + " (no rows between: the window numbers skip)"});
    }
    if (w.interval_differs)
      out.push({kind: "interval", window: w.window, from: at, to: ends(w, r.interval_ms), short: "interval " + fmt(w.interval_ms) + " ms",
                text: "Window " + w.window + " keeps interval_ms " + fmt(w.interval_ms) + ", the recording's other windows " +
                      fmt(r.interval_ms) + ": its rows are placed at its own"});
    before = w;
  }
  return out;
}

// The plotted rows as runs: windows that follow each other exactly are one line; a window after
// a gap, an overlap or at another interval starts a new one. A row is at its window's start
// plus its place in the window × the window's interval_ms.
function runs(windows, r) {
  const out = [];
  let run = null;
  for (const w of windows) {
    const joined = run && !w.gap_rows && !w.overlap_rows && !w.missing_before && !w.interval_differs && !run.odd;
    if (!joined) {
      run = {id: w.window, rows: [], t: [], odd: w.interval_differs};
      out.push(run);
    }
    const t0 = begins(w, r.interval_ms);
    (w.values || []).forEach((row, j) => {
      run.rows.push(row);
      run.t.push(t0 + (w.start + j * w.step) * w.interval_ms);
    });
  }
  return out.filter(x => x.rows.length);
}

// ---- the list ------------------------------------------------------------------------------------

function renderList() {
  const body = $("recordings").tBodies[0];
  body.textContent = "";
  for (const r of view.recordings.slice().reverse()) {   // newest first
    const tr = el("tr", {"data-id": r.recording});
    const bad = problems(r);
    const cells = [r.recording, r.label == null ? "—" : r.label, r.device_name || r.device_type || "—",
                   r.windows + (r.last_window != null ? " (0–" + r.last_window + ")" : ""),
                   rows(r.rows) + (r.interval_ms ? ", " + duration(r.rows * r.interval_ms) : ""),
                   r.interval_ms ? fmt(1000 / r.interval_ms) + " Hz" : "—", bad.length ? bad.join(", ") : "joined",
                   r.received_at ? new Date(r.received_at).toLocaleString() : "—"];
    for (const c of cells) tr.append(el("td", {}, c));
    if (bad.length) tr.cells[6].classList.add("bad");
    if (r.recording === view.rid) tr.classList.add("selected");
    tr.addEventListener("click", () => open(r.recording));
    body.append(tr);
  }
  $("recordings").hidden = !view.recordings.length;
  $("no-recordings").hidden = view.recordings.length > 0;
}

async function refreshList() {
  const recordings = await load("/recordings");
  if (!recordings) return;
  view.recordings = recordings;
  renderList();
}

// ---- one recording's timeline ----------------------------------------------------------------------

function renderWindows(windows, r, found) {
  const body = $("timeline-windows").tBodies[0];
  body.textContent = "";
  const said = new Map();   // window: its marks, short (in the cell) and whole (its title)
  for (const k of found) said.set(k.window, (said.get(k.window) || []).concat([k]));
  for (const w of windows) {
    const tr = el("tr", {"data-window": w.window, "data-id": w.sample_id});
    const own = said.get(w.window) || [];
    const cells = [w.window, w.first_row, duration(begins(w, r.interval_ms)), w.rows, fmt(w.interval_ms) + " ms",
                   w.late_rows ?? "—", w.max_late_ms != null ? w.max_late_ms + " ms" : "—",
                   own.length ? own.map(k => k.short).join("; ") : "follows", new Date(w.received_at).toLocaleTimeString()];
    for (const c of cells) tr.append(el("td", {}, c));
    if (own.length) {
      tr.classList.add("bad");
      tr.cells[7].title = own.map(k => k.text).join("\n");
    }
    if (w.late_rows) tr.classList.add("late");
    tr.addEventListener("click", () => { select(w.sample_id); $("detail").scrollIntoView(); });
    body.append(tr);
  }
}

async function showTimeline() {
  const rid = view.rid;
  const box = $("timeline");
  const r = view.recordings.find(x => x.recording === rid);
  if (!r) { box.hidden = true; return; }   // none chosen, or not (or no longer) the project's
  const windows = await load("/recordings/" + encodeURIComponent(rid) + "/windows?max_points=" + POINTS);
  if (!windows || view.rid !== rid) return;   // another was chosen meanwhile
  box.hidden = false;
  box.dataset.id = rid;
  $("timeline-name").textContent = "Recording " + rid + (r.label ? " (" + r.label + ")" : "");
  const bad = problems(r);
  $("timeline-info").textContent = [plural(windows.length, "window"), rows(r.rows),
    r.interval_ms ? "every " + fmt(r.interval_ms) + " ms" : null,
    r.late_rows ? rows(r.late_rows) + " read late (at most " + r.max_late_ms + " ms)" : "no row read late",
    bad.length ? bad.join(", ") : "every window follows the one before"].filter(Boolean).join(" · ");
  const found = marks(windows, r);
  const lines = runs(windows, r);
  const step = windows.length ? windows[0].step : 1;
  const plotBox = $("timeline-plot");
  if (lines.length) {
    chart(plotBox, {name: "recording " + rid, sensors: r.sensors, runs: lines, marks: found, step: step,
                    note: step > 1 ? "one row in " + step + " of the recording shown" : null});
  } else {
    plotBox.textContent = "";
    plotBox.append(el("p", {class: "empty"}, "Nothing to plot: its windows hold no values."));
  }
  const list = $("timeline-marks");
  list.textContent = "";
  for (const k of found) list.append(el("li", {class: "bad " + k.kind, "data-kind": k.kind, "data-window": k.window}, k.text));
  renderWindows(windows, r, found);
}

function open(rid) {
  view.rid = rid;
  const p = new URLSearchParams(location.hash.slice(1));
  if (rid === null) p.delete("recording"); else p.set("recording", rid);
  history.replaceState(null, "", p.toString() ? "#" + p.toString() : location.pathname);
  renderList();
  showTimeline();
}

// f, run once at a time: calls while it runs make one more run after it (a burst of windows
// arriving costs two reads, not one each).
function coalesced(f) {
  let running = false, again = false;
  const run = async () => {
    if (running) { again = true; return; }
    running = true;
    try { await f(); } catch (e) { status(e.message, true); } finally { running = false; }
    if (again) { again = false; run(); }
  };
  return run;
}

const refresh = coalesced(async () => {
  await refreshList();
  if (view.rid !== null) await showTimeline();
});

// Shows the recordings, and follows them: `change` events (a window arrived), a poll every 15 s.
export function start(events) {
  const fromHash = () => new URLSearchParams(location.hash.slice(1)).get("recording");
  view.rid = fromHash();
  window.addEventListener("hashchange", () => { if (fromHash() !== view.rid) open(fromHash()); });
  $("timeline-close").addEventListener("click", () => open(null));
  refresh();
  if (events) events.addEventListener("change", refresh);
  setInterval(refresh, events ? 15000 : 2000);
}
