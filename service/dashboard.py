"""The dashboard and the API it reads: the static page (service/static/), the list of samples
(from the index), one sample's values (read from its file on demand, downsampled, a bounded
cache), the file as received, its values as CSV, and server-sent events on every change."""
import collections
import csv
import io
import os
import threading
import urllib.parse

from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from service.config import PLOT_CACHE, PLOT_POINTS
from service.files import series
from service.web import Rejected, json_answer, text

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
_STATIC = {"index.html": "text/html", "app.js": "text/javascript", "devices.js": "text/javascript",
           "style.css": "text/css"}
_MAX_POINTS = 20000          # the most a client may ask for
_MAX_CSV_VALUES = 2000000    # the CSV export is built in memory: values it writes at most
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet runs as a formula


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


def samples(app, request):
    """GET /samples[?category=&label=]: from the index alone (no file is read)."""
    kw = {}
    if "category" in request.args:
        kw["category"] = request.args["category"]
    if "label" in request.args:
        kw["label"] = request.args["label"] or None
    return json_answer(app.store.metadata(**kw))


def _open(store, meta):
    """The sample's file; 404 if it went meanwhile (replaced by a sample of the same name)."""
    try:
        return open(store.path(meta["sample_id"]), "rb")
    except OSError:
        raise Rejected(404, "Not found: sample %d is gone" % meta["sample_id"])


def _found(app, sample_id):
    meta = app.store.get(sample_id)
    if meta is None:
        return None, text(404, "Not found: no sample %d" % sample_id)
    return meta, None


class Plots:
    """Downsampled rows of the samples last plotted: at most `size` kept, least recent out first."""

    def __init__(self, size=PLOT_CACHE):
        self.size, self.lock, self.kept = size, threading.Lock(), collections.OrderedDict()

    def get(self, store, meta, max_points):
        key = (meta["sample_id"], meta["sha256"], max_points)
        with self.lock:
            if key in self.kept:
                self.kept.move_to_end(key)
                return self.kept[key]
        with _open(store, meta) as f:
            found = series(meta, f, max_points)
        with self.lock:
            self.kept[key] = found
            while len(self.kept) > self.size:
                self.kept.popitem(last=False)
        return found


def sample(app, request, sample_id):
    """One sample's metadata and its values over time, at most max_points rows (every step-th)."""
    meta, missing = _found(app, sample_id)
    if missing:
        return missing
    limit = request.args.get("max_points", "")
    limit = min(int(limit), _MAX_POINTS) if limit.isascii() and limit.isdigit() and int(limit) > 0 else PLOT_POINTS
    step, rows = app.plots.get(app.store, meta, limit)
    return json_answer(dict(meta, step=step, values=rows))


def raw(app, request, sample_id):
    meta, missing = _found(app, sample_id)
    if missing:
        return missing
    inline = meta.get("kind") == "image" and request.args.get("inline")
    disposition = "inline" if inline else "attachment; filename*=UTF-8''" + urllib.parse.quote(meta["name"])
    f = _open(app.store, meta)
    return Response(wrap_file(request.environ, f), direct_passthrough=True,
                    content_type=meta["content_type"] if inline else "application/octet-stream",
                    headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff",
                             "Content-Length": str(meta["size"])})


def _cell(name):
    """A text cell a spreadsheet shows as text: one that would start a formula gets a quote."""
    return "'" + name if name.startswith(_FORMULA) else name


def csv_export(app, request, sample_id):
    meta, missing = _found(app, sample_id)
    if missing:
        return missing
    values = (meta.get("rows") or 0) * len(meta.get("sensors") or [1])
    if values > _MAX_CSV_VALUES:
        return text(400, "Too large for CSV: sample %d holds %d values; the export writes at most %d "
                         "(download the file as received)" % (sample_id, values, _MAX_CSV_VALUES))
    with _open(app.store, meta) as f:
        _, rows = series(meta, f)
    if rows is None:
        return text(404, "Not found: sample %d (%s) has no values to write as CSV" % (sample_id, meta.get("content_type")))
    names = [s["name"] for s in meta.get("sensors") or []] or ["value%d" % i for i in range(len(rows[0]))]
    interval = meta.get("interval_ms") or 0
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow((["timestamp"] if interval else []) + [_cell(n) for n in names])
    for i, row in enumerate(rows):
        w.writerow(([round(i * interval, 6)] if interval else []) + [repr(v) for v in row])
    return Response(out.getvalue(), content_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": "attachment; filename*=UTF-8''" + urllib.parse.quote(meta["name"] + ".csv")})


def events(app, request):
    """Server-sent events: `change` whenever the store changes, `devices` whenever a device
    connects, goes or sends a status (remote management), a comment every 15 s between."""
    store = app.store

    devices = app.devices  # notifies the same condition

    def stream():
        last, last_devices = store.version, devices.version
        yield "retry: 1000\n\n"
        while not app.closing:
            with store.changed:
                store.changed.wait_for(lambda: store.version != last or devices.version != last_devices
                                       or app.closing, timeout=15)
                version, devices_version = store.version, devices.version
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
