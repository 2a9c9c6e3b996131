"""A recording's windows joined into one timeline (docs/recording.md). ei.record
uploads each window as a sample of its own, its place in x-metadata: `recording` (the same for
all its windows), `window` (from 0), `first_row` (the recording's number of its first row),
`offset_ms`, `late_rows`, `max_late_ms`, and `lost_before` after a FIFO overrun. These views
read a project's recordings from the index (an expression index on `recording`), a page at a
time, and check each window against the one before it in window order: a gap where its
first_row is past the rows before it, an overlap where it is before their end, the window
numbers missing between them, and an interval_ms other than most windows'.

    GET /recordings[?limit=&after=]      the project's recordings (by their first sample), each
                                         as /recordings/<id> describes it
    GET /recordings/<id>                 its windows, rows, interval and what does not join
    GET /recordings/<id>/windows[?max_points=&step=&limit=&after=]
        its windows in window order, each with its check and every step-th row of the
        recording that it holds (the plot of the whole recording, thinned as one: at most
        max_points rows in all, whatever the number of windows); a page is at most `limit`
        windows and about PAGE_BYTES, the next page's address in `Link: <...>; rel="next"`

A window is placed when its `window` and `first_row` are whole numbers (JSON integers, or the
digits the firmware sends as text) and it is a time series; the others are counted as unplaced.
Everything is worked out in SQL over the index, a window at a time: no answer grows with the
recording beyond its page.
"""
import json
import math
import re
import urllib.parse

from werkzeug.wrappers import Response

from service.config import MAX_PLOT_POINTS, MAX_PLOT_VALUES, MAX_RECORDING_ID, PAGE, PAGE_BYTES, PLOT_POINTS
from service.store import RECORDING
from service.web import Rejected, count_arg, json_answer

_AFTER = re.compile(r"([0-9]{1,15})\.([0-9]{1,18})")  # a windows page's cursor: window.sample_id


def _whole(key):
    """SQL for x-metadata's `key` as a whole number >= 0: a JSON integer, or 1 to 15 ASCII digits
    as text (the firmware's strings); NULL for anything else."""
    v = "json_extract(extra, '$.metadata.%s')" % key
    return ("(CASE json_type(extra, '$.metadata.%s') WHEN 'integer' THEN CASE WHEN %s >= 0 THEN %s END"
            " WHEN 'text' THEN CASE WHEN length(%s) BETWEEN 1 AND 15 AND %s NOT GLOB '*[^0-9]*'"
            " THEN CAST(%s AS INTEGER) END END)" % (key, v, v, v, v, v))


# One recording's placed windows in window order (then by id: a window sent twice comes twice),
# each with the row it was expected at (where the one before it ended; 0 for the first) and
# the window number before it (-1 for the first).
_WINDOWS = """
WITH placed AS (
    SELECT id, %s AS n, %s AS first, json_extract(summary, '$.rows') AS rows,
           json_extract(summary, '$.interval_ms') AS interval_ms,
           %s AS late, %s AS max_late, %s AS lost
    FROM samples WHERE project = ? AND %s = ?),
checked AS (
    SELECT *, COALESCE(LAG(first + rows) OVER o, 0) AS expected, COALESCE(LAG(n) OVER o, -1) AS prev_n
    FROM placed WHERE n IS NOT NULL AND first IS NOT NULL AND rows IS NOT NULL AND interval_ms > 0
    WINDOW o AS (ORDER BY n, id))
""" % (_whole("window"), _whole("first_row"), _whole("late_rows"), _whole("max_late_ms"),
       _whole("lost_before"), RECORDING)

