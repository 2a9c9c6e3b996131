"""What the local service answers to bad input: malformed HTTP, multipart, CBOR or JSON, oversized
bodies and slow clients each get a status and a text/plain reason, never a crash (500) and never
a half-written sample, and the service goes on serving.

Requests here are written byte by byte on a socket, so that they can be as wrong as a client's.
"""
import json
import os
import socket
import threading
import time

import cbor2
import pytest

from service import API_KEY, MIN_RATE, MockServer
from service_client import encode, multipart, post_data, request, reset, sample, stored

TIMEOUT = 1.0    # this module's servers give a silent client 1 s
LIMIT = 4096     # and take files of at most 4 kB
# the tests here whose request is good, or partly good
STORES = {"test_a_well_formed_chunked_body_is_stored", "test_a_multipart_request_with_one_bad_file_stores_the_others"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = MockServer(tmp_path_factory.mktemp("bad-input"), timeout=TIMEOUT, max_file_bytes=LIMIT).start()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def nothing_half_written(server, request):
    """Every test here starts from an empty store and leaves no temporary file and no file that
    the index does not name; unless it is one of STORES, it leaves nothing stored; and the
    service goes on answering."""
    reset(server)
    yield
    names = os.listdir(server.store.files_dir)
    assert sorted(names) == sorted(str(e["sample_id"]) for e in stored(server))
    if request.node.originalname not in STORES:
        assert stored(server) == []
    assert post_data(server, encode(sample(), "cbor"), file_name="alive.cbor").status == 200


class Reply:
    def __init__(self, raw):
        self.raw = raw
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        self.headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
        self.text = self.body.decode("utf-8", "replace")

    def is_text(self):
        return self.headers.get("content-type", "").startswith("text/plain")


def send(server, *pieces, pause=0.0, read_timeout=10):
    """Send the pieces (pausing between them), then read the whole answer."""
    with socket.create_connection((server.host, server.port), timeout=read_timeout) as s:
        for i, piece in enumerate(pieces):
            if i and pause:
                time.sleep(pause)
            try:
                s.sendall(piece)
            except OSError:
                break  # the server answered and closed early
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return Reply(b"".join(chunks))


def head(path="/api/training/data", ctype="application/cbor", length=None, extra=()):
    lines = ["POST %s HTTP/1.1" % path, "Host: 127.0.0.1", "x-api-key: " + API_KEY,
             "x-file-name: bad.cbor", "Content-Type: " + ctype]
    if length is not None:
        lines.append("Content-Length: %d" % length)
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# ---- malformed HTTP -------------------------------------------------------------------------

@pytest.mark.parametrize("raw,status", [
    (b"\x00\x01 not http at all\r\n\r\n", 400),
    (b"GET\r\n\r\n", 400),
    (b"GET /samples\r\n\r\n", 400),
    (b"POST /api/training/data HTTP/9.9\r\n\r\n", 505),
    (b"POST /api/training/data HTTP/1.x\r\n\r\n", 400),
    (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"\r\n", 431),
])
def test_a_malformed_request_head_gets_its_status_and_a_reason_in_text(server, raw, status):
    r = send(server, raw)
    assert r.status == status and r.is_text() and len(r.text.strip()) > 5, r.raw[:200]


def test_a_content_length_that_is_not_a_number_is_400(server):
    r = send(server, head(extra=["Content-Length: 12abc"]) + b"x" * 12)
    assert r.status == 400 and "Content-Length" in r.text


def test_a_post_without_a_length_is_411(server):
    r = send(server, head())
    assert r.status == 411 and "Content-Length" in r.text


def test_a_malformed_chunked_body_is_400(server):
    r = send(server, head(extra=["Transfer-Encoding: chunked"]) + b"zz\r\nabc\r\n0\r\n\r\n")
    assert r.status == 400 and "chunk" in r.text.lower()


def test_a_well_formed_chunked_body_is_stored(server):
    body = cbor2.dumps(sample())
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 50]), body[i:i + 50]) for i in range(0, len(body), 50))
    r = send(server, head(extra=["Transfer-Encoding: chunked"]) + chunked + b"0\r\n\r\n")
    assert (r.status, r.text) == (200, "bad.cbor")


# ---- malformed multipart ----------------------------------------------------------------------

