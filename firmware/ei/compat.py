# The one portability seam: everything that differs between MicroPython and CPython.
# Other modules import from here and never test which runtime they are on.
import sys

MICROPYTHON = sys.implementation.name == "micropython"
# This runtime's floats are single precision (the ESP32, RP2 and nRF ports): a float32 holds
# all of a value, so uploads and captures default to it. 2**-30 is lost next to 1.0 only then.
FLOAT32 = 1.0 + 2.0 ** -30 == 1.0

if MICROPYTHON:
    from micropython import const
    from time import ticks_us, ticks_ms, ticks_add, ticks_diff, sleep_ms, sleep_us
    from os import urandom, ilistdir
    from json import loads  # JSON of a memoryview, read where it lies (CPython's copies)

    def writer(sock):
        # socket.write loops until all is sent on a blocking socket; send may not.
        return sock.write

    def reader(sock, raw):
        """readinto(buf, ms): up to len(buf) bytes into buf, as they arrive (0 at the end of
        the stream), waiting at most ms for them; OSError(ETIMEDOUT) when none came."""
        if hasattr(sock, "recv"):
            # Not readinto on a blocking socket: it has a "no short reads" policy and waits
            # until buf is full, so an answer shorter than buf, from a server that keeps the
            # connection open, would be lost to the timeout. recv returns what has arrived.
            # Not recv_into either: with a timeout set, it raises ETIMEDOUT over an answer
            # that has arrived when the server then resets the connection (an early 401
            # over HTTPS).
            def readinto(buf, ms):
                raw.settimeout(ms / 1000)  # a TLS socket's timeout is its TCP socket's
                # Short-lived and small, so found on a crowded heap: at the answer, an upload's
                # heap is at its fullest (64, not 128: the 18,000-row upload on f32 then fits
                # 1 KB smaller from .mpy; an answer is a few hundred bytes)
                b = sock.recv(min(len(buf), 64))
                buf[:len(b)] = b
                return len(b)

            return readinto
        # The TLS socket of MicroPython 1.23 and 1.24 has no recv (only read, readinto and
        # readline, which wait for a full buffer on a blocking socket): read it non-blocking,
        # which returns what has arrived, and wait for more with poll.
        import select
        from errno import ETIMEDOUT
        p = select.poll()
        p.register(sock, select.POLLIN)

        def readinto(buf, ms):
            raw.setblocking(False)
            try:
                end = ticks_add(ticks_ms(), ms)
                while True:
                    n = sock.readinto(buf)
                    if n is not None:
                        return n
                    left = ticks_diff(end, ticks_ms())
                    if left <= 0:
                        raise OSError(ETIMEDOUT)
                    p.poll(left)
            finally:
                # blocking again, bounded, for what is written next (a WebSocket's pong)
                raw.settimeout(ms / 1000)

        return readinto

    def sync(f):
        # MicroPython has no fsync: flush hands the data to the file system, and LittleFS
        # commits it when the file is closed.
        f.flush()

    def getaddrinfo(host, port, timeout):
        # The port's getaddrinfo cannot be bounded (it blocks in the network stack); an IP
        # address needs no lookup, so give one where name resolution is unreliable.
        import socket
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)

    def wrap_tls(sock, server_hostname, ders=None):
        """Wrap a connected socket in TLS. With ders (a list of DER certificates: the CAs,
        ei/pem.py), the server's certificate and hostname are verified; without, they are not."""
        import tls
        ctx = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
        if ders is None:
            ctx.verify_mode = tls.CERT_NONE
        else:
            ctx.verify_mode = tls.CERT_REQUIRED
            for der in ders:  # the port's mbedtls takes DER only, one a call, positionally
                ctx.load_verify_locations(der)
        return ctx.wrap_socket(sock, server_hostname=server_hostname)

else:
    # the CPython half; not loaded on a board, so its code costs a board no RAM
    from ei.compat_cpython import (const, ticks_us, ticks_ms, ticks_add, ticks_diff, sleep_ms,
                                   sleep_us, urandom, ilistdir, loads, writer, reader,
                                   sync, getaddrinfo, wrap_tls)


def forget(*names):
    """Drop modules ei.<name> and their package's attribute of each (importing one set it):
    a module's code (bytecode, functions, constants) is freed at the next collection once
    nothing runs it; the names it interned stay. For code that one phase runs (a WebSocket's
    opening, a sample request's checks, a daemon command): the next phase's code then fills
    its room."""
    for name in names:
        name = "ei." + name
        sys.modules.pop(name, None)
        parent, _, child = name.rpartition(".")
        try:
            delattr(sys.modules[parent], child)
        except (KeyError, AttributeError):
            pass


def unloaded(*names):
    """Those of modules ei.<name> not loaded now: what a step that loads them may forget
    after it. A module loaded before stays (by the program, or held by another: ei.recording
    and ei.forwarder hold ei.deadlines' functions, ei.sample the sampler's), so that no code
    runs a copy of a module that another copy has replaced."""
    return [n for n in names if "ei." + n not in sys.modules]


def nodelay(sock, socket, cork=0):
    """Send each write at once (TCP_NODELAY): the body goes out in pieces, and Nagle's wait
    for the last small one's acknowledgement (a delayed ACK, up to 40 ms) would add to every
    upload. Setting it again sends at once what a cork holds (Linux, tcp(7)). The option's
    number differs by port: the lwIP ports name it TF_NODELAY (0x40) in their socket module
    (passed in) and ignore the level, and print a warning for Linux's 1; the unix port names
    it not (a name its socket module lacks cost the 64 KB upload 3 KB of heap, measured) and
    takes Linux's, as BSD's: IPPROTO_TCP 6, TCP_NODELAY 1. A port without the option sends as
    it did.
    cork=1 (a request's body, until the option is set again): on Linux (the unix port,
    CPython), TCP_CORK (3) holds the writes until they fill whole segments. The body is
    written in 512-byte pieces; each sent as its own segment cost the sender a send and the
    receiver a read (560 of each for 18,000 rows). A board's lwIP has no such option (3 is
    another one there): its writes go out as they come. (An argument here, not a function of
    its own: every program loads this module, and the daemon's 40 KB had no room for one.)"""
    try:
        linux = sys.platform == "linux"
        sock.setsockopt(6, 1 if linux or sys.platform == "darwin" else
                        getattr(socket, "TCP_NODELAY", 1), 1)
        if cork and linux:
            sock.setsockopt(6, 3, 1)
    except (OSError, AttributeError, TypeError):
        pass


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