_SUMMARY = _WINDOWS + """
SELECT COUNT(*), SUM(rows), MAX(n), MIN(id), MAX(id),
       SUM(first > expected), SUM(max(first - expected, 0)),
       SUM(first < expected), SUM(max(expected - first, 0)),
       SUM(max(n - prev_n - 1, 0)), SUM(late), MAX(max_late), SUM(lost)
FROM checked"""
# the interval most windows keep (a tie: the earliest window's), and how many keep it
_INTERVAL = _WINDOWS + """
SELECT interval_ms, COUNT(*) FROM checked GROUP BY interval_ms ORDER BY COUNT(*) DESC, MIN(n) LIMIT 1"""
_PAGE = _WINDOWS + """
SELECT id, n, first, rows, interval_ms, expected, prev_n, late, max_late, lost FROM checked
WHERE (n, id) > (?, ?) ORDER BY n, id LIMIT ?"""
_COUNT = "SELECT COUNT(*) FROM samples WHERE project = ? AND %s = ?" % RECORDING
# the project's recordings by their first sample: ids a URL path can hold
_RECORDINGS = """
SELECT %(rec)s AS rec, MIN(id) AS first_id FROM samples
WHERE project = ? AND json_type(extra, '$.metadata.recording') = 'text'
      AND length(%(rec)s) BETWEEN 1 AND %(most)d AND instr(%(rec)s, '/') = 0
GROUP BY rec HAVING first_id > ? ORDER BY first_id LIMIT ?""" % {"rec": RECORDING, "most": MAX_RECORDING_ID}


def summary(store, project, rid):
    """What /recordings says of one recording; None when the project has no sample of it."""
    total = store.read(_COUNT, (project, rid))[0][0]
    if not total:
        return None
    (windows, rows, last, first_id, last_id, gaps, gap_rows, overlaps, overlap_rows, missing,
     late, max_late, lost) = store.read(_SUMMARY, (project, rid))[0]
    interval, keeping = (store.read(_INTERVAL, (project, rid)) or [(None, 0)])[0]
    out = {"recording": rid, "windows": windows, "unplaced": total - windows, "rows": rows or 0,
           "last_window": last, "missing_windows": missing or 0, "gaps": gaps or 0,
           "gap_rows": gap_rows or 0, "overlaps": overlaps or 0, "overlap_rows": overlap_rows or 0,
           "interval_ms": interval, "interval_differs": windows - keeping, "late_rows": late or 0,
           "max_late_ms": max_late, "lost_rows": lost or 0}
    first = store.get(first_id, project) if first_id is not None else None
    latest = store.get(last_id, project) if last_id is not None else None
    if first is not None:
        out.update({k: first.get(k) for k in ("label", "category", "device_name", "device_type", "sensors")})
    out["received_at"] = latest["received_at"] if latest is not None else None
    return out


def _recording(app, request, rid):
    if len(rid) > MAX_RECORDING_ID:
        raise Rejected(404, "Not found: a recording id is at most %d characters" % MAX_RECORDING_ID)
    found = summary(app.store, request.project.name, rid)
    if found is None:
        raise Rejected(404, "Not found: no recording %s in project %s" % (rid, request.project.name))
    return found


def listing(app, request):
    """GET /recordings: a page of the project's recordings, oldest first."""
    limit = count_arg(request, "limit", PAGE, PAGE)
    after = count_arg(request, "after", 0, None)
    project = request.project.name
    rows = app.store.read(_RECORDINGS, (project, after, limit + 1))
    entries = [e for e in (summary(app.store, project, rid) for rid, _ in rows[:limit]) if e is not None]
    headers = {"Cache-Control": "no-store"}
    if len(rows) > limit:
        headers["Link"] = '</recordings?%s>; rel="next"' % urllib.parse.urlencode(
            {"limit": limit, "after": rows[limit - 1][1]})
    return json_answer(entries, **headers)


def recording(app, request, rid):
    """GET /recordings/<id>: the recording's summary."""
    return json_answer(_recording(app, request, rid), **{"Cache-Control": "no-store"})


