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
    v = os.getenv(name)
    return default if v is None else v


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


def tohex(b):
    import binascii
    return binascii.hexlify(b).decode()


def mock_addr():
    """(host, port) of the mock ingestion server that conftest.py started."""
    return env("EI_MOCK_HOST", "127.0.0.1"), int(env("EI_MOCK_PORT"))


def echo_addr():
    """(host, port) of the echo server: it answers 200 with the hex of the request it received."""
    return env("EI_MOCK_HOST", "127.0.0.1"), int(env("EI_ECHO_PORT"))


API_KEY = "ei_6040df080906d06f090e05013b7090580b707a0b050eb04d00350504070a2040"


def http_json(method, path, body=None):
    """Ask the mock server's test API (/_mock/...) and decode its JSON answer (the reset
    changes data, so the test API takes the API key too)."""
    import json
    host, port = mock_addr()
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
