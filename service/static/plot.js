// Values plotted over time in SVG, for any finite values: one sample's axes (plot), or runs of
// rows placed in time with red marks over spans of it (chart: a recording's joined windows,
// timeline.js). The scale is worked out in halves (so that -1e308..1e308 does not overflow),
// and each tick is first + k * step, from a step no finer than the spacing of numbers at that
// magnitude (so 1e16 and 1e16 + 4 get two ticks, and a tick never repeats: adding a step that
// rounds away can never loop).
"use strict";

import {el, fmt} from "./page.js";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

// About `count` round values from lo to hi (lo < hi, both finite), increasing, none repeated.
export function ticks(lo, hi, count) {
  if (!isFinite(hi - lo)) return ticks(lo / 2, hi / 2, count).map(v => v * 2);
  const span = hi - lo;
  const mag = Math.pow(10, Math.floor(Math.log10(span / count)));
  let step = [1, 2, 5, 10].map(f => f * mag).find(st => span / st <= count) || 10 * mag;
  if (!(step > 0 && isFinite(step))) step = span / count || Number.MIN_VALUE;
  const spacing = Math.max(Math.abs(lo), Math.abs(hi)) * Number.EPSILON;   // between doubles here
  while (step < spacing) step *= 2;
  const out = [];
  const first = Math.ceil(lo / step);
  for (let k = 0; k <= 2 * count + 1; k++) {
    const v = (first + k) * step;
    if (v > hi) break;
    if (!out.length || v > out[out.length - 1]) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return out;
}

// A tick's label: enough digits to tell it from its neighbours `step` away.
export function tickLabel(v, step) {
  if (v === 0) return "0";
  const digits = Math.ceil(Math.log10(Math.abs(v) / step)) + 1;
  if (digits <= 3 || !isFinite(digits)) return fmt(v);
  const p = Math.min(17, digits);
  return Math.abs(v) >= 1e21 || Math.abs(v) < 1e-6 ? v.toExponential(p - 1) : v.toPrecision(p);
}

// The smallest and largest value of the runs' rows, padded, as the vertical range (finite, lo < hi).
function range(runs) {
  let lo = Infinity, hi = -Infinity;
  for (const run of runs) for (const r of run.rows) for (const v of r) { if (v < lo) lo = v; if (v > hi) hi = v; }
  if (lo === hi) {
    const d = Math.max(1, Math.abs(lo) * 1e-9);
    return [lo - d, lo + d];
  }
  const pad = (hi / 2 - lo / 2) * 0.1;    // (hi - lo) * 0.05, without overflowing
  return [Math.max(lo - pad, -Number.MAX_VALUE), Math.min(hi + pad, Number.MAX_VALUE)];
}

// Draws sample `s` (GET /samples/<id>: sensors, values, step, interval_ms) into `box`.
export function plot(box, s) {
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
  const step = s.step || 1, iv = s.interval_ms || 0;
  chart(box, {name: s.name, sensors: s.sensors, step: step, timed: !!iv,
              runs: [{rows: rows, t: rows.map((r, i) => (iv ? iv : 1) * i * step)}],   // ms, or the row's index
              note: step > 1 ? "one row in " + step + " shown; the CSV has them all" : null});
}

// Draws `runs` into `box`: each run {rows, t (each row's time in ms), id} one line an axis, not
// joined to the next run; `marks` [{from, to, kind, text}] red bands over those spans of time,
// each named in a <title> (and written above the plot while there are few). `timed`: t is
// time (else a row's index); `step`: one row in `step` shown; `note`: said under the legend.
export function chart(box, {name, sensors, runs, marks = [], step = 1, timed = true, note = null}) {
  box.textContent = "";
  const W = 960, H = 340, m = {l: 100, r: 20, t: marks.length ? 30 : 14, b: 42};
  const width = Math.max(...runs.map(r => r.rows.length ? r.rows[0].length : 0), 1);
  const n = runs.reduce((a, r) => a + r.rows.length, 0);
  let t1 = 0;
  for (const r of runs) if (r.t.length) t1 = Math.max(t1, r.t[r.t.length - 1]);
  for (const k of marks) t1 = Math.max(t1, k.to);
  if (!(t1 > 0)) t1 = 1;
  const [lo, hi] = range(runs);
  const half = hi / 2 - lo / 2;
  const x = v => m.l + v / t1 * (W - m.l - m.r);
  const y = v => m.t + (hi / 2 - v / 2) / half * (H - m.t - m.b);
  const svg = el("svg", {viewBox: "0 0 " + W + " " + H, class: "chart", role: "img",
                         "aria-label": "values of " + name + " over time", "data-rows": n, "data-axes": width,
                         "data-step": step, "data-runs": runs.length, "data-t1": t1});
  const grid = el("g", {class: "grid"});
  const yTicks = ticks(lo, hi, 8);
  const yStep = yTicks.length > 1 ? yTicks[1] - yTicks[0] : Math.abs(yTicks[0] || 1);
  for (const v of yTicks) {
    grid.append(el("line", {x1: m.l, x2: W - m.r, y1: y(v), y2: y(v)}));
    grid.append(el("text", {x: m.l - 6, y: y(v) + 4, "text-anchor": "end", class: "y-tick"}, tickLabel(v, yStep)));
  }
  const unit = timed && t1 >= 20000 ? 1000 : 1;   // seconds past 20 s
  for (const v of ticks(0, t1 / unit, 8)) {
    grid.append(el("line", {x1: x(v * unit), x2: x(v * unit), y1: m.t, y2: H - m.b}));
    grid.append(el("text", {x: x(v * unit), y: H - m.b + 16, "text-anchor": "middle"}, fmt(v)));
  }
  grid.append(el("text", {x: (W + m.l) / 2, y: H - 6, "text-anchor": "middle", class: "axis-title"},
                 timed ? (unit === 1 ? "time (ms)" : "time (s)") : "row"));
  svg.append(grid);
  svg.append(el("rect", {x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, class: "frame"}));
  for (const k of marks) {   // under the lines: at least 3 px wide, so a gap of one row shows
    const xa = x(k.from), xb = x(k.to), w = Math.max(3, xb - xa), mid = (xa + xb) / 2;
    const band = el("rect", {x: mid - w / 2, y: m.t, width: w, height: H - m.t - m.b, class: "mark " + k.kind,
                             "data-from": k.from, "data-to": k.to});
    band.append(el("title", {}, k.text));
    svg.append(band);
    if (marks.length <= 12)
      svg.append(el("text", {x: mid, y: m.t - 8, "text-anchor": "middle", class: "mark-label " + k.kind}, k.short || k.text));
  }
  runs.forEach((run, r) => {
    for (let j = 0; j < width; j++) {
      const color = COLORS[j % COLORS.length];
      const axis = sensors && sensors[j] ? sensors[j].name : "value " + j;
      const common = {class: "series", "data-axis": axis, "data-run": run.id ?? r};
      if (run.rows.length > 1) {
        const points = run.rows.map((row, i) => x(run.t[i]).toFixed(2) + "," + y(row[j]).toFixed(2)).join(" ");
        svg.append(el("polyline", {...common, points: points, fill: "none", stroke: color, "stroke-width": 1.5}));
      } else if (run.rows.length) {
        svg.append(el("circle", {...common, cx: x(run.t[0]), cy: y(run.rows[0][j]), r: 3, fill: color}));
      }
    }
  });
  box.append(svg);
  const legend = el("p", {class: "legend"});
  (sensors || []).forEach((a, j) => {
    const item = el("span", {class: "key"});
    const swatch = el("span", {class: "swatch"});
    swatch.style.background = COLORS[j % COLORS.length];
    item.append(swatch, document.createTextNode(a.name + (a.units ? " (" + a.units + ")" : "")));
    legend.append(item);
  });
  if (note) legend.append(el("span", {class: "note"}, note));
  box.append(legend);
}
