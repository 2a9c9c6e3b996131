# The transport: one TCP connection (optionally TLS) to the ingestion service. Every step is
# bounded: connect, the TLS handshake and each write by `timeout`; the whole request by the
# deadline the client gives (timeout + length / min_rate: a server that takes the body slower
# than that cannot hold us); and the answer by `timeout` from the end of the request, or that
# deadline if it is later (a server that stalls or dribbles cannot hold us either).
# Errors become TransportError or Timeout, naming the step and the server, never a secret.
import socket

from ei.compat import wrap_tls, writer, reader, is_timeout, ticks_ms, ticks_add, ticks_diff, \
    getaddrinfo, nodelay, const
from ei.errors import TransportError, Timeout, CertificateError, Msg

_warned = False
_LATE = const(-1)  # (an errno no socket raises) the deadline passed before a write
# error texts (ei/messages.py): the steps, and what became of one
_M_RESOLVING = const(28)
_M_CONNECTING = const(29)
_M_HANDSHAKE = const(30)
_M_SENDING = const(31)
_M_READING = const(32)
_M_TIMED_OUT = const(33)
_M_FAILED = const(34)
_M_DEADLINE = const(35)


def _fail(step, where, e):
    if isinstance(e, TransportError):
        return e
    if is_timeout(e):
        return Timeout(Msg(_M_TIMED_OUT, Msg(step, where)))
    # one line, whatever the port's text (mbedtls' has newlines around it)
    return TransportError(Msg(_M_FAILED, Msg(step, where), type(e).__name__,
                              " ".join(str(e).split())))


class Connection:
    """A connected socket: write(bytes) sends all of it; readinto(buf) for the response.

    addr=(ip, port) connects there instead of resolving host (an IP needs no DNS lookup;
    MicroPython's getaddrinfo cannot be bounded, so give an IP where DNS is unreliable).
    idle (Client.idle): run every idle_ms while an answer is awaited (Client.post sets both,
    and runs it after each piece of a body it writes)."""

    idle = None  # (idle_ms is set with it: one class attribute fits the smallest dictionary)

    def __init__(self, host, port, tls=False, timeout=10, addr=None, cadata=None):
        global _warned
        where = "%s:%d" % (host, port)
        self.where = where
        self._ms = int(timeout * 1000)
        self._end = None    # the whole request's deadline (ticks_ms), when one is set
        self._short = False  # the socket's timeout is cut to what is left before _end
        self._sock = self._raw = None
        name, num = addr if addr is not None else (host, port)
        try:
            ai = getaddrinfo(name, num, timeout)[0]
        except OSError as e:
            raise _fail(_M_RESOLVING, where, e)
        try:
            self._sock = self._raw = socket.socket(ai[0], socket.SOCK_STREAM)
            self._raw.settimeout(timeout)
            self._raw.connect(ai[-1])
            nodelay(self._raw, socket)
        except OSError as e:
            self.close()
            raise _fail(_M_CONNECTING, where, e)
        if tls:
            if cadata is None and not _warned:
                _warned = True
                from ei.log import log, WARNING  # loaded to warn: plain HTTP never needs it
                log(WARNING, "TLS without a CA certificate (Client(ca=...)): the server's "
                    "identity is not verified")
            try:
                if cadata is not None:
                    from ei.pem import ders  # loaded only to verify: plain HTTP never needs it
                    cadata = ders(cadata)
                self._sock = wrap_tls(self._raw, host, cadata)
            except (OSError, ValueError) as e:
                self.close()
                err = _fail(_M_HANDSHAKE, where, e)
                text = str(e).lower()
                if cadata is not None and ("certificate" in text or "x509" in text):
                    raise CertificateError(err.args[0])
                raise err
        self._write = writer(self._sock)
        self._readinto = reader(self._sock, self._raw)

    def deadline(self, ms):
        """From now on, the whole request (answer included) must end within ms; its body is
        corked (compat.nodelay) until begin_response."""
        self._end = ticks_add(ticks_ms(), ms)
        nodelay(self._raw, socket, 1)

    def write(self, b):
        try:
            if self._end is not None:
                left = ticks_diff(self._end, ticks_ms())
                if left <= 0:
                    raise OSError(_LATE)
                if left < self._ms:  # near the deadline: a write may not wait past it
                    self.settimeout(left / 1000, True)
            self._write(b)
        except (OSError, AttributeError) as e:
            if e.args and e.args[0] == _LATE or self._short and is_timeout(e):
                raise Timeout(Msg(_M_DEADLINE, self.where))
            raise _fail(_M_SENDING, self.where, e)

    def begin_response(self):
        """From now on, the answer must arrive within `timeout`, or by the request's deadline
        if that is later (the body may still be in flight, in the sockets' buffers). What
        the body left corked goes out now (TCP_NODELAY set again)."""
        nodelay(self._raw, socket)
        end = ticks_add(ticks_ms(), self._ms)
        if self._end is None or ticks_diff(end, self._end) > 0:
            self._end = end

    def readinto(self, buf):
        while True:
            left = self._ms if self._end is None else ticks_diff(self._end, ticks_ms())
            if left <= 0:
                raise Timeout(Msg(_M_TIMED_OUT, Msg(_M_READING, self.where)))
            # with an idle hook, the wait is cut into idle_ms slices and the hook runs
            # between them; the last slice's timeout is the answer's (no local for the slice:
            # the frame stays the size it was without the hook)
            try:
                return self._readinto(buf, left if self.idle is None
                                      else min(left, self.idle_ms))
            except (OSError, AttributeError) as e:
                if self.idle is None or left <= self.idle_ms or not is_timeout(e):
                    raise _fail(_M_READING, self.where, e)
            self.idle(0)

    def settimeout(self, t, cut=False):
        """Bound each read and write by t seconds from now on, and no longer by a request's
        deadline: a connection kept open (ei/websocket.py) bounds its own steps. cut=True
        (write(), near the deadline): the socket's timeout is cut to t, the deadline kept."""
        if cut:  # (one method, not two: the class's dictionary stays its size)
            self._short = True
        else:
            self._ms = int(t * 1000)
            self._end = None
            self._short = False
        try:
            self._sock.settimeout(t)
        except AttributeError:  # MicroPython's TLS socket: its timeout is the TCP socket's
            self._raw.settimeout(t)

    def close(self):
        for s in (self._sock, self._raw):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass
        self._sock = self._raw = None
