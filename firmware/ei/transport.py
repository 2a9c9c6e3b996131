# The transport: one TCP connection (optionally TLS) to the ingestion service, every step
# bounded by the client's timeout; errors become TransportError or Timeout, naming the step.
import socket

from ei.compat import wrap_tls, writer, reader, is_timeout
from ei.errors import TransportError, Timeout


def _fail(step, where, e):
    if is_timeout(e):
        return Timeout("%s %s timed out" % (step, where))
    return TransportError("%s %s failed: %s" % (step, where, e))


class Connection:
    """A connected socket: write(bytes) sends all of it; readinto(buf) for the response."""

    def __init__(self, host, port, tls=False, timeout=10, addr=None, cadata=None):
        where = "%s:%d" % (host, port)
        self.where = where
        # addr = (ip, port) connects there instead (a local server; or no DNS). An IP
        # address resolves without a lookup.
        name, num = addr if addr is not None else (host, port)
        try:
            ai = socket.getaddrinfo(name, num, 0, socket.SOCK_STREAM)[0]
        except OSError as e:
            raise _fail("resolving", where, e)
        self._sock = socket.socket(ai[0], socket.SOCK_STREAM)
        addr = ai[-1]
        try:
            self._sock.settimeout(timeout)
            self._sock.connect(addr)
        except OSError as e:
            self.close()
            raise _fail("connecting to", where, e)
        if tls:
            try:
                self._sock = wrap_tls(self._sock, host, cadata)
            except OSError as e:
                self.close()
                raise _fail("TLS handshake with", where, e)
        self._write = writer(self._sock)
        self._readinto = reader(self._sock)

    def write(self, b):
        try:
            self._write(b)
        except OSError as e:
            raise _fail("sending to", self.where, e)

    def readinto(self, buf):
        try:
            return self._readinto(buf)
        except OSError as e:
            raise _fail("reading from", self.where, e)

    def close(self):
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
