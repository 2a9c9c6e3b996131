# The one portability seam: everything that differs between MicroPython and CPython.
# Other modules import from here and never test which runtime they are on.
import sys

MICROPYTHON = sys.implementation.name == "micropython"

if MICROPYTHON:
    from micropython import const
    from time import ticks_us, ticks_ms, ticks_add, ticks_diff, sleep_ms, sleep_us
    from os import urandom
    import gc

    def mem_free():
        gc.collect()
        return gc.mem_free()

    def writer(sock):
        # socket.write loops until all is sent on a blocking socket; send may not.
        return sock.write

    def reader(sock):
        # Not readinto: it has a "no short reads" policy and waits until buf is full, so an
        # answer shorter than buf, from a server that keeps the connection open, would be
        # lost to the timeout. recv returns what has arrived. Not recv_into either, which
        # only TLS sockets have: with a timeout set, it raises ETIMEDOUT over an answer that
        # has arrived when the server then resets the connection (an early 401 over HTTPS).
        def readinto(buf):
            b = sock.recv(len(buf))  # a small allocation a read: the response only
            buf[:len(b)] = b
            return len(b)

        return readinto

    def print_exception(e):
        sys.print_exception(e)

    def sync(f):
        # MicroPython has no fsync: flush hands the data to the file system, and LittleFS
        # commits it when the file is closed.
        f.flush()

    def getaddrinfo(host, port, timeout):
        # The port's getaddrinfo cannot be bounded (it blocks in the network stack); an IP
        # address needs no lookup, so give one where name resolution is unreliable.
        import socket
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)

else:
    import time as _time
    from os import urandom

    def const(x):
        return x

    # MicroPython's ticks wrap around; emulate a 2**30 period (a 32-bit board's) and start
    # one second before the wrap, so host runs cross it as a board eventually does.
    _PERIOD = 1 << 30
    _HALF = _PERIOD >> 1
    _T0 = _time.monotonic_ns()
    _START = _PERIOD - 1000000

    def ticks_us():
        return (_START + (_time.monotonic_ns() - _T0) // 1000) % _PERIOD

    def ticks_ms():
        return (_START // 1000 + (_time.monotonic_ns() - _T0) // 1000000) % _PERIOD

    def ticks_add(t, delta):
        return (t + delta) % _PERIOD

    def ticks_diff(a, b):
        return ((a - b + _HALF) % _PERIOD) - _HALF

    def sleep_ms(ms):
        if ms > 0:
            _time.sleep(ms / 1000)

    def sleep_us(us):
        if us > 0:
            _time.sleep(us / 1000000)

    def mem_free():
        return None  # not meaningful on CPython

    def writer(sock):
        return sock.sendall

    def reader(sock):
        return sock.recv_into

    def print_exception(e):
        import traceback
        traceback.print_exception(e)

    def sync(f):
        import os
        f.flush()
        os.fsync(f.fileno())

    def getaddrinfo(host, port, timeout):
        """socket.getaddrinfo, bounded by timeout: a lookup still running then is left to
        finish in a daemon thread, and socket.timeout is raised."""
        import socket
        import threading
        out = []

        def run():
            try:
                out.append(socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM))
            except OSError as e:
                out.append(e)

        t = threading.Thread(target=run, daemon=True)
        t.start()
        t.join(timeout)
        if not out:
            raise socket.timeout("name resolution timed out")
        if isinstance(out[0], OSError):
            raise out[0]
        return out[0]


def wrap_tls(sock, server_hostname, cadata=None):
    """Wrap a connected socket in TLS. With cadata (DER bytes or PEM text of a CA), the
    server's certificate and hostname are verified; without it they are not."""
    if MICROPYTHON:
        import tls
        ctx = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
        if cadata is None:
            ctx.verify_mode = tls.CERT_NONE
        else:
            ctx.verify_mode = tls.CERT_REQUIRED
            # The port's mbedtls takes DER only, one certificate a call, positionally.
            for der in _ders(cadata):
                ctx.load_verify_locations(der)
    else:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if cadata is None:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            if isinstance(cadata, (bytes, bytearray)) and cadata[:5] == b"-----":
                cadata = cadata.decode()
            ctx.load_verify_locations(cadata=cadata)
    return ctx.wrap_socket(sock, server_hostname=server_hostname)


def _ders(cadata):
    """The DER certificates in PEM text (each BEGIN/END block), or DER as it is."""
    if isinstance(cadata, str):
        cadata = cadata.encode()
    if cadata[:5] != b"-----":
        return [bytes(cadata)]
    from binascii import a2b_base64
    out = []
    block = None
    for line in bytes(cadata).split(b"\n"):
        line = line.strip()
        if line.startswith(b"-----BEGIN"):
            block = []
        elif line.startswith(b"-----END"):
            if block is not None:
                out.append(a2b_base64(b"".join(block)))
            block = None
        elif block is not None and line:
            block.append(line)
    if not out:
        raise ValueError("ca: no certificate in the PEM text")
    return out


def is_timeout(e):
    """True for the error a socket raises when its timeout runs out, on either runtime."""
    import errno
    if not MICROPYTHON and isinstance(e, TimeoutError):
        return True
    return isinstance(e, OSError) and e.args and e.args[0] in (errno.ETIMEDOUT, errno.EAGAIN)


def unix_time():
    """Seconds since 1970, or None while the board's clock is not set (before 2024)."""
    import time
    t = int(time.time())
    if time.gmtime(0)[0] == 2000:  # some ports count from 2000
        t += 946684800
    return t if t > 1704067200 else None


def random_below(n):
    """A random int in [0, n): jitter for retry backoff (not for secrets)."""
    if n <= 1:
        return 0
    return int.from_bytes(urandom(4), "big") % n
