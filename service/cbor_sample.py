"""A CBOR data acquisition object, walked with cbor_stream: the map's known keys are built,
payload.values is checked row by row (acquisition.Rows) and never kept, other keys are stepped
over, and Ref-BINARY values are counted from the bytes after the object, not decoded."""
import struct

from service.acquisition import BINARY_REF, BINARY_TYPES, Rows, bad, check_header
from service.cbor_stream import CBORError, Reader, tag_error
from service.config import MAX_DEPTH
from service.web import Rejected


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

    def field(what, depth):
        try:
            return r.value(depth)
        except CBORError as e:  # valid CBOR perhaps, but not what the service reads there
            if "tag" in str(e) or "ends inside" in str(e):
                raise
            bad("%s: %s" % (what, e))

    def payload_key(key, out):
        if key == "values":
            out["values"] = _values(r, rows)
        elif key in ("device_name", "device_type", "interval_ms", "sensors"):
            out[key] = field("payload." + key, 2)
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
    if major == 6:
        raise tag_error(arg)
    if major == 3:
        return r._string(3, arg, True)
    return "<%s>" % {2: "bytes", 5: "a map"}[major]


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


def binary_rows(f, start, kind, width, picks, keep):
    """keep(row) for each row numbered in picks, read from the raw data at `start`."""
    fmt = "<%d%s" % (width, BINARY_TYPES[kind][1])
    size = struct.calcsize(fmt)
    for i in picks:
        f.seek(start + i * size)
        keep(list(struct.unpack(fmt, f.read(size))))
