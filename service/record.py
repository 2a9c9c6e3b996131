"""The dashboard's Devices panel and its "Record new data" form, Studio's way: GET /devices (the
project's devices connected over remote management, and those gone, a page at a time), and
POST /devices/<id>/start-sampling with Studio's own body ({label, lengthMs, category,
intervalMs, sensor?}; `frequency` in Hz may stand for intervalMs), checked before anything is
sent, then pushed to the device in its session's encoding as {"sample": {label, length, path,
hmacKey, interval, sensor}} (length in whole ms, as Edge Impulse's firmware-sdk reads it; the
hmacKey the project's). The device's status messages show in /devices (and /events says when);
the sample it uploads lands in the store as any other.
"""
import math
import urllib.parse

from service.config import CATEGORIES, PAGE
from service.remote import MAX_ID, is_number, sample_path, sample_request
from service.web import Rejected, json_answer, strict_json

_MAX_BODY = 4096       # a start-sampling body is under 200 bytes
_MAX_LABEL = 128       # characters


def devices(app, request):
    """GET /devices[?limit=&after=]: a page of the project's devices by id; the next page's
    address in `Link: <...>; rel="next"` (absent on the last page)."""
    limit = request.args.get("limit", str(PAGE))
    if not (limit.isascii() and limit.isdigit() and 0 < len(limit) <= 6):
        raise Rejected(400, "limit must be a whole number, not %r" % limit[:40])
    limit = max(1, min(int(limit), PAGE))
    after = request.args.get("after", "")
    if len(after) > MAX_ID:
        raise Rejected(400, "after must be a device id (at most %d characters)" % MAX_ID)
    entries, following = app.devices.page(request.project.name, after, limit)
    headers = {"Cache-Control": "no-store"}
    if following is not None:
        headers["Link"] = '</devices?%s>; rel="next"' % urllib.parse.urlencode(
            {"limit": limit, "after": following})
    return json_answer(entries, **headers)


def _number(body, name, unit):
    v = body.get(name)
    if not is_number(v) or not math.isfinite(v) or v <= 0:
        raise Rejected(400, "%s must be a number of %s > 0, not %s" % (name, unit, _short(v)))
    return v


def _short(v):
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def check(entry, body):
    """(label, length ms, interval ms, category, sensor name) of a start-sampling body for
    the device `entry`, or Rejected(400) naming the field."""
    if not isinstance(body, dict):
        raise Rejected(400, "The body must be a JSON object: {label, lengthMs, category, intervalMs, sensor}")
    label = body.get("label")
    if not isinstance(label, str) or not label.strip():
        raise Rejected(400, "label must be a non-empty string")
    if len(label) > _MAX_LABEL or not all(" " <= c <= "~" for c in label):
        raise Rejected(400, "label must be at most %d printable ASCII characters" % _MAX_LABEL)
    category = body.get("category", "training")
    if category not in CATEGORIES:
        raise Rejected(400, "category must be one of %s, not %s" % (", ".join(CATEGORIES), _short(category)))
    sensors = entry.device["sensors"]
    name = body.get("sensor", sensors[0]["name"] if sensors else None)
    sensor = entry.sensor(name) if isinstance(name, str) else None
    if sensor is None:
        raise Rejected(400, "sensor %s is not one the device declared (%s)" % (
            _short(name), ", ".join(s["name"] for s in sensors) or "none"))
    length = _number(body, "lengthMs", "milliseconds")
    if length > sensor["maxSampleLengthS"] * 1000:
        raise Rejected(400, "lengthMs %s is over the %s s the device takes for %s (maxSampleLengthS)"
                       % (_short(length), _short(sensor["maxSampleLengthS"]), name))
    if "intervalMs" in body:
        interval = _number(body, "intervalMs", "milliseconds")
    elif "frequency" in body:
        frequency = _number(body, "frequency", "Hz")
        if sensor["frequencies"] and frequency not in sensor["frequencies"]:
            raise Rejected(400, "frequency %s Hz is not one of %s's (%s)" % (
                _short(frequency), name, ", ".join("%g" % f for f in sensor["frequencies"])))
        interval = 1000 / frequency
    else:
        raise Rejected(400, "intervalMs (or frequency in Hz) is missing")
    if interval > length:
        raise Rejected(400, "intervalMs %s is longer than lengthMs %s: not one value" % (
            _short(interval), _short(length)))
    return label, length, interval, category, name


def start_sampling(app, request, device_id):
    entry = app.devices.get(request.project.name, device_id)
    if entry is None:
        raise Rejected(404, "Not found: no device %s has connected to project %s"
                       % (_short(device_id), request.project.name))
    size = request.content_length
    if size is None or size > _MAX_BODY:
        raise Rejected(400 if size is None else 413, "The body must be JSON with a Content-Length, "
                                                     "at most %d bytes" % _MAX_BODY)
    body = strict_json(request.get_data(), "the body")
    label, length, interval, category, sensor = check(entry, body)
    request_ = sample_request(label, max(1, round(length)), _int(interval), request.project.sample_hmac_key,
                              sensor=sensor, path=sample_path(category))
    try:
        app.devices.start_sample(entry, request_)
    except RuntimeError as e:
        raise Rejected(409, "Conflict: %s" % e)
    return json_answer(entry.describe())


def _int(v):
    """Milliseconds as the CLI sends them: an int when whole."""
    return int(v) if v == int(v) else v
