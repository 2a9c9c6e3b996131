# The wire: the bytes of an ingestion request (head, multipart framing) and the parsing of
# the response. Headers go out in the order and casing of the Ingestion API page's examples.
from ei.compat import const
from ei.errors import TransportError

CATEGORIES = ("training", "testing", "anomaly")
# The response is read through one buffer of KEEP + _WINDOW bytes, whatever the server sends:
# a proxy's 200 KB error page costs no more heap than a 9-byte file name.
KEEP = const(1024)       # body text kept: the service's error messages are a line or two; a
                         # /files answer's per-file results are read as they stream past
_WINDOW = const(512)     # the read window: a status or header line must fit in it
_MAX_HEADERS = const(64) # header lines in one answer (a real one has about ten)
_MAX_INTERIM = const(8)  # 1xx interim answers skipped before the real one
MAX_DROP = const(1048576)  # body bytes read at all (kept or dropped): an endless body ends here
_MAX_HEX = const(7)      # hex digits of a chunk size: under 256 MB, a small int on a board

# encodeURIComponent leaves these as they are
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()"

def check_category(category):
    if category not in CATEGORIES:
        raise ValueError("category must be one of training, testing, anomaly; not %r"
                         % (category,))
    return category


def check_sample(sample, what="upload()"):
    """What every upload checks of a sample before a byte is sent or queued."""
    from ei.acquisition import Sample
    if not isinstance(sample, Sample):
        raise TypeError("%s takes a Sample, not %r" % (what, type(sample).__name__))
    if not sample.rows:
        raise ValueError("the sample has no rows; nothing to upload")
    check_header(sample.device_type, "device_type")  # no control characters
    return sample


def check_hmac_key(key):
    if key is not None and (not isinstance(key, (str, bytes)) or not key):
        raise ValueError("hmac_key must be a non-empty str or bytes")
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
        raise ValueError("%s must be a non-empty string" % what)
    for c in value:
        o = ord(c)
        if o < 0x20 or o == 0x7F:
            raise ValueError("%s holds a control character (code %d); refused" % (what, o))
    return value


def encode_uri_component(s):
    """Percent-encode as JavaScript's encodeURIComponent, as Edge Impulse's uploader does."""
    out = []
    for b in s.encode():
        if b in _UNRESERVED:
            out.append(chr(b))
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def host_header(host, port, tls):
    if port is None or port == (443 if tls else 80):
        return host
    return "%s:%d" % (host, port)


def request_head(path, host, api_key, headers, content_type, length, length_first=False):
    """The request line and headers. `headers` is a list of (name, value) that go after
    X-Api-Key; /data puts Content-Type before Content-Length, /files after (as the page)."""
    lines = ["POST %s HTTP/1.1" % path, "Host: " + host, "X-Api-Key: " + api_key]
    for name, value in headers:
        lines.append(name + ": " + value)
    ct = "Content-Type: " + content_type
    cl = "Content-Length: %d" % length
    lines += [cl, ct] if length_first else [ct, cl]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# --- response ---------------------------------------------------------------------------

# The response buffer, made when this module is imported, while the heap still has room in
# one piece (after an upload, 1.5 KB in one piece may not be found in a 64 KB heap): buf[:KEEP]
# holds the body text kept, buf[KEEP:] is the read window. One response at a time takes it.
_buf = bytearray(KEEP + _WINDOW)


class Reader:
    """An HTTP/1.x response read from a readinto(buf) callable through one fixed buffer:
    lines are parsed in the window, body bytes pass through it, the first KEEP are kept."""

    def __init__(self, readinto):
        global _buf
        self._readinto = readinto
        self.buf, _buf = _buf or bytearray(KEEP + _WINDOW), None
        self.mv = memoryview(self.buf)
        self._pos = self._end = KEEP
        self.kept = self.body = 0

    def release(self):
        global _buf
        _buf = self.buf

    def _fill(self):
        """Read more after what the window holds: bytes read, 0 at the end of the stream,
        -1 when the window is full."""
        if self._pos == self._end:
            self._pos = self._end = KEEP
        elif self._end == len(self.buf):  # slide what is left to the window's start
            n = self._end - self._pos
            if self._pos == KEEP:
                return -1
            self.mv[KEEP:KEEP + n] = self.mv[self._pos:self._end]
            self._pos, self._end = KEEP, KEEP + n
        got = self._readinto(self.mv[self._end:])
        self._end += got
        return got

    def line(self, what):
        """The next line, without its CRLF, as bytes."""
        while True:
            i = self.buf.find(b"\n", self._pos, self._end)
            if i >= 0:
                out = bytes(self.mv[self._pos:i])
                self._pos = i + 1
                return out[:-1] if out[-1:] == b"\r" else out
            got = self._fill()
            if got < 0:
                raise TransportError("the server sent a %s line over %d bytes" % (what, _WINDOW))
            if not got:
                raise TransportError("connection closed in the response's %s" % what)

    def drain(self, n, sink):
        """Read n body bytes (keeping the first KEEP, sink(view) seeing each); False if the
        stream ended first."""
        while n:
            if self._pos == self._end and not self._fill():
                return False
            k = min(n, self._end - self._pos)
            v = self.mv[self._pos:self._pos + k]
            self._pos += k
            self.body += k
            n -= k
            if self.body > MAX_DROP:
                raise TransportError("the response's body is over %d bytes; not read further"
                                     % MAX_DROP)
            c = min(KEEP - self.kept, k)
            if c > 0:
                self.mv[self.kept:self.kept + c] = v[:c]
                self.kept += c
            if sink is not None:
                sink(v)
        return True


