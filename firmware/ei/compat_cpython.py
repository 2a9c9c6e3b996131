# compat's CPython half: the host's stand-ins for what MicroPython has built in. Only
# compat.py imports this, and only on CPython: a board never loads it.
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
    # as MicroPython's: a delta of half the period or more could not be told from one behind
    if not -_HALF < delta < _HALF:
        raise OverflowError("ticks interval overflow")
    return (t + delta) % _PERIOD


def ticks_diff(a, b):
    return ((a - b + _HALF) % _PERIOD) - _HALF


def sleep_ms(ms):
    if ms > 0:
        _time.sleep(ms / 1000)


def sleep_us(us):
    if us > 0:
        _time.sleep(us / 1000000)


def writer(sock):
    return sock.sendall


def reader(sock, raw):
    def readinto(buf, ms):
        sock.settimeout(ms / 1000)
        return sock.recv_into(buf)

    return readinto


def ilistdir(path):
    """MicroPython's os.ilistdir: (name, type, inode) of each entry as the folder is read,
    its listing never held whole."""
    import os
    with os.scandir(path) as entries:
        for e in entries:
            yield e.name, 0x4000 if e.is_dir() else 0x8000, 0


def loads(view):
    """json.loads of a memoryview, which CPython's takes only as bytes."""
    import json
    return json.loads(bytes(view))


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


def wrap_tls(sock, server_hostname, ders=None):
    """Wrap a connected socket in TLS. With ders (a list of DER certificates: the CAs,
    ei/pem.py), the server's certificate and hostname are verified; without, they are not."""
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ders is None:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        for der in ders:
            ctx.load_verify_locations(cadata=bytes(der))
    return ctx.wrap_socket(sock, server_hostname=server_hostname)