@pytest.mark.parametrize("why,body,ctype", [
    ("no boundary parameter", b"--x\r\n\r\n", "multipart/form-data"),
    ("no final boundary", b"--b\r\nContent-Disposition: form-data; name=\"data\"; filename=\"a.cbor\"\r\n\r\nabc",
     "multipart/form-data; boundary=b"),
    ("no Content-Disposition", b"--b\r\nContent-Type: text/plain\r\n\r\nabc\r\n--b--\r\n",
     "multipart/form-data; boundary=b"),
    ("another boundary", b"--other\r\nContent-Disposition: form-data; name=\"data\"; filename=\"a.txt\"\r\n\r\n"
     b"abc\r\n--other--\r\n", "multipart/form-data; boundary=b"),
    ("garbage", os.urandom(300), "multipart/form-data; boundary=b"),
])
def test_a_malformed_multipart_body_is_400_with_a_reason(server, why, body, ctype):
    r = send(server, head("/api/training/files", ctype, len(body)) + body)
    assert r.status == 400 and r.is_text() and r.text.startswith("Invalid message"), (why, r.text)


def test_a_multipart_request_with_one_bad_file_stores_the_others(server):
    body, ctype = multipart([("data", "good.cbor", "application/cbor", cbor2.dumps(sample())),
                             ("data", "bad.json", "application/json", b"{")])
    r = send(server, head("/api/training/files", ctype, len(body)) + body)
    answer = json.loads(r.text)
    assert r.status == 200 and answer["success"] is False
    assert [(f["fileName"], f["success"]) for f in answer["files"]] == [("good.cbor", True), ("bad.json", False)]
    assert "JSON" in answer["files"][1]["error"]
    assert [e["name"] for e in stored(server)] == ["good.cbor"]


# ---- oversized bodies ---------------------------------------------------------------------------

def test_an_oversized_data_body_is_refused_from_its_length_before_it_is_sent(server):
    r = send(server, head(length=LIMIT + 1), read_timeout=5)
    assert r.status == 400 and str(LIMIT) in r.text and "100 MB" in r.text


def test_an_oversized_chunked_body_is_refused_once_it_passes_the_limit(server):
    piece = b"%x\r\n%s\r\n" % (1000, b"\xa0" * 1000)
    r = send(server, head(extra=["Transfer-Encoding: chunked"]) + piece * 6 + b"0\r\n\r\n")
    assert r.status == 400 and r.text.startswith("File too large") and "at most %d" % LIMIT in r.text


def test_an_oversized_multipart_file_is_refused_while_it_streams(server):
    body, ctype = multipart([("data", "big.txt", "text/plain", b"x" * (LIMIT * 4))])
    r = send(server, head("/api/training/files", ctype, len(body)) + body)
    assert r.status == 400 and "big.txt" in r.text and str(LIMIT) in r.text


# ---- slow clients -------------------------------------------------------------------------------

def test_a_client_that_stops_in_its_head_gets_408(server):
    t = time.monotonic()
    r = send(server, b"POST /api/training/data HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    assert r.status == 408 and r.is_text() and "head" in r.text
    assert time.monotonic() - t < TIMEOUT + 5


def test_a_client_that_stops_in_its_body_gets_408(server):
    r = send(server, head(length=500) + b"\xa3" + b"x" * 10)
    assert r.status == 408 and "body" in r.text


def test_a_client_that_trickles_its_body_gets_408_naming_the_rate(server):
    pieces = [head(length=2000)] + [b"x" * 8] * 40
    r = send(server, *pieces, pause=0.1)
    assert r.status == 408 and "%d bytes/s" % MIN_RATE in r.text


def test_a_slow_client_does_not_hold_up_the_others(server):
    done = threading.Event()
    slow = threading.Thread(target=lambda: (send(server, head(length=100) + b"\xa3"), done.set()))
    slow.start()
    time.sleep(0.2)
    assert request(server, "GET", "/samples").status == 200
    assert not done.is_set()  # answered while the slow one still waits for its 408
    slow.join()


# ---- malformed CBOR and JSON --------------------------------------------------------------------

@pytest.mark.parametrize("fmt,body", [("cbor", b"\x9f" * 1000), ("cbor", b"\x5b\xff\xff\xff\xff\xff\xff\xff\xff"),
                                      ("cbor", b"\xa1\x80\x01"), ("json", b"[" * 4000), ("json", b'{"a": 1e999}'),
                                      ("cbor", b"\xd8\x23\x63a**")])
def test_pathological_cbor_and_json_are_400_not_a_crash(server, fmt, body):
    a = post_data(server, body, fmt=fmt)
    assert a.status == 400 and a.text.startswith("Invalid message")


# ---- numbers JSON has not, nesting, non-ASCII, ids ------------------------------------------------

@pytest.mark.parametrize("header", ["x-metadata", "x-bounding-boxes"])
@pytest.mark.parametrize("value", ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', '{"a": 1e999}',
                                   '[{"x": NaN}]', '{"a": 9007199254740993}', '{"a": %s}' % ("9" * 400)])
