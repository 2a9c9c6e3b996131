"""Fuzzing (hypothesis, bounded so it runs in `make test` in seconds): the sample validator and
the HTTP request parser answer anything with a description or a status and a reason, never with
an exception of their own, a 500, or a half-written sample.
"""
import hashlib
import json
import os
import socket

import cbor2
from hypothesis import HealthCheck, given, settings, strategies as st

from service import API_KEY, MockServer, Rejected
from service_client import CSV, binary_sample, describe, jpeg_bytes, multipart, png_bytes, sample, wav_bytes

HMAC_KEY = "fuzz-key"
# Valid files with the name and content type they travel under.
FILES = [("s.cbor", "application/cbor", cbor2.dumps(sample())), ("s.json", "application/json", json.dumps(sample()).encode()),
         ("b.cbor", "application/cbor", binary_sample([[1], [2], [3], [4]])),
         ("h.cbor", "application/cbor", binary_sample([[5], [6]], key=HMAC_KEY)),
         ("t.csv", "text/csv", CSV), ("o.csv", "text/csv", b"t,x\n0,1\n"), ("w.wav", "audio/wav", wav_bytes(6)),
         ("p.png", "image/png", png_bytes()), ("j.jpg", "image/jpeg", jpeg_bytes())]
VALID = [f[2] for f in FILES]
NAMES = ["s.cbor", "s.json", "s.csv", "s.wav", "s.png", "s.jpg", "s.txt", "s", "structured_labels.labels"]
TYPES = ["application/cbor", "application/json", "text/csv", "audio/wav", "image/png", "image/jpeg",
         "multipart/form-data", "application/octet-stream", "", "text/plain; charset=utf-8"]


@st.composite
def mutated(draw, seeds=VALID):
    """A valid file with a few bytes flipped, inserted, deleted, or cut off."""
    body = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(0, len(body) - 1)))
        if op == "flip" and body:
            body[at] ^= draw(st.integers(1, 255))
        elif op == "insert":
            body[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and body:
            del body[at:at + draw(st.integers(1, 8))]
        elif op == "truncate":
            del body[at:]
    return bytes(body)


json_values = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=6),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=16)
bodies = st.one_of(mutated(), st.binary(max_size=400),
                   json_values.map(lambda v: json.dumps(v).encode()), json_values.map(cbor2.dumps))


@st.composite
def files(draw):
    """(name, content type, body): mostly a valid file a little damaged, under its own name and
    type, so that the checks past the first are reached; else anything under any name."""
    if draw(st.integers(0, 9)) < 7:
        name, ctype, body = draw(st.sampled_from(FILES))
        return name, ctype, draw(mutated([body]))
    return draw(st.sampled_from(NAMES)), draw(st.sampled_from(TYPES)), draw(bodies)


def check_described(summary, obj, rows):
    json.dumps(summary)
    json.dumps(obj)
    assert summary["kind"] in ("acquisition", "csv", "audio", "image", "file")
    if rows is not None:
        assert len(rows) == summary["rows"] and all(len(r) == len(summary["sensors"]) for r in rows)
        assert summary["interval_ms"] >= 0
    if summary["kind"] == "acquisition":
        assert obj is not None and summary["rows"] >= 1
    if summary["signed"]:
        assert summary["signature_valid"] in (True, False)


@settings(max_examples=400, deadline=None)
@given(file=files())
def test_the_sample_validator_describes_or_refuses_anything(file):
    name, ctype, body = file
    try:
        described = describe(name, body, ctype, hmac_keys=(HMAC_KEY,))
    except Rejected as e:
        assert e.status == 400 and e.text.strip()
    else:
        check_described(*described)


@settings(max_examples=100, deadline=None)
@given(body=mutated(VALID[:4]), ctype=st.sampled_from(["application/cbor", "application/json"]))
def test_data_acquisition_objects_with_damage_are_described_or_refused(body, ctype):
    try:
        described = describe("d.bin", body, ctype, hmac_keys=(HMAC_KEY,), fmt=ctype.split("/")[1])
    except Rejected as e:
        assert e.status == 400 and e.text.startswith("Invalid message")
    else:
        check_described(*described)


# ---- the JSON walker against a whole decode ---------------------------------------------------------

def _whole(body):
    """What the service took JSON samples to be before it walked them: decoded whole, strictly
    (no NaN, no integer beyond 2**53, no key twice), checked, then every row. (rows) or None."""
    from service.acquisition import Rows, check_header
    from service.web import finite_float, no_constant, safe_int
    try:
        def no_repeats(pairs):
            if len({k for k, _ in pairs}) != len(pairs):
                raise ValueError("a key twice")
            return dict(pairs)
        text = body.decode("utf-8")
        obj = json.loads(text, object_pairs_hook=no_repeats, parse_constant=no_constant,
                         parse_float=finite_float, parse_int=safe_int)
        summary = check_header(obj)
        values = obj["payload"]["values"]
        if not isinstance(values, list) or not values:
            return None
        out = []
        rows = Rows(lambda i, row: out.append(row))
        for item in values:
            rows.row(item)
        rows.finish(len(summary["sensors"]))
        return out
    except (ValueError, RecursionError, Rejected, KeyError, TypeError):
        return None


