"""Edge Impulse's data acquisition format, checked and read without decoding a sample whole.

CBOR (cbor_sample.py) and JSON (json_sample.py, at most MAX_JSON_BYTES) are both walked, with
payload.values checked row by row (Rows, here) and never kept. Both give the same summary and
the same refusals, with the same limits on what the service keeps (check_header: MAX_FIELD
bytes a name, MAX_AXES sensors, MAX_SUMMARY in all); signature.py checks HS256 signatures.
Binary values (Ref-BINARY-i16: Edge Impulse's sensor_aq writes `values` as one padded text and
appends the raw little-endian samples) are counted, never decoded, to check.
"""
import json
import math
import re

from service.config import MAX_AXES, MAX_FIELD, MAX_JSON_BYTES, MAX_SAFE_INTEGER, MAX_SUMMARY
from service.web import Rejected

BINARY_REF = "Ref-BINARY-"
BINARY_TYPES = {"i16": "<h"}
_HEX = re.compile(r"[0-9a-fA-F]{64}")


def bad(why):
    raise Rejected(400, "Invalid message: " + why)


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _why_not_number(v):
    """Why v is not a value a sample may hold (None: it is one): a finite number, an integer
    within +-2**53."""
    if not _number(v):
        return "is not a number"
    if isinstance(v, float) and not math.isfinite(v):
        return "is not finite"
    if isinstance(v, int) and abs(v) > MAX_SAFE_INTEGER:
        return "is an integer beyond +-2**53"
    return None


class Rows:
    """Checks payload.values one row at a time and counts them; `keep` picks rows to hand on."""

    def __init__(self, keep=None):
        self.count, self.width, self.odd, self.scalar, self.keep = 0, None, None, None, keep

    def row(self, item):
        i = self.count
        if not isinstance(item, list):
            if self.scalar is None:
                self.scalar = i
            item = [item]  # one sensor: a flat list of numbers is accepted too
        if len(item) > MAX_AXES:
            bad("payload.values[%d] has %d values; a sample has at most %d sensors" % (i, len(item), MAX_AXES))
        for j, v in enumerate(item):
            why = _why_not_number(v)
            if why:
                bad("payload.values[%d][%d] %s: %s" % (i, j, why, _short(v)))
        if self.width is None:
            self.width = len(item)
        elif len(item) != self.width and self.odd is None:
            self.odd = (i, len(item))
        if self.keep:
            self.keep(i, item)
        self.count += 1

    def finish(self, sensors):
        if self.scalar is not None and sensors != 1:
            bad("payload.values[%d] must be a list of %d numbers" % (self.scalar, sensors))
        if self.count and self.width != sensors:
            bad("payload.values[0] has %d values, but there are %d sensors" % (self.width, sensors))
        if self.odd:
            bad("payload.values[%d] has %d values, but there are %d sensors" % (self.odd + (sensors,)))


def _short(v):
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _text(value, what):
    """A text the service keeps: a string of at most MAX_FIELD bytes."""
    if not isinstance(value, str):
        bad("%s must be a string" % what)
    if len(value) > MAX_FIELD or len(value.encode("utf-8", "surrogatepass")) > MAX_FIELD:
        bad("%s is over %d bytes" % (what, MAX_FIELD))
    return value


def check_header(obj):
    """Everything but payload.values; returns the summary the index keeps."""
    if not isinstance(obj, dict):
        bad("not a data acquisition object (expected a map with payload, protected and signature)")
    for key in ("payload", "protected", "signature"):
        if key not in obj:
            bad("not a data acquisition object: '%s' is missing" % key)
    protected, payload, signature = obj["protected"], obj["payload"], obj["signature"]
    if not isinstance(protected, dict):
        bad("'protected' must be a map")
    if protected.get("ver") != "v1":
        bad("protected.ver must be \"v1\", not %r" % (protected.get("ver"),))
    if protected.get("alg") not in ("none", "HS256"):
        bad("protected.alg must be \"none\" or \"HS256\", not %r" % (protected.get("alg"),))
    iat = protected.get("iat")
    if iat is not None and _why_not_number(iat):
        bad("protected.iat must be seconds since the epoch, not %s" % _short(iat))
    # Edge Impulse's SDK sends "signature": null for alg none (its dataclass default).
    if not isinstance(signature, str) and not (signature is None and protected["alg"] == "none"):
        bad("'signature' must be a string")
    if protected["alg"] == "HS256" and not _HEX.fullmatch(signature):
        bad("'signature' must be 64 hexadecimal digits (ASCII) for HS256")
    if not isinstance(payload, dict):
        bad("'payload' must be a map")
    for key in ("device_type", "interval_ms", "sensors", "values"):
        if key not in payload:
            bad("payload.%s is missing" % key)
    device_type = _text(payload["device_type"], "payload.device_type")
    device_name = payload.get("device_name")
    if device_name is not None:
        _text(device_name, "payload.device_name")
    interval = payload["interval_ms"]
    # 0 is what the SDK, the CLI and the daemon send for a sample that is not a time series.
    if _why_not_number(interval) or interval < 0:
        bad("payload.interval_ms must be a number of at least 0, not %s" % _short(interval))
    sensors = payload["sensors"]
    if not isinstance(sensors, list) or not sensors:
        bad("payload.sensors must be a non-empty list of {name, units}")
    if len(sensors) > MAX_AXES:
        bad("payload.sensors has %d sensors; a sample has at most %d" % (len(sensors), MAX_AXES))
    for i, s in enumerate(sensors):
        if not (isinstance(s, dict) and isinstance(s.get("name"), str) and isinstance(s.get("units"), str)):
            bad("payload.sensors[%d] must be a map with string name and units" % i)
        _text(s["name"], "payload.sensors[%d].name" % i)
        _text(s["units"], "payload.sensors[%d].units" % i)
    summary = {"device_name": device_name, "device_type": device_type, "interval_ms": interval,
               "sensors": [{"name": s["name"], "units": s["units"]} for s in sensors],
               "signed": protected["alg"] == "HS256"}
    check_summary(summary)
    return summary


def check_summary(summary):
    """What the index keeps of a file is at most MAX_SUMMARY bytes (it is in every list)."""
    size = len(json.dumps(summary))
    if size > MAX_SUMMARY:
        bad("the sample's description (sensors' names and units) takes %d bytes; at most %d"
            % (size, MAX_SUMMARY))


# ---- JSON, walked as a stream (json_sample.py) --------------------------------------------------

def read_json(f, size, keep=None):
    """Check the JSON sample in f: (summary, the signature's byte span or None)."""
    from service import json_sample
    if size > MAX_JSON_BYTES:
        bad("a JSON sample of %d bytes; the service reads JSON samples of at most %d bytes "
            "(send CBOR, or Ref-BINARY values, for more)" % (size, MAX_JSON_BYTES))
    rows = Rows(keep)
    obj, span = json_sample.read_json(f, size, rows)
    summary = check_header(obj)
    if "values" in obj["payload"] and not rows.count:
        bad("payload.values is empty")
    rows.finish(len(summary["sensors"]))
    summary.update(rows=rows.count, binary=None)
    return summary, span
