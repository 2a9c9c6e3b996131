"""Fifty virtual devices at once: unix-port processes, each running the unix board's main job
(boards/unix/main.py: 2 s of the simulated accelerometer at 100 Hz, then an upload), all started
together against one local service. Every upload is stored, whole, under its own device name.

unix_devices.py starts each board as `make run` does (tools/run_unix_board.py).
"""
import datetime
import time

import pytest

from service import MockServer
from service_client import request
from unix_devices import finish, start_board

DEVICES = 50
ROWS = 200  # 2 s at 100 Hz


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    server = MockServer(tmp_path_factory.mktemp("fleet-store")).start()
    folder = tmp_path_factory.mktemp("fleet-config")
    try:
        t0 = time.monotonic()
        procs = [start_board(server, folder, ("wave", "idle")[i % 2], "device-%02d" % i) for i in range(DEVICES)]
        outputs = [finish(p) for p in procs]
        elapsed = time.monotonic() - t0
        stored = request(server, "GET", "/_mock/samples").json()
        arrived = sorted(datetime.datetime.fromisoformat(e["received_at"].replace("Z", "+00:00")) for e in stored)
        print("\n%d unix-port devices sampled 2 s each and uploaded in %.1f s; the service stored the %d "
              "samples within %.2f s of each other" % (DEVICES, elapsed, len(stored),
                                                       (arrived[-1] - arrived[0]).total_seconds()))
        yield outputs, stored, elapsed
    finally:
        server.stop()


def test_fifty_devices_uploading_at_once_are_all_stored(fleet):
    outputs, stored, _ = fleet
    assert all("stored as" in out for out in outputs)
    assert len(stored) == DEVICES
    assert sorted(e["device_name"] for e in stored) == ["device-%02d" % i for i in range(DEVICES)]


def test_every_stored_sample_is_whole(fleet):
    _, stored, _ = fleet
    for e in stored:
        values = e["sample"]["payload"]["values"]
        assert e["rows"] == len(values) == ROWS and all(len(row) == 3 for row in values)
        assert e["label"] == ("wave", "idle")[int(e["device_name"][-2:]) % 2]


def test_each_device_gets_its_own_stored_name(fleet):
    outputs, stored, _ = fleet
    names = {out.split("stored as", 1)[1].split()[0] for out in outputs}
    assert names == {e["name"] for e in stored}
