"""A recording's windows joined into one timeline on the dashboard (issue 19, item 4), driven in
headless Chromium (Debian's chromium and chromedriver, through selenium; `make test` installs
them). The recordings are the firmware's own: ei.record on CPython (recording_uploads.py), with
window 3 dropped while the network was gone, window 6 read by a sensor slower than the interval
and window 8 built with the firmware's encoder to overlap window 7 by 10 rows; a LIS3DH whose
FIFO overran; windows queued on flash, flushed while the page is open.

With TIMELINE_SCREENSHOT=path the test saves the timeline, its red marks and its windows as a
PNG there (that is how docs/timeline.png is made).
"""
import os

import pytest

from chromium import open_browser, open_project, wait
from recording_uploads import INTERVAL_MS, WINDOW_ROWS, post_window, record_overrun, record_queued, record_walk, value
from service import API_KEY, MockServer
from service_client import every_page

RED = "rgb(198, 40, 40)"  # style.css's --bad
# read in scripts: the panel is redrawn whenever a window arrives (an element could go stale)
LINES = ("const svg = document.querySelector('#timeline-plot svg');"
         "if (!svg || document.getElementById('timeline').dataset.id !== arguments[0]) return null;"
         "const f = svg.querySelector('rect.frame');"
         "return {t1: +svg.dataset.t1, step: +svg.dataset.step, x0: +f.getAttribute('x'), w: +f.getAttribute('width'),"
         " lines: [...svg.querySelectorAll('polyline')].map(p => [p.dataset.run, p.dataset.axis, p.getAttribute('points')])}")
MARKS = ("return [...document.querySelectorAll('#timeline-plot svg rect.mark')].map(r => [r.getAttribute('class'),"
         " +r.dataset.from, +r.dataset.to, getComputedStyle(r).fill, getComputedStyle(r).stroke])")
NOTES = ("return [...document.querySelectorAll('#timeline-marks li')].map(li => [li.dataset.kind, li.textContent,"
         " getComputedStyle(li).color])")
WINDOWS = ("return [...document.querySelectorAll('#timeline-windows tbody tr')].map(tr => [tr.className,"
           " [...tr.cells].map(c => c.textContent)])")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    server = MockServer(tmp_path_factory.mktemp("timeline")).start()
    walk = record_walk(server)
    post_window(server, walk.id, 8, 8 * WINDOW_ROWS - 10, WINDOW_ROWS)  # 10 rows before window 7 ends
    fifo = record_overrun(server)
    yield server, walk, fifo
    server.stop()


@pytest.fixture(scope="module")
def page(service):
    server, _, _ = service
    with open_browser() as driver:
        open_project(driver, server.url + "/", API_KEY)
        driver.execute_script("window.errors = [];"
                              "addEventListener('error', e => errors.push(String(e.message)));"
                              "addEventListener('unhandledrejection', e => errors.push(String(e.reason)));")
        yield driver
        assert driver.execute_script("return window.errors") == []


def recording_row(driver, rid):
    """The Recordings table's cells for rid, or None while it is not listed."""
    return driver.execute_script(
        "const r = document.querySelector('#recordings tbody tr[data-id=\"' + arguments[0] + '\"]');"
        "return r ? [...r.cells].map(c => [c.textContent, c.className]) : null", rid)


def open_recording(driver, rid):
    wait(driver, lambda d: d.execute_script(
        "const r = document.querySelector('#recordings tbody tr[data-id=\"' + arguments[0] + '\"]');"
        "if (r) r.click(); return !!r", rid), timeout=10)
    return wait(driver, lambda d: d.execute_script(LINES, rid), timeout=10)


def test_the_recordings_are_listed_with_what_does_not_join(service, page):
    _, walk, fifo = service
    cells = wait(page, lambda d: recording_row(d, walk.id), timeout=10)
    assert [c for c, _ in cells[:6]] == [walk.id, "walk", "MICROPYTHON", "8 (0–8)", "400 rows, 8 s", "50 Hz"]
    assert cells[6] == ["1 gap (50 rows), 1 overlap (10 rows), 1 window missing, 1 window at another interval", "bad"]
    fifo_cells = wait(page, lambda d: recording_row(d, fifo.id), timeout=10)
    assert fifo_cells[6] == ["1 gap (%d rows)" % fifo.lost_rows, "bad"] and fifo_cells[5][0] == "100 Hz"


def test_the_timeline_joins_the_windows_each_row_at_its_place(service, page):
    server, walk, _ = service
    shown = open_recording(page, walk.id)
    windows = {w["window"]: w for w in every_page(server, "/recordings/%s/windows" % walk.id)[0]}
    assert shown["step"] == 1  # 400 rows: every one plotted
    # one line an axis for each run of windows that follow each other exactly: 0-2, then after
    # the gap 4-5, window 6 (at its own interval), 7, and 8 (which overlaps 7)
    runs = {}
    for run, axis, points in shown["lines"]:
        runs.setdefault(int(run), {})[axis] = [tuple(map(float, p.split(","))) for p in points.split()]
    assert sorted(runs) == [0, 4, 6, 7, 8] and all(sorted(r) == ["accX", "accY", "accZ"] for r in runs.values())
    expected = {0: range(0, 150), 4: range(200, 300), 6: range(300, 350), 7: range(350, 400), 8: range(390, 440)}
    pairs = {a: [] for a in range(3)}  # (value, y) of every point, for one linear scale an axis
    for run, axes in runs.items():
        first = windows[run]["first_row"]
        interval = windows[run]["interval_ms"]
        for a, name in enumerate(["accX", "accY", "accZ"]):
            points = axes[name]
            # each point at its row's time: the window's offset_ms + its place × its interval_ms
            t = [(x - shown["x0"]) / shown["w"] * shown["t1"] for x, _ in points]
            rows = [first + round((ti - first * INTERVAL_MS) / interval) for ti in t]
            assert rows == list(expected[run]), (run, rows[:3], rows[-3:])
            assert all(abs(ti - (first * INTERVAL_MS + (k - first) * interval)) < 0.1 for ti, k in zip(t, rows))
            pairs[a] += [(value(k)[a], y) for k, (_, y) in zip(rows, points)]
    for a, got in pairs.items():  # each point's height is its row's value, on one scale
        lo, hi = min(got), max(got)
        scale = (hi[1] - lo[1]) / (hi[0] - lo[0])
        assert scale < 0
        assert all(abs(lo[1] + (v - lo[0]) * scale - y) < 0.05 for v, y in got), a


