# The wire: the bytes of an ingestion request (head, multipart framing) and the parsing of
# the response. Headers go out in the order and casing of the Ingestion API page's examples.
from ei.compat import const
from ei.errors import Msg, TransportError
from ei import stream
from ei.stream import decode

CATEGORIES = ("training", "testing", "anomaly")
# The response is read through one fixed buffer (the chunk buffer, stream.CHUNK bytes),
# whatever the server sends: a proxy's 200 KB error page, or a CDN's 2 KB header line, costs no
# more heap than a 9-byte file name.
KEEP = const(256)        # body text kept: the service's error messages are a line (under
                         # 200 bytes); /files' per-file results are read as they pass. Kept
                         # small: it is allocated in one piece, then its str and the error's
                         # (one buffer for it, made at the first body byte: text grown by
                         # concatenation would need old and new at once, 511 bytes)
_MAX_HEADERS = const(64) # header lines in one answer (a real one has about ten)
_LINE = const(128)       # bytes kept of a status, header or chunk-size line: every header read
                         # (Content-Length, Transfer-Encoding) fits; the rest of a line is dropped
_MAX_INTERIM = const(8)  # answers read at most: 1xx interim ones are skipped
MAX_DROP = const(1048576)  # body bytes read at all (kept or dropped): an endless body ends here
_MAX_HEX = const(7)      # hex digits of a chunk size: under 256 MB, a small int on a board

# error texts (ei/messages.py)
_M_CATEGORY = const(1)
_M_NOT_SAMPLE = const(2)
_M_NO_ROWS = const(3)
_M_HMAC_KEY = const(4)
_M_EMPTY = const(5)
_M_CONTROL = const(6)
_M_SINK_KEPT = const(7)
_M_LONG_LINE = const(8)
_M_CLOSED_IN = const(9)
_M_LONG_BODY = const(10)
_M_LENGTHS = const(11)
_M_TRANSFER = const(12)
_M_HEADERS = const(13)
_M_CLOSED_AFTER = const(14)
_M_NOT_HTTP = const(15)
_M_INTERIM = const(16)
_M_BOTH = const(17)
_M_BODY_SIZE = const(18)
_M_CHUNK_SIZE = const(19)
_M_CHUNK_LEN = const(20)

# encodeURIComponent leaves these as they are
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()"

def check_category(category):
    if category not in CATEGORIES:
        raise ValueError(Msg(_M_CATEGORY, category))
    return category


def check_sample(sample, what="upload()"):
    """What every upload checks of a sample before a byte is sent or queued."""
    from ei.acquisition import Sample
    if not isinstance(sample, Sample):
        raise TypeError(Msg(_M_NOT_SAMPLE, what, type(sample).__name__))
    if not sample.rows:
        raise ValueError(Msg(_M_NO_ROWS))
    check_header(sample.device_type, "device_type")  # no control characters
    return sample


def check_hmac_key(key):
    if key is not None and (not isinstance(key, (str, bytes)) or not key):
        raise ValueError(Msg(_M_HMAC_KEY))
    return key


def encoding(fmt, float32, hmac_key, iat):
    """The Encoding of an upload; iat is stamped when signing with a set clock."""
    from ei.compat import unix_time
    from ei.encoder import Encoding
    return Encoding(fmt, float32, hmac_key, unix_time() if (hmac_key and iat) else None)


def check_upload(sample, category, label, file_name, fmt, what="upload()"):
    """The one check of a sample upload (Client.upload, Queue.put): the sample, its category,
    label and file name (defaulting to "<label>.<fmt>", as the service infers labels from
    names). Returns the file name."""
    check_category(category)
    check_sample(sample, what)
    if label is not None:
        check_header(label, "label")
    if file_name is None:
        file_name = "%s.%s" % (label or "sample", fmt)
    return check_header(file_name, "file_name")


def check_header(value, what):
    """A header value may hold no CR, LF or other control character (header injection)."""
    if not isinstance(value, str) or not value:
        raise ValueError(Msg(_M_EMPTY, what))
    for o in value.encode():  # ints: a loop over the str would intern each character
        if o < 0x20 or o == 0x7F:
            raise ValueError(Msg(_M_CONTROL, what, o))
    return value


def encode_uri_component(s):
    """Percent-encode as JavaScript's encodeURIComponent, as Edge Impulse's uploader does."""
    out = bytearray()  # bytes, not chr(): each new character would be interned as a qstr
    for b in s.encode():
        if b in _UNRESERVED:
            out.append(b)
        else:
            out.extend(("%%%02X" % b).encode())
    return str(out, "utf-8")


