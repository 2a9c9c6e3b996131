"""The API the dashboard reads a project's samples through: the list a page at a time (from the
index), one sample's values (plots.py), the file as received, and its values as CSV. Every
view answers for request.project only: another project's sample is not found.

    GET /samples[?category=&label=&limit=&after=]   a page, oldest first (about 1 MB at most);
        the next page's address in `Link: <...>; rel="next"` (absent on the last page)
    GET /samples/<id>[?max_points=]                 metadata, step and the plotted rows
    GET /samples/<id>/raw[?inline=1]                 the bytes as received
    GET /samples/<id>/csv                            the values as CSV, written as they are read
"""
import csv
import io
import json
import tempfile
import urllib.parse

from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from service.config import MAX_CSV_VALUES, MAX_PLOT_POINTS, PAGE, PLOT_POINTS
from service.files import each_row
from service.plots import open_sample, points
from service.web import Rejected, count_arg, text

_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet runs as a formula


def listing(app, request):
    """GET /samples: one page of the project's samples, read from the index."""
    category, label = request.args.get("category"), ()
    if "label" in request.args:
        label = request.args["label"] or None
    limit = count_arg(request, "limit", PAGE, PAGE)
    after = count_arg(request, "after", 0, None)
    store, project = app.store, request.project.name
    ids, following = store.page(project, category, label, after, limit)

    # a page is at most about PAGE_BYTES: it is sent whole, with its length (a board's HTTP
    # client may read no chunked body)
    entries = (store.get(sample_id, project) for sample_id in ids)
    body = b"[" + b",".join(json.dumps(meta, allow_nan=False).encode()
                            for meta in entries if meta is not None) + b"]"  # None: gone since
    headers = {"Cache-Control": "no-store", "Content-Length": str(len(body))}
    if following is not None:
        query = {k: v for k, v in request.args.items() if k not in ("after", "limit")}
        query.update(limit=limit, after=following)
        headers["Link"] = '</samples?%s>; rel="next"' % urllib.parse.urlencode(query)
    return Response(body, content_type="application/json", headers=headers)


def _found(app, request, sample_id):
    meta = app.store.get(sample_id, request.project.name)
    if meta is None:
        raise Rejected(404, "Not found: no sample %d in project %s" % (sample_id, request.project.name))
    return meta


def sample(app, request, sample_id):
    """One sample's metadata and its values over time, at most max_points rows (every step-th)."""
    meta = _found(app, request, sample_id)
    asked = count_arg(request, "max_points", PLOT_POINTS, MAX_PLOT_POINTS)
    step, values = app.plots.get(app.store, meta, points(meta, asked))
    head = json.dumps(dict(meta, step=step), allow_nan=False).encode()
    pieces = [head[:-1], b', "values": ', values, b"}"]  # the cached bytes are sent, not copied
    return Response(pieces, content_type="application/json",
                    headers={"Content-Length": str(sum(len(p) for p in pieces))})


def raw(app, request, sample_id):
    meta = _found(app, request, sample_id)
    inline = meta.get("kind") == "image" and request.args.get("inline")
    disposition = "inline" if inline else "attachment; filename*=UTF-8''" + urllib.parse.quote(meta["name"])
    f = open_sample(app.store, meta)
    return Response(wrap_file(request.environ, f), direct_passthrough=True,
                    content_type=meta["content_type"] if inline else "application/octet-stream",
                    headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff",
                             "Content-Length": str(meta["size"])})


def _cell(name):
    """A text cell a spreadsheet shows as text: one that would start a formula gets a quote."""
    return "'" + name if name.startswith(_FORMULA) else name


def csv_export(app, request, sample_id):
    """The values as CSV, written to a temporary file row by row as the sample is read (never
    in memory whole), then sent from it."""
    meta = _found(app, request, sample_id)
    values = (meta.get("rows") or 0) * len(meta.get("sensors") or [1])
    if values > MAX_CSV_VALUES:
        return text(400, "Too large for CSV: sample %d holds %d values; the export writes at most %d "
                         "(download the file as received)" % (sample_id, values, MAX_CSV_VALUES))
    names = [s["name"] for s in meta.get("sensors") or []]
    interval = meta.get("interval_ms") or 0
    out = tempfile.TemporaryFile(dir=app.store.files_dir)  # no name: nothing left if the service dies
    try:
        writer = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
        w = csv.writer(writer, lineterminator="\n")
        w.writerow((["timestamp"] if interval else []) + [_cell(n) for n in names])
        count = [0]

        def keep(row):
            w.writerow(([round(count[0] * interval, 6)] if interval else []) + [repr(v) for v in row])
            count[0] += 1
        with app.plots.heavy, open_sample(app.store, meta) as f:
            if not each_row(meta, f, keep):
                out.close()
                return text(404, "Not found: sample %d (%s) has no values to write as CSV"
                            % (sample_id, meta.get("content_type")))
        writer.flush()
        writer.detach()
        size = out.tell()
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return Response(wrap_file(request.environ, out), direct_passthrough=True, content_type="text/csv; charset=utf-8",
                    headers={"Content-Length": str(size), "Content-Disposition": "attachment; filename*=UTF-8''"
                             + urllib.parse.quote(meta["name"] + ".csv")})
