"""Every HS256-signed body verifies with an independent verifier, written here with CPython's
hmac, as Edge Impulse checks one: the signature's text replaced by 64 zeros in the bytes
received, the HMAC-SHA256 of those bytes (keyed by the key's ASCII) recomputed and compared.

The bodies are the bytes each runtime put on the wire (the echo server sends them back):
CBOR and JSON, streamed from a list, an iterable and a capture file, float64 and float32,
through the raw socket and, on the unix port, through micropython-lib requests. The same
uploads go to a mock ingestion service that knows the key, which checks them its own way.
"""
import binascii
import contextlib
import hashlib
import hmac
import io
import json
import time

import cbor2
import pytest

from conftest import run_micropython
from service import MockServer

HMAC_KEY = "a3f2c8e1d4b5a697"  # as a project's Keys page gives one
ZEROS = "0" * 64

# Runs unchanged on CPython and on the unix port: prints one line per body,
# "<source> <fmt> <f32> <transport> <hex of the request>", then uploads the same to the mock.
JOB = r"""
import sys
import ei
from fwtest import AXES, echo_whole
KEY = "ei_6040df080906d06f090e05013b7090580b707a0b050eb04d00350504070a2040"
HMAC_KEY, ECHO, MOCK, TMP = globals().get("ARGS") or sys.argv[-4:]
N = 90

def row(i):
    return (i * 0.001, -1.0 - i % 7, 9.81 + i % 13)

class Sensor:
    axes = AXES
    i = 0
    def read(self):
        self.i += 1
        return row(self.i - 1)

cap = TMP + "/ei-signed-%s.cbor" % sys.implementation.name
ei.sample(Sensor(), 0.2, N, device_type="SIGNED", path=cap)

def sample(source):
    if source == "list":
        return ei.Sample(device_type="SIGNED", interval_ms=10, sensors=AXES,
                         values=[row(i) for i in range(N)])
    if source == "iterable":
        return ei.Sample(device_type="SIGNED", interval_ms=10, sensors=AXES,
                         values=(row(i) for i in range(N)), rows=N)
    return ei.Sample.from_capture(cap)

transports = ("socket", "urequests") if sys.implementation.name == "micropython" else ("socket",)
for transport in transports:
    for source in ("list", "iterable", "capture"):
        for fmt in ("cbor", "json"):
            if fmt == "json" and source == "iterable":
                continue  # JSON's length needs a second pass: refused for a one-pass iterable
            for f32 in (False, True):
                host, port = ECHO.split(":")
                c = echo_whole(ei.Client(KEY, host="ingestion.edgeimpulse.com", tls=False,
                                         addr=(host, int(port)), hmac_key=HMAC_KEY,
                                         float32=f32, transport=transport))
                echoed = c.upload(sample(source), file_name="s.%s" % fmt, fmt=fmt)
                print(source, fmt, int(f32), transport, echoed)
                host, port = MOCK.split(":")
                c = ei.Client(KEY, host=host, port=int(port), tls=False, hmac_key=HMAC_KEY,
                              float32=f32, transport=transport)
                c.upload(sample(source), file_name="%s-%s-%d-%s.%s" % (
                    source, fmt, f32, transport, fmt), fmt=fmt)
"""


def verify(body, fmt, key):
    """Edge Impulse's check, independent of the firmware: True when the body's signature is
    the HMAC-SHA256 of the body with the signature's text set to 64 zeros."""
    if fmt == "cbor":
        obj = cbor2.loads(body)
        sig = obj["signature"]
        assert isinstance(sig, str) and len(sig) == 64, sig
        key_item, value = cbor2.dumps("signature"), cbor2.dumps(sig)
        assert body.count(key_item + value) == 1
        zeroed = body.replace(key_item + value, key_item + cbor2.dumps(ZEROS))
    else:
        obj = json.loads(body)
        sig = obj["signature"]
        assert isinstance(sig, str) and len(sig) == 64, sig
        needle = ('"signature":"%s"' % sig).encode()
        assert body.count(needle) == 1
        zeroed = body.replace(needle, ('"signature":"%s"' % ZEROS).encode())
    assert obj["protected"]["alg"] == "HS256" and obj["protected"]["ver"] == "v1"
    assert sig == sig.lower()
    expected = hmac.new(key.encode("ascii"), zeroed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, sig)


def bodies(stdout):
    """{(source, fmt, f32, transport): body bytes} from the job's lines."""
    out = {}
    for line in stdout.splitlines():
        source, fmt, f32, transport, hexed = line.split()
        request = binascii.unhexlify(hexed)
        head, _, body = request.partition(b"\r\n\r\n")
        out[(source, fmt, f32 == "1", transport)] = body
    return out


@pytest.fixture(scope="module")
def signing_mock(tmp_path_factory):
    server = MockServer(data_dir=tmp_path_factory.mktemp("signed-store"),
                        hmac_keys=(HMAC_KEY,)).start()
    yield server
    server.stop()


def job_args(servers, signing_mock, tmp_path):
    return [HMAC_KEY, "127.0.0.1:%d" % servers["echo"].port,
            "127.0.0.1:%d" % signing_mock.port, str(tmp_path)]


