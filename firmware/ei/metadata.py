# x-metadata: a sample's metadata as the Ingestion API takes it, a header holding a JSON object
# of names to strings (Edge Impulse's SDK sends json.dumps(metadata)). Loaded only by an
# upload or a queued entry that has metadata, so that a plain upload loads none of it.
import json

from ei.compat import const
from ei.errors import Msg
from ei.wire import check_header

# error texts (ei/messages.py)
_M_METADATA = const(73)
_M_METADATA_ITEM = const(74)


def header(metadata):
    """x-metadata's value for a dict of names to strings or numbers, as Edge Impulse's SDK
    sends it (its JSON); names in sorted order, so that the same dict gives the same bytes
    on every runtime, and text beyond ASCII escaped (\\uXXXX), as CPython's json does and
    MicroPython's does not: a header is ASCII. None or {} gives None (no header); a str is
    such a value already (the offline queue keeps it so)."""
    if not metadata:
        return None
    if isinstance(metadata, str):
        return check_header(metadata, "metadata")
    if not isinstance(metadata, dict):
        raise TypeError(Msg(_M_METADATA, type(metadata).__name__))
    parts = []
    for k in sorted(metadata):
        v = metadata[k]
        if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise TypeError(Msg(_M_METADATA_ITEM, k, v))
        parts.append(_ascii_json(k) + ": " + _ascii_json(v))
    return check_header("{" + ", ".join(parts) + "}", "metadata")


def _ascii_json(v):
    text = json.dumps(v)
    if not isinstance(v, str):
        return text
    out = []
    for ch in text:
        o = ord(ch)
        if o < 0x7F:
            out.append(ch)
        elif o < 0x10000:
            out.append("\\u%04x" % o)
        else:  # a UTF-16 surrogate pair, as JSON writes it
            o -= 0x10000
            out.append("\\u%04x\\u%04x" % (0xD800 + (o >> 10), 0xDC00 + (o & 0x3FF)))
    return "".join(out)
