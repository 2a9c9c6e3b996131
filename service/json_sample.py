"""A JSON data acquisition object, walked as a stream as cbor_sample.py walks CBOR: the text is
decoded a window at a time (64 kB read, at most MAX_ROW_BYTES held), the maps that lead to the
fields the service reads are walked key by key, each of those fields is built (bounded by the
window), payload.values is checked row by row (acquisition.Rows) and never kept, and any other
field is checked and dropped. So a 16 MB sample costs what one window and one row cost.

Strict JSON throughout (web.loads): no NaN or Infinity, no integer beyond +-2**53, UTF-8, no
key twice in one object, nesting at most MAX_DEPTH. The signature's place in the file (bytes)
is kept, so that signature.py can check it over the bytes as received.
"""
import codecs
import json
import re

from service.acquisition import bad
from service.config import MAX_BUILT, MAX_DEPTH, MAX_ROW_BYTES
from service.web import no_constant, depth_ok, finite_float, safe_int

_READ = 64 * 1024
_WS = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')
_PLAIN = re.compile(r"[-+0-9.eE \t\n\r,\[\]]*")  # what rows of numbers are made of
_BATCH = 64 * 1024
_PAYLOAD = ("device_name", "device_type", "interval_ms", "sensors")  # what is kept of payload
_TOP = ("protected", "payload")


