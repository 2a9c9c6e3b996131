"""The mock ingestion server against the documented Ingestion API (shared/seed), one behaviour a test.

CPython only: each test talks HTTP to a MockServer on loopback, with bodies built by cbor2/json.
The helpers (request, sample, post_data, post_files, the media makers) are in service_client.py.
"""
import hashlib
import hmac
import http.client
import itertools
import json
import math
import os
import re
import socket
import subprocess
import sys
import threading
import urllib.parse

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from service import API_KEY, DUPLICATE, MAX_FILE_BYTES, MAX_FILES, MockServer
from service_client import (CSV, HMAC_KEY, encode, entry, jpeg_bytes, png_bytes, post_data,
                            post_files, request, reset, sample, seed, sign, stored, stored_bytes, wav_bytes)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL_LIMIT = 1024
_unique = itertools.count()


# ---- helpers --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = MockServer(data_dir=tmp_path_factory.mktemp("mock-server")).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    """A server that knows an HMAC key and takes files of at most SMALL_LIMIT bytes."""
    s = MockServer(data_dir=tmp_path_factory.mktemp("mock-strict"), hmac_keys=(HMAC_KEY,),
                   max_file_bytes=SMALL_LIMIT).start()
    yield s
    s.stop()


def is_text(answer):
    return answer.content_type.startswith("text/plain")


# ---- the two endpoints ----------------------------------------------------------------------

def test_data_endpoint_stores_the_page_example_and_answers_the_file_name_as_text(server):
    reset(server)
    v = seed()
    body = bytes.fromhex(v["cbor_body_hex"])
    a = post_data(server, body, file_name="test.cbor")
    assert (a.status, a.text) == (200, "test.cbor") and is_text(a)
    e = entry(server, "test.cbor")
    assert e["category"] == "training" and e["size"] == 265 and e["sha256"] == hashlib.sha256(body).hexdigest()
    assert e["sample"] == v["sample"]
    assert e["device_type"] == "NORDIC_NRF91" and e["interval_ms"] == 20.0 and e["rows"] == 2


def test_data_endpoint_accepts_json(server):
    obj = sample()
    a = post_data(server, encode(obj, "json"), fmt="json", file_name="wave.json")
    assert (a.status, a.text) == (200, "wave.json")
    e = entry(server, "wave.json")
    assert e["content_type"] == "application/json" and e["sample"] == obj


def test_files_endpoint_stores_the_page_example_and_answers_json(server):
    reset(server)
    v = seed()
    a = request(server, "POST", "/api/training/files", bytes.fromhex(v["files_body_hex"]),
                {"x-api-key": API_KEY, "Content-Type": "multipart/form-data; boundary=" + v["boundary"]})
    assert a.status == 200 and a.content_type.startswith("application/json")
    answer = a.json()
    assert answer["success"] is True
    assert [(f["success"], f["fileName"]) for f in answer["files"]] == [(True, "test.cbor")]
    assert entry(server, "test.cbor")["sample"] == v["sample"]


def test_files_endpoint_stores_every_part_named_data(server):
    parts = [("data", "a%d.cbor" % i, "application/cbor", encode(sample(), "cbor")) for i in range(3)]
    a = post_files(server, parts, category="testing")
    assert a.status == 200
    assert [f["fileName"] for f in a.json()["files"]] == ["a0.cbor", "a1.cbor", "a2.cbor"]
    for i in range(3):
        assert entry(server, "a%d.cbor" % i)["category"] == "testing"


@pytest.mark.parametrize("category", ["training", "testing", "anomaly"])
def test_every_documented_category_is_served_on_both_endpoints(server, category):
    assert post_data(server, encode(sample(), "cbor"), category=category, file_name="c.cbor").status == 200
    parts = [("data", "f.cbor", "application/cbor", encode(sample(), "cbor"))]
    assert post_files(server, parts, category=category).status == 200
    assert [e["name"] for e in server.store.metadata(category=category)].count("c.cbor") == 1


@pytest.mark.parametrize("path", ["/api/split/data", "/api/validation/files", "/api/training/other",
                                  "/api/training/data/x", "/api/training", "/api", "/v1/api/training/data"])
def test_other_categories_and_paths_are_404(server, path):
    a = request(server, "POST", path, encode(sample(), "cbor"),
                {"x-api-key": API_KEY, "x-file-name": "x.cbor", "Content-Type": "application/cbor"})
    assert a.status == 404 and is_text(a)


