# A WebSocket client (RFC 6455) over the transport (ei.transport.Connection): ws:// and wss://
# (TLS with ca= as uploads), the handshake's Sec-WebSocket-Accept checked, masked frames,
# ping/pong, close, fragmented messages. Fixed buffers: a message longer than max_size is
# refused with close 1009, never assembled. Every blocking step has a timeout, and a message,
# fragmented or not, is whole within `timeout` of its first byte (else close 1008). What the
# server sends that RFC 6455 forbids (a close code no endpoint may send, text that is not
# UTF-8) is answered with the close it calls for; its text is decoded by ei.stream.decode.
from binascii import b2a_base64

from ei.compat import urandom, ticks_ms, ticks_add, ticks_diff, sha1, const
from ei.errors import Msg, TransportError, Timeout
from ei.stream import decode

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TEXT = const(1)
_BINARY = const(2)
_CLOSE = const(8)
_PING = const(9)
_PONG = const(10)
_MAX_LINE = const(512)   # bytes of a handshake line kept
_MAX_HEADERS = const(32)
_IN = const(512)         # bytes read from the socket at a time
_OUT = const(256)        # bytes masked at a time on the way out
_EXTRA = const(512 + 256 + 14)  # _IN + _OUT + a frame's head: buffer()'s bytes past max_size

# close codes
NORMAL = const(1000)
PROTOCOL_ERROR = const(1002)
INVALID_DATA = const(1007)
POLICY = const(1008)
TOO_BIG = const(1009)
# error texts (ei/messages.py)
_M_WS_CLOSED = const(112)
_M_URL = const(113)
_M_URL_SCHEME = const(114)
_M_URL_HOST = const(115)
_M_URL_PORT_NUMBER = const(116)
_M_URL_PORT = const(117)
_M_URL_PATH = const(118)
_M_MAX_SIZE = const(119)
_M_WS_BUF = const(120)
_M_TIMED_OUT = const(33)
_M_READING = const(32)
_M_UPGRADE_REFUSED = const(121)
_M_WS_HEADERS = const(122)
_M_NO_UPGRADE = const(123)
_M_WRONG_ACCEPT = const(124)
_M_WS_CLOSING = const(125)


class WebSocketError(TransportError):
    """The server broke the protocol, or the connection is not open."""


class HandshakeError(WebSocketError):
    """The server did not accept the upgrade (status, or a wrong Sec-WebSocket-Accept)."""


class ConnectionClosed(WebSocketError):
    """The connection is closed; code and reason are the close frame's (1006: no frame)."""

    def __init__(self, code, reason=""):
        super().__init__(Msg(_M_WS_CLOSED, code, ": " + reason if reason else ""))
        self.code = code
        self.reason = reason


def parse_url(url):
    """(tls, host, port, path) of a ws:// or wss:// URL."""
    if not isinstance(url, str):
        raise ValueError(Msg(_M_URL, url))
    if url.startswith("ws://"):
        tls, rest = False, url[5:]
    elif url.startswith("wss://"):
        tls, rest = True, url[6:]
    else:
        raise ValueError(Msg(_M_URL_SCHEME, url))
    i = rest.find("/")
    hostport, path = (rest, "/") if i < 0 else (rest[:i], rest[i:])
    host, _, port = hostport.partition(":")
    if not host:
        raise ValueError(Msg(_M_URL_HOST, url))
    try:
        port = int(port) if port else (443 if tls else 80)
    except ValueError:
        raise ValueError(Msg(_M_URL_PORT_NUMBER, url))
    if not 0 < port < 65536:
        raise ValueError(Msg(_M_URL_PORT, url))
    for c in path:
        if ord(c) <= 0x20 or ord(c) == 0x7F:
            raise ValueError(Msg(_M_URL_PATH, url))
    return tls, host, port, path


def buffer(max_size=4096):
    """The bytearray a WebSocket works in (its message, at the start, then its input, output
    and a frame's head), for a caller that keeps one for all its connections (buf=): a
    reconnection on a fragmented heap then needs no new block."""
    return bytearray(max_size + _EXTRA)


def accept_key(key):
    """The Sec-WebSocket-Accept a server must answer for Sec-WebSocket-Key `key` (bytes)."""
    return b2a_base64(sha1(key + _GUID))[:-1]


