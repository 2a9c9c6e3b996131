# The hostile server (host_tests/hostile_server.py) for firmware tests on either runtime.
# In pytest's own process (CPython) the first import starts it for the whole session; its
# port reaches the unix port's tests through the environment, as the mock server's does.
import json
import socket

from fwtest import API_KEY, MICROPYTHON, env

HOST = "127.0.0.1"


def _start():
    import atexit
    import os

    from hostile_server import HostileServer
    server = HostileServer(HOST).start()
    atexit.register(server.stop)
    os.environ["EI_HOSTILE_PORT"] = str(server.port)


if not MICROPYTHON and env("EI_HOSTILE_PORT") is None:
    _start()


def client(**kw):
    """A plain-HTTP Client to the hostile server; no retries unless asked for."""
    import ei
    kw.setdefault("retries", 0)
    kw.setdefault("backoff_ms", 10)
    kw.setdefault("timeout", 5)
    return ei.Client(API_KEY, host=HOST, port=int(env("EI_HOSTILE_PORT")), tls=False, **kw)


def token():
    """A fresh token: one test's /files state, apart from every other run's."""
    import binascii
    import os
    return binascii.hexlify(os.urandom(6)).decode()


def log(token):
    """What the /files requests of `token` carried and what the server stored."""
    s = socket.socket()
    try:
        s.settimeout(10)
        s.connect(socket.getaddrinfo(HOST, int(env("EI_HOSTILE_PORT")))[0][-1])
        send = getattr(s, "sendall", None) or s.write  # the ports' socket has write only
        send(b"GET /_hostile/log?token=%s HTTP/1.1\r\n\r\n" % token.encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return json.loads(data.partition(b"\r\n\r\n")[2])