def test_nan_or_infinity_in_a_json_header_is_400_and_the_list_stays_json(server, header, value):
    if header == "x-metadata" and value.startswith("["):
        value = '{"boxes": %s}' % value
    a = post_data(server, encode(sample(), "cbor"), file_name="nan.cbor", **{header.replace("-", "_"): value})
    assert a.status == 400 and header in a.text
    json.loads(request(server, "GET", "/samples").text, parse_constant=lambda c: pytest.fail(c))


def test_nan_in_a_json_body_is_400(server):
    body = json.dumps(sample()).replace('"interval_ms": 10.0', '"interval_ms": NaN').encode()
    a = post_data(server, body, fmt="json", file_name="nan.json")
    assert a.status == 400 and "NaN" in a.text


def _nested(depth):
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("where", ["x-metadata", "json", "cbor"])
def test_nesting_deeper_than_32_levels_is_400_naming_the_limit(server, where):
    deep = json.loads(_nested(33 if where == "x-metadata" else 200))
    if where == "x-metadata":
        a = post_data(server, encode(sample(), "cbor"), x_metadata=json.dumps({"a": deep}))
    else:
        obj = sample()
        obj["payload"]["extra"] = deep
        a = post_data(server, encode(obj, where), fmt=where, file_name="deep." + where)
    assert a.status == 400 and "32" in a.text


def test_nesting_at_the_limit_is_taken(server):
    a = post_data(server, encode(sample(), "cbor"), file_name="deep-ok.cbor",
                  x_metadata=json.dumps({"a": json.loads(_nested(30))}))
    assert a.status == 200
    reset(server)


@pytest.mark.parametrize("fmt", ["cbor", "json"])
def test_a_non_ascii_hs256_signature_is_400(server, fmt):
    obj = sample(alg="HS256")
    obj["signature"] = "\u00e9" * 64
    a = post_data(server, encode(obj, fmt), fmt=fmt, file_name="sig." + fmt)
    assert a.status == 400 and "hexadecimal" in a.text


def test_a_non_ascii_api_key_is_401(server):
    a = post_data(server, encode(sample(), "cbor"), key="ei_\u00e9\u00e9")
    assert a.status == 401


@pytest.mark.parametrize("header", ["x-file-name", "x-label"])
def test_a_name_or_label_that_is_not_utf_8_when_decoded_is_400(server, header):
    headers = {"file_name": "ok.cbor", header.replace("-", "_"): "bad%FF.cbor"}
    a = post_data(server, encode(sample(), "cbor"), **headers)
    assert a.status == 400 and "UTF-8" in a.text


@pytest.mark.parametrize("path", ["/samples/%C2%B2", "/samples/%EF%BC%91%EF%BC%92/raw", "/samples/1%C2%B2/csv",
                                  "/samples/99999999999999999999999"])
def test_a_sample_id_that_is_not_ascii_digits_is_404(server, path):
    a = request(server, "GET", path)
    assert a.status == 404 and a.content_type.startswith("text/plain")


def test_a_non_ascii_host_header_is_400(server):
    r = send(server, b"GET /samples HTTP/1.1\r\nHost: \xc3\xa9.example\r\n\r\n")
    assert r.status == 400 and "Host" in r.text


@pytest.mark.parametrize("header", ["x-file-name", "x-label", "x-metadata"])
def test_a_header_that_must_be_ascii_is_400_when_it_is_not(server, header):
    value = {"x-metadata": b'{"site": "caf\xc3\xa9"}'}.get(header, b"caf\xc3\xa9.cbor")
    extra = [b"x-file-name: ok.cbor"] if header != "x-file-name" else []
    body = cbor2.dumps(sample())
    lines = [b"POST /api/training/data HTTP/1.1", b"Host: 127.0.0.1", b"x-api-key: " + API_KEY.encode(),
             b"Content-Type: application/cbor", b"Content-Length: %d" % len(body),
             header.encode() + b": " + value] + extra
    r = send(server, b"\r\n".join(lines) + b"\r\n\r\n" + body)
    assert r.status == 400 and header in r.text and "ASCII" in r.text