@pytest.fixture(scope="module")
def cpython_bodies(servers, signing_mock, tmp_path_factory):
    buf = io.StringIO()
    tmp = tmp_path_factory.mktemp("signed-cpython")
    with contextlib.redirect_stdout(buf):
        exec(compile(JOB, "signed_job", "exec"),
             {"ARGS": job_args(servers, signing_mock, tmp), "__name__": "signed_job"})
    return bodies(buf.getvalue())


@pytest.fixture(scope="module")
def micropython_bodies(servers, signing_mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("signed-micropython")
    r = run_micropython(["-c", JOB, "job"] + job_args(servers, signing_mock, tmp))
    assert r.returncode == 0, r.stdout + r.stderr
    return bodies(r.stdout)


CASES = [(s, f, f32) for s in ("list", "iterable", "capture") for f in ("cbor", "json")
         for f32 in (False, True) if not (f == "json" and s == "iterable")]


def test_signed_bodies_made_on_cpython_verify(cpython_bodies):
    assert set(cpython_bodies) == {c + ("socket",) for c in CASES}
    for case, body in cpython_bodies.items():
        assert verify(body, case[1], HMAC_KEY), case


def test_signed_bodies_made_on_the_unix_port_verify_through_both_transports(
        micropython_bodies):
    assert set(micropython_bodies) == {c + (t,) for c in CASES for t in ("socket", "urequests")}
    for case, body in micropython_bodies.items():
        assert verify(body, case[1], HMAC_KEY), case


def same_sample(a, b, fmt):
    """Byte-identical up to `protected`, whose iat is the clock at each signing (bodies made
    one after the other may be a second apart), and the same protected otherwise."""
    marker = b"iprotected" if fmt == "cbor" else b'"protected"'
    assert a.split(marker)[0] == b.split(marker)[0]
    load = cbor2.loads if fmt == "cbor" else json.loads
    pa, pb = load(a)["protected"], load(b)["protected"]
    assert abs(pa.pop("iat") - pb.pop("iat")) <= 2 and pa == pb


def test_a_sample_signs_to_the_same_bytes_from_a_list_or_an_iterable_and_either_transport(
        micropython_bodies, cpython_bodies):
    for fmt, f32 in ((f, x) for f in ("cbor", "json") for x in (False, True)):
        a = micropython_bodies[("list", fmt, f32, "socket")]
        same_sample(a, micropython_bodies[("list", fmt, f32, "urequests")], fmt)
        if fmt == "cbor":  # and the payload's bytes are CPython's
            same_sample(a, cpython_bodies[("list", fmt, f32, "socket")], fmt)
            same_sample(a, micropython_bodies[("iterable", fmt, f32, "socket")], fmt)
            same_sample(a, micropython_bodies[("iterable", fmt, f32, "urequests")], fmt)
        # the capture holds the same rows (its interval is the one the sampler kept)
        values = (cbor2.loads if fmt == "cbor" else json.loads)(
            micropython_bodies[("capture", fmt, f32, "socket")])["payload"]["values"]
        assert values == (cbor2.loads if fmt == "cbor" else json.loads)(a)["payload"]["values"]


def test_float32_bodies_carry_single_floats(micropython_bodies):
    for source in ("list", "iterable", "capture"):
        small = micropython_bodies[(source, "cbor", True, "socket")]
        big = micropython_bodies[(source, "cbor", False, "socket")]
        # 4 bytes fewer for each of the 90 x 3 values; nothing else changes size
        assert small.count(b"\xfa") >= 270 and len(big) - len(small) == 90 * 3 * 4


def test_iat_is_the_clock_when_it_is_set(micropython_bodies, cpython_bodies):
    now = time.time()
    for b in (micropython_bodies, cpython_bodies):
        iat = cbor2.loads(b[("list", "cbor", False, "socket")])["protected"]["iat"]
        assert abs(iat - now) < 600


def test_the_verifier_refuses_a_changed_value_or_another_key(micropython_bodies):
    for fmt in ("cbor", "json"):
        body = micropython_bodies[("capture", fmt, False, "socket")]
        assert not verify(body, fmt, "another-key")
        if fmt == "cbor":
            i = body.index(b"\xfb") + 3  # a byte inside the first float
            changed = body[:i] + bytes([body[i] ^ 1]) + body[i + 1:]
        else:
            changed = body.replace(b"9.81", b"9.82", 1)
        assert changed != body and not verify(changed, fmt, HMAC_KEY)


def test_the_mock_service_that_knows_the_key_accepts_every_upload_as_signed(
        signing_mock, micropython_bodies, cpython_bodies):
    entries = signing_mock.store.listing()
    names = {e["file_name"] for e in entries}
    expected = {"%s-%s-%d-%s.%s" % (s, f, x, t, f) for (s, f, x, t) in
                list(micropython_bodies) + list(cpython_bodies)}
    assert expected <= names
    for e in entries:
        assert e["signed"] and e["signature_valid"] is True, e["file_name"]
