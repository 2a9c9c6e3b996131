"""Running the local service: `make serve` and its options (data folder, port, bind address on
loopback unless told, API and HMAC keys), a store that survives a restart of the process, and the
sample API the dashboard reads (list, one sample's values, downloads, live events).
"""
import http.client
import os
import pathlib
import signal
import socket

import pytest

from service import API_KEY, MockServer
from service_process import Remote, cli
from service_client import (CSV, binary_sample, encode, png_bytes, post_data, post_files, request, reset, sample,
                            sign, stored_bytes, wav_bytes)

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent


# ---- make serve ---------------------------------------------------------------------------------

def test_make_serve_takes_the_data_folder_port_and_keys_and_binds_loopback(tmp_path):
    hmac_key = "serve-hmac"
    r = Remote(["make", "-s", "serve", "SERVE_PORT=0", "SERVE_DATA=%s" % tmp_path,
                "SERVE_API_KEYS=ei_first ei_second", "SERVE_HMAC_KEYS=%s" % hmac_key], cwd=str(ROOT))
    try:
        assert (r.host, r.data) == ("127.0.0.1", str(tmp_path))
        assert post_data(r, encode(sample(), "cbor"), key="ei_second", file_name="k.cbor").status == 200
        assert post_data(r, encode(sample(), "cbor")).status == 401  # the page's key is no longer taken
        signed = post_data(r, sign(sample(), "cbor", key=hmac_key), key="ei_first", file_name="s.cbor")
        assert signed.status == 200
        assert [e["signature_valid"] for e in request(r, "GET", "/samples", key="ei_first").json()] == [None, True]
        assert (tmp_path / "index.sqlite3").is_file() and len(os.listdir(tmp_path / "files")) == 2
        page = request(r, "GET", "/")
        assert page.status == 200 and b"Local ingestion service" in page.body
    finally:
        r.stop()


# ---- a restart ------------------------------------------------------------------------------------

def test_the_store_survives_a_restart_of_the_process(tmp_path):
    first = cli(tmp_path)
    try:
        post_data(first, encode(sample(), "cbor"), file_name="a.cbor", x_label="wave")
        post_data(first, binary_sample([[1], [-2], [3]]), file_name="mic.cbor", category="testing")
        post_files(first, [("data", "t.csv", "text/csv", CSV), ("data", "w.wav", "audio/wav", wav_bytes())],
                   category="anomaly")
        listed = request(first, "GET", "/samples").json()
        details = [request(first, "GET", "/samples/%d" % e["sample_id"]).json() for e in listed]
    finally:
        first.stop()
    second = cli(tmp_path)
    try:
        assert request(second, "GET", "/samples").json() == listed
        assert [request(second, "GET", "/samples/%d" % e["sample_id"]).json() for e in listed] == details
        post_data(second, encode(sample(), "cbor"), file_name="b.cbor")
        ids = [e["sample_id"] for e in request(second, "GET", "/samples").json()]
        assert ids == sorted(set(ids)) and ids[-1] == max(e["sample_id"] for e in listed) + 1
    finally:
        second.stop(signal.SIGKILL)  # not even a clean stop loses what was answered 200
    third = cli(tmp_path)
    try:
        assert [e["name"] for e in request(third, "GET", "/samples").json()] == [
            "a.cbor", "mic.cbor", "t.csv", "w.wav", "b.cbor"]
    finally:
        third.stop()


def test_the_address_is_loopback_unless_asked(tmp_path):
    r = cli(tmp_path)
    try:
        assert r.host == "127.0.0.1"
    finally:
        r.stop()


# ---- the dashboard's API ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = MockServer(tmp_path_factory.mktemp("operation")).start()
    yield s
    s.stop()


@pytest.fixture()
def three(server):
    reset(server)
    post_data(server, encode(sample(values=[[i, -i, 9.8] for i in range(10)]), "cbor"), file_name="w.cbor",
              x_label="wave")
    post_data(server, encode(sample(values=[[0, 0, 9.8]]), "cbor"), file_name="i.cbor", category="testing",
              x_no_label="1")
    post_files(server, [("data", "p.png", "image/png", png_bytes(4, 3))])
    return {e["name"]: e for e in request(server, "GET", "/samples").json()}


def test_samples_lists_metadata_oldest_first_without_values(server, three):
    listed = request(server, "GET", "/samples").json()
    assert [e["name"] for e in listed] == ["w.cbor", "i.cbor", "p.png"]
    assert all("sample" not in e and "values" not in e for e in listed)
    w = three["w.cbor"]
    assert (w["rows"], w["interval_ms"], w["device_type"], w["kind"]) == (10, 10.0, "MOCK_TEST", "acquisition")


