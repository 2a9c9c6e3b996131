// What every part of the dashboard shares: DOM helpers, number formatting, the status line, and
// the project the page shows. A project is opened with its API key (POST /session), which the
// service answers with a session cookie: every read below (and the page's links, images and
// event stream) carries it. The key itself is kept in this tab (sessionStorage) only for what
// changes data (the Record form sends it as x-api-key) and to open the project again when the
// service restarted.
"use strict";

const KEY_STORE = "ei-local-service-api-key";
const SVG = "http://www.w3.org/2000/svg";

export const project = {name: null, id: null, key: null};

export function $(id) { return document.getElementById(id); }

export function el(tag, attrs, text) {
  const node = ["svg", "g", "line", "polyline", "text", "circle", "rect"].includes(tag)
    ? document.createElementNS(SVG, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

export function fmt(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1);
  return String(Math.round(v * 1000) / 1000);
}

export function status(text, bad) {
  const s = $("status");
  s.textContent = text;
  s.classList.toggle("bad", !!bad);
}

// ---- the project ----------------------------------------------------------------------------

export function savedKey() { return sessionStorage.getItem(KEY_STORE) || ""; }

// Opens the project whose key this is; {name, id} or throws an Error saying why.
export async function openProject(key) {
  const r = await fetch("/session", {method: "POST", headers: {"x-api-key": key}, cache: "no-store"});
  if (!r.ok) throw new Error(r.status + " " + (await r.text()));
  const answer = await r.json();
  sessionStorage.setItem(KEY_STORE, key);
  Object.assign(project, {name: answer.project, id: answer.id, key: key});
  return answer;
}

// A read of the project's data (JSON). A 401 means the session is gone (the service restarted):
// the project is opened again with the kept key, once.
export async function read(path) {
  let r = await fetch(path, {cache: "no-store"});
  if (r.status === 401 && project.key) {
    await openProject(project.key);
    r = await fetch(path, {cache: "no-store"});
  }
  if (!r.ok) throw new Error(r.status + " " + (await r.text()));
  return {body: await r.json(), next: nextPage(r.headers.get("Link"))};
}

function nextPage(link) {
  const m = /<([^>]*)>;\s*rel="next"/.exec(link || "");
  return m ? m[1] : null;
}

// Every entry of a paged list (/samples, /devices): its pages, followed to the last.
export async function readAll(path) {
  const out = [];
  for (let next = path; next;) {
    const page = await read(next);
    out.push(...page.body);
    next = page.next;
  }
  return out;
}

// A list for the page: readAll(), or null when the service could not be read (the status says why).
export async function load(path) {
  try {
    return await readAll(path);
  } catch (e) {
    status("cannot reach the service: " + e.message, true);
    return null;
  }
}

// What changes the project's data: with its key, as x-api-key.
export function send(path, body) {
  return fetch(path, {method: "POST", cache: "no-store",
    headers: {"Content-Type": "application/json", "x-api-key": project.key}, body: JSON.stringify(body)});
}
