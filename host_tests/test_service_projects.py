"""Projects (issue 17, item 1): each API key opens one project, with its HMAC key, its samples,
its devices, its Record requests, its lists, its dashboard session and its CSV export. A key
sees and changes only its own project's; a device id is unique within a project, and only the
same project can replace a device. The old flags (--api-key, --hmac-key) are one project,
"default", and a store from before projects is read as that project's.
"""
import json
import socket
import sqlite3
import subprocess
import sys

import cbor2
import pytest

from service import API_KEY, MockServer
from service_client import HMAC_KEY, encode, every_page, post_data, request, sample, sign, until
from service_process import ROOT, Remote, cli
from ws_device import Device, hello

LAB, FIELD = "ei_lab_" + "a" * 20, "ei_field_" + "b" * 20
LAB_HMAC = HMAC_KEY
RECORD = {"label": "wave", "lengthMs": 500, "intervalMs": 10, "category": "training",
          "sensor": "Accelerometer"}


@pytest.fixture
def server(tmp_path):
    srv = MockServer(tmp_path, projects=("lab:%s:%s" % (LAB, LAB_HMAC), "field:%s" % FIELD),
                     timeout=3, hello_timeout=2).start()
    yield srv
    srv.stop()


def names(srv, key, query=""):
    return [e["name"] for e in every_page(srv, "/samples" + query, key=key)[0]]


def devices(srv, key):
    return {d["id"]: d for d in every_page(srv, "/devices", key=key)[0]}



def start(srv, device_id, key, body=RECORD):
    return request(srv, "POST", "/devices/%s/start-sampling" % device_id, json.dumps(body).encode(),
                   {"Content-Type": "application/json", "x-api-key": key})


def connected(srv, device_id, key):
    d = Device(srv).connect()
    d.send_json(hello(device_id, api_key=key))
    assert d.recv() == {"hello": True}
    return d


# ---- samples ---------------------------------------------------------------------------------

def test_a_key_stores_into_its_project_and_sees_only_its_samples(server):
    assert post_data(server, encode(sample(), "cbor"), file_name="lab.cbor", key=LAB).status == 200
    assert post_data(server, encode(sample(), "cbor"), file_name="field.cbor", key=FIELD).status == 200
    assert names(server, LAB) == ["lab.cbor"] and names(server, FIELD) == ["field.cbor"]
    [lab] = every_page(server, "/samples", key=LAB)[0]
    assert lab["project"] == "lab"
    for path in ("/samples/%d", "/samples/%d/raw", "/samples/%d/csv"):
        other = request(server, "GET", path % lab["sample_id"], key=FIELD)
        assert other.status == 404 and "project field" in other.text
        assert request(server, "GET", path % lab["sample_id"], key=LAB).status == 200
    assert [e["name"] for e in request(server, "GET", "/_mock/samples", key=FIELD).json()] == ["field.cbor"]
    assert request(server, "GET", "/samples", key=None).status == 401  # without a key: nothing


def test_the_page_example_key_is_not_taken_when_only_projects_are_given(server):
    assert post_data(server, encode(sample(), "cbor"), key=API_KEY).status == 401


def test_the_same_name_in_two_projects_is_two_samples_and_duplicates_are_a_projects_own(server):
    body = encode(sample(), "cbor")
    assert post_data(server, body, file_name="same.cbor", key=LAB).status == 200
    assert post_data(server, body, file_name="same.cbor", key=FIELD, x_disallow_duplicates="1").status == 200
    again = post_data(server, body, file_name="other.cbor", key=FIELD, x_disallow_duplicates="1")
    assert again.status == 400 and "already exists" in again.text
    assert names(server, LAB) == ["same.cbor"] and names(server, FIELD) == ["same.cbor"]


def test_a_signature_is_checked_with_the_hmac_key_of_the_uploads_project(server):
    signed = sign(sample(), "cbor", key=LAB_HMAC)
    post_data(server, signed, file_name="s.cbor", key=LAB)
    post_data(server, signed, file_name="s.cbor", key=FIELD)
    [lab], [field] = every_page(server, "/samples", key=LAB)[0], every_page(server, "/samples", key=FIELD)[0]
    assert lab["signature_valid"] is True
    assert field["signature_valid"] is None  # field has no HMAC key: not checked


