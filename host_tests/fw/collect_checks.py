# What the collect tests (test_collect.py, test_collect_boards.py) share: a temporary folder for
# a board's files, and what the mock service stored under a label. Not a test module.
import os

from fwtest import http_json


def temp_dir():
    path = "/tmp/ei-test-collect-%s" % "".join("%02x" % b for b in os.urandom(6))
    os.mkdir(path)
    return path


def stored_with(label):
    """What the mock service stored with `label`, oldest first (asked by label: the whole
    listing outgrows a board-sized heap once the suite has run; each test has its labels)."""
    return http_json("GET", "/samples?label=" + label)


def stored(name):
    """The stored sample called `name` ("<label>.<date id>.cbor"), with its values."""
    for e in stored_with(name.split(".")[0]):
        if e["name"] == name:
            e.update(http_json("GET", "/samples/%d" % e["sample_id"]))
            return e
    raise AssertionError("the mock service has no sample %r" % name)


def stored_count(label):
    return len(stored_with(label))
