"""The dashboard, driven in headless Chromium (Debian's chromium and chromedriver, through
selenium; `make test` installs them): a sample the firmware uploaded from the unix port shows in
the list, a filter hides and shows it, its plot is its values, and a new upload appears without
reloading the page.

With DASHBOARD_SCREENSHOT=path the test also saves the page, with the plot, as a PNG there
(that is how docs/dashboard.png is made).
"""
import os

import cbor2
import pytest

from chromium import choose, open_browser, open_project, wait
from service import API_KEY, MockServer
from service_client import post_data, request, sample, stored_bytes
from unix_devices import finish, start_board


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    server = MockServer(tmp_path_factory.mktemp("dashboard")).start()
    out = finish(start_board(server, tmp_path_factory.mktemp("board"), "wave", "bench-board-1"))
    name = out.split("stored as", 1)[1].split()[0]
    # A second sample to filter against: another label, another category.
    post_data(server, cbor2.dumps(sample(values=[[0.0, 0.1, 9.8]] * 5)), category="testing",
              file_name="idle.cbor", x_add_date_id="1")
    yield server, name
    server.stop()


@pytest.fixture(scope="module")
def browser():
    with open_browser() as driver:
        yield driver


def row(driver, name):
    """The table row of a stored sample, or None while there is none."""
    rows = driver.find_elements("css selector", '#samples tbody tr[data-name="%s"]' % name)
    return rows[0] if rows else None


@pytest.fixture(scope="module")
def page(service, browser):
    server, name = service
    open_project(browser, server.url + "/", API_KEY)
    wait(browser, lambda d: row(d, name))
    browser.execute_script("window.sameDocument = true")  # gone if the page ever reloads
    return browser


def test_the_list_shows_the_firmwares_sample_with_its_metadata(service, page):
    _, name = service
    cells = [td.text for td in row(page, name).find_elements("tag name", "td")]
    assert cells[:7] == [name, "training", "wave", "bench-board-1", "200 rows, 2.00 s", "100 Hz", "no"]
    assert cells[7]  # received at, in the browser's local time


def test_filters_by_label_and_category(service, page):
    _, name = service
    choose(page, "label", "idle")
    wait(page, lambda d: row(d, name) is None)
    shown = [tr.get_attribute("data-name") for tr in page.find_elements("css selector", "#samples tbody tr")]
    assert len(shown) == 1 and shown[0].startswith("idle.")
    choose(page, "label", "wave")
    wait(page, lambda d: row(d, name))
    choose(page, "category", "testing")
    wait(page, lambda d: row(d, name) is None)
    assert "#category=testing&label=wave" in page.current_url
    choose(page, "category", "training")
    wait(page, lambda d: row(d, name))
    choose(page, "category", "")
    choose(page, "label", "")


def test_the_plot_draws_each_axis_from_the_samples_values(service, page):
    server, name = service
    row(page, name).click()
    wait(page, lambda d: d.find_elements("css selector", "#plot svg polyline"))
    stored = [e for e in request(server, "GET", "/_mock/samples").json() if e["name"] == name][0]
    values = stored["sample"]["payload"]["values"]
    lines = page.find_elements("css selector", "#plot svg polyline")
    assert [line.get_attribute("data-axis") for line in lines] == ["accX", "accY", "accZ"]
    for axis, line in enumerate(lines):
        points = [tuple(map(float, p.split(","))) for p in line.get_attribute("points").split()]
        assert len(points) == len(values) == 200
        xs = [p[0] for p in points]
        assert all(b > a for a, b in zip(xs, xs[1:]))  # time goes right, evenly
        assert max(xs[i + 1] - xs[i] for i in range(199)) - min(xs[i + 1] - xs[i] for i in range(199)) < 0.05
        # Each point's height is its value on one linear scale, the same for every axis.
        v = [row_[axis] for row_ in values]
        lo, hi = v.index(min(v)), v.index(max(v))
        scale = (points[hi][1] - points[lo][1]) / (v[hi] - v[lo])
        assert scale < 0  # larger values are higher up
        for value, (_, y) in zip(v, points):
            assert abs(points[lo][1] + (value - v[lo]) * scale - y) < 0.05
    info = page.find_element("id", "detail-info").text
    assert "bench-board-1" in info and "accX (m/s2)" in info
    raw = page.find_element("id", "download-raw").get_attribute("href")
    csv = page.find_element("id", "download-csv").get_attribute("href")
    assert request(server, "GET", raw.replace(server.url, "")).body == stored_bytes(server, name)
    lines = request(server, "GET", csv.replace(server.url, "")).text.splitlines()
    assert lines[0] == "timestamp,accX,accY,accZ" and len(lines) == 201
    shot = os.environ.get("DASHBOARD_SCREENSHOT")
    if shot:
        page.set_window_size(1200, 1100)
        page.save_screenshot(shot)


