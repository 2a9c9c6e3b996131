# The wire: the bytes of an ingestion request (head, multipart framing) and the parsing of
# the response. Headers go out in the order and casing of the Ingestion API page's examples.
from ei.compat import const
from ei.errors import TransportError
from ei.stream import decode

CATEGORIES = ("training", "testing", "anomaly")
# The response is read through one fixed buffer (the encoder's chunk buffer, CHUNK bytes: a
# status or header line must fit in it), whatever the server sends: a proxy's 200 KB error
# page costs no more heap than a 9-byte file name.
KEEP = const(256)        # body text kept: the service's error messages are a line (under
                         # 200 bytes); /files' per-file results are read as they pass. Kept
                         # small: it is allocated in one piece, then its str and the error's
_MAX_HEADERS = const(64) # header lines in one answer (a real one has about ten)
_MAX_INTERIM = const(8)  # answers read at most: 1xx interim ones are skipped
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
    for o in value.encode():  # ints: a loop over the str would intern each character
        if o < 0x20 or o == 0x7F:
            raise ValueError("%s holds a control character (code %d); refused" % (what, o))
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

class Reader:
    """An HTTP/1.x response read from a readinto(buf) callable through one fixed buffer, the
    encoder's chunk buffer (made at import, idle once the body is sent: the answer costs no
    buffer of its own). Lines are parsed in it, body bytes pass through it, and the first
    KEEP body bytes are kept (allocated as they come: a 9-byte file name costs 9 bytes)."""

    def __init__(self, readinto):
        from ei.encoder import Chunker
        self._readinto = readinto
        self._ch = Chunker()
        self.buf = self._ch.buf
        self.mv = self._ch.mv
        self._pos = self._end = self.body = 0
        self.text = b""

    def release(self):
        self._ch.release()

    def _fill(self):
        """Read more after what the buffer holds: bytes read, 0 at the end of the stream,
        -1 when the buffer is full."""
        if self._pos == self._end:
            self._pos = self._end = 0
        elif self._end == len(self.buf):  # slide what is left to the buffer's start
            n = self._end - self._pos
            if not self._pos:
                return -1
            self.mv[:n] = self.mv[self._pos:self._end]
            self._pos, self._end = 0, n
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
                raise TransportError("the server sent a %s line over %d bytes"
                                     % (what, len(self.buf)))
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
                raise TransportError("a response body over %d bytes" % MAX_DROP)
            c = min(KEEP - len(self.text), k)
            if c > 0:
                self.text = bytes(v[:c]) if not self.text else self.text + v[:c]
            if sink is not None:
                sink(v)
        return True


def _fields(r, what):
    """The header (or trailer) lines up to the blank one: at most _MAX_HEADERS."""
    for _ in range(_MAX_HEADERS):
        line = r.line(what)
        if not line:
            return
        yield line
    raise TransportError("over %d %s lines in the response" % (_MAX_HEADERS, what))


def _head(r):
    """(status, Content-Length or None, chunked) of the first answer that is not 1xx."""
    for _ in range(_MAX_INTERIM):
        line = r.line("status")
        p = line.split(None, 2)
        if len(p) < 2 or not p[0].startswith(b"HTTP/1.") or len(p[1]) != 3 \
                or not p[1].isdigit() or not 100 <= int(p[1]) <= 599:
            raise TransportError("not an HTTP response (a status 100-599): %r" % (line[:60],))
        length = None
        chunked = False
        for line in _fields(r, "header"):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            value = value.strip()
            if name == b"content-length":
                if not value.isdigit() or len(value) > 12 or (
                        length is not None and int(value) != length):
                    raise TransportError("bad or two different Content-Lengths: %r"
                                         % (value[:20],))
                length = int(value)
            elif name == b"transfer-encoding":
                if value.lower() != b"chunked":
                    raise TransportError("Transfer-Encoding %r is not chunked" % (value[:40],))
                chunked = True
        if p[1][0] != 49:  # not 1xx (100 Continue, 103 Early Hints: the real answer follows)
            if chunked and length is not None:
                raise TransportError("both Content-Length and chunked in the response")
            if p[1] in (b"204", b"304"):  # no body, whatever the headers say
                length = 0
            if length is not None and length > MAX_DROP:
                raise TransportError("a response body of %d bytes (over %d)" % (length,
                                                                              MAX_DROP))
            return int(p[1]), length, chunked
    raise TransportError("over %d interim (1xx) answers" % _MAX_INTERIM)


def read_response(readinto, sink=None):
    """Read one HTTP/1.x response: (status, body text). The body is delimited by
    Content-Length, chunked transfer coding, or the end of the connection; its first KEEP
    bytes are kept as text, and sink(view), when given, sees every body byte as it passes."""
    r = Reader(readinto)
    try:
        status, length, chunked = _head(r)
        if chunked:
            while True:
                line = r.line("chunk size")
                size = line.split(b";", 1)[0]  # hex digits only: no sign, 0x or spaces
                if not 0 < len(size) <= _MAX_HEX or size.strip(b"0123456789abcdefABCDEF"):
                    raise TransportError("bad chunk size in the response: %r" % (line[:20],))
                size = int(size, 16)
                if not size:
                    break
                if not r.drain(size, sink) or r.line("chunk"):
                    raise TransportError("a response chunk is not as long as its size")
            for _ in _fields(r, "trailer"):
                pass
        elif length is not None:
            if not r.drain(length, sink):
                raise TransportError("connection closed after %d of %d body bytes"
                                     % (r.body, length))
        else:
            while r.drain(MAX_DROP, sink):
                pass
        return status, decode(r.text)
    finally:
        r.release()