def host_header(host, port, tls):
    if port is None or port == (443 if tls else 80):
        return host
    return "%s:%d" % (host, port)


def head(path, host, api_key, headers, content_type, length, length_first=False):
    """The request line and headers, a piece (str) at a time: the client packs them into the
    chunk buffer, so a request head costs no allocation of its length. `headers` is a list of
    (name, value) that go after X-Api-Key; /data puts Content-Type before Content-Length,
    /files after (as the page)."""
    yield "POST %s HTTP/1.1\r\n" % path  # (three pieces: no 150 bytes in one piece needed)
    yield "Host: %s\r\n" % host
    yield "X-Api-Key: %s\r\n" % api_key
    for name, value in headers:
        yield "%s: %s\r\n" % (name, value)
    ct = "Content-Type: %s\r\n" % content_type
    cl = "Content-Length: %d\r\n\r\n" % length
    if length_first:
        yield cl[:-2]
        yield ct + "\r\n"
    else:
        yield ct
        yield cl


# --- response ---------------------------------------------------------------------------

class Reader:
    """An HTTP/1.x response read from a readinto(buf) callable through one fixed buffer, the
    chunk buffer (stream.Chunker: idle once the body is sent, so the answer costs no buffer of
    its own). Lines are parsed in it, their first _LINE bytes kept and the rest read and
    dropped (a CDN's 2 KB Report-To costs nothing); body bytes pass through it, the first KEEP
    kept as text (in a buffer made once, at the first body byte, no longer than the body when
    its length is known: a 9-byte file name costs 9 bytes), and a sink may keep a run of them
    there while it needs them (see read_response)."""

    def __init__(self, readinto):
        self._readinto = readinto
        self._ch = stream.Chunker()
        self.buf = self._ch.buf
        self.mv = self._ch.mv
        self.pos = self.end = self.body = 0
        self.keep = -1  # where a sink's kept bytes start in buf (they end at pos), or -1
        self.cut = False  # the last line was longer than _LINE: its end was dropped
        self.want = KEEP  # the text's buffer: KEEP bytes, or the body's length if shorter
        self._kept = None  # the text's buffer, made at the first body byte
        self._n = 0  # body bytes in it

    @property
    def text(self):
        """The body's first KEEP bytes (a view of them: stream.decode makes it a str)."""
        return b"" if self._kept is None else memoryview(self._kept)[:self._n]

    def release(self):
        self._ch.release()

    def _fill(self):
        """Read more after what the buffer holds: bytes read, 0 at the end of the stream."""
        k = self.pos if self.keep < 0 else self.keep
        if k and len(self.buf) - self.end < _LINE:  # slide what is wanted to the start
            n = self.end - k
            self.mv[:n] = self.mv[k:self.end]
            self.pos -= k
            self.end = n
            if self.keep >= 0:
                self.keep = 0
        if self.end == len(self.buf):  # only a sink's kept bytes can fill it
            raise TransportError(Msg(_M_SINK_KEPT, len(self.buf) - _LINE))
        got = self._readinto(self.mv[self.end:])
        self.end += got
        return got

    def line(self, what):
        """The next line, without its CRLF, as bytes: its first _LINE bytes (self.cut tells
        whether there were more). While a sink keeps bytes (chunked framing between body
        bytes), the line is cut out of the buffer, so that what it keeps stays in one run."""
        dropped = 0
        while True:
            i = self.buf.find(b"\n", self.pos, self.end)
            if i >= 0:
                break
            over = self.end - self.pos - _LINE
            if over > 0:  # past what is kept of a line: dropped, in fixed memory
                self.end -= over
                dropped += over
                if dropped > MAX_DROP:
                    raise TransportError(Msg(_M_LONG_LINE, what, MAX_DROP))
            if not self._fill():
                raise TransportError(Msg(_M_CLOSED_IN, what))
        p = self.pos
        n = i - p
        self.cut = dropped > 0 or n > _LINE
        if self.cut:
            n = _LINE
        elif n and self.buf[i - 1] == 13:  # CR
            n -= 1
        out = bytes(self.mv[p:p + n])
        if self.keep < 0:
            self.pos = i + 1
        else:
            n = self.end - i - 1
            self.mv[p:p + n] = self.mv[i + 1:self.end]
            self.end = p + n
        return out

    def drain(self, n, sink):
        """Read n body bytes (keeping the first KEEP, a sink seeing each run); False if the
        stream ended first."""
        while n:
            if self.pos == self.end and not self._fill():
                return False
            a = self.pos
            k = min(n, self.end - a)
            self.pos = a + k
            self.body += k
            n -= k
            if self.body > MAX_DROP:
                raise TransportError(Msg(_M_LONG_BODY, MAX_DROP))
            c = min(self.want - self._n, k)
            if c > 0:
                if self._kept is None:
                    self._kept = bytearray(self.want)
                self._kept[self._n:self._n + c] = self.mv[a:a + c]
                self._n += c
            if sink is not None:
                keep = sink(self.mv, self.keep, a, a + k)
                self.keep = -1 if keep is None else keep
        return True

    def fields(self, what):
        """Read the header (or trailer) lines up to the blank one, at most _MAX_HEADERS:
        (Content-Length or None, chunked). Only these two are kept; every other line is
        dropped as it is read, whatever its length."""
        length = None
        chunked = False
        for _ in range(_MAX_HEADERS):
            line = self.line(what)
            if not line:
                return length, chunked
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            value = value.strip()
            if name == b"content-length":
                if self.cut or not value.isdigit() or len(value) > 12 or (
                        length is not None and int(value) != length):
                    raise TransportError(Msg(_M_LENGTHS, value[:20]))
                length = int(value)
            elif name == b"transfer-encoding":
                if value.lower() != b"chunked":  # (a cut line is not "chunked")
                    raise TransportError(Msg(_M_TRANSFER, value[:40]))
                chunked = True
        raise TransportError(Msg(_M_HEADERS, _MAX_HEADERS, what))

    def read(self, length, sink=None):
        """Read a body of `length` bytes (None: to the end of the stream)."""
        if length is None:
            self.drain(MAX_DROP + 1, sink)
            return
        self.want = min(KEEP, length)
        if not self.drain(length, sink):
            raise TransportError(Msg(_M_CLOSED_AFTER, self.body, length))