def test_a_new_upload_appears_without_reloading(service, page):
    server, _ = service
    a = post_data(server, cbor2.dumps(sample(values=[[1.0, 2.0, 3.0]] * 3)), file_name="late.cbor",
                  x_label="late")
    assert a.status == 200
    wait(page, lambda d: row(d, "late.cbor"), timeout=10)
    assert page.execute_script("return window.sameDocument") is True
    assert "late" in [o.get_attribute("value") for o in page.find_elements("css selector", "#label option")]


# ---- any finite values (issue 17, item 5) --------------------------------------------------------

EXTREMES = {  # one axis each: values a float holds, where a tick step is lost to rounding or overflows
    "huge.cbor": [[1e16], [1e16 + 4], [1e16], [1e16 + 2]],
    "span.cbor": [[-1.7e308], [1.7e308], [0.0]],
    "tiny.cbor": [[5e-324], [1e-323], [0.0]],
    "flat.cbor": [[1e16], [1e16], [1e16]],
}
# read in scripts: the table is redrawn whenever a sample arrives (an element could go stale)
CLICK = "const r = document.querySelector('#samples tbody tr[data-name=\"%s\"]'); if (r) r.click(); return !!r"
SHOWN = ("const p = document.querySelector('#plot svg polyline');"
         "if (!p || document.getElementById('detail-name').textContent !== '%s') return null;"
         "return [p.getAttribute('points'), [...document.querySelectorAll('#plot svg text.y-tick')]"
         ".map(t => t.textContent)]")


@pytest.mark.parametrize("name", sorted(EXTREMES))
def test_any_finite_values_are_plotted_with_ticks_that_tell_them_apart(service, page, name):
    server, _ = service
    values = EXTREMES[name]
    a = post_data(server, cbor2.dumps(sample(values=values, sensors=[{"name": "v", "units": "u"}])),
                  file_name=name, x_label="extreme")
    assert a.status == 200
    page.execute_script("window.errors = [];"
                        "addEventListener('error', e => errors.push(String(e.message)));"
                        "addEventListener('unhandledrejection', e => errors.push(String(e.reason)));")
    wait(page, lambda d: d.execute_script(CLICK % name), timeout=10)
    line, labels = wait(page, lambda d: d.execute_script(SHOWN % name), timeout=10)
    points = [tuple(map(float, p.split(","))) for p in line.split()]
    assert len(points) == len(values)
    ys = [y for _, y in points]
    assert all(14 <= y <= 340 - 42 for y in ys), ys  # inside the plot's frame
    for (va,), (vb,), ya, yb in zip(values, values[1:], ys, ys[1:]):
        assert (va < vb) == (ya > yb) and (va == vb) == (ya == yb), (values, ys)  # higher is higher
    assert len(labels) >= 2 and len(set(labels)) == len(labels), labels  # ticks that do not repeat
    assert page.execute_script("return window.errors") == []