def test_gaps_overlaps_and_another_interval_are_marked_in_red(service, page):
    _, walk, _ = service
    open_recording(page, walk.id)
    marks = page.execute_script(MARKS)
    assert [m[:3] for m in marks[::2]] == [
        ["mark gap", 3000, 4000],         # window 2 ends at 3 s, window 4 starts at 4 s
        ["mark overlap", 7800, 8000]]     # window 8 starts at row 390 (7.8 s), window 7 ends at 8 s
    assert marks[0][3] == marks[2][3] == marks[0][4] == marks[2][4] == RED  # filled and edged in red
    # window 6 over its rows at its own, slower interval: edged in red
    assert marks[1][:2] == ["mark interval", 6000] and marks[1][2] > 6000 + WINDOW_ROWS * INTERVAL_MS * 1.2
    assert marks[1][4] == RED
    notes = page.execute_script(NOTES)
    assert [n[0] for n in notes] == ["gap", "interval", "overlap"] and {n[2] for n in notes} == {RED}
    assert notes[0][1] == ("Gap before window 4: 50 rows missing (rows 150–199); "
                           "window 3 missing: dropped, or still queued on the board")
    assert notes[2][1] == ("Overlap: window 8 starts at row 390, 10 rows before window 7 ends (row 400): "
                           "those rows are there twice")
    assert notes[1][1].startswith("Window 6 keeps interval_ms 30") and "other windows 20" in notes[1][1]
    labels = page.execute_script("return [...document.querySelectorAll('#timeline-plot text.mark-label')]"
                                 ".map(t => [t.textContent, getComputedStyle(t).fill])")
    assert [labels[0], labels[2]] == [["gap, 50 rows", RED], ["overlap, 10 rows", RED]]
    assert labels[1][0].startswith("interval 30") and labels[1][0].endswith(" ms")
    # each window's late rows and the latest, as its x-metadata says; the windows that do not
    # join are red, the late ones amber
    rows = page.execute_script(WINDOWS)
    stored = {int(e["metadata"]["window"]): e["metadata"] for e in every_page(service[0], "/samples")[0]
              if (e.get("metadata") or {}).get("recording") == walk.id}
    assert [int(cells[0]) for _, cells in rows] == [0, 1, 2, 4, 5, 6, 7, 8]
    for cls, cells in rows:
        meta = stored[int(cells[0])]
        assert (cells[5], cells[6]) == (meta["late_rows"], meta["max_late_ms"] + " ms")
        assert ("bad" in cls) == (cells[0] in ("4", "6", "8")) and ("late" in cls) == (meta["late_rows"] != "0")
    assert [cls for cls, cells in rows if cells[0] in ("6", "7")] == ["bad late", "late"]
    shot = os.environ.get("TIMELINE_SCREENSHOT")
    if shot:
        page.set_window_size(1200, 1240)
        page.execute_script("document.getElementById('recordings-panel').scrollIntoView()")
        page.save_screenshot(shot)


def test_a_fifo_overrun_is_a_gap_that_says_the_chip_lost_its_rows(service, page):
    _, _, fifo = service
    open_recording(page, fifo.id)
    notes = wait(page, lambda d: d.execute_script(NOTES) or None)
    assert len(notes) == 1 and notes[0][0] == "gap" and notes[0][2] == RED
    assert "the sensor's FIFO overran: about %d rows lost before window 3" % fifo.lost_rows in notes[0][1]


def test_queued_windows_fill_the_timeline_in_without_a_reload(service, page, tmp_path):
    server, _, _ = service
    rec, flush = record_queued(server, tmp_path / "queue")   # windows 2-5 stay queued
    page.execute_script("window.sameDocument = true")          # gone if the page ever reloads
    shown = open_recording(page, rec.id)
    assert shown["t1"] == (2 * WINDOW_ROWS - 1) * INTERVAL_MS  # its last row
    assert [int(c[0]) for _, c in page.execute_script(WINDOWS)] == [0, 1]
    assert flush() == 4                                        # the network is back
    wait(page, lambda d: [int(c[0]) for _, c in d.execute_script(WINDOWS)] == list(range(6)), timeout=10)
    shown = wait(page, lambda d: d.execute_script(LINES, rec.id), timeout=10)
    assert shown["t1"] == (6 * WINDOW_ROWS - 1) * INTERVAL_MS and {run for run, _, _ in shown["lines"]} == {"0"}
    assert page.execute_script(MARKS) == [] and page.execute_script(NOTES) == []
    assert page.execute_script("return window.sameDocument") is True
