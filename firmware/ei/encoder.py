# The encoder: writes a Sample in the data acquisition format, as CBOR or JSON, streamed
# through a fixed chunk buffer, with its length known first and HS256 signing on the fly.
#
# Keys are written in the page's order (MicroPython dicts keep none): payload, protected,
# signature; device_name, device_type, interval_ms, sensors, values. The signature comes
# last, so it is computed as the body streams out and written at the end: no seek, no
# second pass. HS256 signs the whole object with the signature set to 64 ASCII zeros.
from math import isfinite
from struct import pack, pack_into

from ei import stream
from ei.compat import const
from ei.errors import Msg
from ei.stream import cbor_head

_ZEROS = b"0" * 64
# The chunk buffer's size (ei/stream.py): appended rows, the usual sample, pass to the socket
# as their stored CBOR in _SLICE views, without it, and the socket sends each write at once
# (TCP_NODELAY, ei/compat.py).
CHUNK = stream.CHUNK  # Client(chunk=) and Queue(chunk=) default to it
_SLICE = const(4096)  # bytes of appended rows per piece (views: no buffer)
stream.reserve()  # the chunk buffer, made now while the heap is in one piece
# error texts (ei/messages.py)
_M_NO_ATTRIBUTE = const(0)
_M_FMT = const(37)
_M_IAT = const(38)
_M_JSON_ONCE = const(39)
_M_MORE_ROWS = const(40)
_M_ROWS_YIELDED = const(41)


class Encoding:
    """How a sample is serialised: fmt "cbor" or "json", 32-bit CBOR floats, HS256 key, iat."""

    def __init__(self, fmt="cbor", float32=False, hmac_key=None, iat=None):
        if fmt not in ("cbor", "json"):
            raise ValueError(Msg(_M_FMT, fmt))
        if iat is not None and (not isinstance(iat, int) or iat < 0):
            raise ValueError(Msg(_M_IAT, iat))
        self.fmt = fmt
        self.float32 = float32
        self.hmac_key = hmac_key
        self.iat = iat
        self.content_type = "application/" + fmt  # (its repr is object's: never the key)


def _protected(enc):
    return [("alg", "HS256" if enc.hmac_key else "none"), ("ver", "v1")] + (
        [("iat", enc.iat)] if enc.iat is not None else [])


def _payload_fields(sample):
    f = []
    if sample.device_name is not None:
        f.append(("device_name", sample.device_name))
    f.append(("device_type", sample.device_type))
    f.append(("interval_ms", sample.interval_ms))
    return f


# --- CBOR -----------------------------------------------------------------------------

def _cbor_parts(sample, enc):
    """(head, middle, sig_head): the bytes before the rows, between the rows and the
    signature's text, and the signature's own CBOR head. Small, and made once per body: each
    counted first, then written into one bytearray of its length (no list of the ~40 small
    pieces, no bytearray grown piece by piece, each growth a copy on a crowded heap)."""
    return (_built(_cbor_head, sample), _built(_cbor_middle, enc),
            cbor_head(3, 64 if enc.hmac_key else 2))


def _built(part, x):
    n = [0]

    def count(b):
        n[0] += len(b)

    part(x, count)
    buf = bytearray(n[0])
    n[0] = 0

    def fill(b):
        buf[n[0]:n[0] + len(b)] = b
        n[0] += len(b)

    part(x, fill)
    return buf


def _item(x, w):
    # The CBOR of what a sample's head and its protected part hold: a text, interval_ms (a
    # float: the float64 cbor.dump writes) or iat (an int >= 0). Not ei/cbor.py's dump: an
    # upload does not load the general encoder for these.
    if isinstance(x, str):
        b = x.encode()
        w(cbor_head(3, len(b)))
        w(b)
    elif isinstance(x, float):
        w(pack(">Bd", 0xFB, x))
    else:
        w(cbor_head(0, x))