@pytest.mark.parametrize("method,path", [("GET", "/api/training/data"), ("PUT", "/api/testing/files"),
                                         ("DELETE", "/api/anomaly/data"), ("GET", "/_mock/reset"),
                                         ("POST", "/_mock/samples")])
def test_other_methods_are_405(server, method, path):
    a = request(server, method, path, headers={"x-api-key": API_KEY})
    assert a.status == 405 and is_text(a)


# ---- authentication and headers -------------------------------------------------------------

def test_missing_api_key_is_401_and_the_body_says_it_is_missing(server):
    a = post_data(server, encode(sample(), "cbor"), key=None)
    assert a.status == 401 and is_text(a) and "missing" in a.text.lower() and "x-api-key" in a.text


def test_unknown_api_key_is_401_invalid_api_key(server):
    a = post_files(server, [("data", "x.cbor", "application/cbor", encode(sample(), "cbor"))], key="ei_wrong")
    assert (a.status, a.text) == (401, "Invalid API key") and is_text(a)


def test_api_key_is_checked_before_the_file_name_and_the_body(server):
    a = post_data(server, b"\xff garbage", fmt="weird", file_name=None, key="ei_wrong")
    assert a.status == 401


def test_a_configured_api_key_is_accepted_and_the_default_refused(tmp_path):
    s = MockServer(tmp_path, api_keys=("ei_other",)).start()
    try:
        assert post_data(s, encode(sample(), "cbor"), key="ei_other").status == 200
        assert post_data(s, encode(sample(), "cbor")).status == 401
    finally:
        s.stop()


def test_data_without_x_file_name_is_421_naming_the_header(server):
    a = post_data(server, encode(sample(), "cbor"), file_name=None)
    assert a.status == 421 and is_text(a) and "x-file-name" in a.text


# ---- validation of the data acquisition format ----------------------------------------------

@pytest.mark.parametrize("fmt,body", [("cbor", b"\xff\xff"), ("cbor", b""), ("cbor", b"\x9f\x01"),
                                      ("json", b"{not json"), ("json", b""), ("json", b"\xff\xfe"),
                                      ("cbor", cbor2.dumps(sample()) + b"\x00")])
def test_a_body_that_is_not_valid_cbor_or_json_is_400_with_a_reason(server, fmt, body):
    a = post_data(server, body, fmt=fmt)
    assert a.status == 400 and is_text(a) and fmt.upper() in a.text


def _drop(path):
    def mutate(obj):
        *parents, last = path
        target = obj
        for p in parents:
            target = target[p]
        del target[last]
    return mutate


def _set(path, value):
    def mutate(obj):
        *parents, last = path
        target = obj
        for p in parents:
            target = target[p]
        target[last] = value
    return mutate


INVALID = {
    "a list, not a map": lambda o: [o],
    "a string, not a map": lambda o: "payload",
    "no payload": _drop(["payload"]),
    "no protected": _drop(["protected"]),
    "no signature": _drop(["signature"]),
    "no device_type": _drop(["payload", "device_type"]),
    "no interval_ms": _drop(["payload", "interval_ms"]),
    "no sensors": _drop(["payload", "sensors"]),
    "no values": _drop(["payload", "values"]),
    "payload not a map": _set(["payload"], [1, 2]),
    "protected not a map": _set(["protected"], "v1"),
    "ver not v1": _set(["protected", "ver"], "v2"),
    "alg unknown": _set(["protected", "alg"], "RS256"),
    "signature not a string": _set(["signature"], 0),
    "sensors not a list": _set(["payload", "sensors"], {"name": "accX", "units": "m/s2"}),
    "sensors empty": _set(["payload", "sensors"], []),
    "sensor without units": _set(["payload", "sensors", 1], {"name": "accY"}),
    "sensor name not a string": _set(["payload", "sensors", 0], {"name": 1, "units": "m/s2"}),
    "sensor not a map": _set(["payload", "sensors", 2], "accZ"),
    "interval_ms negative": _set(["payload", "interval_ms"], -10),
    "interval_ms a string": _set(["payload", "interval_ms"], "10"),
    "interval_ms a bool": _set(["payload", "interval_ms"], True),
    "interval_ms infinite": _set(["payload", "interval_ms"], math.inf),
    "row too short": _set(["payload", "values", 1], [1.0, 2.0]),
    "row too long": _set(["payload", "values", 0], [1.0, 2.0, 3.0, 4.0]),
    "row not a list": _set(["payload", "values", 0], 1.0),
    "bool in values": _set(["payload", "values", 0, 1], True),
    "string in values": _set(["payload", "values", 0, 1], "1.0"),
    "null in values": _set(["payload", "values", 1, 2], None),
    "NaN in values": _set(["payload", "values", 0, 0], math.nan),
    "inf in values": _set(["payload", "values", 1, 0], math.inf),
    "-inf in values": _set(["payload", "values", 1, 0], -math.inf),
    "values empty": _set(["payload", "values"], []),
    "values not a list": _set(["payload", "values"], {"a": 1}),
    "device_type not a string": _set(["payload", "device_type"], 7),
}


