"""The store at scale and under failure: 10,000 samples listed, filtered and restarted from the
index alone; a 100 MB upload in bounded memory while others are served; a kill in the middle of
a multi-file request leaves the request whole or absent.
"""
import hashlib
import http.client
import os
import random
import shutil
import signal
import struct
import threading
import time

import cbor2
import pytest

from service import API_KEY, MockServer
from service.files import inspect_file
from service_client import binary_sample, encode, every_page, multipart, request, sample
from service_process import cli

SAMPLES = 10000


def _prepared(store, i):
    """A file as the ingestion views hand it to the store (written and checked)."""
    body = encode(sample(values=[[i, -i, 9.8], [i + 1, -i, 9.8]]), "cbor")
    path = store.temp_path("bulk-%d" % i)
    with open(path, "wb") as f:
        f.write(body)
    with open(path, "rb") as f:
        summary = inspect_file("s%d.cbor" % i, f, "application/cbor")
    return {"file_name": "s%d.cbor" % i, "path": path, "size": len(body), "summary": summary,
            "sha256": hashlib.sha256(body).hexdigest(), "label": ("wave", "idle")[i % 2], "extra": {}}


@pytest.fixture(scope="module")
def big_store(tmp_path_factory):
    """A folder holding a store of SAMPLES samples (built through the store, 1000 a request)."""
    folder = tmp_path_factory.mktemp("big-store")
    s = MockServer(folder)
    try:
        for start in range(0, SAMPLES, 1000):
            s.store.add("training" if start % 2000 else "testing",
                        [_prepared(s.store, i) for i in range(start, start + 1000)])
    finally:
        s.store.close()
    return folder


def test_a_store_of_10000_samples_is_ready_within_2_s_of_a_restart(big_store):
    t0 = time.monotonic()
    s = MockServer(big_store).start()
    try:
        first = request(s, "GET", "/samples")
        ready = time.monotonic() - t0
        listed, pages = every_page(s, "/samples")
    finally:
        s.stop()
    print("a store of %d samples answered its first page %.2f s after the restart began" % (SAMPLES, ready))
    assert first.status == 200 and ready < 2.0, ready
    assert len(listed) == SAMPLES and pages == SAMPLES // 1000
    assert [e["sample_id"] for e in listed] == sorted({e["sample_id"] for e in listed})