def decode(b):
    """UTF-8 text of b. A body that is not UTF-8 (a proxy's Latin-1 page) keeps its ASCII,
    every other byte becoming U+FFFD: MicroPython's decode has no errors="replace"."""
    try:
        return b.decode()
    except UnicodeError:
        return "".join(chr(c) if c < 0x80 else "\ufffd" for c in b)


def _head(r):
    """(status, Content-Length or None, chunked) of the first answer that is not 1xx."""
    for _ in range(_MAX_INTERIM + 1):
        line = r.line("status")
        p = line.split(None, 2)
        if len(p) < 2 or not p[0].startswith(b"HTTP/1.") or len(p[1]) != 3 \
                or not p[1].isdigit():
            raise TransportError("not an HTTP response: %r" % (line[:60],))
        status = int(p[1])
        if not 100 <= status <= 599:
            raise TransportError("the response's status %d is outside 100-599" % status)
        length = None
        chunked = False
        for count in range(_MAX_HEADERS + 1):
            line = r.line("header")
            if not line:
                break
            if count == _MAX_HEADERS:
                raise TransportError("the response has over %d header lines" % _MAX_HEADERS)
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            value = value.strip()
            if name == b"content-length":
                if not value.isdigit() or len(value) > 12 or (
                        length is not None and int(value) != length):
                    raise TransportError("bad or two different Content-Lengths in the "
                                         "response: %r" % (value[:20],))
                length = int(value)
            elif name == b"transfer-encoding":
                if value.lower() != b"chunked":
                    raise TransportError("the response's Transfer-Encoding %r is not chunked"
                                         % (value[:40],))
                chunked = True
        if status >= 200:  # else 100 Continue, 103 Early Hints: the real answer follows
            if chunked and length is not None:
                raise TransportError("the response has both Content-Length and chunked")
            if length is not None and length > MAX_DROP:
                raise TransportError("the response's body of %d bytes is over %d"
                                     % (length, MAX_DROP))
            return status, length, chunked
    raise TransportError("over %d interim (1xx) answers" % _MAX_INTERIM)


def _chunk_size(line):
    """A chunk's size: hex digits only (no sign, no 0x, no spaces), at most _MAX_HEX."""
    size = line.split(b";", 1)[0]
    ok = 0 < len(size) <= _MAX_HEX
    for c in size:  # ints on both runtimes
        if not (48 <= c <= 57 or 65 <= c <= 70 or 97 <= c <= 102):
            ok = False
    if not ok:
        raise TransportError("bad chunk size in the response: %r" % (line[:20],))
    return int(size, 16)


def read_response(readinto, sink=None):
    """Read one HTTP/1.x response: (status, body text). The body is delimited by
    Content-Length, chunked transfer coding, or the end of the connection; its first KEEP
    bytes are kept as text, and sink(view), when given, sees every body byte as it passes."""
    r = Reader(readinto)
    try:
        status, length, chunked = _head(r)
        if chunked:
            while True:
                size = _chunk_size(r.line("chunk size"))
                if not size:
                    break
                if not r.drain(size, sink):
                    raise TransportError("connection closed in a response chunk")
                if r.line("chunk"):
                    raise TransportError("a response chunk is longer than its size")
            for _ in range(_MAX_HEADERS + 1):  # trailers, then the blank line
                if not r.line("trailer"):
                    break
            else:
                raise TransportError("the response has over %d trailer lines" % _MAX_HEADERS)
        elif length is not None:
            if not r.drain(length, sink):
                raise TransportError("connection closed after %d of %d body bytes"
                                     % (r.body, length))
        else:
            while r.drain(_WINDOW, sink):
                pass
        return status, decode(bytes(r.mv[:r.kept]))
    finally:
        r.release()
