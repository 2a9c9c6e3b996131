# The hostile server (host_tests/hostile_server.py) for firmware tests on either runtime.
# In pytest's own process (CPython) the first import starts it for the whole session; its
# port reaches the unix port's tests through the environment, as the mock server's does.
import json

from fwtest import MICROPYTHON, env, raw_request

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
    from fwtest import client as fw_client
    kw.setdefault("retries", 0)
    kw.setdefault("backoff_ms", 10)
    kw.setdefault("timeout", 5)
    return fw_client((HOST, int(env("EI_HOSTILE_PORT"))), **kw)


def token():
    """A fresh token: one test's /files state, apart from every other run's."""
    import binascii
    import os
    return binascii.hexlify(os.urandom(6)).decode()


def log(token):
    """What the /files requests of `token` carried and what the server stored."""
    return json.loads(raw_request(int(env("EI_HOSTILE_PORT")), "GET",
                                  "/_hostile/log?token=" + token)[1])