@pytest.mark.parametrize("query,names", [("category=testing", ["i.cbor"]), ("label=wave", ["w.cbor"]),
                                         ("label=", ["i.cbor"]), ("category=training&label=wave", ["w.cbor"]),
                                         ("category=anomaly", [])])
def test_samples_filter_by_category_and_label(server, three, query, names):
    assert [e["name"] for e in request(server, "GET", "/samples?" + query).json()] == names


def test_one_sample_has_its_values_and_thins_them_on_request(server, three):
    sid = three["w.cbor"]["sample_id"]
    full = request(server, "GET", "/samples/%d" % sid).json()
    assert (full["step"], full["values"][3]) == (1, [3, -3, 9.8])
    thin = request(server, "GET", "/samples/%d?max_points=4" % sid).json()
    assert (thin["step"], [r[0] for r in thin["values"]]) == (3, [0, 3, 6, 9])
    assert request(server, "GET", "/samples/%d" % three["p.png"]["sample_id"]).json()["values"] is None


def test_downloads_are_the_bytes_as_received_and_a_csv(server, three):
    sid = three["w.cbor"]["sample_id"]
    c = http.client.HTTPConnection(server.host, server.port, timeout=10)
    c.request("GET", "/samples/%d/raw" % sid, headers={"x-api-key": API_KEY})
    r = c.getresponse()
    body = r.read()
    assert r.getheader("Content-Disposition").startswith("attachment") and r.getheader("X-Content-Type-Options") == "nosniff"
    assert body == stored_bytes(server, "w.cbor")
    c.close()
    lines = request(server, "GET", "/samples/%d/csv" % sid).text.splitlines()
    assert lines[:3] == ["timestamp,accX,accY,accZ", "0.0,0,0,9.8", "10.0,1,-1,9.8"] and len(lines) == 11
    one = request(server, "GET", "/samples/%d/csv" % three["i.cbor"]["sample_id"]).text.splitlines()
    assert one[1].startswith("0.0,")
    assert request(server, "GET", "/samples/%d/csv" % three["p.png"]["sample_id"]).status == 404


def test_an_image_is_shown_inline_only_when_asked_and_only_as_an_image(server, three):
    sid = three["p.png"]["sample_id"]
    a = request(server, "GET", "/samples/%d/raw?inline=1" % sid)
    assert a.status == 200 and a.content_type == "image/png" and a.body == png_bytes(4, 3)
    assert request(server, "GET", "/samples/%d/raw" % sid).content_type == "application/octet-stream"


@pytest.mark.parametrize("path", ["/samples/999999", "/samples/x", "/samples/1/other", "/dashboard/../store.py",
                                  "/dashboard/secret.txt"])
def test_what_is_not_there_is_404(server, three, path):
    a = request(server, "GET", path)
    assert a.status == 404 and a.content_type.startswith("text/plain")


def test_the_page_and_its_files_are_served_with_a_policy_against_anything_remote(server):
    scripts = ["/dashboard/%s.js" % m for m in ("main", "page", "samples", "plot", "devices")]
    for path, ctype in [("/", "text/html"), ("/dashboard/style.css", "text/css")] + [
            (p, "text/javascript") for p in scripts]:
        c = http.client.HTTPConnection(server.host, server.port, timeout=10)
        c.request("GET", path)  # the page and its files are open: the key is asked by the page
        r = c.getresponse()
        r.read()
        assert r.status == 200 and r.getheader("Content-Type").startswith(ctype)
        assert r.getheader("Content-Security-Policy").startswith("default-src 'self'")
        c.close()
    html = "".join(request(server, "GET", p).text for p in ["/"] + scripts)
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html


def test_events_announce_each_change(server):
    with socket.create_connection((server.host, server.port), timeout=10) as s:
        s.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: %s\r\n\r\n" % API_KEY.encode())
        got = b""
        while b"retry:" not in got:
            got += s.recv(4096)
        assert b"text/event-stream" in got
        post_data(server, encode(sample(), "cbor"), file_name="e.cbor")
        while b"event: change" not in got:
            got += s.recv(4096)


def test_the_csv_export_writes_names_a_spreadsheet_would_run_as_text(server):
    reset(server)
    sensors = [{"name": n, "units": "u"} for n in ("=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "plain")]
    post_data(server, encode(sample(values=[[-1, 2, -3.5, 4, 5]], sensors=sensors), "cbor"), file_name="f.cbor")
    [e] = request(server, "GET", "/samples").json()
    lines = request(server, "GET", "/samples/%d/csv" % e["sample_id"]).text.splitlines()
    assert lines[0] == "timestamp,\"'=HYPERLINK(\"\"http://x\"\")\",'+1,'-2,'@SUM(A1),plain"
    assert lines[1] == "0.0,-1,2,-3.5,4,5"  # numbers stay numbers
