"""Headless Chromium for the dashboard tests (Debian's chromium and chromedriver, through selenium;
`make test` installs them): open_browser(), open_project(), wait(), choose(). Not a test module."""
import contextlib
import os
import tempfile

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         "--window-size=1280,900"]


@contextlib.contextmanager
def open_browser():
    """A WebDriver for a fresh headless Chromium profile; the test fails (not skips) without one."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        pytest.fail("%s not installed: `make browser` installs Debian's chromium and chromium-driver"
                    % " and ".join(missing))
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium must not try to fetch a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.TemporaryDirectory()
    for flag in FLAGS + ["--user-data-dir=" + profile.name]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        profile.cleanup()


def wait(driver, condition, timeout=15):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout).until(lambda d: condition(d))


def choose(driver, select_id, value):
    """Select `value` in the <select> `select_id`. The dashboard redraws a list when what it
    lists changes (a device's state): a select redrawn between finding it and choosing is
    found again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import Select
    for attempt in range(5):
        try:
            Select(driver.find_element("id", select_id)).select_by_value(value)
            return
        except StaleElementReferenceException:
            if attempt == 4:
                raise


def open_project(driver, url, key):
    """The dashboard at url, with the project of `key` opened (as a user gives it the key)."""
    driver.get(url)
    field = wait(driver, lambda d: d.find_element("id", "project-key"))
    field.send_keys(key)
    driver.find_element("id", "project-open").click()
    wait(driver, lambda d: d.find_element("id", "project-name").text.startswith("project "))
