# The "urequests" transport (Client(transport="urequests")): the same streamed body, sent
# through micropython-lib `requests` (or `urequests`) for users who already deploy it.
# Its iterator-body path with Content-Length set writes each piece as it comes, so the body
# is never built in RAM. Unlike the raw socket it is not byte-exact (requests writes its
# headers from a dict, which keeps no order), it bounds each socket operation, not the whole
# request (no min_rate deadline) or response, and it cannot verify a server certificate (it sets CERT_NONE), so ca= is refused.
from ei import stream, wire
from ei.compat import is_timeout, const
from ei.errors import TransportError, Timeout, Msg
from ei.log import log, WARNING

_warned = False
# error texts (ei/messages.py)
_M_BODY_WAS = const(88)
_M_NO_CA = const(89)
_M_TIMED_OUT = const(33)
_M_POSTING = const(90)
_M_FAILED_R = const(91)
_M_BAD_RESPONSE = const(92)
_M_BODY_SIZE_R = const(93)
_M_READING = const(32)


class _Stop(OSError):
    """Carries an error of the body (a bad row, a file that changed) through requests,
    which closes its socket on OSError only: the server sees a short body, never a wrong
    sample."""


def _requests():
    try:
        import requests
    except ImportError:
        import urequests as requests  # the older name, still on many boards
    return requests


def _pieces(body, ch, length):
    n = 0
    gen = body(ch)
    try:
        for b in gen:
            n += len(b)
            yield b
        if ch.pos:
            b = ch.take()
            n += len(b)
            yield b
    except Exception as e:
        raise _Stop(e)
    finally:
        gen.close()  # when requests stops early too: a file being read is closed now
    if n != length:  # would be a bug here: never let the server take it
        raise _Stop(ValueError(Msg(_M_BODY_WAS, n, length)))


def post(client, path, headers, ctype, length, room, body, sink=None):
    """One POST of body(ch) (Client.send's, through a chunk buffer of room bytes: `length`
    bytes) to the client's server;
    returns (status, response text): its first wire.KEEP bytes, as the socket transport
    keeps; sink sees the whole body as it streams past, the text then left as bytes
    (wire.read_response)."""
    if client.ca is not None:  # a CA was given (the check lives here: RAM goes to samples)
        raise ValueError(Msg(_M_NO_CA))
    global _warned
    if client.tls and not _warned:
        _warned = True
        log(WARNING, "TLS through requests does not verify the server's identity; "
            "transport='socket' with ca= does")
    host, port = client.addr if client.addr is not None else (client.host, client.port)
    url = "%s://%s:%d%s" % ("https" if client.tls else "http", host, port, path)
    h = {"Host": wire.host_header(client.host, client.port, client.tls),
         "X-Api-Key": client.api_key()}
    for name, value in headers:
        h[name] = value
    h["Content-Type"] = ctype
    h["Content-Length"] = str(length)  # with this set, requests streams an iterator as is
    where = "%s:%d" % (client.host, client.port)
    ch = stream.Chunker(room)
    pieces = _pieces(body, ch, length)
    try:
        r = _requests().post(url, data=pieces, headers=h, timeout=client.timeout)
    except _Stop as e:
        raise e.args[0]
    except OSError as e:
        if isinstance(e, TransportError):
            raise
        if is_timeout(e):
            raise Timeout(Msg(_M_TIMED_OUT, Msg(_M_POSTING, where)))
        raise TransportError(Msg(_M_FAILED_R, Msg(_M_POSTING, where), e))
    except (ValueError, NotImplementedError) as e:  # requests' words for a bad response
        raise TransportError(Msg(_M_BAD_RESPONSE, where, e))
    finally:
        pieces.close()  # a file being streamed is closed now, not by the GC
        ch.release()  # the answer is read through the same buffer
    try:
        # Read here, bounded, through the chunk buffer, as the socket transport reads:
        # Response.content would take whatever the server sends, until it closes.
        n = None
        for k in getattr(r, "headers", None) or ():
            if k.lower() == "content-length":
                n = int(r.headers[k])
        if n is not None and n > wire.MAX_DROP:
            raise TransportError(Msg(_M_BODY_SIZE_R, n, wire.MAX_DROP))
        left = [wire.MAX_DROP + 1 if n is None else n]
        raw = r.raw

        def readinto(buf):
            # no more than the body holds: a socket's readinto waits for a full buffer
            k = min(len(buf), left[0], 256)
            b = raw.read(k) if k else b""
            buf[:len(b)] = b
            left[0] -= len(b)
            return len(b)

        rd = wire.Reader(readinto)
        try:
            rd.read(n, sink)
            return r.status_code, wire.decode(rd.text) if sink is None else rd.text
        finally:
            rd.release()
    except OSError as e:
        if isinstance(e, TransportError):
            raise
        raise (Timeout(Msg(_M_TIMED_OUT, Msg(_M_READING, where))) if is_timeout(e) else
               TransportError(Msg(_M_FAILED_R, Msg(_M_READING, where), e)))
    finally:
        r.close()
