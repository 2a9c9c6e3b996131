"""The service stays bounded whatever arrives (issue 17, item 2): each input the issue found
unbounded is sent to `python -m service` in a process of its own, whose peak resident memory
(VmHWM, /proc/<pid>/status) must stay under 300 MB, and then all of them at once. Besides:
the lists come a page at a time, the plot cache is bounded in bytes, devices that went away are
dropped, and what a WebSocket message costs grows with its bytes, not with their square.

The inputs (the issue's): four 13.4 MB JSON samples at once; a 25 MB CSV of 2 million columns;
a 15 MB device_type in JSON and in CBOR; 34 reads, each asking another number of points, of the
plot of a 5 MB sample of 100 axes; 1,000 hellos with 60 kB ids; 64 sockets that never say
hello; eight streams of empty continuation frames without a key.
"""
import concurrent.futures
import functools
import http.client
import json
import os
import random
import time

import cbor2
import pytest
from wsproto.events import TextMessage

from service import API_KEY, MockServer
from service.config import MAX_GONE_DEVICES, MAX_PLOT_VALUES, PAGE_BYTES
from service_client import every_page, multipart, request, sample
from service_process import cli
from ws_device import Device, hello

RSS_BOUND = 300 * 1024 * 1024


# ---- the inputs -------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def json_13mb():
    """A 13.4 MB JSON sample: 420,000 rows of three accelerometer values."""
    rng = random.Random(17)
    rows = [[round(rng.uniform(-20, 20), 5) for _ in range(3)] for _ in range(420000)]
    body = json.dumps(sample(values=rows)).encode()
    assert 13e6 < len(body) < 14e6
    return body


@functools.lru_cache(maxsize=None)
def wide_csv():
    """A 25 MB CSV file of 2 million columns: a header and one row."""
    n = 2000000
    body = b",".join(b"c%d" % i for i in range(n)) + b"\n" + b",".join([b"1.25"] * n) + b"\n"
    assert len(body) > 24e6
    return body


@functools.lru_cache(maxsize=None)
def device_type_15mb(fmt):
    obj = sample()
    obj["payload"]["device_type"] = "T" * (15 * 1024 * 1024)
    return cbor2.dumps(obj) if fmt == "cbor" else json.dumps(obj).encode()


@functools.lru_cache(maxsize=None)
def wide_5mb():
    """A 5 MB CBOR sample of 100 axes (5,600 rows of 100 doubles)."""
    rng = random.Random(5)
    rows = [[rng.uniform(-1, 1) for _ in range(100)] for _ in range(5600)]
    body = cbor2.dumps(sample(values=rows, sensors=[{"name": "a%d" % i, "units": "u"} for i in range(100)]))
    assert 5e6 < len(body) < 5.3e6
    return body


def upload(svc, body, name, ctype="application/cbor", endpoint="data", key=API_KEY):
    """An upload that may take a while under load: (status, text)."""
    headers = {"x-api-key": key}
    if endpoint == "data":
        headers.update({"x-file-name": name, "Content-Type": ctype})
    else:
        body, headers["Content-Type"] = multipart([("data", name, ctype, body)])
    c = http.client.HTTPConnection(svc.host, svc.port, timeout=300)
    try:
        c.request("POST", "/api/training/" + endpoint, body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        c.close()


# ---- each case: what it sends, and what it must get back --------------------------------------------

def four_json_samples(svc):
    body = json_13mb()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda i: upload(svc, body, "big%d.json" % i, "application/json"), range(4)))
    assert answers == [(200, "big%d.json" % i) for i in range(4)], answers


def wide_csv_file(svc):
    status, text = upload(svc, wide_csv(), "wide.csv", "text/csv", endpoint="files")
    assert status == 400 and "Could not parse this CSV file" in text and "bytes" in text, text[:300]


