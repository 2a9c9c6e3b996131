"""The local service as a stand-in for Studio (issue 12 part 3): devices connect over remote
management at / (Upgrade: websocket), the hello is checked, the dashboard lists the devices and
sends sample requests Studio's way, and a sample recorded by the firmware's ei.Remote (on
CPython here) lands in the store, signed with the service's HMAC key."""
import json
import socket
import threading
import time
import urllib.parse

import pytest

from at_driver import signature_valid
from service import API_KEY, MockServer
from service_client import request, until
from ws_device import Device, hello

HMAC_KEY = "service-hmac-key-for-tests"
OTHER_KEY = "ei_" + "cd" * 32


@pytest.fixture
def server(tmp_path):
    srv = MockServer(tmp_path, hmac_keys=(HMAC_KEY,), timeout=3, device_timeout=30, hello_timeout=2,
                     max_device_message=4096).start()
    yield srv
    srv.stop()


def devices(srv):
    r = request(srv, "GET", "/devices")
    assert r.status == 200, r.text
    return {d["id"]: d for d in r.json()}



def start(srv, device_id, body, key=API_KEY, **headers):
    h = {"Content-Type": "application/json"}
    if key:
        h["x-api-key"] = key
    h.update(headers)
    return request(srv, "POST", "/devices/%s/start-sampling" % device_id,
                   json.dumps(body).encode(), h)


def connected(srv, device_id="dev-1", **changes):
    d = Device(srv).connect()
    assert d.status == 101
    d.send_json(hello(device_id, **changes))
    assert d.recv() == {"hello": True}
    return d


RECORD = {"label": "wave", "lengthMs": 500, "intervalMs": 10, "category": "training",
          "sensor": "Accelerometer"}


def test_a_good_hello_is_answered_true_and_the_device_is_listed_idle(server):
    d = connected(server, "aa:bb:cc")
    entry = until(lambda: devices(server).get("aa:bb:cc"))
    assert (entry["type"], entry["state"], entry["disconnected_at"]) == ("WS_TEST", "idle", None)
    assert entry["sensors"] == [{"name": "Accelerometer", "frequencies": [62.5, 100],
                                 "maxSampleLengthS": 60}]
    assert entry["connected_at"]
    d.close()


@pytest.mark.parametrize("message, why", [
    (hello(api_key=OTHER_KEY), "Invalid API key"),
    (hello(version=1), "version"),
    ({"sample": True}, "Expected a hello"),
    ("not json", "Expected a hello"),
])
def test_a_bad_hello_is_answered_false_naming_why_never_the_key_and_closed(server, message, why):
    d = Device(server).connect()
    if isinstance(message, str):
        d.send_raw(d.ws.send(__import__("wsproto").events.TextMessage(data=message)))
    else:
        d.send_json(message)
    answer = d.recv()
    assert answer["hello"] is False and why in answer["err"]
    assert OTHER_KEY not in json.dumps(answer) and API_KEY not in json.dumps(answer)
    until(lambda: d.recv(0.1) is None and d.closed)
    assert d.closed[0] == 1008
    assert devices(server) == {}


def test_no_hello_within_the_hello_deadline_closes_the_connection(server):
    d = Device(server).connect()
    t0 = time.monotonic()
    assert d.recv(8) is None and d.closed[0] == 1008
    assert time.monotonic() - t0 < 2 + 1.5  # the hello deadline (2 s) + 1.5 s


def test_a_message_over_the_limit_closes_with_1009(server):
    d = connected(server)
    d.send_json({"big": "x" * 5000})
    until(lambda: d.recv(0.1) is None and d.closed)
    assert d.closed[0] == 1009
    assert until(lambda: devices(server)["dev-1"]["state"] == "disconnected")


def test_unknown_messages_are_ignored_and_the_device_still_records(server):
    d = connected(server)
    d.send_json({"somethingNew": True})
    d.send_json({"snapshotFrame": "AAAA", "fileName": "x.jpg"})
    assert start(server, "dev-1", RECORD).status == 200
    assert d.recv() == {"sample": {"label": "wave", "length": 500, "path": "/api/training/data",
                                   "hmacKey": HMAC_KEY, "interval": 10, "sensor": "Accelerometer"}}
    d.close()