def _offset(metadata):
    """offset_ms as the firmware sends it ("1234.500"), or a number; None when it is neither."""
    v = metadata.get("offset_ms")
    if isinstance(v, bool) or not isinstance(v, (str, int, float)) or len(str(v)) > 32:
        return None
    try:
        v = float(v)
    except ValueError:
        return None
    return v if math.isfinite(v) and v >= 0 else None


def _step(request, rec):
    """The recording's rows are thinned as one: every step-th row of it, at most max_points rows
    (and MAX_PLOT_VALUES values) in all, step a power of two: while a recording grows, its step
    changes only when it doubles, so the windows' thinned rows stay cached from one read to the
    next. A `step` asked for (the next page's link carries the first page's) is kept unless the
    recording grew past those bounds with it."""
    axes = len(rec.get("sensors") or ()) or 1
    rows = rec["rows"]
    least = max(1, -(-rows // MAX_PLOT_POINTS), -(-rows * axes // MAX_PLOT_VALUES))
    if "step" in request.args:
        return max(least, count_arg(request, "step", 1, None))
    points = max(1, min(count_arg(request, "max_points", PLOT_POINTS, MAX_PLOT_POINTS), MAX_PLOT_VALUES // axes))
    return 1 << (max(least, -(-rows // points)) - 1).bit_length()


def windows(app, request, rid):
    """GET /recordings/<id>/windows: a page of the recording's windows in window order."""
    rec = _recording(app, request, rid)
    limit = count_arg(request, "limit", PAGE, PAGE)
    m = _AFTER.fullmatch(request.args.get("after", "0.0"))
    if m is None:
        raise Rejected(400, "after must be window.sample_id, as the next page's link gives it")
    after = (int(m.group(1)), int(m.group(2))) if "after" in request.args else (-1, 0)
    step = _step(request, rec)
    project, store = request.project.name, app.store
    rows = store.read(_PAGE, (project, rid) + after + (limit + 1,))
    pieces, weight, last, more = [], 0, None, len(rows) > limit
    for sample_id, n, first, count, interval, expected, prev_n, late, max_late, lost in rows[:limit]:
        if pieces and weight > PAGE_BYTES:
            more = True
            break
        last = (n, sample_id)
        meta = store.get(sample_id, project)
        if meta is None:  # gone since (replaced by a later upload of the same name)
            continue
        # a wide window is thinned more, so that no window holds more than MAX_PLOT_VALUES values
        own = max(step, -(-count * len(meta.get("sensors") or [1]) // MAX_PLOT_VALUES))
        start = -first % own
        entry = {"sample_id": sample_id, "name": meta["name"], "category": meta["category"],
                 "received_at": meta["received_at"], "window": n, "first_row": first, "rows": count,
                 "interval_ms": interval, "offset_ms": _offset(meta.get("metadata") or {}),
                 "late_rows": late, "max_late_ms": max_late, "lost_before": lost,
                 "expected_row": expected, "gap_rows": max(first - expected, 0),
                 "overlap_rows": max(expected - first, 0), "missing_before": max(n - prev_n - 1, 0),
                 "repeated": n == prev_n, "interval_differs": interval != rec["interval_ms"],
                 "step": own, "start": start}
        try:
            values = app.plots.rows(store, meta, own, start) if start < count else b"[]"
        except Rejected:  # its file went meanwhile
            values = b"null"
        head = json.dumps(entry, allow_nan=False).encode()
        pieces += [b"," if pieces else b"", head[:-1], b', "values": ', values, b"}"]
        weight += len(head) + len(values)
    body = [b"["] + pieces + [b"]"]
    headers = {"Cache-Control": "no-store", "Content-Length": str(sum(len(p) for p in body))}
    if more and last is not None:
        headers["Link"] = '</recordings/%s/windows?%s>; rel="next"' % (
            urllib.parse.quote(rid, safe=""),
            urllib.parse.urlencode({"limit": limit, "after": "%d.%d" % last, "step": step}))
    return Response(body, content_type="application/json", headers=headers)
