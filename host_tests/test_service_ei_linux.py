"""Edge Impulse's own remote-management client against the local service (issue 17, item 7):
RemoteMgmt with LinuxDevice from the npm package edge-impulse-linux (pinned in
tools/node/package.json, installed by `make node`), unmodified, run by host_tests/
ei_linux_device.js, connects to `python -m service`, appears in /devices, records from the
Record path (POST /devices/<id>/start-sampling) and uploads its WAV file, every status on the
way. After its hello RemoteMgmt asks Studio's REST API to create and name the device and for
the project's name (service/studio_api.py answers, in the service's testing mode); without
those answers it never calls itself connected.

Its microphone is `sox` on PATH: host_tests/fake_mic/sox stands in for the hardware (a known
ramp, in real time), so every value stored can be recognised.
"""
import json
import os
import queue
import subprocess
import threading
import urllib.parse

import pytest

from service_client import every_page, request, until
from service_process import ROOT, cli

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_MODULES = ROOT / "tools" / "node" / "node_modules"
KEY, HMAC_KEY = "ei_" + "5e" * 32, "linux-client-hmac-key"



class Client:
    """ei_linux_device.js in a process of its own; its JSON lines come through `events`."""

    def __init__(self, svc, key=KEY, project_id=1):
        if not (NODE_MODULES / "edge-impulse-linux").is_dir():
            pytest.fail("edge-impulse-linux is not installed: `make node` installs it")
        env = dict(os.environ, NODE_PATH=str(NODE_MODULES),
                   PATH=os.path.join(HERE, "fake_mic") + os.pathsep + os.environ["PATH"])
        self.proc = subprocess.Popen(
            ["node", os.path.join(HERE, "ei_linux_device.js"), "http://%s:%d" % (svc.host, svc.port), key,
             HMAC_KEY, str(project_id)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines, self.events = [], queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            if line.startswith("{"):
                self.events.put(json.loads(line))

    def next_event(self, timeout=30):
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("nothing from the client in %s s:\n%s" % (timeout, "".join(self.lines)))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def service(tmp_path):
    svc = cli(tmp_path, "--project", "lab:%s:%s" % (KEY, HMAC_KEY))
    yield svc
    svc.stop()


def test_edge_impulses_linux_client_connects_records_from_the_record_path_and_uploads(service):
    client = Client(service)
    try:
        device = client.next_event()
        assert device["event"] == "device", client.lines
        assert client.next_event() == {"event": "connected"}, client.lines
        # its own words, once Studio's REST calls were answered: the project is the key's
        assert any('is now connected to project "lab"' in line for line in client.lines), client.lines
        listed = {d["id"]: d for d in every_page(service, "/devices", key=KEY)[0]}
        entry = listed[device["id"]]
        assert (entry["type"], entry["encoding"], entry["state"]) == (device["type"], "json", "idle")
        assert entry["sensors"] == [{"name": "Microphone", "frequencies": [16000], "maxSampleLengthS": 3600}]

        body = {"label": "hum", "lengthMs": 1000, "category": "training", "sensor": "Microphone", "frequency": 16000}
        r = request(service, "POST", "/devices/%s/start-sampling" % urllib.parse.quote(device["id"], safe=""),
                    json.dumps(body).encode(), {"Content-Type": "application/json", "x-api-key": KEY})
        assert r.status == 200, r.text

        def finished():
            d = {x["id"]: x for x in every_page(service, "/devices", key=KEY)[0]}[device["id"]]
            return d if d["sample"]["state"] in ("finished", "failed") else None
        entry = until(finished, timeout=40)
        assert entry["sample"]["state"] == "finished", (entry, "".join(client.lines))
        assert entry["sample"]["statuses"] == ["sample", "sampleStarted", "sampleProcessing", "sampleUploading",
                                               "sampleFinished"]
        [stored] = every_page(service, "/samples", key=KEY)[0]
        assert (stored["label"], stored["category"], stored["content_type"]) == ("hum", "training", "audio/wav")
        assert stored["name"].startswith("hum.") and stored["name"].endswith(".wav")  # x-add-date-id
        assert (stored["rows"], stored["interval_ms"]) == (16000, 0.0625)
        assert stored["upload_source"] == "EDGE_IMPULSE_CLI_UPLOADER"
        values = request(service, "GET", "/samples/%d?max_points=20000" % stored["sample_id"], key=KEY).json()["values"]
        steps = {b[0] - a[0] for a, b in zip(values, values[1:])}
        assert len(values) == 16000 and steps <= {10, -9990}, steps  # the fake microphone's ramp, whole
    finally:
        client.stop()


def test_a_key_of_no_project_is_refused_and_the_client_says_so(service):
    client = Client(service, key="ei_" + "00" * 32)
    try:
        assert client.next_event()["event"] == "device"
        assert client.next_event() == {"event": "authenticationFailed"}, client.lines
        assert every_page(service, "/devices", key=KEY)[0] == []
    finally:
        client.stop()