@pytest.mark.parametrize("fmt", ["cbor", "json"])
@pytest.mark.parametrize("why", sorted(INVALID))
def test_an_invalid_data_acquisition_object_is_400_with_a_reason(server, fmt, why):
    obj = sample()
    obj = INVALID[why](obj) or obj
    a = post_data(server, encode(obj, fmt), fmt=fmt)
    assert a.status == 400 and is_text(a) and a.text.startswith("Invalid message")


@pytest.mark.parametrize("values", [[1.0, 2.5, -3], [[1.0], [2.5], [-3]]])
def test_one_sensor_takes_a_flat_list_of_numbers_or_rows_of_one(server, values):
    obj = sample(values=values, sensors=[{"name": "audio", "units": "wav"}])
    a = post_data(server, encode(obj, "cbor"), file_name="flat.%d.cbor" % next(_unique))
    assert a.status == 200 and entry(server, a.text)["rows"] == 3


def test_integers_and_large_integers_are_numbers(server):
    obj = sample(values=[[1, 2, 3], [2 ** 40, -(2 ** 40), 0]], interval_ms=16)
    assert post_data(server, encode(obj, "cbor")).status == 200


@pytest.mark.parametrize("endpoint,ctype", [("data", "text/plain"), ("data", "multipart/form-data; boundary=x"),
                                            ("data", "application/octet-stream"), ("files", "application/cbor"),
                                            ("files", "application/json")])
def test_an_unsupported_content_type_is_400(server, endpoint, ctype):
    a = request(server, "POST", "/api/training/" + endpoint, encode(sample(), "cbor"),
                {"x-api-key": API_KEY, "x-file-name": "x.cbor", "Content-Type": ctype})
    assert a.status == 400 and is_text(a) and "content type" in a.text.lower()


def test_content_type_parameters_are_ignored(server):
    a = request(server, "POST", "/api/training/data", encode(sample(), "json"),
                {"x-api-key": API_KEY, "x-file-name": "x.json", "Content-Type": "application/json; charset=utf-8"})
    assert a.status == 200


# ---- labels and names -----------------------------------------------------------------------

def test_x_label_is_the_label_percent_decoded(server):
    a = post_data(server, encode(sample(), "cbor"), file_name="idle.cbor", x_label="car%20red%2Fblue")
    assert entry(server, a.text)["label"] == "car red/blue"


@pytest.mark.parametrize("file_name,label", [("idle.01", "idle"), ("test.cbor", "test"),
                                             ("my-label_1 x.2.cbor", "my-label_1 x"), ("#weird.cbor", None),
                                             ("up%20down.cbor", "up down")])
def test_without_x_label_the_label_is_inferred_from_the_file_name(server, file_name, label):
    a = post_data(server, encode(sample(), "cbor"), file_name=file_name, x_add_date_id="1")
    assert a.status == 200 and entry(server, a.text)["label"] == label


def test_x_no_label_stores_no_label(server):
    a = post_data(server, encode(sample(), "cbor"), file_name="idle.cbor", x_no_label="1", x_add_date_id="1")
    assert entry(server, a.text)["label"] is None


def test_files_endpoint_infers_each_label_from_its_part_file_name(server):
    parts = [("data", "wave.1.cbor", "application/cbor", encode(sample(), "cbor")),
             ("data", "idle.1.cbor", "application/cbor", encode(sample(), "cbor"))]
    a = post_files(server, parts, x_add_date_id="1")
    names = [f["fileName"] for f in a.json()["files"]]
    assert [entry(server, n)["label"] for n in names] == ["wave", "idle"]