numbers = st.integers(-(2 ** 53), 2 ** 53) | st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def json_samples(draw):
    """A JSON sample as some client may write it: any key order, any spacing, rows or a flat
    list, numbers of any size JSON holds; then, half the time, damaged."""
    width = draw(st.integers(1, 3))
    rows = draw(st.lists(st.lists(numbers, min_size=width, max_size=width), min_size=1, max_size=30))
    values = [r[0] for r in rows] if width == 1 and draw(st.booleans()) else rows
    payload = {"device_name": "d", "device_type": "T", "interval_ms": draw(numbers.filter(lambda v: v >= 0)),
               "sensors": [{"name": "s%d" % i, "units": "u"} for i in range(width)], "values": values}
    if draw(st.booleans()):
        payload["extra"] = draw(json_values)
    keys = draw(st.permutations(sorted(payload)))
    obj = {"protected": {"ver": "v1", "alg": "none"}, "signature": "0" * 64,
           "payload": {k: payload[k] for k in keys}}
    body = json.dumps(obj, indent=draw(st.sampled_from([None, 0, 2])),
                      separators=draw(st.sampled_from([None, (",", ":"), (" , ", " : ")]))).encode()
    return draw(mutated([body])) if draw(st.booleans()) else body


@settings(max_examples=300, deadline=None)
@given(body=json_samples())
def test_the_json_walker_takes_what_a_strict_whole_decode_takes_with_the_same_rows(body):
    expected = _whole(body)
    try:
        _, _, rows = describe("w.json", body, "application/json", fmt="json")
    except Rejected as e:
        assert e.status == 400 and e.text.startswith("Invalid message")
        assert expected is None, (body[:200], e.text)
    else:
        assert rows == expected, body[:200]


# ---- the HTTP request parser, over a socket -------------------------------------------------------

SERVER = {}


def server():
    if "s" not in SERVER:
        import tempfile
        SERVER["s"] = MockServer(tempfile.mkdtemp(prefix="fuzz-"), timeout=1.0, max_file_bytes=2048,
                                 hmac_keys=(HMAC_KEY,)).start()
    return SERVER["s"]


def teardown_module():
    if "s" in SERVER:
        SERVER.pop("s").stop()


@st.composite
def requests(draw):
    """A request a client might write, then damaged a little: any endpoint, any of the headers
    the service reads, any kind of body, framed right before the damage."""
    path = draw(st.sampled_from(["/api/training/data", "/api/testing/files", "/api/split/files", "/api/anomaly/data",
                                 "/samples", "/samples/1", "/samples/1/csv", "/_mock/samples", "/dashboard/main.js", "/x",
                                 "/devices", "/devices/dev-1/start-sampling"]))
    usual = "POST" if path.startswith("/api/") or path.endswith("/start-sampling") else "GET"
    method = usual if draw(st.integers(0, 9)) < 8 else draw(st.sampled_from(["POST", "GET", "PUT", "HEAD", "OPTIONS"]))
    if path.endswith("/files"):
        body, ctype = multipart([("data",) + draw(files()) for _ in range(draw(st.integers(1, 3)))])
        name = "files"
    else:
        name, ctype, body = draw(files())
    headers = [("Host", "127.0.0.1"), ("Content-Type", ctype), ("Content-Length", str(len(body)))]
    headers += [("x-api-key", API_KEY), ("x-file-name", name)]
    optional = {"x-api-key": draw(st.sampled_from(["ei_bad", ""])), "x-file-name": draw(st.sampled_from(NAMES + ["", "a%2Fb", "..", "%00"])),
                "x-label": draw(st.sampled_from(["idle", "a%20b", "%ff", ""])), "x-no-label": "1",
                "x-disallow-duplicates": "1", "x-add-date-id": "1", "x-metadata": draw(st.sampled_from(['{"a": "b"}', "{", "[]"])),
                "Transfer-Encoding": "chunked", "Expect": "100-continue"}
    for key in draw(st.lists(st.sampled_from(sorted(optional)), unique=True, max_size=5)):
        headers = [h for h in headers if h[0] != key] + [(key, optional[key])]
    head = "%s %s HTTP/1.1\r\n" % (method, path) + "".join("%s: %s\r\n" % h for h in headers) + "\r\n"
    raw = head.encode("latin-1") + body
    return draw(mutated([raw])) if draw(st.booleans()) else raw


def exchange(raw):
    """Send raw, close our side (so a short body ends rather than waits), read the answer."""
    s = server()
    with socket.create_connection((s.host, s.port), timeout=10) as c:
        try:
            c.sendall(raw)
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        out = b""
        while True:
            try:
                chunk = c.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            out += chunk
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=requests())
def test_the_request_parser_answers_anything_with_a_status_and_never_a_500(raw):
    reply = exchange(raw)
    if not reply:
        # Only a request with no request line at all goes unanswered.
        assert not raw.split(b"\r\n", 1)[0].strip() or b"\n" not in raw
        return
    if reply.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"):
        reply = reply[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
    status_line, _, rest = reply.partition(b"\r\n")
    status = int(status_line.split()[1])
    assert status != 500, reply[:300]
    head, _, body = rest.partition(b"\r\n\r\n")
    if status >= 400 and not raw.startswith(b"HEAD "):
        # a reason in text, or per file in the JSON answer of /files
        assert (b"content-type: text/plain" in head.lower() or b'"error": ' in body) and body.strip(), reply[:300]


def test_after_fuzzing_every_stored_file_is_indexed_whole_and_nothing_else_is_kept():
    s = server()
    entries = s.store.metadata()
    names = os.listdir(s.store.files_dir)
    assert sorted(names) == sorted(str(e["sample_id"]) for e in entries)
    for e in entries:
        with open(s.store.path(e["sample_id"]), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == e["sha256"]
