// The local ingestion service's dashboard, put together: it asks which project to show (its
// API key), opens it, then starts each part of the page with the project's event stream
// (/events: `change` when its samples change, `devices` when its devices do). A part is a
// module with a start(events) function: samples.js (the list and the plot), devices.js (the
// Devices panel and the Record form), timeline.js (the Recordings panel: a recording's windows
// joined); another view is added the same way.
"use strict";

import {$, openProject, project, savedKey, status} from "./page.js";
import * as devices from "./devices.js";
import * as samples from "./samples.js";
import * as timeline from "./timeline.js";

// The project's events, for every part: an EventSource on /events, made again (with the
// project opened again) when the service closed it for good, e.g. after a restart.
function listen() {
  if (!window.EventSource) { status("polling every 2 s"); return null; }
  const events = new EventTarget();
  const connect = () => {
    const source = new EventSource("/events");
    for (const type of ["change", "devices"])
      source.addEventListener(type, () => events.dispatchEvent(new Event(type)));
    source.onopen = () => { status("live"); events.dispatchEvent(new Event("open")); };
    source.onerror = () => {
      status("reconnecting…", true);
      if (source.readyState === EventSource.CLOSED) setTimeout(async () => {
        try { await openProject(project.key); } catch (e) { /* the next try says why */ }
        connect();
      }, 1000);
    };
  };
  connect();
  return events;
}

function show() {
  $("project-form").hidden = true;
  $("project-name").textContent = "project " + project.name;
  $("project-name").dataset.id = project.id;
  for (const part of document.querySelectorAll(".needs-project")) part.hidden = false;
  const events = listen();
  samples.start(events);
  devices.start(events, "ws://" + location.host);
  timeline.start(events);
}

async function open(key) {
  try {
    await openProject(key);
  } catch (e) {
    $("project-error").textContent = "Not opened: " + e.message;
    return false;
  }
  show();
  return true;
}

$("project-form").addEventListener("submit", async e => {
  e.preventDefault();
  await open($("project-key").value.trim());
});
status("give a project's API key");
if (savedKey()) open(savedKey());   // this tab opened it before: again, without asking