class WebSocket:
    """One WebSocket connection. send(str or bytes) sends a text or binary message;
    recv(timeout) returns the next message (str or bytes), or None when none was whole within
    timeout seconds; pings are answered as they arrive. A close from the server, or a
    protocol error, raises ConnectionClosed after the closing handshake.

    max_size: the longest message taken (bytes); its buffer is allocated once, here, or is
    `buf` (buffer(max_size): a caller that reconnects keeps one for all).
    timeout: seconds for connecting, the handshake, each write, and the rest of a frame
    once its first byte has arrived. addr=(ip, port) connects there instead of resolving."""

    def __init__(self, url, timeout=10, ca=None, addr=None, max_size=4096, buf=None):
        tls, self.host, self.port, self.path = parse_url(url)
        if not isinstance(max_size, int) or max_size < 125:
            raise ValueError(Msg(_M_MAX_SIZE, max_size))
        self.timeout = timeout
        self.max_size = max_size
        if buf is None:
            buf = buffer(max_size)
        elif len(buf) < max_size + _EXTRA:
            raise ValueError(Msg(_M_WS_BUF, max_size))
        # one block for the message being assembled, what the socket gave, what goes out
        # masked and a frame's head: one allocation, or none when the caller keeps buf
        mv = memoryview(buf)
        self._msg = mv[:max_size]
        self._in = self._in_mv = mv[max_size:max_size + _IN]
        self._pos = self._end = 0
        self._out = mv[max_size + _IN:max_size + _IN + _OUT]
        self._head = mv[max_size + _IN + _OUT:max_size + _EXTRA]
        self._deadline = None
        self._kind = self._size = 0              # the message being assembled: its opcode, bytes
        self._msg_end = None                     # ... and when it must be whole
        self.last_pong = None                # ticks_ms of the last pong
        self.closed = None                   # ConnectionClosed once closed
        self._sent_close = False             # nothing is sent after our close frame
        from ei.transport import Connection  # here: parse_url needs no socket module
        self._conn = Connection(self.host, self.port, tls, timeout, addr, ca)
        try:
            self._handshake()
        except BaseException:
            self._conn.close()
            raise

    # --- reading, bounded ----------------------------------------------------------------

    def _bound(self, seconds):
        self._deadline = ticks_add(ticks_ms(), int(seconds * 1000))

    def _fill(self):
        left = ticks_diff(self._deadline, ticks_ms())
        if left <= 0:
            raise Timeout(Msg(_M_TIMED_OUT, Msg(_M_READING, self._conn.where)))
        self._conn.settimeout(left / 1000)
        n = self._conn.readinto(self._in)
        if not n:
            raise ConnectionClosed(1006, "the server closed the connection")
        self._pos, self._end = 0, n

    def _read_into(self, mv):
        """Fill the memoryview mv from the connection."""
        got = 0
        n = len(mv)
        while got < n:
            if self._pos == self._end:
                self._fill()
            k = min(n - got, self._end - self._pos)
            mv[got:got + k] = self._in_mv[self._pos:self._pos + k]
            self._pos += k
            got += k

    def _readline(self):
        """A handshake line, its first _MAX_LINE bytes: the rest of a longer one (a CDN's
        Report-To) is read and dropped, the headers a client uses being short."""
        line = bytearray()
        while True:
            if self._pos == self._end:
                self._fill()
            b = self._in[self._pos]
            self._pos += 1
            if b == 10:
                return bytes(line).rstrip(b"\r")
            if len(line) < _MAX_LINE:
                line.append(b)

    def _handshake(self):
        key = b2a_base64(urandom(16))[:-1]
        host = self.host if self.port in (80, 443) else "%s:%d" % (self.host, self.port)
        self._write(b"GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade"
                    b"\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (
                        self.path.encode(), host.encode(), key))
        self._bound(self.timeout)  # the whole answer within timeout
        status = self._readline()
        parts = status.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or parts[1] != b"101":
            raise HandshakeError(Msg(_M_UPGRADE_REFUSED, self._conn.where, decode(status[:80])))
        upgrade = connection = accept = None
        for _ in range(_MAX_HEADERS + 1):
            line = self._readline()
            if not line:
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            value = value.strip()
            if name == b"upgrade":
                upgrade = value.lower()
            elif name == b"connection":
                connection = value.lower()
            elif name == b"sec-websocket-accept":
                accept = value
        else:
            raise HandshakeError(Msg(_M_WS_HEADERS, self._conn.where, _MAX_HEADERS))
        if upgrade != b"websocket" or connection is None or b"upgrade" not in connection:
            raise HandshakeError(Msg(_M_NO_UPGRADE, self._conn.where))
        if accept != accept_key(key):
            raise HandshakeError(Msg(_M_WRONG_ACCEPT, self._conn.where))

    # --- writing -------------------------------------------------------------------------

    def _write(self, b):
        self._conn.settimeout(self.timeout)
        self._conn.write(b)

    def _frame(self, opcode, data):
        """Send one final frame, masked (RFC 6455 5.3: a client masks every frame)."""
        if self.closed is not None:
            raise self.closed
        if self._sent_close:
            raise WebSocketError(Msg(_M_WS_CLOSING, self._conn.where))
        if opcode == _CLOSE:
            self._sent_close = True
        if isinstance(data, str):
            data = data.encode()
        n = len(data)
        h = self._head
        h[0] = 0x80 | opcode
        if n < 126:
            h[1] = 0x80 | n
            i = 2
        elif n < 65536:
            h[1] = 0x80 | 126
            h[2], h[3] = n >> 8, n & 0xFF
            i = 4
        else:
            h[1] = 0x80 | 127
            for j in range(8):
                h[2 + j] = (n >> (56 - 8 * j)) & 0xFF
            i = 10
        mask = urandom(4)
        h[i:i + 4] = mask
        self._write(h[:i + 4])
        out = self._out
        mv = memoryview(data)
        done = 0
        while done < n:  # masked in pieces of the fixed buffer: no copy of the message
            k = min(n - done, _OUT)
            for j in range(k):
                out[j] = mv[done + j] ^ mask[(done + j) & 3]
            self._write(out[:k])
            done += k

    def send(self, data):
        """Send a message: a str as text, bytes as binary."""
        self._frame(_TEXT if isinstance(data, str) else _BINARY, data)

    def ping(self, data=b""):
        self._frame(_PING, data)

    # --- receiving -----------------------------------------------------------------------

    def recv(self, timeout=None):
        """The next message (str for text, bytes for binary), or None if none was whole
        within `timeout` seconds (default: the connection's), or a pong came (last_pong).
        Pings are answered and a close is answered and raised here. A message begun and not
        yet whole is kept for the next call, so a caller keeps its own pace (its keep-alive)
        while a message trickles in; the message must be whole within the connection's
        timeout of its first byte, or the connection is closed with 1008."""
        got = self.recv_view(timeout)
        if got is None:
            return None
        return str(got[1], "utf-8") if got[0] else bytes(got[1])

    def recv_view(self, timeout=None):
        """As recv(), with no copy: (True for text, a memoryview of the message), the view
        good until the next call. The message is at the start of the connection's buffer."""
        if self.closed is not None:
            raise self.closed
        wait = ticks_add(ticks_ms(), int((self.timeout if timeout is None else timeout) * 1000))
        try:
            while True:
                kind = self._kind
                if self._pos == self._end:
                    # wait for a frame: until `wait`, and within a message, its deadline
                    self._deadline = wait
                    if kind and ticks_diff(self._msg_end, wait) < 0:
                        self._deadline = self._msg_end
                    try:
                        self._fill()
                    except Timeout:
                        if kind and ticks_diff(self._msg_end, ticks_ms()) <= 0:
                            self._fail(POLICY, "a message not whole within %s s" % self.timeout)
                        return None  # no frame begun: nothing is half-read
                # a frame, once begun, within timeout; a message's frames within its deadline
                if kind:
                    self._deadline = self._msg_end
                else:
                    self._bound(self.timeout)
                h = self._head
                self._read_into(h[:2])
                b0, b1 = h[0], h[1]
                fin = b0 & 0x80
                op = b0 & 0x0F
                if b0 & 0x70:
                    self._fail(PROTOCOL_ERROR, "reserved bits set")
                if b1 & 0x80:
                    self._fail(PROTOCOL_ERROR, "a masked frame from the server")
                n = b1 & 0x7F
                if n == 126:
                    self._read_into(h[:2])
                    n = (h[0] << 8) | h[1]
                elif n == 127:
                    self._read_into(h[:8])
                    # 16 MB or more is over any max_size: said without a long int
                    if h[0] or h[1] or h[2] or h[3] or h[4]:
                        self._fail(TOO_BIG, "a message over %d bytes" % self.max_size)
                    n = (h[5] << 16) | (h[6] << 8) | h[7]
                if op >= 8:
                    if not fin or n > 125:
                        self._fail(PROTOCOL_ERROR, "a fragmented or long control frame")
                    if self._control(op, n):
                        return None  # a pong: the caller may want to know
                    continue
                if op == 0:
                    if not kind:
                        self._fail(PROTOCOL_ERROR, "a continuation with no message")
                elif op in (_TEXT, _BINARY):
                    if kind:
                        self._fail(PROTOCOL_ERROR, "a new message inside a fragmented one")
                    self._kind = kind = op
                    self._size = 0
                    self._msg_end = self._deadline  # timeout from its first byte
                else:
                    self._fail(PROTOCOL_ERROR, "unknown opcode %d" % op)
                size = self._size
                if size + n > self.max_size:
                    self._fail(TOO_BIG, "a message over %d bytes" % self.max_size)
                self._read_into(self._msg[size:size + n])
                self._size = size = size + n
                if fin:
                    self._kind = 0
                    data = self._msg[:size]
                    if kind == _TEXT and size and max(data) > 127:
                        # more than ASCII: checked as UTF-8 (a copy, for that alone)
                        try:
                            str(data, "utf-8")
                        except UnicodeError:
                            self._fail(INVALID_DATA, "a text message that is not UTF-8")
                    return kind == _TEXT, data
        except Timeout:
            self._fail(PROTOCOL_ERROR, "a frame that stopped half-way")
        except ConnectionClosed as e:
            self._gone(e)
            raise

    def _control(self, op, n):
        payload = self._out[:n]  # control payloads fit in the out buffer
        self._read_into(payload)
        payload = bytes(payload)
        if op == _PING:
            self._frame(_PONG, payload)
        elif op == _PONG:
            self.last_pong = ticks_ms()
            return True
        else:  # close: answer it, then the connection is done
            if n == 1:
                self._fail(PROTOCOL_ERROR, "a close frame with half a code")
            code = (payload[0] << 8) | payload[1] if n >= 2 else 1005
            # codes an endpoint may send (RFC 6455 7.4): not 1004-1006, 1015, nor unassigned
            if n >= 2 and not (1000 <= code <= 1003 or 1007 <= code <= 1014
                               or 3000 <= code <= 4999):
                self._fail(PROTOCOL_ERROR, "an invalid close code, %d" % code)
            reason = decode(payload[2:])
            if reason.encode() != payload[2:]:
                self._fail(INVALID_DATA, "a close reason that is not UTF-8")
            if not self._sent_close:
                try:
                    self._frame(_CLOSE, payload[:2])
                except TransportError:
                    pass
            raise ConnectionClosed(code, reason)

    def _fail(self, code, why):
        """Close with `code` (the server broke the protocol) and raise."""
        e = ConnectionClosed(code, why)
        if not self._sent_close:
            try:
                self._frame(_CLOSE, bytes((code >> 8, code & 0xFF)) + why.encode()[:120])
            except TransportError:
                pass
        self._gone(e)
        raise e

    def _gone(self, e):
        if self.closed is None:
            self.closed = e
        self._conn.close()

    def close(self, code=NORMAL, reason=""):
        """Send a close frame and wait (timeout) for the server's, then close the socket."""
        if self.closed is not None:
            self._conn.close()
            return
        try:
            self._frame(_CLOSE, bytes((code >> 8, code & 0xFF)) + reason.encode()[:120])
            end = ticks_add(ticks_ms(), int(self.timeout * 1000))
            while ticks_diff(end, ticks_ms()) > 0:
                self.recv(ticks_diff(end, ticks_ms()) / 1000)
        except TransportError:  # the server's close (ConnectionClosed), or none in time
            pass
        self._gone(ConnectionClosed(code, reason))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
