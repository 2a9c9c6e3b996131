"""Studio's side of remote management (host_tests/studio_peer.py), the part the local service
takes over: the hello check, the sample request, and a request followed through the device's
status messages, checked against the protocol notes' shapes and order."""
import socket
import threading

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage

from studio_peer import (DeviceGone, DeviceLink, SampleProgress, check_hello, hello_response,
                         sample_request)

KEY = "ei_" + "ab" * 32


def hello(**changes):
    h = {"version": 3, "apiKey": KEY, "deviceId": "aa:bb", "deviceType": "ESP32",
         "connection": "ip", "sensors": [{"name": "Accelerometer", "maxSampleLengthS": 300,
                                          "frequencies": [62.5, 100]}],
         "supportsSnapshotStreaming": False}
    h.update(changes)
    return {"hello": {k: v for k, v in h.items() if v is not None}}


def test_a_documented_hello_v3_is_accepted_with_its_device():
    device, err = check_hello(hello(), [KEY])
    assert err is None
    assert (device["device_id"], device["device_type"], device["connection"]) == (
        "aa:bb", "ESP32", "ip")
    assert hello_response() == {"hello": True}


@pytest.mark.parametrize("changes, why", [
    ({"apiKey": "ei_" + "cd" * 32}, "Invalid API key"),
    ({"apiKey": None}, "apiKey"),
    ({"version": 1}, "version"),
    ({"deviceId": ""}, "deviceId"),
    ({"connection": "usb"}, "connection"),
    ({"sensors": [{"name": "x"}]}, "maxSampleLengthS"),
    ({"supportsSnapshotStreaming": "no"}, "supportsSnapshotStreaming"),
])
def test_a_bad_hello_is_refused_naming_why_and_never_the_key(changes, why):
    device, err = check_hello(hello(**changes), [KEY])
    assert device is None and why in err
    assert KEY not in err and "cd" * 32 not in err
    assert hello_response(err) == {"hello": False, "err": err}


def test_a_v2_hello_without_connection_is_taken_as_ip_as_the_st_firmware_sends_it():
    device, err = check_hello(hello(version=2, connection=None, supportsSnapshotStreaming=None))
    assert err is None and device["connection"] == "ip"


def test_a_sample_request_has_the_documented_fields():
    assert sample_request("idle", 10000, 16, "k", sensor="Accelerometer") == {"sample": {
        "label": "idle", "length": 10000, "path": "/api/training/data", "hmacKey": "k",
        "interval": 16, "sensor": "Accelerometer"}}
    assert sample_request("x", 1, 1, "k", "testing", labelColor="#fff")["sample"][
        "path"] == "/api/testing/data"


def test_progress_follows_the_official_order_and_notes_what_is_out_of_it():
    p = SampleProgress(sample_request("idle", 1000, 10, "k"))
    for msg in ({"sample": True}, {"sampleStarted": True}, {"sampleProcessing": True},
                {"sampleUploading": True}):
        assert p.on_message(msg) and not p.done
    assert p.on_message({"sampleFinished": True}) and p.done and p.state == "finished"
    assert p.problems == [] and p.at("sampleStarted") is not None
    assert not p.on_message({"somethingElse": True})

    q = SampleProgress({})
    q.on_message({"sampleUploading": True})
    q.on_message({"sampleStarted": True})
    assert len(q.problems) == 2  # before the acknowledgement; started after uploading
    r = SampleProgress({})
    r.on_message({"sample": False, "err": "no"})
    assert r.state == "failed" and r.error == "no" and "without 'error'" in r.problems[0]


def test_a_link_takes_messages_sent_just_before_the_close_then_says_gone():
    a, b = socket.socketpair()
    client = WSConnection(ConnectionType.CLIENT)

    def device():
        a.sendall(client.send(Request(host="x", target="/studio/t")))
        client.receive_data(a.recv(4096))
        assert isinstance(next(client.events()), AcceptConnection)
        from wsproto.events import CloseConnection
        a.sendall(client.send(TextMessage(data='{"sampleFinished":true}'))
                  + client.send(CloseConnection(code=1000)))

    t = threading.Thread(target=device)
    t.start()
    link = DeviceLink(b, timeout=5)
    assert link.accept() == "/studio/t"
    t.join()
    assert link.recv(5) == {"sampleFinished": True}
    with pytest.raises(DeviceGone) as e:
        link.recv(5)
    assert e.value.code == 1000
    a.close()
    b.close()


def test_a_request_pushed_from_another_thread_is_followed_by_the_reading_thread():
    """The service's way: one thread reads the link, another (a web request) pushes."""
    import json
    import time
    a, b = socket.socketpair()
    client = WSConnection(ConnectionType.CLIENT)
    got = []
    refused = threading.Event()  # the device answers once the second push was refused

    def device():
        a.sendall(client.send(Request(host="x", target="/")))
        requests = 0
        while requests < 1:
            client.receive_data(a.recv(4096))
            for event in client.events():
                if isinstance(event, TextMessage):
                    got.append(json.loads(event.data))
                    requests += 1
        refused.wait(5)
        for msg in ({"sample": True}, {"sampleStarted": True}, {"sampleUploading": True},
                    {"sampleFinished": True}):
            a.sendall(client.send(TextMessage(data=json.dumps(msg))))

    t = threading.Thread(target=device)
    t.start()
    link = DeviceLink(b, timeout=5)
    link.accept()
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                link.recv(0.05)
            except DeviceGone:
                return

    r = threading.Thread(target=reader)
    r.start()
    progress = link.start_sample(sample_request("idle", 100, 10, "k"))
    with pytest.raises(RuntimeError):
        link.start_sample(sample_request("idle", 100, 10, "k"))  # one at a time
    refused.set()
    end = time.monotonic() + 5
    while not progress.done and time.monotonic() < end:
        time.sleep(0.02)
    stop.set()
    r.join()
    t.join()
    assert got == [sample_request("idle", 100, 10, "k")]
    assert progress.state == "finished" and progress.problems == []
    a.close()
    b.close()
