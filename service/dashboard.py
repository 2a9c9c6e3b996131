"""The dashboard: its page and files (service/static/, ES modules), the session that opens one
project in it (POST /session with the project's API key: a cookie the page's links, images
and event stream carry), and server-sent events when that project's samples or devices change.
The data it shows comes from samples.py and record.py."""
import os
import re

from werkzeug.wrappers import Response

from service.projects import COOKIE
from service.web import json_answer, text

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
_STATIC = {name: _TYPES[os.path.splitext(name)[1]] for name in os.listdir(STATIC_DIR)
           if re.fullmatch(r"[a-z][a-z0-9-]*\.(html|js|css)", name)}


def index(app, request):
    return static(app, request, "index.html")


def static(app, request, name):
    if name not in _STATIC:
        return text(404, "Not found: /dashboard/%s" % name)
    with open(os.path.join(STATIC_DIR, name), "rb") as f:
        body = f.read()
    return Response(body, content_type=_STATIC[name] + "; charset=utf-8",
                    headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'self'; img-src 'self' data:"})


def session(app, request):
    """POST /session with x-api-key: the project it opens, and the cookie that lets this
    browser read it (HttpOnly: the page's scripts never see it; SameSite=Strict: no other
    site's page sends it)."""
    project = request.project
    response = json_answer({"project": project.name, "id": project.id})
    response.set_cookie(COOKIE, app.projects.cookie(project), httponly=True, samesite="Strict", path="/")
    return response


def events(app, request):
    """Server-sent events for the project: `change` whenever its samples change, `devices`
    whenever one of its devices connects, goes or sends a status, a comment every 15 s between."""
    store, devices, name = app.store, app.devices, request.project.name

    def versions():
        return store.versions[name], devices.versions[name]

    def stream():
        last, last_devices = versions()
        yield "retry: 1000\n\n"
        while not app.closing:
            with store.changed:
                store.changed.wait_for(lambda: versions() != (last, last_devices) or app.closing, timeout=15)
                version, devices_version = versions()
            if app.closing:
                return
            if (version, devices_version) == (last, last_devices):
                yield ": still here\n\n"
                continue
            if devices_version != last_devices:
                last_devices = devices_version
                yield "event: devices\ndata: %d\n\n" % devices_version
            if version != last:
                last = version
                yield "event: change\ndata: %d\n\n" % version

    return Response(stream(), content_type="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