def _cbor_head(sample, w):
    w(b"\xa3")  # a map of 3: payload, protected, signature
    _item("payload", w)
    fields = _payload_fields(sample)
    w(cbor_head(5, len(fields) + 2))
    for k, v in fields:
        _item(k, w)
        _item(v, w)
    _item("sensors", w)
    w(cbor_head(4, sample.width))
    for name, units in sample.sensors:
        w(b"\xa2")  # a map of 2
        _item("name", w)
        _item(name, w)
        _item("units", w)
        _item(units, w)
    _item("values", w)
    w(cbor_head(4, sample.rows))


def _cbor_middle(enc, w):
    _item("protected", w)
    pairs = _protected(enc)
    w(cbor_head(5, len(pairs)))
    for k, v in pairs:
        _item(k, w)
        _item(v, w)
    _item("signature", w)


def _cbor_row_len(sample, enc):
    return len(cbor_head(4, sample.width)) + sample.width * (5 if enc.float32 else 9)


def _cbor_rows(sample, enc, ch):
    """A generator over the rows, yielding the chunk buffer each time it is full: one of
    four, so that each way's generator (its frame is allocated whole, on a heap that may be
    in small pieces by then) holds only its own locals, and each loads only its own code."""
    raw = sample.cbor_rows(enc.float32)
    if raw is None:  # packed as they stream
        if sample.width == 3:
            rows = sample.row_list()
            if rows is not None:
                from ei.encoder_list import rows3
                return rows3(rows, sample.rows, enc.float32, ch)
            return _rows3(sample.iter_rows(False), enc.float32, ch, sample)
        from ei.rows import pack_rows  # (rows of another width than three: rarer)
        return pack_rows(sample.iter_rows(), sample.width, enc.float32, ch)
    if isinstance(raw, memoryview):
        return _views(raw, ch)
    # a capture file's rows, copied, or converted from the other float size (ei/capture.py,
    # loaded already: the sample is one)
    from ei.capture import copy_rows
    return copy_rows(raw, sample.rows * _cbor_row_len(sample, enc), ch)


def _views(raw, ch):
    # Appended rows, kept in RAM as their CBOR (ei/rows.py): handed on as they are, no copy,
    # in views of _SLICE bytes: each socket write is then bounded, and the request's deadline
    # is checked between them (one write of 500 KB to a server that takes it slowly would
    # run past it). Few writes, so the upload takes about as long as one write of the body.
    if ch.pos:
        yield ch.take()
    for i in range(0, len(raw), _SLICE):
        v = raw[i:i + _SLICE]
        if ch.mac is not None:
            ch.mac.update(v)
        yield v


# The hot loops: each row is packed straight into the chunk buffer; nothing is allocated per
# row but the floats the row hands us. A chunk is handed on when the next pack would not fit
# (p > end: one comparison, no sum). A list's rows go four to a pack_into (ei/encoder_list.py,
# loaded for a list alone: a recording's upload, near its heap's bound, never keeps its code).
# The packing lines are repeated on purpose: a helper called per row would cost each of 18,000
# rows a call (issue 18 measures this path's speed).

def _rows3(rows, float32, ch, sample):
    # Rows of three from an iterator: an iterable's, checked here as they pass (not by a
    # generator of the Sample's own: one frame and one resume a row less), or a re-readable
    # source's (a recording's). Three finite numbers pass three isfinite() calls, which make
    # no float, and a value that is no number makes isfinite raise TypeError; a bool, which
    # passes isfinite, is refused by identity (six comparisons cost less than the three
    # type() calls they replace: 18,000 rows, 5.6 against 7.4 ms on f32, 2026-12-07). A row
    # that fails any of it is checked value by value by Sample.check_row, which names the bad
    # one. When the loop ends early (a failed write), it closes its rows: a generator reading
    # a file is closed then, not by the GC (MicroPython's generators have no finaliser).
    fmt, tag, n = (">HfBfBf", 0xFA, 16) if float32 else (">HdBdBd", 0xFB, 28)
    h = 0x8300 | tag
    buf, p = ch.buf, ch.pos
    end = ch.size - n
    left = sample.rows
    fin, T, F = isfinite, True, False  # (locals: read faster than globals)
    row = rows  # no row read yet (the except clause below)
    try:
        for row in rows:
            if not left:
                raise ValueError(Msg(_M_MORE_ROWS, sample.rows))
            x, y, z = row  # (not three values: named below, one try for all the rows)
            if not (fin(x) and fin(y) and fin(z)) or x is T or x is F or y is T or y is F \
                    or z is T or z is F:
                x, y, z = sample.check_row(row, sample.rows - left)
            left -= 1
            if p > end:
                ch.pos = p
                yield ch.take()
                p = 0
            pack_into(fmt, buf, p, h, x, tag, y, tag, z)
            p += n
        if left:
            raise ValueError(Msg(_M_ROWS_YIELDED, sample.rows - left, sample.rows))
        ch.pos = p
    except (TypeError, ValueError) as e:
        # A row that is not three numbers failed its unpacking or isfinite: check_row names
        # it. Any other error (a bad value named already, the iterable's own, after a good
        # row) goes on as it is.
        if left and row is not rows:
            sample.check_row(row, sample.rows - left)
        raise e
    finally:
        if hasattr(rows, "close"):
            rows.close()


