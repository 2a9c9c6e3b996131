"""Remote-management sessions in CBOR (issue 17, item 6), as Edge Impulse's official firmwares
speak them: its firmware-sdk (ESP32, and the same remote-mgmt.cpp in others) encodes every
message as a CBOR map in a binary frame, and ST's firmware ignores any frame that is not binary
(protocol notes 1.1, 1.3). The device here is ours, written from that description (ws_device,
cbor=True): a hello as get_hello_msg() encodes it, the statuses as its get_*_msg() functions
do, and a decoder that takes only what decode_message() takes (a map; in `sample`, only the
keys path, label, hmacKey, interval (int or double), length (int) and sensor).
"""
import json

import cbor2
import pytest

from service import API_KEY, MockServer
from service_client import post_data, request, sample, sign, until
from ws_device import Device, firmware_sdk_hello

HMAC_KEY = "cbor-session-hmac-key"
DEVICE = "24:6f:28:aa:bb:cc"
# decode_message(): the keys of a sample request the firmware-sdk knows, and their CBOR types
SDK_SAMPLE_KEYS = {"path": (str,), "label": (str,), "hmacKey": (str,), "interval": (int, float),
                   "length": (int,), "sensor": (str,)}


@pytest.fixture
def server(tmp_path):
    srv = MockServer(tmp_path, hmac_keys=(HMAC_KEY,), timeout=3, hello_timeout=2).start()
    yield srv
    srv.stop()


def devices(srv):
    return {d["id"]: d for d in request(srv, "GET", "/devices").json()}



def sdk_decodes(msg):
    """What the firmware-sdk's decode_message() makes of a message: its kind, or the error it
    returns (ERR_MAP_EXPECTED, ERR_UNKNOWN_FIELD, ERR_UNEXPECTED_TYPE)."""
    if not isinstance(msg, dict):
        return "ERR_MAP_EXPECTED"
    for key, value in msg.items():
        if not isinstance(key, str):
            return "ERR_UNKNOWN"
        if key in ("hello", "err", "startSnapshot", "stopSnapshot"):
            return key
        if key == "sample":
            if not isinstance(value, dict):
                return "ERR_UNEXPECTED_TYPE"
            for k, v in value.items():
                if k not in SDK_SAMPLE_KEYS or not isinstance(v, SDK_SAMPLE_KEYS[k]) or isinstance(v, bool):
                    return "ERR_UNKNOWN_FIELD %s" % k
            return "sample"
        return "ERR_UNKNOWN_FIELD %s" % key
    return "ERR_UNKNOWN"


def cbor_device(srv, device_id=DEVICE, api_key=API_KEY):
    d = Device(srv, cbor=True).connect()
    assert d.status == 101
    d.send_message(firmware_sdk_hello(device_id, api_key))
    return d


def test_a_cbor_hello_is_answered_in_cbor_in_a_binary_frame_and_the_device_listed(server):
    d = cbor_device(server)
    assert d.recv() == {"hello": True}
    assert d.text_frames == 0
    entry = until(lambda: devices(server).get(DEVICE))
    assert (entry["type"], entry["state"], entry["encoding"]) == ("ESPRESSIF_ESP32", "idle", "cbor")
    assert entry["sensors"][1] == {"name": "Microphone", "frequencies": [16000.0], "maxSampleLengthS": 60}
    d.close()


def test_a_refused_cbor_hello_is_answered_in_cbor_naming_why_then_closed(server):
    d = cbor_device(server, api_key="ei_" + "0" * 64)
    answer = d.recv()
    assert answer["hello"] is False and answer["err"] == "Invalid API key" and d.text_frames == 0
    assert sdk_decodes(answer) == "hello"
    until(lambda: d.recv(0.1) is None and d.closed)
    assert d.closed[0] == 1008


