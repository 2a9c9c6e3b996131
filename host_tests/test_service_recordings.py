"""A recording's windows joined (issue 19, item 4), as the service answers them: /recordings,
/recordings/<id> and /recordings/<id>/windows, for recordings the firmware's own ei.record
made and uploaded (recording_uploads.py): windows in window order at their place, a dropped
window a gap, a FIFO overrun a gap that says lost_before, a sensor that fell behind a window
at another interval, queued windows filling the recording in as they arrive; an overlap and a
window sent twice (built with the firmware's encoder: ei.record never sends them); the rows
thinned as one recording, a page at a time, bounded whatever the recording's length.
"""
import hashlib
import json
import time

import cbor2
import pytest

from recording_uploads import INTERVAL_MS, WINDOW_ROWS, post_window, record_overrun, record_queued, record_walk, value
from service import API_KEY, MockServer
from service.config import MAX_PLOT_POINTS, PAGE_BYTES
from service.files import inspect_file
from service_client import encode, every_page, post_data, request, sample
from service_process import cli

OTHER = "ei_another_projects_key"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    server = MockServer(tmp_path_factory.mktemp("recordings"),
                        projects=("default:%s" % API_KEY, "other:%s" % OTHER)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def walk(srv):
    """ei.record's recording with window 3 dropped and window 6 read by a sensor too slow."""
    return record_walk(srv)


def windows(srv, rid, query="max_points=%d" % MAX_PLOT_POINTS):
    return every_page(srv, "/recordings/%s/windows?%s" % (rid, query))[0]


def test_windows_come_in_window_order_at_their_place_with_their_rows(srv, walk):
    got = windows(srv, walk.id)
    assert [w["window"] for w in got] == [0, 1, 2, 4, 5, 6, 7]
    for w in got:
        n = w["window"]
        assert (w["first_row"], w["rows"], w["offset_ms"]) == (n * WINDOW_ROWS, WINDOW_ROWS, n * WINDOW_ROWS * INTERVAL_MS)
        assert w["name"] == "walk.%s.%05d.cbor" % (walk.id, n) and (w["step"], w["start"]) == (1, 0)
        # its rows are the recording's rows first_row.. (every row: the recording is small)
        assert w["values"] == [list(value(w["first_row"] + i)) for i in range(WINDOW_ROWS)], n


def test_a_dropped_window_is_a_gap_of_its_rows_and_a_missing_window_number(srv, walk):
    got = {w["window"]: w for w in windows(srv, walk.id)}
    four = got[4]
    assert (four["expected_row"], four["gap_rows"], four["missing_before"]) == (150, 50, 1)
    assert four["lost_before"] is None and four["overlap_rows"] == 0
    assert all(w["gap_rows"] == w["missing_before"] == w["overlap_rows"] == 0 for n, w in got.items() if n != 4)
    rec = request(srv, "GET", "/recordings/%s" % walk.id).json()
    assert (rec["windows"], rec["rows"], rec["last_window"], rec["missing_windows"]) == (7, 350, 7, 1)
    assert (rec["gaps"], rec["gap_rows"], rec["overlaps"], rec["unplaced"]) == (1, 50, 0, 0)
    assert (rec["label"], rec["category"], [s["name"] for s in rec["sensors"]]) == (
        "walk", "training", ["accX", "accY", "accZ"])


def test_a_window_whose_sensor_fell_behind_keeps_its_own_interval_and_is_flagged(srv, walk):
    got = {w["window"]: w for w in windows(srv, walk.id)}
    assert [n for n, w in got.items() if w["interval_differs"]] == [6]
    assert got[6]["interval_ms"] > INTERVAL_MS * 1.2  # the slope the slow sensor kept
    assert {w["interval_ms"] for n, w in got.items() if n != 6} == {INTERVAL_MS}
    # its late rows, and the next window's (read late while the recording caught up)
    assert got[6]["late_rows"] > 0 and got[7]["late_rows"] > 0 and got[7]["max_late_ms"] >= 100
    assert got[0]["late_rows"] == 0
    rec = request(srv, "GET", "/recordings/%s" % walk.id).json()
    assert (rec["interval_ms"], rec["interval_differs"]) == (INTERVAL_MS, 1)
    assert rec["late_rows"] == sum(w["late_rows"] for w in got.values()) == walk.late_rows


def test_a_fifo_overrun_is_a_gap_that_says_how_many_rows_the_chip_lost(srv):
    rec = record_overrun(srv)
    got = windows(srv, rec.id)
    assert [w["window"] for w in got] == [0, 1, 2, 3, 4] and rec.overruns == 1
    short, after = got[2], got[3]
    assert 0 < short["rows"] < 100  # window 2 ended at the overrun
    assert after["lost_before"] == rec.lost_rows and after["gap_rows"] == rec.lost_rows
    assert after["expected_row"] == short["first_row"] + short["rows"] and after["missing_before"] == 0
    assert sum(w["gap_rows"] for w in got) == rec.lost_rows
    assert request(srv, "GET", "/recordings/%s" % rec.id).json()["lost_rows"] == rec.lost_rows


def test_queued_windows_fill_the_recording_in_as_they_arrive(srv, tmp_path):
    rec, flush = record_queued(srv, tmp_path / "queue")
    before = request(srv, "GET", "/recordings/%s" % rec.id).json()
    assert (before["windows"], before["last_window"], rec.queued) == (2, 1, 4)
    assert flush() == 4
    after = request(srv, "GET", "/recordings/%s" % rec.id).json()
    assert (after["windows"], after["rows"], after["gaps"], after["missing_windows"]) == (6, 300, 0, 0)
    assert [w["first_row"] for w in windows(srv, rec.id)] == [n * WINDOW_ROWS for n in range(6)]


def test_an_overlap_and_a_window_sent_twice_are_found(srv):
    rid = "0fe1a900"
    post_window(srv, rid, 0, 0, 50)
    post_window(srv, rid, 1, 40, 50)    # 10 rows before window 0 ended
    post_window(srv, rid, 2, 90, 50)
    post_window(srv, rid, 2, 90, 50, label="again")  # the same window again, under another name
    got = windows(srv, rid)
    assert [(w["window"], w["overlap_rows"], w["repeated"]) for w in got] == [
        (0, 0, False), (1, 10, False), (2, 0, False), (2, 50, True)]
    rec = request(srv, "GET", "/recordings/%s" % rid).json()
    assert (rec["overlaps"], rec["overlap_rows"], rec["gaps"], rec["windows"]) == (2, 60, 0, 4)


def test_the_recording_is_thinned_as_one_whatever_its_windows(srv, walk):
    got = windows(srv, walk.id, "max_points=40")
    step = got[0]["step"]
    assert step == 16 and {w["step"] for w in got} == {step}  # 350 rows / 40 points: 9, up to a power of 2
    kept = []
    for w in got:
        rows = [w["first_row"] + w["start"] + j * step for j in range(len(w["values"]))]
        assert all(k % step == 0 for k in rows) and rows[-1] < w["first_row"] + w["rows"]
        assert w["values"] == [list(value(k)) for k in rows]
        kept += rows
    # every step-th row of the recording that arrived, across windows, once
    assert kept == [k for k in range(400) if k % step == 0 and not 150 <= k < 200]


def test_windows_come_a_page_at_a_time_each_page_with_the_first_pages_step(srv, walk):
    first = request(srv, "GET", "/recordings/%s/windows?limit=3&max_points=40" % walk.id)
    link = first.next_page()
    assert [w["window"] for w in first.json()] == [0, 1, 2] and "after=2." in link and "step=16" in link
    # a window that arrives between two pages (a queued one) comes in its place, never twice
    post_window(srv, walk.id, 3, 150, 50)
    rest, _ = every_page(srv, link)
    assert [w["window"] for w in rest] == [3, 4, 5, 6, 7] and {w["step"] for w in rest} == {16}
    assert [w["window"] for w in windows(srv, walk.id, "limit=2")] == [0, 1, 2, 3, 4, 5, 6, 7]


def test_only_the_projects_recordings_are_listed(srv):
    rid = "ab12cd34"
    post_window(srv, rid, 0, 0, 5)
    assert rid in [r["recording"] for r in request(srv, "GET", "/recordings").json()]
    assert request(srv, "GET", "/recordings", key=OTHER).json() == []
    assert request(srv, "GET", "/recordings/%s" % rid, key=OTHER).status == 404
    assert request(srv, "GET", "/recordings/%s/windows" % rid, key=OTHER).status == 404
    assert request(srv, "GET", "/recordings", key=None).status == 401


def test_metadata_that_is_not_a_place_is_counted_not_joined(srv):
    rid = "5a5a5a5a"
    body = encode(sample(values=[[0.0, 0.0, 9.8]] * 4), "cbor")

    def send(name, **meta):
        meta.setdefault("recording", rid)
        assert post_data(srv, body, file_name=name, x_metadata=json.dumps(meta)).status == 200
    send("a.cbor", window=0, first_row=0)                  # JSON integers: placed
    send("b.cbor", window="1", first_row="4")              # the firmware's digits: placed
    send("c.cbor", window="two", first_row="8")            # not a number
    send("d.cbor", window="3", first_row="-4")             # not a whole number >= 0
    send("e.cbor", window=4.5, first_row=12)               # not a whole number
    send("f.cbor", recording=12345678, window=5, first_row=16)  # the id is not text: no recording
    assert [w["window"] for w in windows(srv, rid)] == [0, 1]
    rec = request(srv, "GET", "/recordings/%s" % rid).json()
    assert (rec["windows"], rec["unplaced"], rec["rows"]) == (2, 3, 8)
    assert "12345678" not in [r["recording"] for r in request(srv, "GET", "/recordings").json()]


@pytest.mark.parametrize("path, status", [
    ("/recordings/%s/windows?after=12" % "ab12cd34", 400),
    ("/recordings/%s/windows?limit=x" % "ab12cd34", 400),
    ("/recordings/%s/windows?step=-1" % "ab12cd34", 400),
    ("/recordings/%s/windows?max_points=1e3" % "ab12cd34", 400),
    ("/recordings?after=x", 400),
    ("/recordings/%s" % ("a" * 65), 404),
    ("/recordings/nothing-here", 404),
    ("/recordings/nothing-here/windows", 404),
])
def test_bad_queries_are_refused_with_a_reason(srv, path, status):
    post_window(srv, "ab12cd34", 0, 0, 5)
    a = request(srv, "GET", path)
    assert a.status == status and a.content_type.startswith("text/plain") and a.text, (a.status, a.text)


# ---- thousands of windows --------------------------------------------------------------------------

WINDOWS = 5000
SINGLES = 1200  # one-window recordings besides: more than a page of /recordings


def _window(store, i, rid, n, first_row, rows=200):
    """A 2 s window of 100 Hz rows as ei.record uploads it, as the ingestion views hand it to the
    store (received, checked), with its x-metadata."""
    body = cbor2.dumps(sample(values=[[float(first_row + j), 0.0, 9.8] for j in range(rows)]))
    path = store.temp_path("bulk-%d" % i)
    with open(path, "wb") as f:
        f.write(body)
    with open(path, "rb") as f:
        summary = inspect_file("w%d.cbor" % i, f, "application/cbor")
    meta = {"recording": rid, "window": str(n), "first_row": str(first_row),
            "offset_ms": "%d.000" % (first_row * 10), "late_rows": "0", "max_late_ms": "0"}
    return {"file_name": "long.%s.%05d.cbor" % (rid, n), "path": path, "size": len(body), "summary": summary,
            "sha256": hashlib.sha256(body).hexdigest(), "label": "long", "extra": {"metadata": meta}}


@pytest.fixture(scope="module")
def long_store(tmp_path_factory):
    """A store of a recording of WINDOWS windows (one every 500th missing) and SINGLES
    one-window recordings, built through the store 1000 files a request."""
    folder = tmp_path_factory.mktemp("long-recording")
    s = MockServer(folder)
    try:
        files = [_window(s.store, n, "10ae0000", n, n * 200) for n in range(WINDOWS) if n % 500 != 499]
        files += [_window(s.store, WINDOWS + i, "%08x" % i, 0, 0, rows=2) for i in range(SINGLES)]
        for start in range(0, len(files), 1000):
            s.store.add("training", files[start:start + 1000])
    finally:
        s.store.close()
    return folder


def test_a_recording_of_thousands_of_windows_comes_in_bounded_pages_and_plots(long_store):
    svc = cli(long_store)
    try:
        t0 = time.monotonic()
        recordings, pages = every_page(svc, "/recordings")
        listed = time.monotonic() - t0
        assert len(recordings) == SINGLES + 1 and pages == 2
        long = recordings[0]
        # the last window missing is not a gap: nothing after it says it was ever read
        assert (long["recording"], long["windows"], long["gaps"], long["gap_rows"], long["missing_windows"]) == (
            "10ae0000", WINDOWS - 10, 9, 1800, 9)
        t0 = time.monotonic()
        path, got, sizes = "/recordings/10ae0000/windows?max_points=5000", [], []
        while path:
            a = request(svc, "GET", path)
            assert a.status == 200, a.text[:200]
            page = a.json()
            sizes.append((len(a.body), len(page)))
            got += page
            path = a.next_page()
        read = time.monotonic() - t0
        t0 = time.monotonic()
        assert len(every_page(svc, "/recordings/10ae0000/windows?max_points=5000")[0]) == WINDOWS - 10
        again = time.monotonic() - t0
        assert len(got) == WINDOWS - 10 and [w["window"] for w in got] == sorted(w["window"] for w in got)
        assert all(size < PAGE_BYTES + 64 * 1024 and n <= 1000 for size, n in sizes), sizes
        # the plot of the whole recording: at most max_points rows, whatever the windows
        rows = sum(len(w["values"]) for w in got)
        step = got[0]["step"]  # 998,000 rows / 5000 points: 200, up to a power of 2
        assert step == 256 and {w["step"] for w in got} == {step}
        assert rows == sum(1 for n in range(WINDOWS) if n % 500 != 499
                           for k in range(n * 200, n * 200 + 200) if k % step == 0) <= 5000, rows
        peak = svc.peak_rss()
    finally:
        svc.stop()
    print("a recording of %d windows and %d others: listed in %.2f s; its windows in %d pages (largest %d bytes)"
          " in %.2f s, again (its rows cached) in %.2f s; peak RSS %.0f MB" % (
              WINDOWS, SINGLES, listed, len(sizes), max(s for s, _ in sizes), read, again, peak / 2 ** 20))
    assert peak < 300 * 1024 * 1024