# --- the body -------------------------------------------------------------------------

def _parts(sample, enc):
    if enc.fmt == "cbor":
        return _cbor_parts(sample, enc) + (b"",)
    from ei.json_body import parts  # JSON is the rarer format: its code loads when used
    return parts(sample, _payload_fields(sample), _protected(enc)) + (b'"}',)


def encoded_len(sample, enc):
    """Bytes that write() will produce. JSON needs one counting pass over the rows, so its
    values must be re-readable (a list, appended rows or a capture file)."""
    head, middle, sig_head, tail = _parts(sample, enc)
    sig = 64 if enc.hmac_key else 2
    if enc.fmt == "cbor":
        rows = sample.rows * _cbor_row_len(sample, enc)
    else:
        if not sample.reusable:
            raise ValueError(Msg(_M_JSON_ONCE))
        from ei.json_body import rows_len
        rows = rows_len(sample)
    return len(head) + rows + len(middle) + len(sig_head) + sig + len(tail)


def room(sample, enc):
    """The least chunk buffer the sample's rows pass through: two CBOR rows."""
    return 2 * _cbor_row_len(sample, enc)


def body(sample, enc, ch):
    """Write the encoded sample into the Chunker ch (of room() bytes at least) after what it
    holds, yielding as ch.put does: its buffer each time it is full, fixed pieces larger than
    it whole, appended rows as views of their stored CBOR (_SLICE bytes at most). What is left
    in ch at the end is the caller's to take. /files writes its parts through one ch."""
    head, middle, sig_head, tail = _parts(sample, enc)
    if enc.hmac_key:
        if ch.pos:
            yield ch.take()  # the MAC sees this sample's bytes, from its first
        from ei.signing import HMAC
        ch.mac = HMAC(enc.hmac_key)
    yield from ch.put(head)
    head = None  # not kept while the rows go out
    if enc.fmt == "cbor":
        yield from _cbor_rows(sample, enc, ch)
    else:
        from ei.json_body import rows
        yield from rows(sample, ch)
    yield from ch.put(middle)
    yield from ch.put(sig_head)
    if ch.mac is None:
        yield from ch.put(b"00")
    else:
        if ch.pos:
            yield ch.take()  # the MAC has now seen everything before the signature's text
        mac, ch.mac = ch.mac, None
        mac.update(_ZEROS)
        mac.update(tail)
        yield from ch.put(mac.hexdigest().encode())
    yield from ch.put(tail)


def __getattr__(name):
    # chunks() and write() (the body pulled in pieces, written to a file: the queue's and a
    # daemon sample's ways) are in ei/encoder_pull.py, loaded when first named
    # (encoder.write): an upload over the socket never keeps their code.
    if name in ("chunks", "write"):
        value = getattr(__import__("ei.encoder_pull", None, None, ("_",)), name)
        globals()[name] = value  # found directly next time
        return value
    raise AttributeError(Msg(_M_NO_ATTRIBUTE, "ei.encoder", name))
