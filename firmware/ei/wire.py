# The wire: the bytes of an ingestion request (head, multipart framing) and the parsing of
# the response. Headers go out in the order and casing of the Ingestion API page's examples.
from ei.compat import const
from ei.errors import TransportError

CATEGORIES = ("training", "testing", "anomaly")
_MAX_LINE = const(1024)  # longest status or header line accepted from a server
MAX_BODY = const(32768)  # longest response body kept (a /files answer names every file)

# encodeURIComponent leaves these as they are
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()"

def check_category(category):
    if category not in CATEGORIES:
        raise ValueError("category must be one of training, testing, anomaly; not %r"
                         % (category,))
    return category


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

class Reader:
    """Buffered reads from a readinto(buf) callable, with one fixed buffer."""

    def __init__(self, readinto, size=512):
        self._readinto = readinto
        self._buf = bytearray(size)
        self._mv = memoryview(self._buf)
        self._pos = 0
        self._end = 0

    def _fill(self):
        self._pos = 0
        self._end = self._readinto(self._buf) or 0
        return self._end

    def readline(self):
        line = b""
        while True:
            if self._pos == self._end and not self._fill():
                return line
            i = self._buf.find(b"\n", self._pos, self._end)
            stop = self._end if i < 0 else i + 1
            line += self._buf[self._pos:stop]
            self._pos = stop
            if i >= 0:
                return line
            if len(line) > _MAX_LINE:
                raise TransportError("the server sent a line longer than %d bytes" % _MAX_LINE)

    def read(self, n):
        """Up to n bytes; fewer only at end of stream."""
        out = b""
        while len(out) < n:
            if self._pos == self._end and not self._fill():
                break
            take = min(n - len(out), self._end - self._pos)
            out += self._buf[self._pos:self._pos + take]
            self._pos += take
        return out


def read_response(readinto, max_body=MAX_BODY):
    """Read one HTTP/1.x response: (status, body as text). The body is delimited by
    Content-Length, chunked transfer coding, or the end of the connection."""
    r = Reader(readinto)
    line = r.readline()
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise TransportError("not an HTTP response: %r" % (line[:60],))
    status = int(parts[1])
    length = None
    chunked = False
    while True:
        line = r.readline()
        if not line:
            raise TransportError("connection closed in the response's headers")
        line = line.rstrip(b"\r\n")
        if not line:
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        value = value.strip()
        if name == b"content-length":
            if not value.isdigit():
                raise TransportError("bad Content-Length in the response: %r" % (value,))
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        body = b""
        while True:
            size_line = r.readline().split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise TransportError("bad chunk size in the response: %r" % (size_line,))
            if size == 0:
                break
            if len(body) + size > max_body:
                raise TransportError("response body over %d bytes" % max_body)
            chunk = r.read(size)
            if len(chunk) < size:
                raise TransportError("connection closed in a response chunk")
            body += chunk
            r.readline()  # the CRLF after the chunk
    elif length is not None:
        if length > max_body:
            raise TransportError("response body of %d bytes is over %d" % (length, max_body))
        body = r.read(length)
        if len(body) < length:
            raise TransportError("connection closed after %d of %d body bytes"
                                 % (len(body), length))
    else:
        body = r.read(max_body + 1)
        if len(body) > max_body:
            raise TransportError("response body over %d bytes" % max_body)
    return status, body.decode()
