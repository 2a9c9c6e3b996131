# Misbehaving servers for the reliability tests, and how a test on either runtime drives them.
#
# In pytest's own process (CPython) the first import starts, for the whole session: the fault
# proxy (tools/fault_proxy.py) in front of the mock server, loopback ports that drop
# connection attempts or never read, the mock server over HTTPS with a certificate from a
# test CA made now, and a TLS server with that certificate that never answers. Their ports
# reach the unix port's tests through the environment, as the mock server's do (conftest.py).
# A test scripts the proxy's next faults and reads its log through the proxy's control port,
# with a plain socket that both runtimes have.
import json

from fwtest import MICROPYTHON, env, raw_request

HOST = "127.0.0.1"


def _start():
    import atexit
    import os
    import tempfile

    from service import MockServer
    from tools.fault_proxy import Blackhole, FaultProxy
    from tools import tls_certs

    def upstream():  # the mock server starts with the session, after this import
        return os.environ["EI_MOCK_HOST"], int(os.environ["EI_MOCK_PORT"])

    proxy = FaultProxy(upstream, host=HOST, control=True).start()
    hole = Blackhole(HOST)
    tmp = tempfile.TemporaryDirectory(prefix="ei-faults-")
    paths, ctx = tls_certs.make(tmp.name + "/certs")
    https = MockServer(data_dir=tmp.name + "/store", host=HOST, ssl_context=ctx).start()
    mute = _mute_tls_server(ctx)

    def stop():
        proxy.stop()
        hole.stop()
        https.stop()
        mute.close()
        tmp.cleanup()

    atexit.register(stop)
    os.environ.update({
        "EI_FAULT_PORT": str(proxy.port), "EI_FAULT_CONTROL": str(proxy.control_port),
        "EI_SYN_DROP_PORT": str(hole.syn_port), "EI_SILENT_PORT": str(hole.silent_port),
        "EI_TLS_PORT": str(https.port), "EI_TLS_MUTE_PORT": str(mute.getsockname()[1]),
        "EI_TLS_CA_PEM": paths["ca.pem"],
        "EI_TLS_CA_DER": paths["ca.der"], "EI_TLS_WRONG_CA_PEM": paths["wrong_ca.pem"],
    })


def _mute_tls_server(ctx):
    """A TLS server that completes the handshake, reads the request and never answers."""
    import socket
    import threading

    listener = socket.create_server((HOST, 0))

    def hold(conn):
        try:
            conn.settimeout(30)
            tls = ctx.wrap_socket(conn, server_side=True)
            while tls.recv(4096):  # until the client gives up and closes
                pass
        except OSError:
            pass
        conn.close()

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=hold, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return listener


if not MICROPYTHON and env("EI_FAULT_PORT") is None:
    _start()


def proxy_addr():
    return HOST, int(env("EI_FAULT_PORT"))


def proxy_client(**kw):
    """A plain-HTTP Client to the mock server through the fault proxy, with quick retries."""
    from fwtest import client
    kw.setdefault("retries", 3)
    kw.setdefault("backoff_ms", 10)
    kw.setdefault("timeout", 2)
    return client(proxy_addr(), **kw)


def syn_drop_addr():
    """Connection attempts to it are dropped: connect waits for its timeout."""
    return HOST, int(env("EI_SYN_DROP_PORT"))


def silent_addr():
    """Connects, but nothing ever reads or answers."""
    return HOST, int(env("EI_SILENT_PORT"))


def tls_addr():
    return HOST, int(env("EI_TLS_PORT"))


def tls_mute_addr():
    """A TLS server (the test CA's certificate) that never answers a request."""
    return HOST, int(env("EI_TLS_MUTE_PORT"))


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def _control(method, path, body=b""):
    head, body = raw_request(int(env("EI_FAULT_CONTROL")), method, path, body)
    assert head.startswith(b"HTTP/1.1 200"), head
    return body


def script(*faults):
    """The proxy's next connections get these faults, in order (then "pass"); clears its log."""
    _control("POST", "/script", ",".join(faults).encode())


def log():
    """One dict per connection since script(): fault, headers (no API key), t (seconds)."""
    return json.loads(_control("GET", "/log"))


def mode(**kw):
    """From now on, the proxy draws faults at rate from faults (seeded) and reads requests at
    bytes_per_s (tools/fault_proxy.py); mode() is no faults at full speed again."""
    _control("POST", "/mode", json.dumps(kw).encode())
