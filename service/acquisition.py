"""Edge Impulse's data acquisition format, checked and read without decoding a sample whole.

CBOR is walked (cbor_sample.py, payload.values row by row); JSON, at most MAX_JSON_BYTES, is
decoded whole (here). Both give the same summary and the same refusals (signature.py checks HS256
signatures). Binary values (Ref-BINARY-i16: Edge Impulse's sensor_aq writes `values` as one
padded text and appends the raw little-endian samples) are counted, never decoded, to check.
"""
import math
import re


from service.config import MAX_JSON_BYTES
from service.web import Rejected, strict_json

BINARY_REF = "Ref-BINARY-"
BINARY_TYPES = {"i16": "<h"}
_HEX = re.compile(r"[0-9a-fA-F]{64}")


def bad(why):
    raise Rejected(400, "Invalid message: " + why)


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


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
        for j, v in enumerate(item):
            if not _number(v):
                bad("payload.values[%d][%d] is not a number: %r" % (i, j, v))
            if isinstance(v, float) and not math.isfinite(v):
                bad("payload.values[%d][%d] is not finite: %r" % (i, j, v))
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
    if iat is not None and not (_number(iat) and math.isfinite(iat)):
        bad("protected.iat must be seconds since the epoch, not %r" % (iat,))
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
    if not isinstance(payload["device_type"], str):
        bad("payload.device_type must be a string")
    device_name = payload.get("device_name")
    if device_name is not None and not isinstance(device_name, str):
        bad("payload.device_name must be a string")
    interval = payload["interval_ms"]
    # 0 is what the SDK, the CLI and the daemon send for a sample that is not a time series.
    if not (_number(interval) and math.isfinite(interval) and interval >= 0):
        bad("payload.interval_ms must be a number of at least 0, not %r" % (interval,))
    sensors = payload["sensors"]
    if not isinstance(sensors, list) or not sensors:
        bad("payload.sensors must be a non-empty list of {name, units}")
    for i, s in enumerate(sensors):
        if not (isinstance(s, dict) and isinstance(s.get("name"), str) and isinstance(s.get("units"), str)):
            bad("payload.sensors[%d] must be a map with string name and units" % i)
    return {"device_name": device_name, "device_type": payload["device_type"], "interval_ms": interval,
            "sensors": [{"name": s["name"], "units": s["units"]} for s in sensors],
            "signed": protected["alg"] == "HS256"}


# ---- JSON, decoded whole (it has no binary form) ----------------------------------------------

def read_json(f, size, keep=None):
    if size > MAX_JSON_BYTES:
        bad("a JSON sample of %d bytes; the service reads JSON samples of at most %d bytes "
            "(send CBOR, or Ref-BINARY values, for more)" % (size, MAX_JSON_BYTES))
    body = f.read()
    obj = strict_json(body, "body")
    summary = check_header(obj)
    values = obj["payload"]["values"]
    if not isinstance(values, list):
        bad("payload.values must be a list")
    if not values:
        bad("payload.values is empty")
    rows = Rows(keep)
    for item in values:
        rows.row(item)
    rows.finish(len(summary["sensors"]))
    summary.update(rows=rows.count, binary=None)
    return summary, obj, body