def test_a_second_connection_with_the_same_id_replaces_the_first(server):
    first = connected(server)
    second = connected(server)
    until(lambda: first.recv(0.1) is None and first.closed)
    assert first.closed[0] == 1000 and "replaced" in first.closed[1]
    assert devices(server)["dev-1"]["state"] == "idle"
    assert start(server, "dev-1", RECORD).status == 200
    assert "sample" in second.recv()
    second.close()


def test_a_device_that_goes_away_stays_listed_as_disconnected_since_then(server):
    d = connected(server)
    d.close()
    entry = until(lambda: (lambda e: e if e["state"] == "disconnected" else None)(
        devices(server)["dev-1"]))
    assert entry["disconnected_at"] >= entry["connected_at"]
    assert entry["last_error"] is None  # it closed cleanly (1000)
    r = start(server, "dev-1", RECORD)
    assert r.status == 409 and "disconnected" in r.text


def test_a_ping_is_answered_with_its_payload_and_keeps_the_device_connected(tmp_path):
    srv = MockServer(tmp_path, timeout=3, device_timeout=2).start()
    try:
        d = connected(srv)
        for i in range(4):  # 4 s of pings, every 1 s: twice the device timeout
            d.ping(b"keep-%d" % i)
            until(lambda: d.recv(0.1) is None and b"keep-%d" % i in d.pongs)
            time.sleep(1)
        assert d.closed is None and devices(srv)["dev-1"]["state"] == "idle"
        d.close()
    finally:
        srv.stop()


def test_a_silent_device_is_closed_after_the_device_timeout(tmp_path):
    srv = MockServer(tmp_path, timeout=3, device_timeout=1).start()
    try:
        d = connected(srv)
        t0 = time.monotonic()
        until(lambda: d.recv(0.1) is None and d.closed, timeout=10)
        assert d.closed[0] == 1001 and time.monotonic() - t0 < 1 + 3
        assert "silent" in until(lambda: devices(srv)["dev-1"]["last_error"])
    finally:
        srv.stop()


def test_a_hello_beyond_max_devices_is_refused_try_again_and_its_id_reconnects(tmp_path):
    srv = MockServer(tmp_path, timeout=3, max_devices=1).start()
    try:
        first = connected(srv)
        second = Device(srv).connect()
        assert second.status == 101  # upgraded: it may be the same device coming back
        second.send_json(hello("dev-2"))
        answer = second.recv()
        assert answer["hello"] is False and "Too many devices" in answer["err"]
        until(lambda: second.recv(0.1) is None and second.closed)
        assert second.closed[0] == 1013  # "try again later"
        again = connected(srv, "dev-1")  # the connected device itself may always come back
        until(lambda: first.recv(0.1) is None and first.closed)
        assert "replaced" in first.closed[1]
        again.close()
    finally:
        srv.stop()


def test_a_plain_get_of_the_root_is_still_the_dashboard_and_a_foreign_page_cannot_connect(server):
    r = request(server, "GET", "/")
    assert r.status == 200 and "text/html" in r.content_type
    d = Device(server).connect(Origin="http://evil.example")
    assert d.status == 403


