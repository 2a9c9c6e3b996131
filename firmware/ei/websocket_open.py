# The WebSocket's opening handshake (RFC 6455 4.1, 4.2.2) and its URLs: the HTTP upgrade,
# its key and the Sec-WebSocket-Accept checked (SHA-1, base64). ei.websocket.WebSocket loads
# this module while it connects and forgets it after (ei.compat.forget): a session keeps
# the code that frames its messages, not the code that ran once.
from binascii import b2a_base64

from ei.compat import urandom, sha1, const
from ei.errors import Msg
from ei.stream import decode
from ei.websocket_read import bound, fill  # (the session reads with it next)

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_IN = const(256)         # bytes read from the socket at a time
_OUT = const(128)        # bytes masked at a time on the way out (status messages are short)
_EXTRA = const(256 + 128 + 14)  # _IN + _OUT + a frame's head: a connection's own block
_MAX_LINE = const(512)   # bytes of a handshake line kept
_MAX_HEADERS = const(32)
# error texts (ei/messages.py)
_M_URL = const(113)
_M_URL_SCHEME = const(114)
_M_URL_HOST = const(115)
_M_URL_PORT_NUMBER = const(116)
_M_URL_PORT = const(117)
_M_URL_PATH = const(118)
_M_MAX_SIZE = const(119)
_M_WS_BUF = const(120)
_M_UPGRADE_REFUSED = const(121)
_M_WS_HEADERS = const(122)
_M_NO_UPGRADE = const(123)
_M_WRONG_ACCEPT = const(124)


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


def connect(ws, url, timeout, ca, addr, max_size, buf):
    """Set up WebSocket ws (ei.websocket's arguments), connect it and upgrade it."""
    tls, ws.host, ws.port, ws.path = parse_url(url)
    if not isinstance(max_size, int) or max_size < 125:
        raise ValueError(Msg(_M_MAX_SIZE, max_size))
    ws.timeout = timeout
    ws.max_size = max_size
    if buf is None:
        buf = bytearray(max_size)
    elif len(buf) < max_size:
        raise ValueError(Msg(_M_WS_BUF, max_size))
    ws.buf = buf  # the message being assembled (a caller may keep one for all connections)
    # one small block of the connection's own: what the socket gave, what goes out masked,
    # a frame's head
    mv = memoryview(bytearray(_EXTRA))
    ws._in = ws._in_mv = mv[:_IN]
    ws._pos = ws._end = 0
    ws._out = mv[_IN:_IN + _OUT]
    ws._head = mv[_IN + _OUT:]
    ws._deadline = None
    ws._kind = ws._size = 0      # the message being assembled: its opcode, bytes
    ws._msg_end = None           # ... and when it must be whole
    ws.last_pong = None          # ticks_ms of the last pong
    ws.closed = None             # ConnectionClosed once closed
    ws._sent_close = False       # nothing is sent after our close frame
    from ei.transport import Connection  # here: parse_url needs no socket module
    ws._conn = Connection(ws.host, ws.port, tls, timeout, addr, ca)
    try:
        _handshake(ws)
    except BaseException:
        ws._conn.close()
        raise


def accept_key(key):
    """The Sec-WebSocket-Accept a server must answer for Sec-WebSocket-Key `key` (bytes)."""
    return b2a_base64(sha1(key + _GUID))[:-1]


def _readline(ws):
    """A handshake line, its first _MAX_LINE bytes: the rest of a longer one (a CDN's
    Report-To) is read and dropped, the headers a client uses being short."""
    line = bytearray()
    while True:
        if ws._pos == ws._end:
            fill(ws)
        b = ws._in[ws._pos]
        ws._pos += 1
        if b == 10:
            return bytes(line).rstrip(b"\r")
        if len(line) < _MAX_LINE:
            line.append(b)


def _handshake(ws):
    """Upgrade ws's connection (its host, port, path) to a WebSocket, within its timeout, or
    raise HandshakeError."""
    from ei.websocket import HandshakeError
    key = b2a_base64(urandom(16))[:-1]
    where = ws._conn.where
    host = ws.host if ws.port in (80, 443) else "%s:%d" % (ws.host, ws.port)
    ws._write(b"GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade"
              b"\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (
                  ws.path.encode(), host.encode(), key))
    bound(ws, ws.timeout)  # the whole answer within timeout
    status = _readline(ws)
    parts = status.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or parts[1] != b"101":
        raise HandshakeError(Msg(_M_UPGRADE_REFUSED, where, decode(status[:80])))
    upgrade = connection = accept = None
    for _ in range(_MAX_HEADERS + 1):
        line = _readline(ws)
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
        raise HandshakeError(Msg(_M_WS_HEADERS, where, _MAX_HEADERS))
    if upgrade != b"websocket" or connection is None or b"upgrade" not in connection:
        raise HandshakeError(Msg(_M_NO_UPGRADE, where))
    if accept != accept_key(key):
        raise HandshakeError(Msg(_M_WRONG_ACCEPT, where))
