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

    def wrap_tls(sock, server_hostname, cadata=None):
        """Wrap a connected socket in TLS. With cadata (DER bytes or PEM text of a CA), the
        server's certificate and hostname are verified; without it they are not."""
        import tls
        ctx = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
        if cadata is None:
            ctx.verify_mode = tls.CERT_NONE
        else:
            ctx.verify_mode = tls.CERT_REQUIRED
            # The port's mbedtls takes DER only, one certificate a call, positionally.
            for der in _ders(cadata):
                ctx.load_verify_locations(der)
        return ctx.wrap_socket(sock, server_hostname=server_hostname)

else:
    # the CPython half; not loaded on a board, so its code costs a board no RAM
    from ei.compat_cpython import (const, ticks_us, ticks_ms, ticks_add, ticks_diff, sleep_ms,
                                   sleep_us, urandom, mem_free, writer, reader,
                                   print_exception, sync, getaddrinfo, wrap_tls)


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
    if not MICROPYTHON and isinstance(e, TimeoutError):  # noqa: F821 (CPython's builtin)
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


def sha1(data):
    """The SHA-1 digest of data (the WebSocket handshake's only use). hashlib.sha1 comes with
    a port's TLS (MICROPY_PY_HASHLIB_SHA1 follows MICROPY_PY_SSL: ESP32 and Pico W have it);
    a build without it uses ei/sha1.py."""
    import hashlib
    if hasattr(hashlib, "sha1"):
        return hashlib.sha1(data).digest()
    from ei.sha1 import digest
    return digest(data)