def read_response(readinto, sink=None):
    """Read one HTTP/1.x response: (status, body text). The body is delimited by
    Content-Length, chunked transfer coding, or the end of the connection; its first KEEP
    bytes are kept as text. sink, when given, sees every body byte as it passes:
    sink(buf, keep, a, b) is called with the new bytes at buf[a:b] and returns where in buf
    the bytes it still needs start (they end at b), or None; those are kept in buf, in one
    run, until the next call, where keep says where they are now (-1: none). The /files
    answer is parsed this way, file by file, in the buffer the answer is read through; with
    a sink, the text comes back as the bytes kept (a view: decode() what is used of it), as
    an answer that names every file needs none of it (its str, 257 bytes in one piece, was
    where 1,000 files ran out on f32)."""
    r = Reader(readinto)
    try:
        for _ in range(_MAX_INTERIM):
            line = r.line("status")
            p = line.split(None, 2)
            if len(p) < 2 or not p[0].startswith(b"HTTP/1.") or len(p[1]) != 3 \
                    or not p[1].isdigit() or not 100 <= int(p[1]) <= 599:
                raise TransportError(Msg(_M_NOT_HTTP, line[:60]))
            status = int(p[1])
            length, chunked = r.fields("header")
            if status >= 200:  # 1xx (100 Continue, 103 Early Hints): the answer follows
                break
        else:
            raise TransportError(Msg(_M_INTERIM, _MAX_INTERIM))
        if chunked and length is not None:
            raise TransportError(Msg(_M_BOTH))
        if status == 204 or status == 304:  # no body, whatever the headers say
            length = 0
        if length is not None and length > MAX_DROP:
            raise TransportError(Msg(_M_BODY_SIZE, length, MAX_DROP))
        if chunked:
            while True:
                line = r.line("chunk size")
                size = line.split(b";", 1)[0]  # hex digits only: no sign, 0x or spaces
                if not 0 < len(size) <= _MAX_HEX or size.strip(b"0123456789abcdefABCDEF"):
                    raise TransportError(Msg(_M_CHUNK_SIZE, line[:20]))
                size = int(size, 16)
                if not size:
                    break
                if not r.drain(size, sink) or r.line("chunk"):
                    raise TransportError(Msg(_M_CHUNK_LEN))
            r.fields("trailer")
        else:
            r.read(length, sink)
        return status, decode(r.text) if sink is None else r.text
    finally:
        r.release()
