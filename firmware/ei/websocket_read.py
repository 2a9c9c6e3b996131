# Reading a WebSocket (ei/websocket.py): frames read within their deadlines, pings answered,
# pongs noted, messages assembled where they lie, a close answered, and what RFC 6455 forbids
# closed with the code it calls for. Loaded by the first read and kept while reads follow: a
# caller whose next steps read nothing (ei.Remote while it samples and uploads) forgets it
# (ei.compat.forget), and the next read loads it again.
from ei.compat import ticks_ms, ticks_add, ticks_diff, const
from ei.errors import Msg, TransportError, Timeout
from ei.stream import decode
from ei.websocket import ConnectionClosed

_TEXT = const(1)
_BINARY = const(2)
_CLOSE = const(8)
_PING = const(9)
_PONG = const(10)
# close codes (ei.websocket's)
_PROTOCOL_ERROR = const(1002)
_INVALID_DATA = const(1007)
_POLICY = const(1008)
_TOO_BIG = const(1009)
# error texts (ei/messages.py)
_M_TIMED_OUT = const(33)
_M_READING = const(32)


def bound(ws, seconds):
    """ws's reads end within `seconds` from now."""
    ws._deadline = ticks_add(ticks_ms(), int(seconds * 1000))


def fill(ws):
    """What the connection has for ws's input buffer, within its deadline."""
    left = ticks_diff(ws._deadline, ticks_ms())
    if left <= 0:
        raise Timeout(Msg(_M_TIMED_OUT, Msg(_M_READING, ws._conn.where)))
    ws._conn.settimeout(left / 1000)
    n = ws._conn.readinto(ws._in)
    if not n:
        raise ConnectionClosed(1006, "the server closed the connection")
    ws._pos, ws._end = 0, n


def read_into(ws, mv):
    """Fill the memoryview mv from the connection."""
    got = 0
    n = len(mv)
    while got < n:
        if ws._pos == ws._end:
            fill(ws)
        k = min(n - got, ws._end - ws._pos)
        mv[got:got + k] = ws._in_mv[ws._pos:ws._pos + k]
        ws._pos += k
        got += k


def recv_view(ws, timeout=None):
    """As recv(), with no copy: (True for text, a memoryview of the message), the view
    good until the next call. The message is at the start of the connection's buffer."""
    if ws.closed is not None:
        raise ws.closed
    # the message's room: none while a caller has taken it away (ws.buf None: a message then
    # is over its room, and closes the connection with 1009)
    msg = memoryview(ws.buf if ws.buf is not None else b"")
    room = min(ws.max_size, len(msg))
    wait = ticks_add(ticks_ms(), int((ws.timeout if timeout is None else timeout) * 1000))
    try:
        while True:
            kind = ws._kind
            if ws._pos == ws._end:
                # wait for a frame: until `wait`, and within a message, its deadline
                ws._deadline = wait
                if kind and ticks_diff(ws._msg_end, wait) < 0:
                    ws._deadline = ws._msg_end
                try:
                    fill(ws)
                except Timeout:
                    if kind and ticks_diff(ws._msg_end, ticks_ms()) <= 0:
                        fail(ws, _POLICY, "a message not whole within %s s" % ws.timeout)
                    return None  # no frame begun: nothing is half-read
            # a frame, once begun, within timeout; a message's frames within its deadline
            if kind:
                ws._deadline = ws._msg_end
            else:
                bound(ws, ws.timeout)
            h = ws._head
            read_into(ws, h[:2])
            b0, b1 = h[0], h[1]
            fin = b0 & 0x80
            op = b0 & 0x0F
            if b0 & 0x70:
                fail(ws, _PROTOCOL_ERROR, "reserved bits set")
            if b1 & 0x80:
                fail(ws, _PROTOCOL_ERROR, "a masked frame from the server")
            n = b1 & 0x7F
            if n == 126:
                read_into(ws, h[:2])
                n = (h[0] << 8) | h[1]
            elif n == 127:
                read_into(ws, h[:8])
                # 16 MB or more is over any max_size: said without a long int
                if h[0] or h[1] or h[2] or h[3] or h[4]:
                    fail(ws, _TOO_BIG, "a message over %d bytes" % ws.max_size)
                n = (h[5] << 16) | (h[6] << 8) | h[7]
            if op >= 8:
                if not fin or n > 125:
                    fail(ws, _PROTOCOL_ERROR, "a fragmented or long control frame")
                if _control(ws, op, n):
                    return None  # a pong: the caller may want to know
                continue
            if op == 0:
                if not kind:
                    fail(ws, _PROTOCOL_ERROR, "a continuation with no message")
            elif op in (_TEXT, _BINARY):
                if kind:
                    fail(ws, _PROTOCOL_ERROR, "a new message inside a fragmented one")
                ws._kind = kind = op
                ws._size = 0
                ws._msg_end = ws._deadline  # timeout from its first byte
            else:
                fail(ws, _PROTOCOL_ERROR, "unknown opcode %d" % op)
            size = ws._size
            if size + n > room:
                fail(ws, _TOO_BIG, "a message over %d bytes" % room)
            read_into(ws, msg[size:size + n])
            ws._size = size = size + n
            if fin:
                ws._kind = 0
                data = msg[:size]
                if kind == _TEXT and size and max(data) > 127:
                    # more than ASCII: checked as UTF-8 (a copy, for that alone)
                    try:
                        str(data, "utf-8")
                    except UnicodeError:
                        fail(ws, _INVALID_DATA, "a text message that is not UTF-8")
                return kind == _TEXT, data
    except Timeout:
        fail(ws, _PROTOCOL_ERROR, "a frame that stopped half-way")
    except ConnectionClosed as e:
        _gone(ws, e)
        raise