# ---- numbers beyond what JSON readers hold, CBOR tags (issue 17, item 4) ---------------------------

def _json_with(field_json, where="interval"):
    """A JSON sample whose interval_ms (or first value) is the JSON text given, as sent."""
    text = json.dumps(sample())
    if where == "interval":
        return text.replace('"interval_ms": 10.0', '"interval_ms": ' + field_json).encode()
    return text.replace('[[0.1, -0.2, 9.81]', '[[' + field_json + ', -0.2, 9.81]').encode()


@pytest.mark.parametrize("where", ["interval", "value"])
@pytest.mark.parametrize("number", ["1" + "0" * 400, "9007199254740993", "-9007199254740993"])
def test_a_json_integer_beyond_2_53_is_400_and_the_lists_stay_readable(server, where, number):
    a = post_data(server, _json_with(number, where), fmt="json", file_name="big.json")
    assert a.status == 400 and "2**53" in a.text, a.text
    assert request(server, "GET", "/samples").status == 200


def test_an_integer_of_2_53_is_a_number(server):
    a = post_data(server, _json_with("9007199254740992", "value"), fmt="json", file_name="edge.json")
    assert a.status == 200
    reset(server)


@pytest.mark.parametrize("value", [2 ** 53 + 1, -(2 ** 53) - 1, 2 ** 64 - 1])
def test_a_cbor_integer_beyond_2_53_is_400(server, value):
    a = post_data(server, cbor2.dumps(sample(values=[[value, 0, 0]])), file_name="big.cbor")
    assert a.status == 400 and "2**53" in a.text, a.text


@pytest.mark.parametrize("why, value", [
    ("a bignum", cbor2.CBORTag(2, b"\x01" + b"\x00" * 20)),
    ("a negative bignum", cbor2.CBORTag(3, b"\x01" + b"\x00" * 20)),
    ("a date", cbor2.CBORTag(1, 1700000000)),
])
@pytest.mark.parametrize("where", ["value", "device_type", "unknown field"])
def test_a_cbor_tag_anywhere_in_a_sample_is_400_naming_it(server, why, value, where):
    obj = sample()
    if where == "value":
        obj["payload"]["values"][0][0] = value
    elif where == "device_type":
        obj["payload"]["device_type"] = value
    else:
        obj["payload"]["extra"] = [value]
    a = post_data(server, cbor2.dumps(obj), file_name="tag.cbor")
    assert a.status == 400 and "tag" in a.text and why in a.text, a.text
    assert request(server, "GET", "/samples").status == 200


def test_self_described_cbor_is_400_naming_the_tag(server):
    a = post_data(server, b"\xd9\xd9\xf7" + cbor2.dumps(sample()), file_name="self.cbor")
    assert a.status == 400 and "55799" in a.text


# ---- heads and lengths (issue 17, item 4) -------------------------------------------------------

def test_two_different_content_lengths_are_400_at_once(server):
    body = cbor2.dumps(sample())
    t = time.monotonic()
    r = send(server, head(extra=["Content-Length: %d" % len(body), "Content-Length: %d" % (len(body) + 10)]) + body)
    assert r.status == 400 and "Content-Length" in r.text and r.is_text()
    assert time.monotonic() - t < TIMEOUT  # not a 408 after waiting for a body that will not come


def test_the_same_content_length_twice_is_taken(server):
    body = cbor2.dumps(sample())
    r = send(server, head(extra=["Content-Length: %d" % len(body)] * 2) + body)
    assert r.status == 200
    reset(server)


def test_a_head_trickled_faster_than_the_floor_rate_still_ends_at_the_head_deadline(server):
    """1.5 kB/s is above MIN_RATE (1 kB/s): only a deadline for the whole head ends it."""
    lines = [b"GET /samples HTTP/1.1\r\nHost: 127.0.0.1\r\n"] + [b"X-Slow-%02d: %s\r\n" % (i, b"a" * 136)
                                                                for i in range(40)] + [b"\r\n"]
    t = time.monotonic()
    r = send(server, *lines, pause=0.1)
    assert r.status == 408 and "head" in r.text
    assert time.monotonic() - t < TIMEOUT + 1.5  # the 40 lines would take 4 s
