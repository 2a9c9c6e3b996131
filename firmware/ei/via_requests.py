# The "urequests" transport (Client(transport="urequests")): the same streamed body, sent
# through micropython-lib `requests` (or `urequests`) for users who already deploy it.
# Its iterator-body path with Content-Length set writes each piece as it comes, so the body
# is never built in RAM. Unlike the raw socket it is not byte-exact (requests writes its
# headers from a dict, which keeps no order), it bounds each socket operation, not the whole
# request (no min_rate deadline) or response, and it cannot verify a server certificate (it sets CERT_NONE), so ca= is refused.
from ei import wire
from ei.stream import decode
from ei.compat import is_timeout
from ei.errors import TransportError, Timeout
from ei.log import log, WARNING

_warned = False


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


def _pieces(body, length):
    n = 0
    try:
        for b in body:
            n += len(b)
            yield b
    except Exception as e:
        raise _Stop(e)
    if n != length:  # would be a bug here: never let the server take it
        raise _Stop(ValueError("body was %d bytes, not the announced %d" % (n, length)))


def post(client, path, headers, ctype, length, body, sink=None):
    """One POST of body() (an iterator of pieces, `length` bytes) to the client's server;
    returns (status, response text): its first wire.KEEP bytes, as the socket transport
    keeps; sink(view) sees the whole body as it streams past."""
    if client.ca is not None:  # a CA was given (the check lives here: RAM goes to samples)
        raise ValueError("transport='urequests' cannot verify a certificate (micropython-lib "
                         "requests turns checks off); use transport='socket' with ca=")
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
    pieces = body()
    try:
        r = _requests().post(url, data=_pieces(pieces, length), headers=h,
                             timeout=client.timeout)
    except _Stop as e:
        raise e.args[0]
    except OSError as e:
        if isinstance(e, TransportError):
            raise
        if is_timeout(e):
            raise Timeout("posting to %s timed out" % where)
        raise TransportError("posting to %s failed: %r" % (where, e))
    except (ValueError, NotImplementedError) as e:  # requests' words for a bad response
        raise TransportError("bad response from %s: %s" % (where, e))
    finally:
        pieces.close()  # a file being streamed is closed now, not by the GC
    try:
        # Read here, bounded, through one buffer: Response.content would take whatever the
        # server sends, until it closes the connection.
        n = None
        for k in getattr(r, "headers", None) or ():
            if k.lower() == "content-length":
                n = int(r.headers[k])
        if n is not None and n > wire.MAX_DROP:
            raise TransportError("response body of %d bytes, over %d" % (n, wire.MAX_DROP))
        keep = bytearray(wire.KEEP)
        kept = got = 0
        while n is None or got < n:
            b = r.raw.read(256 if n is None else min(256, n - got))
            if not b:
                break
            got += len(b)
            if got > wire.MAX_DROP:
                raise TransportError("response body over %d bytes" % wire.MAX_DROP)
            c = min(len(b), wire.KEEP - kept)
            keep[kept:kept + c] = b[:c]
            kept += c
            if sink is not None:
                sink(memoryview(b))
        return r.status_code, decode(bytes(keep[:kept]))
    except OSError as e:
        if isinstance(e, TransportError):
            raise
        raise (Timeout("reading from %s timed out" % where) if is_timeout(e) else
               TransportError("reading from %s failed: %r" % (where, e)))
    finally:
        r.close()