def test_x_file_name_is_percent_decoded(server):
    a = post_data(server, encode(sample(), "cbor"), file_name="walk%20fast.cbor")
    assert a.text == "walk fast.cbor" and entry(server, "walk fast.cbor")["file_name"] == "walk fast.cbor"


def test_x_add_date_id_puts_a_unique_id_before_the_extension(server):
    names = [post_data(server, encode(sample(), "cbor"), file_name="idle.cbor", x_add_date_id="1").text
             for _ in range(3)]
    assert len(set(names)) == 3
    for n in names:
        assert re.fullmatch(r"idle\.[0-9a-z]{8}\.cbor", n), n
        assert entry(server, n)["file_name"] == "idle.cbor"


def test_without_x_add_date_id_the_name_is_kept_as_given(server):
    assert post_data(server, encode(sample(), "cbor"), file_name="as.given.cbor").text == "as.given.cbor"


def test_a_file_name_the_store_cannot_hold_is_400(server):
    for name in ("../escape.cbor", "a/b.cbor", ".."):
        assert post_data(server, encode(sample(), "cbor"), file_name=urllib.parse.quote(name, safe="")).status == 400


# ---- duplicates -----------------------------------------------------------------------------

def test_x_disallow_duplicates_refuses_a_body_already_stored_in_any_category(server):
    body = encode(sample(), "cbor")
    assert post_data(server, body, category="testing", file_name="first.cbor").status == 200
    a = post_data(server, body, category="training", file_name="again.cbor", x_disallow_duplicates="1")
    assert a.status == 400 and is_text(a) and a.text.startswith(DUPLICATE)
    assert not [e for e in stored(server) if e["name"] == "again.cbor"]


def test_without_x_disallow_duplicates_a_duplicate_is_stored(server):
    body = encode(sample(), "cbor")
    assert post_data(server, body, file_name="dup1.cbor").status == 200
    assert post_data(server, body, file_name="dup2.cbor").status == 200
    assert entry(server, "dup1.cbor")["sha256"] == entry(server, "dup2.cbor")["sha256"]


def test_x_disallow_duplicates_fails_the_duplicate_part_alone(server):
    old = encode(sample(), "cbor")
    assert post_data(server, old, file_name="old.cbor").status == 200
    parts = [("data", "new.cbor", "application/cbor", encode(sample(), "cbor")),
             ("data", "old-again.cbor", "application/cbor", old)]
    a = post_files(server, parts, x_disallow_duplicates="1")
    assert a.status == 200 and a.json()["success"] is False
    ok, dup = a.json()["files"]
    assert (ok["success"], ok["fileName"]) == (True, "new.cbor")
    assert (dup["success"], dup["fileName"]) == (False, "old-again.cbor") and dup["error"].startswith(DUPLICATE)
    names = [e["name"] for e in stored(server)]
    assert "new.cbor" in names and "old-again.cbor" not in names


# ---- limits ---------------------------------------------------------------------------------

def test_the_documented_limits_are_the_defaults(server):
    assert (MAX_FILES, MAX_FILE_BYTES) == (1000, 100 * 1024 * 1024)
    assert (server.app.config.max_files, server.app.config.max_file_bytes) == (MAX_FILES, MAX_FILE_BYTES)


def test_more_than_1000_files_in_one_request_is_400_naming_the_limit(server):
    before = len(stored(server))
    parts = [("data", "n%d.txt" % i, "text/plain", b"%d" % i) for i in range(MAX_FILES + 1)]
    a = post_files(server, parts)
    assert a.status == 400 and is_text(a) and "1000" in a.text
    assert len(stored(server)) == before


def test_1000_files_in_one_request_are_taken(tmp_path):
    s = MockServer(tmp_path).start()
    try:
        parts = [("data", "n%d.txt" % i, "text/plain", b"%d" % i) for i in range(MAX_FILES)]
        assert len(post_files(s, parts).json()["files"]) == MAX_FILES
    finally:
        s.stop()


def test_a_data_body_over_the_size_limit_is_400_naming_the_limit(strict):
    obj = sample(values=[[1.0, 2.0, 3.0]] * 60)
    body = encode(obj, "cbor")
    assert len(body) > SMALL_LIMIT
    a = post_data(strict, body)
    assert a.status == 400 and is_text(a) and str(SMALL_LIMIT) in a.text and "100 MB" in a.text


