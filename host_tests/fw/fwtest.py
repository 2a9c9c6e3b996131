# Helpers for firmware tests: the same code runs under CPython (pytest) and the MicroPython unix port.
# Only what both runtimes have is used here; conftest.py runs every test_* function on both.
import os
import sys

MICROPYTHON = sys.implementation.name == "micropython"


def raises(exc_type, fn, *args, **kwargs):
    """Call fn and return the exception of exc_type it raised; fail if it raised nothing."""
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        return e
    raise AssertionError("%s was not raised" % exc_type.__name__)


def env(name, default=None):
    """The test environment conftest.py gives: os.getenv, or where os has none (a bare-metal
    port: the emulated Pico) fwenv.py's ENV, written on the board's flash."""
    if hasattr(os, "getenv"):
        v = os.getenv(name)
    else:
        from fwenv import ENV
        v = ENV.get(name)
    return default if v is None else v


# Single-precision floats, as on the ESP32 and RP2 ports (the f32 runtimes): a float literal is
# then the float32 nearest it, and a test expects that value, never a looser tolerance for all.
FLOAT32 = 1.0 + 1e-9 == 1.0
EPSILON = 2.0 ** -23 if FLOAT32 else 2.0 ** -52  # the step between floats at 1.0


def same_floats(a, b):
    """a == b, for numbers or nested lists of them; where floats are single precision, each
    within two float32 steps: there MicroPython writes and reads a float as text (JSON, the
    service's answers) only to within a step or two, not always to the nearest (measured: a
    repr() round trip moves some values one step on 1.28, two on 1.23)."""
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_floats(x, y) for x, y in zip(a, b))
    if FLOAT32 and isinstance(a, float):
        return abs(a - b) <= max(abs(a), abs(b)) * 2 * EPSILON
    return a == b

# conftest.py's id of this runtime: cpython, unix64, f32, f32-frozen, f32-nonet, f32-1.23, rp2
RUNTIME = env("EI_RUNTIME", "unix64" if MICROPYTHON else "cpython")


def tohex(b):
    import binascii
    return binascii.hexlify(b).decode()


_OWN = "%s-%s" % (RUNTIME, tohex(os.urandom(4)))  # this process's: its runtime, 8 hex digits


def scratch(name):
    """A path in the temporary folder of this process's own, <TMPDIR>/<name>-<runtime>-<8 hex
    digits> (the same for the same name): runs at once (two pytest workers, two runtimes, two
    checkouts on one machine) never share one."""
    return "%s/%s-%s" % (env("TMPDIR", "/tmp"), name, _OWN)


def remove_tree(path):
    """Remove a folder and all it holds (a missing one is fine): os has no rmtree on a board."""
    try:
        names = os.listdir(path)
    except OSError:
        return
    for name in names:
        p = path + "/" + name
        if os.stat(p)[0] & 0x4000:  # a directory
            remove_tree(p)
        else:
            os.remove(p)
    os.rmdir(path)


def vector(name):
    """Path of a reference vector in host_tests/vectors (EI_VECTORS is set by conftest.py)."""
    return env("EI_VECTORS") + "/" + name


def load_json(path):
    import json
    with open(path) as f:
        return json.load(f)


def seed_example():
    return load_json(vector("seed_example.json"))


def unhex(s):
    import binascii
    return binascii.unhexlify(s)


def mock_addr():
    """(host, port) of the mock ingestion server that conftest.py started."""
    return env("EI_MOCK_HOST", "127.0.0.1"), int(env("EI_MOCK_PORT"))


def echo_addr():
    """(host, port) of the echo server: it answers 200 with the hex of the request it received."""
    return env("EI_MOCK_HOST", "127.0.0.1"), int(env("EI_ECHO_PORT"))


API_KEY = "ei_6040df080906d06f090e05013b7090580b707a0b050eb04d00350504070a2040"
AXES = (("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2"))


def client(addr=None, **kw):
    """A plain-HTTP ei.Client to addr, (host, port) (default: the mock service); kw as
    ei.Client's, with api_key (default API_KEY) and tls (default False)."""
    import ei
    host, port = addr or mock_addr()
    kw.setdefault("tls", False)
    return ei.Client(kw.pop("api_key", API_KEY), host=host, port=port, **kw)


def sample(rows=3, n=None, device_type="TEST", device_name=None):
    """A 3-axis sample of appended rows at 10 ms: (i, 0, 9.81), or with n, (n, i, 9.81), which
    makes each n's bytes its own (the service knows samples by their hash)."""
    import ei
    s = ei.Sample(device_name=device_name, device_type=device_type, interval_ms=10, sensors=AXES)
    for i in range(rows):
        s.append((i, 0, 9.81) if n is None else (n, i, 9.81))
    return s