@pytest.mark.parametrize("hello, why", [
    (["hello", {"version": 3}], "Expected a hello"),
    ({"hello": {"version": 5}}, "version"),
    (cbor2.CBORTag(55799, {"hello": {}}), None),
    ({"hello": dict(firmware_sdk_hello()["hello"], sensors=[{"name": "A", "maxSampleLengthS": float("inf"),
                                                             "frequencies": [1.0]}])}, "maxSampleLengthS"),
])
def test_a_cbor_hello_that_is_not_one_is_refused_in_cbor(server, hello, why):
    d = Device(server, cbor=True).connect()
    d.send_raw(d.ws.send(__import__("wsproto").events.BytesMessage(data=cbor2.dumps(hello))))
    answer = d.recv()
    assert answer["hello"] is False and (why is None or why in answer["err"]), answer
    assert request(server, "GET", "/devices").status == 200


def test_a_recording_by_a_cbor_device_is_requested_in_cbor_it_can_decode_and_followed(server):
    d = cbor_device(server)
    assert d.recv() == {"hello": True}
    body = {"label": "wave", "lengthMs": 1500, "category": "testing", "sensor": "Accelerometer",
            "frequency": 62.5}
    r = request(server, "POST", "/devices/%s/start-sampling" % DEVICE, json.dumps(body).encode(),
                {"Content-Type": "application/json", "x-api-key": API_KEY})
    assert r.status == 200, r.text
    req = d.recv()
    assert d.text_frames == 0 and sdk_decodes(req) == "sample", req
    s = req["sample"]
    assert (s["label"], s["length"], s["interval"], s["path"], s["hmacKey"], s["sensor"]) == (
        "wave", 1500, 16, "/api/testing/data", HMAC_KEY, "Accelerometer")
    for status in ({"sample": True}, {"sampleStarted": True}, {"sampleProcessing": True},
                   {"sampleUploading": True}):
        d.send_message(status)
    # what the firmware uploads: a CBOR sample signed with the request's hmacKey
    up = post_data(server, sign(sample(interval_ms=16), "cbor", key=s["hmacKey"]), category="testing",
                   file_name=s["label"] + ".cbor")
    assert up.status == 200
    d.send_message({"sampleFinished": True})
    entry = until(lambda: (lambda e: e if e["state"] == "idle" else None)(devices(server)[DEVICE]))
    assert entry["sample"]["state"] == "finished"
    assert entry["sample"]["statuses"] == ["sample", "sampleStarted", "sampleProcessing", "sampleUploading",
                                           "sampleFinished"]
    [stored] = request(server, "GET", "/samples?category=testing").json()
    assert stored["label"] == "wave" and stored["signature_valid"] is True
    d.close()


def test_a_cbor_devices_failure_shows_as_its_error(server):
    d = cbor_device(server)
    d.recv()
    r = request(server, "POST", "/devices/%s/start-sampling" % DEVICE, json.dumps(
        {"label": "idle", "lengthMs": 1000, "intervalMs": 10, "sensor": "Accelerometer"}).encode(),
        {"Content-Type": "application/json", "x-api-key": API_KEY})
    assert r.status == 200
    d.recv()
    d.send_message({"sample": False, "error": "Failed to sample: no sensor"})  # get_sample_failed_msg
    entry = until(lambda: (lambda e: e if e["sample"]["state"] == "failed" else None)(devices(server)[DEVICE]))
    assert entry["sample"]["error"] == "Failed to sample: no sensor"
    assert entry["last_error"] == "Failed to sample: no sensor"
    d.close()


def test_a_json_device_and_a_cbor_device_each_get_their_own_encoding(server):
    from ws_device import hello
    cbor = cbor_device(server)
    text = Device(server).connect()
    text.send_json(hello("json-dev"))
    assert cbor.recv() == {"hello": True} and text.recv() == {"hello": True}
    listed = devices(server)
    assert (listed[DEVICE]["encoding"], listed["json-dev"]["encoding"]) == ("cbor", "json")
    cbor.close()
    text.close()


def test_a_cbor_devices_pings_are_answered(server):
    d = cbor_device(server)
    d.recv()
    d.ping(b"esp")
    until(lambda: d.recv(0.1) is None and b"esp" in d.pongs)
    d.close()