def test_a_file_part_over_the_size_limit_is_400_naming_the_limit(strict):
    a = post_files(strict, [("data", "big.txt", "text/plain", b"R" * (SMALL_LIMIT + 1))])
    assert a.status == 400 and str(SMALL_LIMIT) in a.text and "big.txt" in a.text
    assert post_files(strict, [("data", "fits.txt", "text/plain", b"R" * SMALL_LIMIT)]).status == 200


# ---- the files endpoint's parts -------------------------------------------------------------

@pytest.mark.parametrize("file_name,ctype,make", [("clip.wav", "audio/wav", wav_bytes), ("photo.jpg", "image/jpeg", jpeg_bytes),
                                                  ("shot.png", "image/png", png_bytes), ("table.csv", "text/csv", lambda: CSV),
                                                  ("notes.txt", "text/plain", lambda: os.urandom(64))])
def test_other_files_are_stored_as_they_are(server, file_name, ctype, make):
    data = make()
    a = post_files(server, [("data", file_name, ctype, data)])
    assert a.status == 200
    e = entry(server, file_name)
    assert e["sample"] is None and e["content_type"] == ctype and e["size"] == len(data)
    assert stored_bytes(server, file_name) == data


@pytest.mark.parametrize("file_name,ctype", [("bad.cbor", "application/octet-stream"),
                                             ("bad.json", "text/plain"), ("bad.bin", "application/cbor"),
                                             ("bad.txt", "application/json")])
def test_a_cbor_or_json_part_is_checked_like_the_data_endpoint_and_fails_alone(server, file_name, ctype):
    a = post_files(server, [("data", "good.cbor", "application/cbor", encode(sample(), "cbor")),
                            ("data", file_name, ctype, b'{"payload": {}}')])
    assert a.status == 200 and a.json()["success"] is False
    good, bad = a.json()["files"]
    assert good["success"] is True and good["fileName"] == "good.cbor" and isinstance(good["sampleId"], int)
    assert (bad["success"], bad["fileName"]) == (False, file_name) and bad["error"].startswith("Invalid message")
    assert "good.cbor" in [e["name"] for e in stored(server)]
    assert file_name not in [e["name"] for e in stored(server)]


def test_a_files_request_without_a_data_part_is_400(server):
    assert post_files(server, [("other", "x.cbor", "application/cbor", encode(sample(), "cbor"))]).status == 400
    assert post_files(server, [("data", None, "application/cbor", encode(sample(), "cbor"))]).status == 400


# ---- signed samples -------------------------------------------------------------------------



@pytest.mark.parametrize("fmt", ["cbor", "json"])
def test_a_rightly_signed_sample_is_stored_signed_and_valid(strict, fmt):
    a = post_data(strict, sign(sample(), fmt), fmt=fmt, x_add_date_id="1")
    assert a.status == 200
    e = entry(strict, a.text)
    assert (e["signed"], e["signature_valid"]) == (True, True)


def test_json_is_verified_over_the_bytes_as_received(strict):
    obj = dict(sample(), protected={"ver": "v1", "alg": "HS256"}, signature="0" * 64)
    zeroed = json.dumps(obj, indent=3).encode()  # not how json.dumps would re-serialise by default
    sig = hmac.new(HMAC_KEY.encode(), zeroed, hashlib.sha256).hexdigest()
    body = zeroed.replace(b'"' + b"0" * 64 + b'"', b'"' + sig.encode() + b'"')
    a = post_data(strict, body, fmt="json", x_add_date_id="1")
    assert entry(strict, a.text)["signature_valid"] is True


def test_cbor_signed_over_its_own_encoding_is_valid(strict):
    # canonical=True sorts keys and shortens floats: cbor2's re-encoding of it would differ.
    body = sign(sample(values=[[0.5, 1.5, -2.0]]), "cbor", canonical=True)
    a = post_data(strict, body, x_add_date_id="1")
    assert entry(strict, a.text)["signature_valid"] is True


@pytest.mark.parametrize("fmt", ["cbor", "json"])
def test_a_wrongly_signed_sample_is_stored_but_flagged(strict, fmt):
    a = post_data(strict, sign(sample(), fmt, key="not-the-key"), fmt=fmt, x_add_date_id="1")
    assert a.status == 200
    e = entry(strict, a.text)
    assert (e["signed"], e["signature_valid"]) == (True, False)


