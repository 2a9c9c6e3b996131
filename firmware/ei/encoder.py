# The encoder: writes a Sample in the data acquisition format, as CBOR or JSON, streamed
# through a fixed chunk buffer, with its length known first and HS256 signing on the fly.
#
# Keys are written in the page's order (MicroPython dicts keep none): payload, protected,
# signature; device_name, device_type, interval_ms, sensors, values. The signature comes
# last, so it is computed as the body streams out and written at the end: no seek, no
# second pass. HS256 signs the whole object with the signature set to 64 ASCII zeros.
from struct import pack_into

from ei import cbor
from ei.compat import const

_ZEROS = b"0" * 64
# Bytes packed before each socket write. 512 keeps an upload's heap small (a larger buffer
# costs heap one for one, and the answer is read through it too); it costs little time:
# appended rows, the usual sample, pass to the socket as their stored CBOR in _SLICE views,
# without this buffer, and the socket sends each write at once (TCP_NODELAY, ei/compat.py).
CHUNK = const(512)
_SLICE = const(4096)  # bytes of appended rows per piece (views: no buffer)


class Encoding:
    """How a sample is serialised: fmt "cbor" or "json", 32-bit CBOR floats, HS256 key, iat."""

    def __init__(self, fmt="cbor", float32=False, hmac_key=None, iat=None):
        if fmt not in ("cbor", "json"):
            raise ValueError("fmt must be 'cbor' or 'json', not %r" % (fmt,))
        if iat is not None and (not isinstance(iat, int) or iat < 0):
            raise ValueError("iat must be seconds since the epoch, not %r" % (iat,))
        self.fmt = fmt
        self.float32 = float32
        self.hmac_key = hmac_key
        self.iat = iat

    def __repr__(self):  # never shows the key
        return "<Encoding %s%s%s>" % (self.fmt, " float32" if self.float32 else "",
                                      " HS256" if self.hmac_key else "")

    @property
    def content_type(self):
        return "application/cbor" if self.fmt == "cbor" else "application/json"


# One chunk buffer is made when this module is imported, while the heap still has room in
# one piece: once a program has run a while, the heap's free memory is in small pieces (on
# the unix port with a 64 KB heap, ~16 KB free after `import ei`, ~1 KB of it in one piece),
# and 512 bytes in one piece may not be found. One body at a time takes it; another makes its
# own.
_spare = bytearray(CHUNK)


class Chunker:
    """One preallocated buffer that small pieces are gathered into. take() hands out what it
    holds as a view, valid until the buffer is written again; put(b) is a generator that
    yields the buffer first when b does not fit. A `mac` (HMAC) sees every byte handed out
    while it is set. release() gives the module's buffer back for the next body."""

    def __init__(self, size=CHUNK):
        global _spare
        self.size = size
        if _spare is not None and len(_spare) == size:
            self.buf, _spare = _spare, None
        else:
            self.buf = bytearray(size)
        self.mv = memoryview(self.buf)
        self.pos = 0
        self.mac = None

    def release(self):
        global _spare
        if len(self.buf) == CHUNK:
            _spare = self.buf
        self.buf = self.mv = None

    def take(self):
        v = self.mv[:self.pos]
        self.pos = 0
        if self.mac is not None:
            self.mac.update(v)
        return v

    def put(self, b):
        n = len(b)
        if self.pos + n > self.size:
            if self.pos:
                yield self.take()
            if n > self.size:  # a large piece goes out as it is
                if self.mac is not None:
                    self.mac.update(b)
                yield b
                return
        self.mv[self.pos:self.pos + n] = b
        self.pos += n


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

def _cbor_pairs(pairs, write):
    cbor.write_head(write, 5, len(pairs))
    for k, v in pairs:
        cbor.dump(k, write)
        cbor.dump(v, write)


