"""Edge Impulse's data acquisition format, checked and read without decoding a sample whole.

CBOR is walked with cbor_stream (payload.values row by row); JSON, at most MAX_JSON_BYTES, is
decoded whole. Both give the same summary and the same refusals. A signature is checked over
the bytes as received with the signature replaced by 64 '0's: it then covers every value the
service stores. Binary values (Ref-BINARY-i16: Edge Impulse's sensor_aq writes `values` as one
padded text and appends the raw little-endian samples) are counted, never decoded, to check.
"""
import hashlib
import hmac
import math
import re
import struct

import cbor2

from service.cbor_stream import CBORError, Reader
from service.config import EMPTY_SIGNATURE, MAX_DEPTH, MAX_JSON_BYTES
from service.web import Rejected, strict_json

BINARY_REF = "Ref-BINARY-"
BINARY_TYPES = {"i16": "<h"}
_HEX = re.compile(r"[0-9a-fA-F]{64}")
_REENCODE_BYTES = 1024 * 1024  # a signature over cbor2's own encoding is also tried up to here


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


# ---- CBOR, walked ------------------------------------------------------------------------------

def _map_keys(r, depth, on_key):
    major, n = r.head()
    if major != 5:
        return False
    seen, k = set(), 0
    while (not r.at_break()) if n is None else k < n:
        key = r.value(depth + 1)
        if isinstance(key, (list, dict)) or key in seen:
            bad("a map key that is repeated or not text: %r" % (key,))
        seen.add(key)
        on_key(key)
        k += 1
    return True


def _walk(r, rows):
    """Walk one acquisition object; returns (header object, (start, end) of the signature)."""
    top, span = {}, [None]

    def payload_key(key, out):
        if key == "values":
            out["values"] = _values(r, rows)
        elif key in ("device_name", "device_type", "interval_ms", "sensors"):
            out[key] = r.value(2)
        else:
            r.value(2, build=False)

    def top_key(key):
        if key == "payload":
            out = {}
            if not _map_keys(r, 1, lambda k: payload_key(k, out)):
                bad("'payload' must be a map")
            top["payload"] = out
        elif key == "signature":
            start = r.tell()
            top["signature"] = r.value(1)
            span[0] = (start, r.tell())
        elif key == "protected":
            top["protected"] = r.value(1)
        else:
            r.value(1, build=False)

    if not _map_keys(r, 0, top_key):
        bad("not a data acquisition object (expected a map with payload, protected and signature)")
    return top, span[0]


def _values(r, rows):
    major, n = r.head()
    if major != 4:
        bad("payload.values must be a list")
    k, ref = 0, None
    while (not r.at_break()) if n is None else k < n:
        item = _row(r)
        if k == 0 and isinstance(item, str) and item.startswith(BINARY_REF):
            ref = item[len(BINARY_REF):].strip()
        elif ref is not None:
            bad("payload.values holds %s and more" % BINARY_REF)
        else:
            rows.row(item)
        k += 1
    return ref


def _row(r, depth=2):
    """One item of payload.values: a row (a list), or a number, or a text (Ref-BINARY)."""
    if depth > MAX_DEPTH:
        bad("payload.values is nested deeper than %d levels" % MAX_DEPTH)
    major, arg = r.head()
    if major == 4:
        out, k = [], 0
        while (not r.at_break()) if arg is None else k < arg:
            out.append(_row(r, depth + 1))
            k += 1
        return out
    if major == 0:
        return arg
    if major == 1:
        return -1 - arg
    if major == 7:
        return arg
    if major == 6 and arg in (2, 3):
        m, n = r.head()
        if m != 2 or n is None:
            bad("a bignum tag on something that is not a byte string")
        v = int.from_bytes(r.take(n), "big")
        return v if arg == 2 else -1 - v
    if major == 3:
        return r._string(3, arg, True)
    return "<%s>" % {2: "bytes", 5: "a map", 6: "a tag"}[major]