def test_a_signed_sample_without_a_configured_hmac_key_has_unknown_validity(server):
    a = post_data(server, sign(sample(), "cbor"), x_add_date_id="1")
    e = entry(server, a.text)
    assert (e["signed"], e["signature_valid"]) == (True, None)


def test_an_unsigned_sample_is_not_signed(strict):
    a = post_data(strict, encode(sample(), "cbor"), x_add_date_id="1")
    e = entry(strict, a.text)
    assert (e["signed"], e["signature_valid"]) == (False, None)


# ---- storage --------------------------------------------------------------------------------

def test_an_accepted_file_is_written_as_received_and_indexed_with_no_temporary_file(server):
    body = encode(sample(), "cbor")
    post_data(server, body, category="anomaly", file_name="kept.cbor", x_label="odd")
    assert stored_bytes(server, "kept.cbor", "anomaly") == body
    [meta] = [e for e in server.store.metadata(category="anomaly") if e["name"] == "kept.cbor"]
    folder = server.store.files_dir
    for key in ("name", "file_name", "category", "label", "content_type", "size", "sha256", "signed",
                "signature_valid", "received_at", "device_name", "device_type", "interval_ms", "sensors", "rows"):
        assert key in meta, key
    assert (meta["name"], meta["category"], meta["label"], meta["size"]) == ("kept.cbor", "anomaly", "odd", len(body))
    assert meta["sensors"][0] == {"name": "accX", "units": "m/s2"} and meta["rows"] == 2
    assert not [n for n in os.listdir(folder) if n.startswith(".tmp-")]


def test_the_store_survives_a_restart(tmp_path):
    first = MockServer(tmp_path).start()
    try:
        post_data(first, encode(sample(), "cbor"), file_name="one.cbor")
        post_files(first, [("data", "two.wav", "audio/wav", wav_bytes())], category="testing")
        before = stored(first)
    finally:
        first.stop()
    (tmp_path / "files" / "999").write_bytes(b"renamed, but its transaction never committed")
    (tmp_path / "files" / ".tmp-123").write_bytes(b"crash leftover")
    second = MockServer(tmp_path).start()
    try:
        assert stored(second) == before
        assert sorted(os.listdir(tmp_path / "files")) == sorted(str(e["sample_id"]) for e in before)
        assert post_data(second, encode(sample(), "cbor"), file_name="three.cbor").status == 200
        assert [e["name"] for e in stored(second)] == ["one.cbor", "two.wav", "three.cbor"]
    finally:
        second.stop()


@pytest.mark.parametrize("fail_at", [1, 2])
def test_a_request_whose_files_cannot_all_be_written_stores_none_of_them(tmp_path, monkeypatch, fail_at):
    import service.store
    s = MockServer(tmp_path).start()
    moves, real = [], os.replace

    def disk_full_at_the_nth_move(src, dst):
        moves.append(dst)
        if len(moves) == fail_at:
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(service.store.os, "replace", disk_full_at_the_nth_move)
    try:
        a = post_files(s, [("data", "a.cbor", "application/cbor", encode(sample(), "cbor")),
                           ("data", "b.cbor", "application/cbor", encode(sample(), "cbor"))])
        assert a.status == 507 and is_text(a) and "No space left on device" in a.text
        assert stored(s) == [] and os.listdir(tmp_path / "files") == []
    finally:
        s.stop()


def test_a_sample_with_the_same_stored_name_replaces_the_earlier_one(server):
    post_data(server, encode(sample(), "cbor"), file_name="same.cbor")
    body = encode(sample(), "cbor")
    post_data(server, body, file_name="same.cbor")
    assert entry(server, "same.cbor")["sha256"] == hashlib.sha256(body).hexdigest()


def test_concurrent_uploads_are_all_stored(server):
    reset(server)
    results = []

    def upload(i):
        results.append(post_data(server, encode(sample(), "cbor"), file_name="t%d.cbor" % i).status)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 20 and len(stored(server)) == 20


# ---- the test API ---------------------------------------------------------------------------

def test_samples_lists_entries_in_arrival_order_with_the_decoded_sample(server):
    reset(server)
    objs = [sample(values=[[0.1 * i, 1e-7, 12345.678]]) for i in range(3)]
    for i, obj in enumerate(objs):
        post_data(server, encode(obj, "json" if i % 2 else "cbor"), fmt="json" if i % 2 else "cbor",
                  file_name="s%d" % i)
    post_files(server, [("data", "raw.png", "image/png", png_bytes())])
    a = request(server, "GET", "/_mock/samples")
    assert a.status == 200 and a.content_type.startswith("application/json")
    entries = a.json()
    assert [e["name"] for e in entries] == ["s0", "s1", "s2", "raw.png"]
    assert [e["sample"] for e in entries] == objs + [None]