def huge_device_type(svc):
    for fmt in ("json", "cbor"):
        status, text = upload(svc, device_type_15mb(fmt), "dt." + fmt, "application/" + fmt)
        assert status == 400 and "device_type" in text, (fmt, text[:300])


def many_plot_reads(svc):
    status, name = upload(svc, wide_5mb(), "wide5.cbor")
    assert status == 200
    sid = [e for e in every_page(svc, "/samples")[0] if e["name"] == name][0]["sample_id"]
    assert request(svc, "GET", "/samples/%d" % sid, key=None).status == 401  # not without a key

    def read(points):
        c = http.client.HTTPConnection(svc.host, svc.port, timeout=300)
        c.request("GET", "/samples/%d?max_points=%d" % (sid, points), headers={"x-api-key": API_KEY})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, len(json.loads(body)["values"]) if r.status == 200 else body
    with concurrent.futures.ThreadPoolExecutor(34) as pool:
        answers = list(pool.map(read, range(19967, 20001)))
    assert all(status == 200 and rows <= MAX_PLOT_VALUES // 100 for status, rows in answers), answers[:3]


def long_id_hellos(svc, held_back_ok=False):
    """held_back_ok: a connection that the service closed at its hello deadline before this
    side sent the hello (a storm on a loaded machine can hold a sending thread back 5 s) is
    closed as it should be; most must still be answered."""
    def one(i):
        d = Device(svc, timeout=60).connect()
        try:
            if held_back_ok and d.closed == (1008, "hello refused"):
                return "held back"
            d.send_json(hello("%04d" % i + "x" * 60000))
            return d.recv()
        finally:
            d.sock.close()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(1000)))
    refused = [a for a in answers if a != "held back"]
    assert len(refused) > len(answers) // 2, answers.count("held back")
    assert all(a and a["hello"] is False and "deviceId" in a["err"] for a in refused), refused[:3]
    listed = request(svc, "GET", "/devices")
    assert listed.status == 200 and len(listed.body) < 10000


def silent_sockets(svc):
    socks = [Device(svc, timeout=30).connect() for _ in range(64)]
    try:
        time.sleep(1)
    finally:
        for s in socks:
            s.sock.close()


def empty_frame_streams(svc):
    def stream(_):
        d = Device(svc, timeout=60).connect()
        d.send_raw(d.ws.send(TextMessage(data="{", message_finished=False)))
        frame = d.ws.send(TextMessage(data="", message_finished=False))
        try:
            for _ in range(200):  # 100 frames a time, 120 kB in all
                d.send_raw(frame * 100)
        except OSError:
            pass  # closed by the service: what is asserted below
        end = time.monotonic() + 30
        while d.closed is None and time.monotonic() < end:
            d.recv(0.5)
        d.sock.close()
        return d.closed
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        closes = list(pool.map(stream, range(8)))
    assert all(c and c[0] == 1009 for c in closes), closes


CASES = {"four 13.4 MB JSON samples at once": four_json_samples, "a 25 MB CSV of 2 million columns": wide_csv_file,
         "a 15 MB device_type in JSON and CBOR": huge_device_type,
         "34 plot reads of a 5 MB sample of 100 axes": many_plot_reads,
         "1,000 hellos with 60 kB ids": long_id_hellos, "64 sockets without a hello": silent_sockets,
         "8 streams of empty frames without a key": empty_frame_streams}