def read_cbor(f, size, keep=None):
    """Check the CBOR sample in f; (summary, signature span, offset of binary data or None)."""
    rows = Rows(keep)
    start = f.tell()
    r = Reader(f, size)
    try:
        obj, span = _walk(r, rows)
    except CBORError as e:
        bad("body is not valid CBOR (%s)" % e)
    except Rejected:
        f.seek(start)
        try:  # not a map: say first whether it is CBOR at all
            Reader(f, size).value(build=False)
        except CBORError as e:
            bad("body is not valid CBOR (%s)" % e)
        raise
    summary = check_header(obj)
    width = len(summary["sensors"])
    ref = obj["payload"].get("values")
    end = r.tell()
    if ref is not None:
        if ref not in BINARY_TYPES:
            bad("payload.values is %s%s; binary values are %s" % (
                BINARY_REF, ref, ", ".join(BINARY_REF + t for t in BINARY_TYPES)))
        row_bytes = struct.calcsize(BINARY_TYPES[ref]) * width
        raw = size - end
        if not raw or raw % row_bytes:
            bad("%d bytes of %s data after the CBOR header are not whole rows of %d values"
                % (raw, ref, width))
        summary.update(rows=raw // row_bytes, binary=ref)
        return summary, span, end
    if end != size:
        bad("body is not valid CBOR (%d bytes after the end of the first item)" % (size - end))
    if not rows.count:
        bad("payload.values is empty")
    rows.finish(width)
    summary.update(rows=rows.count, binary=None)
    return summary, span, None


def binary_rows(f, start, kind, width, picks):
    """The rows numbered in picks, read from the raw data at `start`."""
    fmt = "<%d%s" % (width, BINARY_TYPES[kind][1])
    size = struct.calcsize(fmt)
    out = []
    for i in picks:
        f.seek(start + i * size)
        out.append(list(struct.unpack(fmt, f.read(size))))
    return out


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


# ---- signatures --------------------------------------------------------------------------------

def _mac(key, chunks):
    m = hmac.new(key.encode("utf-8"), digestmod=hashlib.sha256)
    for c in chunks:
        m.update(c)
    return m.hexdigest()


def _file_with(f, start, end, middle):
    """The file's bytes in chunks, with [start, end) replaced by middle."""
    f.seek(0)
    yield f.read(start)
    yield middle
    f.seek(end)
    while True:
        chunk = f.read(1024 * 1024)
        if not chunk:
            return
        yield chunk


def verify_cbor(f, size, span, signature, binary, hmac_keys):
    """True/False for an HS256 CBOR sample checked against any of hmac_keys."""
    sig = signature.lower()
    zero = cbor2.dumps(EMPTY_SIGNATURE)
    for key in hmac_keys:
        if hmac.compare_digest(_mac(key, _file_with(f, span[0], span[1], zero)), sig):
            return True
    # A signer that signed cbor2's encoding of the object (not its own bytes) covers every
    # value too, unless the values are raw data after the object: tried for small samples.
    if binary is None and size <= _REENCODE_BYTES:
        f.seek(0)
        try:
            obj = cbor2.loads(f.read())
            obj["signature"] = EMPTY_SIGNATURE
            signed = cbor2.dumps(obj)
        except Exception:  # cbor2 raises many kinds; the walk already accepted it
            return False
        return any(hmac.compare_digest(_mac(k, [signed]), sig) for k in hmac_keys)
    return False


def verify_json(body, signature, hmac_keys):
    """JSON: the exact bytes received, with the signature value's hex replaced in place."""
    sig = signature.lower()
    for m in re.finditer(rb'"signature"\s*:\s*"([0-9a-fA-F]{64})"', body):
        if m.group(1).lower() != sig.encode("ascii"):
            continue
        signed = body[:m.start(1)] + EMPTY_SIGNATURE.encode() + body[m.end(1):]
        if any(hmac.compare_digest(_mac(k, [signed]), sig) for k in hmac_keys):
            return True
    return False
