"""Recording from the dashboard, end to end, as in Studio (issue 12 part 4): the service runs as
`make serve` runs it (`python -m service`, its own process), the unix port's main job serves it
over remote management (boards/unix/main.py with "remote_mgmt": true, ei.remote()), and headless
Chromium fills the Record form and clicks Start sampling: the device's progress shows as it
reports it, then its sample, stored and signed with the service's HMAC key, is plotted. A device
that goes away is shown as such.

With RECORD_SCREENSHOT=path the test saves the page with the Record form and the plot as a PNG
there (that is how docs/record.png is made).
"""
import os
import signal

import pytest

from chromium import choose, open_browser, open_project, wait
from service import API_KEY
from service_process import cli
from unix_devices import start_remote_board

HMAC_KEY = "record-test-hmac-key"
DEVICE = "unix-board-1"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    srv = cli(tmp_path_factory.mktemp("record"), "--hmac-key", HMAC_KEY)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def board(service, tmp_path_factory):
    proc = start_remote_board(service.host, service.port, tmp_path_factory.mktemp("board"), DEVICE)
    yield proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with open_browser() as driver:
        yield driver


# The recording's progress, read in one script: the panel is redrawn as the recording goes
# on, so an element found before could be stale by the time it is read.
PROGRESS = ("const p = document.getElementById('record-progress');"
            "if (!p) return {state: null, text: '', done: []};"
            "return {state: p.dataset.state || null, text: p.innerText,"
            " done: [...p.querySelectorAll('.step.done')].map(s => s.innerText)}")


def test_the_board_shows_in_devices_and_a_recording_is_plotted(service, board, browser):
    url = "http://%s:%d/" % (service.host, service.port)
    open_project(browser, url, API_KEY)
    script = ("const r = document.querySelector('#devices tbody tr[data-id=\"%s\"]');"
              "return r ? [...r.cells].map(c => c.textContent) : null" % DEVICE)
    cells = wait(browser, lambda d: d.execute_script(script), timeout=30)
    assert cells[:2] == [DEVICE, "MICROPYTHON_UNIX"]  # the unix board's DEVICE_TYPE
    assert "Accelerometer (62.5, 100 Hz" in cells[2] and cells[4] == "idle"

    choose(browser, "record-device", DEVICE)
    choose(browser, "record-sensor", "Accelerometer")
    choose(browser, "record-frequency", "100")
    choose(browser, "record-category", "training")
    label = browser.find_element("id", "record-label")
    label.clear()
    label.send_keys("wave")
    length = browser.find_element("id", "record-length")
    length.clear()
    length.send_keys("2000")
    browser.find_element("id", "record-start").click()

    seen = []

    def finished(d):
        state = d.execute_script(PROGRESS)["state"]
        if state and (not seen or seen[-1] != state):
            seen.append(state)
        return state in ("finished", "failed", "refused")
    wait(browser, finished, timeout=40)
    progress = browser.execute_script(PROGRESS)
    assert progress["state"] == "finished", progress["text"]
    assert len(seen) > 1  # the progress showed before the end (sampleStarted during the 2 s)
    assert progress["done"] == [
        "requested", "acknowledged", "sampling", "processing", "uploading", "finished"]

    plot = wait(browser, lambda d: d.execute_script(
        "const s = document.querySelector('#plot svg');"
        "return s ? [s.dataset.rows, s.dataset.axes] : null"), timeout=15)
    assert plot == ["200", "3"], plot
    name, info = browser.execute_script(
        "return ['detail-name', 'detail-info'].map(i => document.getElementById(i).innerText)")
    assert name.startswith("wave.")
    assert "training" in info and "label wave" in info and "signed: yes, valid" in info
    assert "stored as " + name in progress["text"]

    shot = os.environ.get("RECORD_SCREENSHOT")
    if shot:
        browser.set_window_size(1200, 1180)
        browser.save_screenshot(shot)


def test_a_refused_request_says_why_in_the_form(service, board, browser):
    label = browser.find_element("id", "record-label")
    label.clear()
    label.send_keys("   ")  # the form takes it; the service does not (trimmed, it is empty)
    browser.find_element("id", "record-start").click()
    wait(browser, lambda d: d.execute_script(PROGRESS)["state"] == "refused")
    text = browser.execute_script(PROGRESS)["text"]
    assert "400" in text and "label" in text


def test_a_board_that_goes_away_is_shown_disconnected(service, board, browser):
    board.send_signal(signal.SIGINT)
    board.communicate(timeout=10)
    # read in one script: the panel is redrawn on every change (an element could go stale)
    script = ("const r = document.querySelector('#devices tbody tr[data-id=\"%s\"]');"
              "return r && r.dataset.state === 'disconnected' ? r.textContent : null" % DEVICE)
    text = wait(browser, lambda d: d.execute_script(script), timeout=20)
    assert "disconnected since" in text
    assert DEVICE not in browser.execute_script(
        "return [...document.querySelectorAll('#record-device option')].map(o => o.value)")
