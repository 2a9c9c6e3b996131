# Remote management's session (ei/remote_mgmt.py): the WebSocket opened with the hello and
# {"hello":true} awaited, then Studio's messages read within bounds and answered, with the
# keep-alive (a ping every ping_ms, its pong within pong_ms), until a sample request passes
# its checks. Remote.serve() then forgets this module and the WebSocket's reading while it
# samples and uploads (their room goes to the sampler and the upload's code), and loads
# them again for the session's next messages.
from ei.compat import ticks_ms, ticks_add, ticks_diff, const
from ei.errors import Msg, TransportError
from ei.remote_mgmt import HelloRefused, failed, log, shown

# A sample request nests 2 deep and holds about 10 values; a message past these bounds is
# refused before json.loads makes an object of each value (ei/peer_json.py).
_MAX_DEPTH = const(4)
_MAX_VALUES = const(32)
# error texts (ei/messages.py)
_M_NO_HELLO = const(98)
_M_HELLO_REFUSED = const(99)
_M_NO_PONG = const(100)
_M_NOT_JSON = const(101)


def connect(r, max_size):
    """Open Remote r's WebSocket (messages up to max_size bytes, in r's buffer) and say
    hello; the open WebSocket once {"hello":true} came."""
    from ei.websocket import WebSocket
    if r._buf is None:  # not made again after a sample: the heap had no room for it then
        r._buf = bytearray(max_size)
    ws = WebSocket(r.url, r.timeout, r.ca, r.addr, max_size, r._buf)
    try:
        ws.send(r.hello())  # (made for each connection: not kept while sampling)
        end = ticks_add(ticks_ms(), int(r.timeout * 1000))
        while True:
            left = ticks_diff(end, ticks_ms())
            got = ws.recv_view(left / 1000) if left > 0 else None
            if got is None:
                raise TransportError(Msg(_M_NO_HELLO, r.url))
            try:
                msg = _decode(r, got)
            except ValueError:
                continue
            if isinstance(msg, dict) and "hello" in msg:
                break
        if msg["hello"] is not True:
            raise HelloRefused(Msg(_M_HELLO_REFUSED, r.url, shown(msg.get("err"))))
    except BaseException:
        ws.close()
        raise
    r.connections += 1
    r._next_ping = ticks_add(ticks_ms(), r.ping_ms)
    r._ping_at = None  # the ticks_ms of the ping whose pong is awaited
    return ws


def session(r, ws, count):
    """Read and answer Studio's messages on ws until a sample request passes Remote r's
    checks: its (label, category, interval_ms, rows, hmac key), for r to serve; None once
    r has answered `count` requests (None: never). A request refused counts as answered."""
    while count is None or r._handled < count:
        now = ticks_ms()
        if r._ping_at is not None:
            if ws.last_pong is not None and ticks_diff(ws.last_pong, r._ping_at) >= 0:
                r._ping_at = None
            elif ticks_diff(now, r._ping_at) >= r.pong_ms:
                raise TransportError(Msg(_M_NO_PONG, r.pong_ms))
        if r._ping_at is None and ticks_diff(r._next_ping, now) <= 0:
            ws.ping(b"")
            r._ping_at = now
            r._next_ping = ticks_add(now, r.ping_ms)
        if r._ping_at is None:
            wait = ticks_diff(r._next_ping, now)
        else:  # one ping at a time: its pong is due pong_ms after it
            wait = r.pong_ms - ticks_diff(now, r._ping_at)
        got = ws.recv_view(max(wait, 1) / 1000)
        if got is not None:
            req = _message(r, ws, got)
            if req is True:
                r._handled += 1
            elif req:
                return req
    return None


def _decode(r, got):
    """A message's JSON, decoded where it lies (the start of r's buffer), within bounds;
    ValueError if it is binary, not JSON or past them."""
    if not got[0]:
        raise ValueError("binary")  # this session is JSON (its hello was)
    from ei.peer_json import loads
    return loads(r._buf, _MAX_DEPTH, _MAX_VALUES, 0, len(got[1]))


def _message(r, ws, got):
    """Answer one message from the service: a sample request that passes the checks (its
    checked fields), True for one answered {"sample":false,...}, None for any other."""
    try:
        msg = _decode(r, got)
    except (ValueError, MemoryError) as e:
        if got[0] and r._buf.find(b'"sample"', 0, len(got[1])) >= 0:
            # a sample request, it seems: Studio waits for its answer
            if isinstance(e, MemoryError):  # its strings, on a fragmented heap: no room
                why = "the request does not fit in this device's heap"  # for messages
            else:
                why = str(Msg(_M_NOT_JSON, e))
            return _refuse(ws, why)
        msg = None
    if not isinstance(msg, dict):
        log("ignored a message that is not a JSON object")
        return None
    if "sample" in msg:
        try:
            return r.check(msg["sample"])
        except ValueError as e:
            return _refuse(ws, str(e))
    if "startSnapshot" in msg:
        ws.send('{"snapshotFailed":true,"error":"Device does not support snapshot '
                'streaming"}')
    elif "err" in msg:
        log("the service says: %s" % (msg["err"],))
    elif "hello" not in msg and "stopSnapshot" not in msg:
        log("ignored an unknown message (%s)" % ", ".join(sorted(msg)))
    return None


def _refuse(ws, why):
    log("sample request refused: %s" % why)
    ws.send(failed(why))
    return True