# all at once, the hellos may be held back (long_id_hellos)
STORM = {"1,000 hellos with 60 kB ids": functools.partial(long_id_hellos, held_back_ok=True)}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_input_leaves_the_service_under_300_mb(tmp_path, case):
    svc = cli(tmp_path)
    try:
        CASES[case](svc)
        assert request(svc, "GET", "/samples").status == 200
        peak = svc.peak_rss()
    finally:
        svc.stop()
    print("%s: peak RSS %.0f MB" % (case, peak / 2 ** 20))
    assert peak < RSS_BOUND, "%s: peak RSS %d MB" % (case, peak // 2 ** 20)


def test_every_input_at_once_leaves_the_service_under_300_mb_and_a_device_still_connects(tmp_path):
    for make in (json_13mb, wide_csv, wide_5mb):
        make()  # made before the clock starts: the inputs, not their making, run at once
    device_type_15mb("json"), device_type_15mb("cbor")
    svc = cli(tmp_path)
    try:
        with concurrent.futures.ThreadPoolExecutor(len(CASES)) as pool:
            running = {pool.submit(STORM.get(name, case), svc): name
                       for name, case in CASES.items()}
            time.sleep(2)  # in the thick of it: a real device connects (as devices do, trying again)
            for attempt in range(3):
                d = Device(svc, timeout=30).connect()
                d.send_json(hello("real-device"))
                if d.recv() == {"hello": True}:
                    break
                d.sock.close()
            else:
                pytest.fail("a device with the key could not connect during the storm")
            failed = [(running[f], f.exception()) for f in concurrent.futures.as_completed(running)
                      if f.exception() is not None]
        assert not failed, failed
        devices = request(svc, "GET", "/devices").json()
        assert [x["id"] for x in devices] == ["real-device"]
        d.close()
        peak = svc.peak_rss()
    finally:
        svc.stop()
    print("every input at once: peak RSS %.0f MB" % (peak / 2 ** 20))
    assert peak < RSS_BOUND, "peak RSS %d MB" % (peak // 2 ** 20)


# ---- lists a page at a time, the plot cache, devices gone --------------------------------------------

def test_samples_come_a_page_at_a_time_bounded_in_entries_and_bytes(tmp_path):
    srv = MockServer(tmp_path).start()
    try:
        meta = json.dumps({"note": "m" * 60000})  # 60 kB of x-metadata each
        for i in range(40):
            headers = {"x-api-key": API_KEY, "x-file-name": "m%02d.cbor" % i, "Content-Type": "application/cbor",
                       "x-metadata": meta}
            assert request(srv, "POST", "/api/training/data", cbor2.dumps(sample()), headers).status == 200
        first = request(srv, "GET", "/samples")
        assert len(first.body) < PAGE_BYTES + 70000 and first.next_page()  # ends past 1 MB, not at 40
        assert 10 < len(first.json()) < 40
        small = request(srv, "GET", "/samples?limit=7&category=training")
        assert [e["name"] for e in small.json()] == ["m%02d.cbor" % i for i in range(7)]
        assert "category=training" in small.next_page() and "limit=7" in small.next_page()
        entries, pages = every_page(srv, "/samples?limit=7")
        assert [e["name"] for e in entries] == ["m%02d.cbor" % i for i in range(40)] and pages == 6
        assert request(srv, "GET", "/samples?limit=x").status == 400
    finally:
        srv.stop()


def test_devices_come_a_page_at_a_time(tmp_path):
    srv = MockServer(tmp_path, timeout=3).start()
    try:
        links = []
        for i in range(5):
            d = Device(srv).connect()
            d.send_json(hello("dev-%d" % i))
            assert d.recv() == {"hello": True}
            links.append(d)
        page = request(srv, "GET", "/devices?limit=2")
        assert [d["id"] for d in page.json()] == ["dev-0", "dev-1"] and "after=dev-1" in page.next_page()
        assert [d["id"] for d in every_page(srv, "/devices?limit=2")[0]] == ["dev-%d" % i for i in range(5)]
        for d in links:
            d.close()
    finally:
        srv.stop()


def test_the_plot_cache_is_bounded_in_bytes_and_shared_by_the_reads_of_one_plot(tmp_path):
    srv = MockServer(tmp_path, plot_cache_bytes=4 * 1024 * 1024).start()
    try:
        ids = []
        for i in range(12):
            rows = [[float(i), float(j), 1.0] for j in range(20000)]  # about 0.5 MB as JSON each
            request(srv, "POST", "/api/training/data", cbor2.dumps(sample(values=rows)),
                    {"x-api-key": API_KEY, "x-file-name": "p%d.cbor" % i, "Content-Type": "application/cbor"})
        ids = [e["sample_id"] for e in every_page(srv, "/samples")[0]]
        for sid in ids:
            assert request(srv, "GET", "/samples/%d?max_points=20000" % sid).status == 200
            assert srv.app.plots.used <= 4 * 1024 * 1024
        assert 4 <= len(srv.app.plots.kept) < 12  # some kept, the oldest gone
        a = srv.app.plots.get(srv.store, srv.store.get(ids[-1]), 20000)
        b = srv.app.plots.get(srv.store, srv.store.get(ids[-1]), 20000)
        assert a[1] is b[1]  # one copy of the plot, whoever reads it
    finally:
        srv.stop()


def test_devices_that_went_away_are_dropped_after_a_while_and_beyond_a_number(tmp_path):
    srv = MockServer(tmp_path, timeout=3, forget_devices=1.5).start()
    try:
        d = Device(srv).connect()
        d.send_json(hello("short-lived"))
        assert d.recv() == {"hello": True}
        d.close()
        time.sleep(0.5)
        assert request(srv, "GET", "/devices").json()[0]["state"] == "disconnected"
        time.sleep(1.5)
        assert request(srv, "GET", "/devices").json() == []
    finally:
        srv.stop()
    srv = MockServer(tmp_path, timeout=3).start()
    try:
        for i in range(MAX_GONE_DEVICES + 20):
            d = Device(srv).connect()
            d.send_json(hello("gone-%04d" % i))
            assert d.recv() == {"hello": True}
            d.close()
        time.sleep(0.5)
        listed = every_page(srv, "/devices")[0]
        # The oldest went. Each link's thread notes its device gone when it reads the close, so
        # on a loaded machine two closes a moment apart may be noted in the other order (a
        # fresh clone's make test saw gone-0018 noted after gone-0020): the 20 dropped are
        # among the first 40 closed, and every later one is kept.
        ids = {d["id"] for d in listed}
        assert len(listed) == MAX_GONE_DEVICES, len(listed)
        assert not ids & {"gone-%04d" % i for i in range(10)}, sorted(ids)[:20]
        assert {"gone-%04d" % i for i in range(40, MAX_GONE_DEVICES + 20)} <= ids, sorted(ids)[:40]
    finally:
        srv.stop()


# ---- work per byte ----------------------------------------------------------------------------------

def _cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_message_of_many_frames_costs_work_in_its_bytes_not_their_square(tmp_path):
    """One message of n 1-byte continuation frames, from a device with a key (the service takes
    64 kB messages): 4 times the frames must cost about 4 times the CPU, not 16 times."""
    svc = cli(tmp_path)
    try:
        def cost(frames):
            d = Device(svc, timeout=60).connect()
            d.send_json(hello("frames-%d" % frames))
            assert d.recv() == {"hello": True}
            before = _cpu_seconds(svc.proc.pid)
            d.send_raw(d.ws.send(TextMessage(data='{"x":"', message_finished=False)))
            one = d.ws.send(TextMessage(data="a", message_finished=False))
            for _ in range(frames // 1000):
                d.send_raw(one * 1000)
            d.send_raw(d.ws.send(TextMessage(data='"}', message_finished=True)))
            d.ping(b"done")  # answered once every frame before it was read
            end = time.monotonic() + 120
            while b"done" not in d.pongs and time.monotonic() < end:
                d.recv(0.2)
            assert b"done" in d.pongs
            spent = _cpu_seconds(svc.proc.pid) - before
            d.close()
            return spent
        small, large = cost(12000), cost(48000)
    finally:
        svc.stop()
    print("CPU: %.2f s for 12,000 frames, %.2f s for 48,000" % (small, large))
    assert large < 8 * max(small, 0.05), (small, large)