def test_a_reset_clears_only_the_keys_project(server):
    post_data(server, encode(sample(), "cbor"), file_name="a.cbor", key=LAB)
    post_data(server, encode(sample(), "cbor"), file_name="b.cbor", key=FIELD)
    assert request(server, "POST", "/_mock/reset", headers={"x-api-key": FIELD}).status == 200
    assert names(server, LAB) == ["a.cbor"] and names(server, FIELD) == []


def test_events_tell_a_project_of_its_own_changes_only(server):
    def stream(key):
        s = socket.create_connection((server.host, server.port), timeout=5)
        s.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: %s\r\n\r\n" % key.encode())
        got = b""
        while b"retry:" not in got:
            got += s.recv(4096)
        s.settimeout(0.3)
        try:  # the rest of the first event (it may come in another packet)
            while s.recv(4096):
                pass
        except socket.timeout:
            pass
        s.settimeout(5)
        return s
    lab, field = stream(LAB), stream(FIELD)
    try:
        post_data(server, encode(sample(), "cbor"), file_name="e.cbor", key=FIELD)
        got = b""
        while b"event: change" not in got:
            got += field.recv(4096)
        lab.settimeout(1)
        with pytest.raises(socket.timeout):
            lab.recv(4096)
    finally:
        lab.close()
        field.close()


# ---- the dashboard's session ---------------------------------------------------------------------

def _session(srv, key):
    a = request(srv, "POST", "/session", headers={"x-api-key": key})
    assert a.status == 200, a.text
    cookie = a.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    return a.json(), cookie.split(";")[0]


def test_the_dashboard_session_reads_its_project_and_changes_nothing(server):
    post_data(server, encode(sample(), "cbor"), file_name="mine.cbor", key=LAB)
    post_data(server, encode(sample(), "cbor"), file_name="theirs.cbor", key=FIELD)
    answer, cookie = _session(server, LAB)
    assert answer == {"project": "lab", "id": 1}
    read = request(server, "GET", "/samples", headers={"Cookie": cookie}, key=None)
    assert read.status == 200 and [e["name"] for e in read.json()] == ["mine.cbor"]
    upload = request(server, "POST", "/api/training/data", encode(sample(), "cbor"),
                     {"Cookie": cookie, "x-file-name": "c.cbor", "Content-Type": "application/cbor"})
    assert upload.status == 401  # changes take the key, never the cookie
    forged = cookie.replace("lab.", "field.")
    assert request(server, "GET", "/samples", headers={"Cookie": forged}, key=None).status == 401
    assert request(server, "POST", "/session", headers={"x-api-key": "ei_nobody"}).status == 401


def test_a_session_cookie_ends_with_the_service(tmp_path):
    first = MockServer(tmp_path, projects=("lab:%s" % LAB,)).start()
    try:
        _, cookie = _session(first, LAB)
    finally:
        first.stop()
    second = MockServer(tmp_path, projects=("lab:%s" % LAB,)).start()
    try:
        a = request(second, "GET", "/samples", headers={"Cookie": cookie}, key=None)
        assert a.status == 401 and "expired" in a.text
    finally:
        second.stop()


# ---- devices ---------------------------------------------------------------------------------------

def test_another_projects_hello_with_the_same_device_id_replaces_nothing(server):
    """The issue's attack: with key B, the id of a device connected with key A."""
    lab = connected(server, "aa:bb", LAB)
    field = connected(server, "aa:bb", FIELD)
    assert lab.recv(0.5) is None and lab.closed is None  # not "replaced"
    assert set(devices(server, LAB)) == {"aa:bb"} and set(devices(server, FIELD)) == {"aa:bb"}
    assert start(server, "aa:bb", LAB).status == 200
    assert lab.recv()["sample"]["hmacKey"] == LAB_HMAC  # the lab's request, to the lab's device
    assert field.recv(0.5) is None
    assert start(server, "aa:bb", FIELD).status == 200
    request_ = field.recv()["sample"]
    assert request_["hmacKey"] != LAB_HMAC  # field's own (it has none: the development key)
    lab.close()
    field.close()


def test_the_same_project_replaces_its_own_device(server):
    first = connected(server, "dev", LAB)
    second = connected(server, "dev", LAB)
    until(lambda: first.recv(0.1) is None and first.closed)
    assert "replaced" in first.closed[1]
    assert devices(server, LAB)["dev"]["state"] == "idle"
    second.close()