@pytest.mark.parametrize("headers, status, why", [
    (b"Sec-WebSocket-Version: 13\r\n", 400, b"Sec-WebSocket-Key"),
    (b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n", 426,
     b"Sec-WebSocket-Version"),
])
def test_a_malformed_upgrade_is_answered_in_http_naming_the_header(server, headers, status, why):
    with socket.create_connection((server.host, server.port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\n%s\r\n" % (server.port, headers))
        answer = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 %d" % status) and why in answer.split(b"\r\n\r\n", 1)[1]


@pytest.mark.parametrize("body, status, why", [
    (dict(RECORD, category="validation"), 400, "category"),
    (dict(RECORD, lengthMs=61000), 400, "maxSampleLengthS"),
    (dict(RECORD, lengthMs=0), 400, "lengthMs"),
    (dict(RECORD, intervalMs=-1), 400, "intervalMs"),
    ({k: v for k, v in RECORD.items() if k != "intervalMs"}, 400, "intervalMs"),
    (dict({k: v for k, v in RECORD.items() if k != "intervalMs"}, frequency=50), 400, "frequency"),
    (dict(RECORD, sensor="Microphone"), 400, "Microphone"),
    (dict(RECORD, label=""), 400, "label"),
    (dict(RECORD, label="a\nb"), 400, "label"),
    ([1, 2], 400, "JSON object"),
])
def test_start_sampling_refuses_a_bad_request_naming_the_field(server, body, status, why):
    d = connected(server)
    r = start(server, "dev-1", body)
    assert r.status == status and why in r.text, r.text
    assert d.recv(0.3) is None  # nothing was sent to the device
    d.close()


def test_start_sampling_needs_a_known_device_the_api_key_and_an_idle_device(server):
    assert start(server, "nobody", RECORD).status == 404
    d = connected(server)
    assert start(server, "dev-1", RECORD, key=None).status == 401
    assert start(server, "dev-1", RECORD, key=OTHER_KEY).status == 401
    assert start(server, "dev-1", RECORD, Origin="http://evil.example").status == 403
    by_frequency = {k: v for k, v in dict(RECORD, frequency=100).items() if k != "intervalMs"}
    assert start(server, "dev-1", by_frequency).status == 200
    assert d.recv()["sample"]["interval"] == 10
    r = start(server, "dev-1", RECORD)
    assert r.status == 409 and "busy" in r.text
    d.close()


def test_the_devices_status_messages_show_as_its_state_and_a_failure_as_its_error(server):
    d = connected(server)
    assert start(server, "dev-1", RECORD).status == 200
    d.recv()
    assert devices(server)["dev-1"]["state"] == "requested"
    d.send_json({"sample": True})
    d.send_json({"sampleStarted": True})
    assert until(lambda: devices(server)["dev-1"]["state"] == "sampleStarted")
    d.send_json({"sample": False, "error": "sampling failed: OSError: 5"})
    entry = until(lambda: (lambda e: e if e["state"] == "idle" else None)(devices(server)["dev-1"]))
    assert entry["sample"]["state"] == "failed"
    assert entry["sample"]["statuses"] == ["sample", "sampleStarted", "failed"]
    assert entry["last_error"] == "sampling failed: OSError: 5"
    d.close()


def test_a_recording_from_the_firmwares_remote_is_stored_and_signed_with_the_services_key(server):
    import ei
    from ei.remote_mgmt import Remote
    from ei.sim import Accelerometer
    client = ei.Client(API_KEY, host=server.host, port=server.port, tls=False, timeout=5, retries=0)
    remote = Remote(client, Accelerometer("wave"), url="ws://%s:%d" % (server.host, server.port),
                    device_id="cpython-board", device_type="MICROPYTHON_TEST",
                    frequencies=[62.5, 100], max_sample_s=5, timeout=5, start_delay_ms=50)
    served = []
    t = threading.Thread(target=lambda: served.append(remote.serve(count=1)), daemon=True)
    t.start()
    until(lambda: devices(server).get("cpython-board"))
    assert start(server, "cpython-board", dict(RECORD, label="recorded")).status == 200
    t.join(20)
    assert served == [1]
    entry = until(lambda: (lambda e: e if e["sample"]["state"] == "finished" else None)(
        devices(server)["cpython-board"]))
    assert entry["sample"]["statuses"] == ["sample", "sampleStarted", "sampleProcessing",
                                           "sampleUploading", "sampleFinished"]
    [meta] = server.store.metadata(label="recorded")
    assert (meta["category"], meta["rows"], meta["signature_valid"]) == ("training", 50, True)
    with open(server.store.path(meta["sample_id"]), "rb") as f:
        assert signature_valid(f.read(), HMAC_KEY)  # checked apart from the service too
    assert until(lambda: devices(server)["cpython-board"]["state"] == "disconnected")


# ---- hellos that are not strict JSON, or too big (issue 17, items 2 to 4) ------------------------

@pytest.mark.parametrize("old, new", [('"maxSampleLengthS": 60', '"maxSampleLengthS": Infinity'),
                                      ('"maxSampleLengthS": 60', '"maxSampleLengthS": 1e999'),
                                      ('"maxSampleLengthS": 60', '"maxSampleLengthS": -Infinity'),
                                      ('"frequencies": [62.5, 100]', '"frequencies": [NaN]')])
def test_a_hello_with_nan_or_infinity_is_refused_and_devices_stays_readable(server, old, new):
    text = json.dumps(hello("nan-dev")).replace(old, new)
    assert new in text
    d = Device(server).connect()
    d.send_raw(d.ws.send(__import__("wsproto").events.TextMessage(data=text)))
    answer = d.recv()
    assert answer["hello"] is False
    r = request(server, "GET", "/devices")
    assert r.status == 200 and "nan-dev" not in r.text


@pytest.mark.parametrize("changes, why", [
    ({"deviceId": "x" * 60000}, "deviceId must be at most 128"),
    ({"deviceType": "t" * 129}, "deviceType must be at most 128"),
    ({"deviceId": "tab\there"}, "control character"),
    ({"sensors": [{"name": "s%d" % i, "maxSampleLengthS": 1, "frequencies": [1]} for i in range(33)]},
     "at most 32 sensors"),
    ({"sensors": [{"name": "s", "maxSampleLengthS": 1, "frequencies": list(range(1, 40))}]}, "at most 32 frequencies"),
    ({"sensors": [{"name": "s", "maxSampleLengthS": 0, "frequencies": [1]}]}, "maxSampleLengthS (> 0)"),
])
def test_a_hello_with_a_field_beyond_its_bound_is_refused_naming_it(tmp_path, changes, why):
    srv = MockServer(tmp_path, timeout=3).start()  # messages of 64 kB, the service's default
    try:
        d = Device(srv).connect()
        h = hello("big")
        h["hello"].update(changes)
        d.send_json(h)
        answer = d.recv()
        assert answer["hello"] is False and why in answer["err"], answer
        assert devices(srv) == {}
    finally:
        srv.stop()


def test_any_device_id_is_recorded_escaped_in_the_url(server):
    device_id = "lab/bench 2?#%ü"
    d = connected(server, device_id)
    assert device_id in devices(server)
    r = start(server, urllib.parse.quote(device_id, safe=""), RECORD)
    assert r.status == 200, r.text
    assert d.recv()["sample"]["label"] == "wave"
    d.close()


# ---- sockets without a hello (issue 17, item 3) ----------------------------------------------------

def test_sockets_that_never_say_hello_cannot_keep_a_device_out(tmp_path):
    srv = MockServer(tmp_path, timeout=3, hello_timeout=3, max_devices=2, max_pending=4).start()
    try:
        silent = [Device(srv).connect() for _ in range(10)]  # more than the device slots
        assert all(s.status == 101 for s in silent)
        device = connected(srv, "real")  # its hello is answered: it took no slot while pending
        assert devices(srv)["real"]["state"] == "idle"
        until(lambda: sum(1 for s in silent if s.recv(0.05) is None and s.closed) >= 6)
        assert all(s.closed[0] == 1008 for s in silent if s.closed)  # the oldest pending made room
        device.close()
    finally:
        srv.stop()


def test_frames_before_a_hello_are_closed_past_the_bytes_a_hello_may_take(server):
    from wsproto.events import TextMessage
    d = Device(server).connect()
    d.send_raw(d.ws.send(TextMessage(data="{", message_finished=False)))
    sent = 0
    try:
        for _ in range(20000):  # empty continuation frames: 6 bytes each, 120 kB in all
            d.send_raw(d.ws.send(TextMessage(data="", message_finished=False)))
            sent += 6
    except OSError:
        pass  # the service closed it
    until(lambda: d.recv(0.1) is None and d.closed)
    assert d.closed[0] == 1009 and "no hello" in d.closed[1], d.closed