def echo_whole(c):
    """Client c, whose answers' bodies are gathered whole as they pass (the echo server's is
    longer than the text a client keeps, wire.KEEP), through the sink every body goes through."""
    post = c.post

    def whole(req, body, sink=None):
        got = bytearray()
        status, _ = post(req, body, lambda buf, keep, a, b: got.extend(buf[a:b]))
        # as post() answers: a caller that gave a sink (/files) gets the text as bytes
        return status, bytes(got) if sink is not None else bytes(got).decode()
    c.post = whole
    return c


def encoded(sample, enc=None):
    """The whole encoded body of a sample as bytes, as ei.encoder.write writes it (a board
    never holds a body whole: only the tests do)."""
    from ei import encoder
    out = []
    # pieces are views of one reused buffer: each is copied as it comes
    encoder.write(sample, enc or encoder.Encoding(), lambda b: out.append(bytes(b)))
    return b"".join(out)


def cbor_dumps(obj):
    """The CBOR of obj as one bytes object (ei.cbor.dump into a growing buffer)."""
    from ei.cbor import dump
    buf = bytearray()
    dump(obj, buf.extend)
    return bytes(buf)


def page_sample():
    """The Ingestion API page's example sample (vectors/seed_example.json)."""
    import ei
    p = seed_example()["sample"]["payload"]
    return ei.Sample(device_name=p["device_name"], device_type=p["device_type"],
                     interval_ms=p["interval_ms"],
                     sensors=[(s["name"], s["units"]) for s in p["sensors"]], values=p["values"])


def peer_addr():
    """(host, port) of the remote-management peer (Studio's side, host_tests/peer_scenarios.py)."""
    return env("EI_MOCK_HOST", "127.0.0.1"), int(env("EI_PEER_PORT"))


def peer_url(route, token):
    """The ws:// URL of one of the peer's routes, its log kept under token."""
    return "ws://%s:%d/%s/%s" % (peer_addr() + (route, token))


def peer_script(token, steps):
    """Give the peer the steps it runs for /studio/<token> (see peer_scenarios.py)."""
    import json
    return http_json("POST", "/_peer/script/" + token, json.dumps(steps).encode(), peer_addr())


def peer_log(token):
    """What the peer saw under token: connections, hellos, messages, samples, closes."""
    return http_json("GET", "/_peer/log/" + token, None, peer_addr())


def raw_request(port, method, path, body=b""):
    """One HTTP/1.1 request on a plain socket to a test server on loopback, its answer read to
    the connection's close: (head, body). For the servers the tests drive (the fault proxy's
    control port, the hostile server's log), on every runtime with a socket."""
    import socket  # here: the modules that import this one load where there is no socket
    s = socket.socket()
    try:
        s.settimeout(10)
        s.connect(socket.getaddrinfo("127.0.0.1", port)[0][-1])
        # MicroPython's socket has write (it loops until all is sent), not sendall
        send = s.write if MICROPYTHON else s.sendall
        length = b"" if method == "GET" else b"Content-Length: %d\r\n" % len(body)
        send(b"%s %s HTTP/1.1\r\n%s\r\n%s" % (method.encode(), path.encode(), length, body))
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, answer = data.partition(b"\r\n\r\n")
    return head, answer


def http_json(method, path, body=None, addr=None):
    """Ask the mock server's test API (/_mock/...), or the server at addr, and decode its
    JSON answer (the reset changes data, so the test API takes the API key too)."""
    import json
    host, port = addr or mock_addr()
    url = "http://%s:%d%s" % (host, port, path)
    if MICROPYTHON:
        import requests  # frozen into the unix port; only the tests use it
        r = requests.request(method, url, data=body, headers={"x-api-key": API_KEY})
        text = r.text
        r.close()
    else:
        import urllib.request
        req = urllib.request.Request(url, data=body, method=method, headers={"x-api-key": API_KEY})
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read().decode()
    return json.loads(text) if text else None


def stored(name=None):
    """What the mock server stored: every entry, or the one whose stored name is `name`."""
    entries = http_json("GET", "/_mock/samples")
    if name is None:
        return entries
    for e in entries:
        if e["name"] == name:
            return e
    raise AssertionError("the mock server has no sample named %r" % name)


def reset_mock():
    http_json("POST", "/_mock/reset", b"")
