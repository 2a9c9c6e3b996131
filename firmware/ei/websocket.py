# A WebSocket client (RFC 6455) over the transport (ei.transport.Connection): ws:// and wss://
# (TLS with ca= as uploads), the handshake's Sec-WebSocket-Accept checked, masked frames,
# ping/pong, close, fragmented messages. Fixed buffers: a message longer than max_size is
# refused with close 1009, never assembled. Every blocking step has a timeout, and a message,
# fragmented or not, is whole within `timeout` of its first byte (else close 1008). What the
# server sends that RFC 6455 forbids (a close code no endpoint may send, text that is not
# UTF-8) is answered with the close it calls for; its text is decoded by ei.stream.decode.
# The opening handshake and the URLs are ei/websocket_open.py's, loaded while connecting;
# reading is ei/websocket_read.py's, loaded by the first read: this module sends.
from ei.compat import urandom, forget, const
from ei.errors import Msg, TransportError

_TEXT = const(1)
_BINARY = const(2)
_CLOSE = const(8)
_PING = const(9)
_PONG = const(10)

# close codes
NORMAL = const(1000)
PROTOCOL_ERROR = const(1002)
INVALID_DATA = const(1007)
POLICY = const(1008)
TOO_BIG = const(1009)
# error texts (ei/messages.py)
_M_WS_CLOSED = const(112)
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


class WebSocket:
    """One WebSocket connection. send(str or bytes) sends a text or binary message;
    recv(timeout) returns the next message (str or bytes), or None when none was whole within
    timeout seconds; pings are answered as they arrive. A close from the server, or a
    protocol error, raises ConnectionClosed after the closing handshake.

    max_size: the longest message taken (bytes), assembled in `buf` (a bytearray of max_size
    bytes at least; default: made here), the attribute buf after. A caller that reconnects
    may keep one for all its connections; one that reads nothing for a while (ei.Remote as
    it samples and uploads) may set ws.buf to None, to free it, and give one back before it
    reads again (a message that finds no room closes the connection with 1009).
    timeout: seconds for connecting, the handshake, each write, and the rest of a frame
    once its first byte has arrived. addr=(ip, port) connects there instead of resolving."""

    def __init__(self, url, timeout=10, ca=None, addr=None, max_size=4096, buf=None):
        from ei import websocket_open  # forgotten once open: a session runs none of its code
        try:
            websocket_open.connect(self, url, timeout, ca, addr, max_size, buf)
        finally:
            websocket_open = None
            forget("websocket_open")

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
            k = min(n - done, len(out))
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
        from ei import websocket_read  # (ei/websocket_read.py: loaded by the first read)
        return websocket_read.recv_view(self, timeout)

    def close(self, code=NORMAL, reason=""):
        """Send a close frame and wait (timeout) for the server's, then close the socket."""
        try:
            from ei import websocket_read
        except MemoryError:  # no room for the closing handshake's code: the socket is closed
            self._conn.close()
            return
        websocket_read.close(self, code, reason)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def __getattr__(name):
    # parse_url, accept_key: the opening's (ei/websocket_open.py), loaded when named
    if name in ("parse_url", "accept_key"):
        return getattr(__import__("ei.websocket_open", None, None, ("_",)), name)
    raise AttributeError("module 'ei.websocket' has no attribute '%s'" % name)