def _control(ws, op, n):
    payload = ws._out[:n]  # control payloads fit in the out buffer
    read_into(ws, payload)
    payload = bytes(payload)
    if op == _PING:
        ws._frame(_PONG, payload)
    elif op == _PONG:
        ws.last_pong = ticks_ms()
        return True
    else:  # close: answer it, then the connection is done
        if n == 1:
            fail(ws, _PROTOCOL_ERROR, "a close frame with half a code")
        code = (payload[0] << 8) | payload[1] if n >= 2 else 1005
        # codes an endpoint may send (RFC 6455 7.4): not 1004-1006, 1015, nor unassigned
        if n >= 2 and not (1000 <= code <= 1003 or 1007 <= code <= 1014
                           or 3000 <= code <= 4999):
            fail(ws, _PROTOCOL_ERROR, "an invalid close code, %d" % code)
        reason = decode(payload[2:])
        if reason.encode() != payload[2:]:
            fail(ws, _INVALID_DATA, "a close reason that is not UTF-8")
        if not ws._sent_close:
            try:
                ws._frame(_CLOSE, payload[:2])
            except TransportError:
                pass
        raise ConnectionClosed(code, reason)


def fail(ws, code, why):
    """Close with `code` (the server broke the protocol) and raise."""
    e = ConnectionClosed(code, why)
    if not ws._sent_close:
        try:
            ws._frame(_CLOSE, bytes((code >> 8, code & 0xFF)) + why.encode()[:120])
        except TransportError:
            pass
    _gone(ws, e)
    raise e


def close(ws, code, reason):
    """Send a close frame and wait (timeout) for the server's, then close the socket."""
    if ws.closed is not None:
        ws._conn.close()
        return
    try:
        ws._frame(_CLOSE, bytes((code >> 8, code & 0xFF)) + reason.encode()[:120])
        end = ticks_add(ticks_ms(), int(ws.timeout * 1000))
        while ticks_diff(end, ticks_ms()) > 0:
            recv_view(ws, ticks_diff(end, ticks_ms()) / 1000)
    except TransportError:  # the server's close (ConnectionClosed), or none in time
        pass
    _gone(ws, ConnectionClosed(code, reason))


def _gone(ws, e):
    if ws.closed is None:
        ws.closed = e
    ws._conn.close()