def test_reset_clears_memory_and_disk_and_answers_an_empty_200(server):
    post_data(server, encode(sample(), "cbor"), file_name="gone.cbor")
    a = request(server, "POST", "/_mock/reset", headers={"x-api-key": API_KEY})
    assert (a.status, a.body) == (200, b"") and is_text(a)
    assert stored(server) == [] and os.listdir(server.store.files_dir) == []


def test_the_test_api_reads_without_a_key_but_resets_only_with_one(server):
    post_data(server, encode(sample(), "cbor"), file_name="kept-by-a-keyless-reset.cbor")
    assert request(server, "GET", "/_mock/samples").status == 200
    assert request(server, "POST", "/_mock/reset").status == 401
    assert request(server, "POST", "/_mock/reset", headers={"x-api-key": "ei_other"}).status == 401
    assert entry(server, "kept-by-a-keyless-reset.cbor")


def test_the_test_api_exists_only_in_a_service_started_for_tests(tmp_path):
    s = MockServer(tmp_path, testing=False).start()
    try:
        assert request(s, "GET", "/_mock/samples").status == 404
        assert request(s, "POST", "/_mock/reset", headers={"x-api-key": API_KEY}).status == 404
    finally:
        s.stop()


# ---- robustness -----------------------------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300),
       endpoint=st.sampled_from(["data", "files"]),
       ctype=st.sampled_from(["application/cbor", "application/json", "multipart/form-data; boundary=b",
                              "multipart/form-data", "text/plain", ""]))
def test_garbage_is_refused_and_never_crashes_the_server(server, body, endpoint, ctype):
    a = request(server, "POST", "/api/training/" + endpoint, body,
                {"x-api-key": API_KEY, "x-file-name": "g.cbor", "Content-Type": ctype})
    assert a.status in (200, 400) and is_text(a)
    assert request(server, "GET", "/_mock/samples").status == 200


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5)
                          | st.binary(max_size=5),
                          lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=12),
       where=st.sampled_from(["payload", "values", "sensors", "interval_ms", "device_type", "protected"]))
def test_any_cbor_value_in_any_field_is_answered_200_or_400(server, value, where):
    obj = sample()
    if where == "payload" or where == "protected":
        obj[where] = value
    else:
        obj["payload"][where] = value
    a = post_data(server, cbor2.dumps(obj), file_name="h.cbor")
    assert a.status in (200, 400) and is_text(a)


def test_a_malformed_http_request_does_not_stop_the_server(server):
    with socket.create_connection((server.host, server.port), timeout=5) as s:
        s.sendall(b"\x00\x01 not http at all\r\n\r\n")
        s.recv(1024)
    assert request(server, "GET", "/_mock/samples").status == 200


def test_the_command_line_prints_its_address_and_serves(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "service", "--port", "0",
                             "--host", "127.0.0.1", "--data", str(tmp_path), "--api-key", "ei_cli"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        m = re.fullmatch(r"ingestion service on http://127\.0\.0\.1:(\d+) \(data in (.+)\)\n", line)
        assert m and m.group(2) == str(tmp_path), line
        c = http.client.HTTPConnection("127.0.0.1", int(m.group(1)), timeout=10)
        c.request("POST", "/api/training/data", cbor2.dumps(sample()),
                  {"x-api-key": "ei_cli", "x-file-name": "cli.cbor", "Content-Type": "application/cbor"})
        r = c.getresponse()
        assert (r.status, r.read()) == (200, b"cli.cbor")
        c.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_two_files_of_the_same_name_in_one_request_keep_the_later_and_say_so(server):
    first, later = encode(sample(), "cbor"), encode(sample(), "cbor")
    a = post_files(server, [("data", "twice.cbor", "application/cbor", first),
                            ("data", "twice.cbor", "application/cbor", later)])
    assert a.status == 200
    replaced, kept = a.json()["files"]
    assert replaced["success"] is False and "Replaced" in replaced["error"] and kept["success"] is True
    assert entry(server, "twice.cbor")["sha256"] == hashlib.sha256(later).hexdigest()
