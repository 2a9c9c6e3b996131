# ei.Remote against Studio's side of remote management on loopback (host_tests/peer_scenarios.py
# on wsproto; it checks the hello as the service does and follows each sample request through
# the device's status messages): the hello, a full sample request stored in the mock service
# and signed with the request's hmacKey, requests it cannot serve answered with
# {"sample":false,"error":...} on a connection that stays up, unknown messages, keep-alive,
# and reconnection after a dropped connection.
from fwtest import API_KEY, mock_addr, peer_addr, peer_url, peer_script, peer_log, raises, \
    reset_mock, stored
from remote_checks import FULL, HMAC_KEY, client, remote, request, settled, statuses

_SOCKET = "opens a socket: the no-network build has none"
OTHER_KEY = "ei_" + "0" * 64


def test_the_hello_is_version_3_in_json_with_every_field():
    r = remote("hello1")
    text = r.hello()
    assert text.startswith('{"hello":{"version":3,"apiKey":"%s","deviceId":"remote-test-hello1",'
                           '"deviceType":"MICROPYTHON_TEST","connection":"ip","sensors":[{"name":'
                           '"Accelerometer","maxSampleLengthS":5,"frequencies":[62.5,100]}],'
                           '"supportsSnapshotStreaming":false}}' % API_KEY), text
    peer_script("hello1", [])
    ws = r.connect()
    ws.close()
    log = peer_log("hello1")
    assert log["hello_errors"] == [], log
    device = log["hellos"][0]
    assert (device["version"], device["device_id"], device["connection"]) == (
        3, "remote-test-hello1", "ip")
    assert device["sensors"] == [{"name": "Accelerometer", "maxSampleLengthS": 5,
                                  "frequencies": [62.5, 100]}]


def test_a_hello_refused_for_its_api_key_stops_serving_and_shows_no_key():
    from ei.remote_mgmt import HelloRefused
    peer_script("hello2", [])
    e = raises(HelloRefused, remote("hello2", client(OTHER_KEY)).serve, 1)
    assert "Invalid API key" in str(e) and OTHER_KEY not in str(e)
    assert peer_log("hello2")["connections"] == 1  # not retried: the same key would be refused


def test_a_sample_request_is_sampled_uploaded_signed_with_its_hmac_key_and_stored():
    from ei.remote_mgmt import Remote
    from ei.sim import Accelerometer
    reset_mock()
    # the official start delay (2 s) and optional fields Studio may add
    r = Remote(client(), Accelerometer("wave"), url=peer_url("studio", "full1"),
               device_id="remote-test-full1", device_type="MICROPYTHON_TEST", timeout=5)
    peer_script("full1", [request("remote-full", 500, 10, labelColor="#e33",
                                  collectedSampleCount=2, targetSampleCount=10)])
    assert r.serve(count=1) == 1
    entry = settled("full1")["samples"][0]
    assert entry["state"] == "finished" and entry["problems"] == [], entry
    assert statuses(entry) == FULL
    # the start delay the official firmwares keep (2 s), as the peer saw it: its clock notes
    # arrivals, and on a loaded host it may read the acknowledgement late
    assert entry["started_after_s"] >= 1.5, entry
    assert entry["signature_valid"] is True, entry
    e = stored(entry["stored"])
    assert (e["category"], e["label"], e["rows"]) == ("training", "remote-full", 50), e
    assert e["device_type"] == "MICROPYTHON_TEST"


def test_modules_the_program_loaded_stay_loaded_through_a_sample_request():
    # ei.Remote forgets what a request loaded, once done (its heap); a module the program had
    # loaded before stays the one in use (ei.sample, named already, runs the sampler's code: a
    # second copy beside it would cost the heap twice, and a clock swapped in one copy would
    # not be the one read)
    import sys
    import ei
    from ei.sim import Accelerometer
    sample = ei.sample  # the sampler and its deadlines, loaded by the program
    before = sys.modules["ei.sampler"], sys.modules["ei.deadlines"]
    reset_mock()
    peer_script("kept1", [request("remote-kept", 100, 10)])
    r = remote("kept1", start_delay_ms=10)
    assert r.serve(count=1) == 1
    assert settled("kept1")["samples"][0]["state"] == "finished"
    assert (sys.modules.get("ei.sampler"), sys.modules.get("ei.deadlines")) == before
    assert ei.sample is sample
    assert len(sample(Accelerometer("wave"), 10, 3)) == 3