def _pairs(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        bad("body is not valid JSON: a key is repeated in one object (%r)"
            % next(k for k in keys if keys.count(k) > 1)[:40])
    return dict(pairs)


_DECODER = json.JSONDecoder(parse_constant=no_constant, parse_float=finite_float,
                            parse_int=safe_int, object_pairs_hook=_pairs)


class Reader:
    """The text of a JSON file a window at a time: buf[i:] is what is left to read of it."""

    def __init__(self, f, size):
        self.f, self.left_bytes = f, size
        self.utf8 = codecs.getincrementaldecoder("utf-8")("strict")
        self.buf, self.i, self.base = "", 0, 0  # base: the byte offset of buf[0]
        self.eof = False
        self.keys = 0  # keys walked: at most MAX_BUILT (each is remembered to refuse a repeat)

    def fill(self, need=MAX_ROW_BYTES):
        """At least `need` characters in buf[i:], unless the file ends first."""
        while len(self.buf) - self.i < need and not self.eof:
            data = self.f.read(min(_READ, self.left_bytes))
            self.left_bytes -= len(data)
            try:
                text = self.utf8.decode(data, final=not data or not self.left_bytes)
            except UnicodeDecodeError as e:
                bad("body is not valid JSON: not UTF-8 (%s)" % e.reason)
            if not data or not self.left_bytes:
                self.eof = True
            if self.i:  # drop what was read: the window never holds more than it must
                self.base += len(self.buf[:self.i].encode("utf-8"))
                self.buf, self.i = self.buf[self.i:], 0
            self.buf += text

    def at(self, i=None):
        """The byte offset in the file of buf[i] (default: the next character)."""
        i = self.i if i is None else i
        return self.base + len(self.buf[:i].encode("utf-8"))

    def peek(self):
        """The next character that is not whitespace ('' at the end)."""
        while True:
            self.fill(1)
            self.i = _WS.match(self.buf, self.i).end()
            if self.i < len(self.buf) or self.eof:
                return self.buf[self.i:self.i + 1]

    def expect(self, ch, what):
        if self.peek() != ch:
            found = self.buf[self.i:self.i + 20]
            bad("body is not valid JSON: expected %s, found %r" % (what, found) if found else
                "body is not valid JSON: it ends where %s was expected" % what)
        self.i += 1

    def key(self):
        self.peek()
        self.fill()
        m = _STRING.match(self.buf, self.i)
        if m is None:
            bad("body is not valid JSON: expected a key (a string) at byte %d" % self.at())
        self.i = m.end()
        self.expect(":", "':'")
        return json.loads(m.group())

    def value(self, what, depth):
        """The next value, built (at most MAX_ROW_BYTES of text, nested at most MAX_DEPTH)."""
        self.peek()
        self.fill()
        try:
            value, end = _DECODER.raw_decode(self.buf, self.i)
        except RecursionError:
            bad("%s is nested deeper than %d levels" % (what, MAX_DEPTH))
        except ValueError as e:  # JSONDecodeError, NaN, an integer beyond 2**53, a repeated key
            msg = getattr(e, "msg", "")
            if not self.eof and (getattr(e, "pos", 0) >= len(self.buf) - 1 or msg.startswith("Unterminated")):
                bad("%s is over %d bytes of JSON" % (what, MAX_ROW_BYTES))  # it goes on past the window
            bad("body is not valid JSON (%s)" % (e.msg if hasattr(e, "msg") else e))
        if end >= len(self.buf) and not self.eof:  # it may go on past the window
            bad("%s is over %d bytes of JSON" % (what, MAX_ROW_BYTES))
        if isinstance(value, (list, dict)) and not depth_ok(value, MAX_DEPTH - depth):
            bad("%s is nested deeper than %d levels" % (what, MAX_DEPTH))
        self.i = end
        return value

    def members(self, what, on_key):
        """Walk an object key by key: on_key(key) reads each value. False if it is no object."""
        if self.peek() != "{":
            return False
        self.i += 1
        seen = set()
        if self.peek() == "}":
            self.i += 1
            return True
        while True:
            key = self.key()
            self.keys += 1
            if self.keys > MAX_BUILT:
                bad("more than %d keys in the maps of the sample" % MAX_BUILT)
            if key in seen:
                bad("%s holds the key %r twice" % (what, key[:40]))
            seen.add(key)
            on_key(key)
            ch = self.peek()
            self.i += 1
            if ch == "}":
                return True
            if ch != ",":
                self.i -= 1
                self.expect(",", "',' or '}' in %s" % what)


def _batch(r):
    """The items of payload.values in the next _BATCH characters, parsed at once when they are
    numbers or rows of numbers (the C parser does the work: a row at a time costs ten times
    more); None when they are not, and the items are then read one by one."""
    window = r.buf[r.i:r.i + _BATCH]
    cut = window.rfind("],") + 1 if window[:1] == "[" else window.rfind(",")
    if cut <= 0 or not _PLAIN.fullmatch(window, 0, cut):
        return None
    try:
        items = _DECODER.decode("[" + window[:cut] + "]")
    except (ValueError, RecursionError):
        return None
    r.i += cut
    return items


def _values(r, rows):
    """payload.values, row by row: a window's rows parsed at once (_batch), or each item built
    alone (one row, a window at most); only Rows sees them, and keeps none."""
    if r.peek() != "[":
        bad("payload.values must be a list")
    r.i += 1
    if r.peek() == "]":
        r.i += 1
        return
    alone = 0  # items to read one by one before trying a batch again
    while True:
        r.fill()
        items = _batch(r) if not alone else None
        if items is not None:
            for item in items:
                rows.row(item)
        else:
            alone = alone - 1 if alone else 100
            rows.row(r.value("payload.values[%d]" % rows.count, 3))
        ch = r.peek()
        r.i += 1
        if ch == "]":
            return
        if ch != ",":
            r.i -= 1
            r.expect(",", "',' or ']' in payload.values")


def read_json(f, size, rows):
    """Walk the JSON sample in f: (the object without payload.values, the signature's
    (start, end) byte offsets in the file or None). Rows get payload.values."""
    r = Reader(f, size)
    top, span = {}, [None]

    def payload_key(key, out):
        if key == "values":
            out["values"] = _values(r, rows)
        else:  # checked as JSON; kept only when the service reads it
            value = r.value("payload.%s" % key, 2)
            if key in _PAYLOAD:
                out[key] = value

    def top_key(key):
        if key == "payload":
            out = {}
            if not r.members("payload", lambda k: payload_key(k, out)):
                top["payload"] = r.value("payload", 1)  # not a map: check_header says so
            else:
                top["payload"] = out
        elif key == "signature":
            r.peek()
            start = r.i
            top["signature"] = r.value("signature", 1)
            if isinstance(top["signature"], str):  # the hex digits, inside the quotes
                span[0] = (r.at(start + 1), r.at(r.i - 1))
        else:
            value = r.value(key, 1)
            if key in _TOP:
                top[key] = value

    if not r.members("the body", top_key):
        found = r.peek()
        if found in ("[", '"') or found.isdigit() or found in ("-", "t", "f", "n"):
            r.value("the body", 0)  # valid JSON? then it is not an object
            bad("not a data acquisition object (expected a map with payload, protected and signature)")
        bad("body is not valid JSON: %s" % ("it is empty" if not found else "it starts with %r" % found))
    if r.peek():
        bad("body is not valid JSON: %r after the end of the object" % r.buf[r.i:r.i + 20])
    return top, span[0]