def _cbor_parts(sample, enc):
    """(head, middle, sig_head): the bytes before the rows, between the rows and the
    signature's text, and the signature's own CBOR head. Small: built once per upload,
    each into one bytearray (a list of the small pieces would hold ~40 objects at once)."""
    head = bytearray()
    w = head.extend
    cbor.write_head(w, 5, 3)
    cbor.dump("payload", w)
    fields = _payload_fields(sample)
    cbor.write_head(w, 5, len(fields) + 2)
    for k, v in fields:
        cbor.dump(k, w)
        cbor.dump(v, w)
    cbor.dump("sensors", w)
    cbor.write_head(w, 4, sample.width)
    for name, units in sample.sensors:
        _cbor_pairs((("name", name), ("units", units)), w)
    cbor.dump("values", w)
    cbor.write_head(w, 4, sample.rows)
    middle = bytearray()
    w = middle.extend
    cbor.dump("protected", w)
    _cbor_pairs(_protected(enc), w)
    cbor.dump("signature", w)
    sig_head = cbor.head(3, 64 if enc.hmac_key else 2)
    return head, middle, sig_head


def _cbor_row_len(sample, enc):
    return len(cbor.head(4, sample.width)) + sample.width * (5 if enc.float32 else 9)


def _cbor_rows(sample, enc, ch):
    """A generator over the rows, yielding the chunk buffer each time it is full: one of
    three, so that each way's generator (its frame is allocated whole, on a heap that may be
    in small pieces by then) holds only its own locals, and each loads only its own code."""
    raw = sample.cbor_rows(enc.float32)
    if raw is None:
        return _packed_rows(sample, enc, ch)
    if isinstance(raw, memoryview):
        return _views(raw, ch)
    # a capture file's rows (ei/capture.py, loaded already: the sample is one)
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


def _packed_rows(sample, enc, ch):
    # The hot loop: each value is packed straight into the chunk buffer; nothing is allocated
    # per value but the float the row hands us. (Three values to a pack_into was 15-25%
    # faster, but its larger code took the heap a capture upload needs on the unix port.)
    row_len = _cbor_row_len(sample, enc)
    size = ch.size
    row_head = cbor.head(4, sample.width)
    hl = len(row_head)
    tag, fmt, step = (0xFA, ">f", 5) if enc.float32 else (0xFB, ">d", 9)
    buf = ch.buf
    for row in sample.iter_rows():
        if ch.pos + row_len > size:
            yield ch.take()
        p = ch.pos
        for i in range(hl):  # item assignment: a slice would allocate on MicroPython
            buf[p + i] = row_head[i]
        p += hl
        for v in row:
            buf[p] = tag
            pack_into(fmt, buf, p + 1, v)
            p += step
        ch.pos = p


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
            raise ValueError("JSON's length depends on every number, so it needs values that "
                             "can be read twice (a list or a capture file); use fmt='cbor'")
        from ei.json_body import rows_len
        rows = rows_len(sample)
    return len(head) + rows + len(middle) + len(sig_head) + sig + len(tail)


def chunks(sample, enc, chunk=CHUNK):
    """Yield the encoded sample in pieces of at most `chunk` bytes (fixed pieces larger than
    a chunk pass whole; appended rows pass as views of their stored CBOR, _SLICE bytes at
    most). A piece is a view of one reused buffer: use it before asking for the next. This
    is the pull form of write(), for transports that iterate over a body."""
    head, middle, sig_head, tail = _parts(sample, enc)
    ch = Chunker(max(chunk, 2 * _cbor_row_len(sample, enc)))
    try:
        if enc.hmac_key:
            from ei.signing import HMAC
            ch.mac = HMAC(enc.hmac_key)
        yield from ch.put(head)
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
        if ch.pos:
            yield ch.take()
    finally:
        # at the end, or when the transport closes this generator (the last piece is out)
        ch.release()


def write(sample, enc, out, chunk=CHUNK):
    """Write the encoded sample through out(bytes), in the pieces chunks() yields. Returns
    the bytes written."""
    n = 0
    for b in chunks(sample, enc, chunk):
        out(b)
        n += len(b)
    return n


def dumps(sample, enc=None):
    """The whole encoded sample as bytes (small samples, tests, the offline queue)."""
    out = []
    # Chunks are views of one reused buffer: copy each as it comes.
    write(sample, enc or Encoding(), lambda b: out.append(bytes(b)))
    return b"".join(out)