def test_a_testing_path_stores_in_testing():
    peer_script("cat1", [request("remote-testing", 200, 10, path="/api/testing/data")])
    assert remote("cat1").serve(1) == 1
    entry = settled("cat1")["samples"][0]
    assert entry["state"] == "finished", entry
    assert stored(entry["stored"])["category"] == "testing"


def test_a_sample_longer_than_ram_bytes_goes_through_a_capture_file():
    import os
    path = "remote-test-capture.eic"
    peer_script("cap1", [request("remote-capture", 400, 10)])
    assert remote("cap1", ram_bytes=256, capture_path=path).serve(1) == 1
    entry = settled("cap1")["samples"][0]
    assert entry["state"] == "finished" and entry["signature_valid"] is True, entry
    assert stored(entry["stored"])["rows"] == 40
    assert os.stat(path)[6] > 40 * 3 * 5  # the rows went to flash
    os.remove(path)


def test_requests_it_cannot_serve_are_refused_naming_why_and_the_connection_stays_up():
    bad = [
        ({"sample": "idle"}, "sample must be an object"),
        ({"sample": {"length": 100, "path": "/api/training/data", "hmacKey": "k",
                     "interval": 10}}, "label"),
        (request("x", length="100"), "length"),
        (request("x", length=6000), "over this device's 5 s"),
        (request("x", interval=1), "faster than the sensor's 100 Hz"),
        (request("x", interval=0), "interval"),
        (request("x", sensor="Microphone"), "unknown sensor 'Microphone'"),
        (request("x", path="/api/validation/data"), "path"),
        (request("x", hmacKey=None), "hmacKey"),
        (request("x\r\nX-Evil: 1"), "control character"),
    ]
    peer_script("bad-requests", [step for step, _ in bad] + [request("remote-after-bad", 100, 10)])
    assert remote("bad-requests").serve(len(bad) + 1) == len(bad) + 1
    log = settled("bad-requests", len(bad) + 1)
    assert log["connections"] == 1
    for entry, (_, why) in zip(log["samples"], bad):
        assert entry["state"] == "failed" and statuses(entry) == ["sample=False"], entry
        assert why in entry["error"], (why, entry["error"])
        assert HMAC_KEY not in entry["error"] and API_KEY not in entry["error"]
    assert log["samples"][-1]["state"] == "finished", log["samples"][-1]


def test_an_upload_that_fails_is_a_sample_false_with_the_service_s_answer():
    # the ingestion host is the peer itself, which answers a POST 404
    peer_script("up1", [request("remote-upload-fails", 100, 10)])
    assert remote("up1", client(addr=peer_addr())).serve(1) == 1
    log = settled("up1")
    entry = log["samples"][0]
    assert statuses(entry) == ["sample=True", "sampleStarted", "sampleProcessing",
                               "sampleUploading", "sample=False"], entry
    assert "upload failed" in entry["error"] and "404" in entry["error"], entry
    assert log["connections"] == 1


def test_unknown_messages_malformed_json_and_snapshots_are_answered_or_ignored():
    peer_script("unk1", [{"send": {"foo": 1}}, {"text": "{not json"}, {"send": [1, 2]},
                         {"send": {"err": "something the service says"}},
                         {"send": {"startSnapshot": True, "resolution": "low"}},
                         {"send": {"hello": True}},
                         request("remote-after-unknown", 100, 10)])
    assert remote("unk1").serve(1) == 1
    log = settled("unk1")
    assert log["connections"] == 1 and log["samples"][0]["state"] == "finished", log
    assert {"snapshotFailed": True, "error": "Device does not support snapshot streaming"} \
        in log["messages"]


def test_a_malformed_frame_drops_the_connection_and_it_is_reopened():
    # a frame with a reserved bit: the device closes with 1002, then connects again
    peer_script("mal1", [{"raw": "c10161"}, request("remote-after-malformed", 100, 10)])
    assert remote("mal1").serve(1) == 1
    log = settled("mal1")
    assert log["connections"] == 2 and log["closes"][0][0] == 1002, log
    assert log["samples"][0]["state"] == "finished"


def test_a_dropped_connection_is_reopened_and_serving_goes_on():
    peer_script("drop1", [{"drop": True}, {"drop": True}, request("remote-after-drop", 100, 10)])
    r = remote("drop1")
    assert r.serve(1) == 1
    log = settled("drop1")
    assert log["connections"] == 3 and len(log["hellos"]) == 3, log
    assert log["samples"][0]["state"] == "finished"
    assert r.connections == 3