def test_a_key_lists_and_records_only_its_projects_devices(server):
    d = connected(server, "only-lab", LAB)
    assert devices(server, FIELD) == {}
    r = start(server, "only-lab", FIELD)
    assert r.status == 404 and "project field" in r.text
    assert d.recv(0.3) is None  # nothing was sent to it
    assert request(server, "GET", "/devices", key=None).status == 401
    d.close()


# ---- the command line -----------------------------------------------------------------------------

def test_make_serve_takes_projects_and_the_old_flags_as_the_default_project(tmp_path):
    r = Remote(["make", "-s", "serve", "SERVE_PORT=0", "SERVE_DATA=%s" % tmp_path,
                "SERVE_PROJECTS=lab:%s:%s field:%s" % (LAB, LAB_HMAC, FIELD), "SERVE_API_KEYS=ei_old"],
               cwd=str(ROOT))
    try:
        for key, name in ((LAB, "lab"), (FIELD, "field"), ("ei_old", "default")):
            assert post_data(r, encode(sample(), "cbor"), file_name=name + ".cbor", key=key).status == 200
            assert names(r, key) == [name + ".cbor"]
        assert post_data(r, sign(sample(), "cbor", key=LAB_HMAC), file_name="s.cbor", key=LAB).status == 200
        assert every_page(r, "/samples", key=LAB)[0][-1]["signature_valid"] is True
        assert post_data(r, encode(sample(), "cbor"), key=API_KEY).status == 401
    finally:
        r.stop()
    assert any("project lab (id 2)" in line for line in r.lines)  # default is 1: the old flags come first


@pytest.mark.parametrize("args, why", [
    (["--project", "a:ei_same", "--project", "b:ei_same"], "one API key is given to projects a and b"),
    (["--project", "bad name:ei_x"], "a name is"),
    (["--project", "lab"], "the API key must be"),
])
def test_the_command_line_refuses_a_project_it_cannot_keep_apart_naming_why(tmp_path, args, why):
    p = subprocess.run([sys.executable, "-m", "service", "--port", "0", "--data", str(tmp_path)] + args,
                       cwd=str(ROOT), capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and why in p.stderr, p.stderr
    assert "ei_same" not in p.stderr  # never the key


def test_a_store_from_before_projects_is_the_default_projects(tmp_path):
    db = sqlite3.connect(str(tmp_path / "index.sqlite3"))
    db.executescript("""
        CREATE TABLE samples (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, file_name TEXT NOT NULL,
            category TEXT NOT NULL, label TEXT, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
            received_at TEXT NOT NULL, summary TEXT NOT NULL, extra TEXT NOT NULL);
        CREATE INDEX samples_label ON samples (category, label);""")
    body = cbor2.dumps(sample())
    db.execute("INSERT INTO samples (name, file_name, category, label, size, sha256, received_at, summary, extra)"
               " VALUES ('old.cbor', 'old.cbor', 'training', 'old', ?, 'x', '2024-01-01T00:00:00Z', ?, '{}')",
               (len(body), json.dumps({"kind": "acquisition", "content_type": "application/cbor", "rows": 2,
                                       "sensors": [{"name": n, "units": "m/s2"} for n in ("accX", "accY", "accZ")],
                                       "interval_ms": 10})))
    db.commit()
    db.close()
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "1").write_bytes(body)
    svc = cli(tmp_path, "--api-key", API_KEY, "--project", "lab:%s" % LAB)
    try:
        assert names(svc, API_KEY) == ["old.cbor"] and names(svc, LAB) == []
        assert request(svc, "GET", "/samples/1", key=API_KEY).json()["values"][0] == [0.1, -0.2, 9.81]
    finally:
        svc.stop()


def test_studios_rest_stand_in_answers_only_for_the_keys_own_project_id(server):
    assert request(server, "GET", "/v1/api/1", headers={"x-api-key": LAB}).json()["project"]["name"] == "lab"
    assert request(server, "GET", "/v1/api/2", headers={"x-api-key": LAB}).status == 403
    assert request(server, "GET", "/v1/api/2", headers={"x-api-key": FIELD}).json()["project"]["name"] == "field"