def test_10000_samples_are_listed_filtered_and_plotted_without_reading_the_other_files(big_store, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(big_store, folder)
    files = sorted(os.listdir(folder / "files"), key=int)
    for name in files[1:]:  # every file but the first is now garbage: the list must not care
        (folder / "files" / name).write_bytes(b"\xff not a sample")
    s = MockServer(folder).start()
    try:
        assert len(every_page(s, "/samples")[0]) == SAMPLES
        waves = every_page(s, "/samples?category=training&label=wave")[0]
        assert len(waves) == SAMPLES // 4 and {e["label"] for e in waves} == {"wave"}
        first = request(s, "GET", "/samples/%s" % files[0]).json()
        assert first["values"] == [[0, 0, 9.8], [1, 0, 9.8]]
    finally:
        s.stop()


# ---- a 100 MB upload --------------------------------------------------------------------------------

BIG_ROWS = 50 * 1000 * 1000       # i16 at one axis: 100,000,000 bytes of raw data
RSS_BOUND = 300 * 1024 * 1024


def _big_parts():
    """The multipart body of one 100 MB Ref-BINARY sample, made as it is sent."""
    head = binary_sample([[0]], device_name="big")[:-2]  # the CBOR header, without the one row
    pre, ctype = multipart([("data", "big.cbor", "application/cbor", b"@@")])
    before, after = pre.split(b"@@")
    row = struct.pack("<100000h", *[i % 60000 - 30000 for i in range(100000)])
    chunks = [before, head] + [row] * (BIG_ROWS // 100000) + [after]
    return chunks, sum(len(c) for c in chunks), ctype


def test_a_100_mb_upload_stays_under_300_mb_while_other_clients_are_answered_within_a_second(tmp_path):
    svc = cli(tmp_path)
    waits, stop = [], threading.Event()

    def other_client():
        while not stop.is_set():
            t = time.monotonic()
            a = request(svc, "GET", "/samples")
            waits.append((time.monotonic() - t, a.status))
            time.sleep(0.1)

    try:
        chunks, length, ctype = _big_parts()
        watcher = threading.Thread(target=other_client)
        watcher.start()
        c = http.client.HTTPConnection(svc.host, svc.port, timeout=300)
        c.request("POST", "/api/training/files", body=iter(chunks),
                  headers={"x-api-key": API_KEY, "Content-Type": ctype, "Content-Length": str(length)})
        answer = c.getresponse()
        body = answer.read()
        stop.set()
        watcher.join()
        assert answer.status == 200, body[:300]
        entry = request(svc, "GET", "/samples").json()[-1]
        assert (entry["rows"], entry["binary"], entry["size"]) == (BIG_ROWS, "i16", length - len(chunks[0])
                                                                   - len(chunks[-1]))
        plot = request(svc, "GET", "/samples/%d?max_points=1000" % entry["sample_id"]).json()
        assert len(plot["values"]) == 1000 and plot["values"][1] == [plot["step"] % 100000 % 60000 - 30000]
        peak = svc.peak_rss()
    finally:
        stop.set()
        svc.stop()
    print("peak RSS %.0f MB; %d other requests answered, the slowest in %.3f s"
          % (peak / 2**20, len(waits), max(w for w, _ in waits)))
    assert waits and all(status == 200 for _, status in waits)
    assert max(w for w, _ in waits) < 1.0, max(waits)
    assert peak < RSS_BOUND, "peak RSS %d MB" % (peak // 2**20)


# ---- a kill in the middle of a request --------------------------------------------------------------

def _send(svc, body, ctype):
    """Send a whole /files request and leave its answer unread."""
    c = http.client.HTTPConnection(svc.host, svc.port, timeout=60)
    c.putrequest("POST", "/api/anomaly/files")
    for k, v in (("x-api-key", API_KEY), ("Content-Type", ctype), ("Content-Length", str(len(body)))):
        c.putheader(k, v)
    c.endheaders()
    c.send(body)
    return c


def test_a_kill_in_the_middle_of_a_multi_file_request_leaves_it_whole_or_absent(tmp_path):
    rng = random.Random(3)
    body, ctype = multipart([("data", "k%03d.cbor" % i, "application/cbor",
                              cbor2.dumps(sample(values=[[i, 0, 1]] * 2000))) for i in range(200)])
    svc = cli(tmp_path)
    try:  # how long the whole request takes here, so that the kills land across it
        t0 = time.monotonic()
        assert _send(svc, body, ctype).getresponse().status == 200
        whole = time.monotonic() - t0
        request(svc, "POST", "/_mock/reset", headers={"x-api-key": API_KEY})
    finally:
        svc.stop()
    counts = []
    for _ in range(8):
        svc = cli(tmp_path)
        try:
            _send(svc, body, ctype)
            time.sleep(rng.uniform(0.5, 1.5) * whole)  # before, during and after its commit
        finally:
            svc.stop(signal.SIGKILL)
        svc = cli(tmp_path)
        try:
            listed = request(svc, "GET", "/samples").json()
            counts.append(len(listed))
            assert len(listed) in (0, 200), len(listed)
            assert sorted(os.listdir(tmp_path / "files")) == sorted(str(e["sample_id"]) for e in listed)
            request(svc, "POST", "/_mock/reset", headers={"x-api-key": API_KEY})
        finally:
            svc.stop()
    print("samples after each kill:", counts, "(the request takes %.2f s whole)" % whole)