def test_reconnection_waits_back_off_doubling_up_to_30_s():
    r = remote("backoff1", backoff_ms=1000)
    for attempt, top in ((1, 1000), (2, 2000), (3, 4000), (6, 30000), (40, 30000)):
        d = r.retry_delay_ms(attempt)
        assert top // 2 <= d <= top, (attempt, d)


def test_keep_alive_pings_are_sent_and_answered_pongs_keep_the_connection():
    peer_script("ka1", [{"wait_ms": 1200}, request("remote-after-pings", 100, 10)])
    assert remote("ka1", ping_ms=300, pong_ms=2000).serve(1) == 1
    log = settled("ka1")
    assert log["pings"] >= 2 and log["connections"] == 1, log


def test_a_missing_pong_drops_the_connection_and_it_is_reopened():
    peer_script("ka2", [{"mute_ms": 1500}, request("remote-after-no-pong", 100, 10)])
    assert remote("ka2", ping_ms=200, pong_ms=400).serve(1) == 1
    log = settled("ka2")
    assert log["connections"] == 2 and log["samples"][0]["state"] == "finished", log


def test_bad_arguments_are_named_before_any_connection():
    from ei.remote_mgmt import Remote
    from ei.sim import Accelerometer
    c = client()
    raises(ValueError, Remote, c, Accelerometer(), url="http://x/")
    raises(ValueError, Remote, c, Accelerometer(), frequencies=[])
    raises(ValueError, Remote, c, Accelerometer(), max_sample_s=0)
    raises(TypeError, Remote, c, object())
    assert API_KEY not in repr(remote("repr1"))


ONLY = {name: ("socket", _SOCKET) for name in list(globals()) if name.startswith("test_")}


def test_ei_remote_serves_with_the_board_s_config():
    import ei
    from ei import collector

    class Board:
        NAME = "unix"
        DEVICE_TYPE = "MICROPYTHON_BOARD"
        INTERVAL_MS = 10
        NETWORK = "host"

        def setup(self, cfg):
            pass

        def sensor(self, cfg):
            from ei.sim import Accelerometer
            return Accelerometer("wave")

        def device_name(self):
            return "aa:bb:cc:00:11:22"

    reset_mock()
    host, port = mock_addr()
    collector.use(Board(), {"board": "unix", "api_key": API_KEY, "host": host, "port": port,
                            "tls": False, "remote_mgmt": True, "sensor_name": "Accelerometer",
                            "remote_mgmt_url": peer_url("studio", "cfg1"),
                            "capture_path": "remote-test-cfg.eic"})
    peer_script("cfg1", [request("remote-from-config", 200, 10)])
    assert ei.remote(count=1) == 1
    log = settled("cfg1")
    device = log["hellos"][0]
    assert (device["device_id"], device["device_type"]) == ("aa:bb:cc:00:11:22",
                                                            "MICROPYTHON_BOARD")
    assert device["sensors"][0]["frequencies"] == [62.5, 100]
    assert log["samples"][0]["state"] == "finished" and log["samples"][0]["signature_valid"]


ONLY["test_ei_remote_serves_with_the_board_s_config"] = ("socket", _SOCKET)


def test_ei_remote_on_a_board_without_network_points_to_the_daemon():
    import ei
    from ei import collector

    class NoNetwork:
        NAME = "nrf52840"
        DEVICE_TYPE = "NRF52840"
        INTERVAL_MS = 10
        NETWORK = None

        def sensor(self, cfg):
            from ei.sim import Accelerometer
            return Accelerometer()

    collector.use(NoNetwork(), {"board": "nrf52840", "api_key": API_KEY})
    e = raises(OSError, ei.remote, 1)
    assert "ei.daemon()" in str(e)


ONLY["test_ei_remote_on_a_board_without_network_points_to_the_daemon"] = (
    "socket", "config.check loads the client on this branch (main loads ei.api_key alone)")


def test_requests_served_before_a_dropped_connection_count_toward_serve_s_count():
    peer_script("count1", [request("remote-count-a", 100, 10), {"drop": True},
                           request("remote-count-b", 100, 10), request("remote-count-c", 100, 10)])
    assert remote("count1").serve(2) == 2
    log = settled("count1", 2)
    # two requests answered, over two connections; the third was never taken
    assert [s["state"] for s in log["samples"]] == ["finished", "finished"], log
    assert log["connections"] == 2, log


ONLY["test_requests_served_before_a_dropped_connection_count_toward_serve_s_count"] = (
    "socket", _SOCKET)
