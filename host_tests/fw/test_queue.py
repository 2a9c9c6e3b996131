# The offline queue: put() writes a sample to flash and returns; flush(client) sends in order
# and removes each entry only once the service has it. A cut leaves the old state or the new,
# a stranger's or a torn file is moved aside and reported, and a full queue says so.
import os

from faults import log, proxy_client as client, script
from fwtest import encoded, remove_tree as rmtree, API_KEY, AXES, raises, reset_mock, scratch, stored
from fwtest import sample as made

import ei
from ei import errors
from ei.queue import Queue

ROOT = scratch("ei-queue-test")
_NET = ("socket", "flushes to the service over a socket: the nRF52840 (f32-nonet) has none "
        "(its queue is drained by the host)")
# all on the emulated Pico ([rp2]): the offline queue on the Pico's littlefs
RP2 = "all"
ONLY = {name: _NET for name in (
    "test_put_then_flush_delivers_in_order_and_empties_the_queue",
    "test_entries_keep_category_label_file_name_and_format",
    "test_an_entry_is_removed_only_after_the_service_has_it",
    "test_a_lost_answer_then_a_flush_stores_once",
    "test_a_cut_between_upload_and_removal_never_duplicates",
    "test_torn_and_foreign_files_are_moved_aside_reported_and_not_sent",
    "test_an_entry_the_service_refuses_is_moved_aside_and_the_rest_go_on",
    "test_401_stops_the_flush_and_keeps_everything")}


def sample(n, rows=4):
    return made(rows, n, device_name="q-%d" % n)


def teardown_module():
    import os
    folder = ROOT[:ROOT.rfind("/")]
    for name in os.listdir(folder):
        if (folder + "/" + name).startswith(ROOT):
            rmtree(folder + "/" + name)


def fresh(name, **kw):
    path = ROOT + "-" + name
    rmtree(path)
    return Queue(path, **kw)


def stored_devices():
    return [e["sample"]["payload"]["device_name"] for e in stored()]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_put_then_flush_delivers_in_order_and_empties_the_queue():
    reset_mock()
    script()
    q = fresh("order")
    for n in range(5):
        q.put(sample(n), label="idle")
    assert len(q) == 5
    assert [e["name"] for e in q] == ["%08d.eiq" % n for n in range(1, 6)]
    assert q.flush(client()) == 5
    assert len(q) == 0 and q.used == 0
    assert stored_devices() == ["q-%d" % n for n in range(5)]
    assert [e["headers"]["x-disallow-duplicates"] for e in log()] == ["1"] * 5


def test_entries_keep_category_label_file_name_and_format():
    reset_mock()
    script()
    q = fresh("meta")
    q.put(sample(1), category="testing", label="wave", fmt="json")
    q.put(sample(2), category="anomaly", file_name="odd.01.cbor")
    assert [(e["category"], e["label"], e["file_name"], e["content_type"]) for e in q] == [
        ("testing", "wave", "wave.json", "application/json"),
        ("anomaly", None, "odd.01.cbor", "application/cbor")]
    q.flush(client())
    a, b = stored()
    assert (a["category"], a["label"], a["content_type"]) == ("testing", "wave",
                                                              "application/json")
    assert (b["category"], b["label"]) == ("anomaly", "odd")  # inferred from the name


def test_queue_survives_a_restart():
    q = fresh("restart")
    q.put(sample(1), label="idle")
    q.put(sample(2), label="idle")
    again = Queue(q.path)
    assert len(again) == 2 and again.used == q.used
    assert again.put(sample(3)) == "00000003.eiq"


def test_an_entry_is_removed_only_after_the_service_has_it():
    reset_mock()
    q = fresh("keep")
    q.put(sample(1), label="idle")
    q.put(sample(2), label="idle")
    script("500", "pass")
    raises(errors.ServerError, q.flush, client(retries=0))
    assert len(q) == 2 and stored() == []
    script("pass", "reset_request")
    raises(errors.TransportError, q.flush, client(retries=0))
    assert len(q) == 1 and stored_devices() == ["q-1"]
    script()
    assert q.flush(client()) == 1 and stored_devices() == ["q-1", "q-2"]


def test_a_lost_answer_then_a_flush_stores_once():
    # the server stored the entry, the answer was lost, no retry was left: the entry stays;
    # the next flush is answered "already exists", which counts as delivered
    reset_mock()
    q = fresh("lost")
    q.put(sample(1), label="idle")
    script("reset_response")
    raises(errors.TransportError, q.flush, client(retries=0))
    assert len(q) == 1 and stored_devices() == ["q-1"]
    script()
    assert q.flush(client()) == 1
    assert len(q) == 0 and stored_devices() == ["q-1"]


class CutAfterUpload:
    """A client whose board loses power right after the service stored the upload."""

    def __init__(self, c):
        self.c = c

    def upload_encoded(self, *a, **kw):
        self.c.upload_encoded(*a, **kw)
        raise KeyboardInterrupt("power cut")


def test_a_cut_between_upload_and_removal_never_duplicates():
    reset_mock()
    script()
    q = fresh("cut")
    q.put(sample(1), label="idle")
    raises(KeyboardInterrupt, q.flush, CutAfterUpload(client()))
    q = Queue(q.path)  # the board starts again
    assert len(q) == 1
    assert q.flush(client()) == 1
    assert stored_devices() == ["q-1"]


def test_a_leftover_temporary_file_is_the_old_state():
    q = fresh("tmp")
    q.put(sample(1))
    with open(q.path + "/00000002.tmp", "wb") as f:
        f.write(b"EIQ1 {\"category\": \"tra")  # a put that the cut interrupted
    again = Queue(q.path)
    assert len(again) == 1 and again.aside == []
    assert sorted(os.listdir(q.path)) == ["00000001.eiq"]
    assert again.put(sample(2)) == "00000003.eiq"


def test_torn_and_foreign_files_are_moved_aside_reported_and_not_sent():
    reset_mock()
    script()
    q = fresh("aside")
    q.put(sample(1), label="idle")
    q.put(sample(2), label="idle")
    q.put(sample(3), label="idle")
    whole = read(q.path + "/00000002.eiq")
    with open(q.path + "/00000002.eiq", "wb") as f:
        f.write(whole[:len(whole) - 7])  # torn: the body is short
    with open(q.path + "/notes.txt", "wb") as f:
        f.write(b"not mine")
    with open(q.path + "/00000009.eiq", "wb") as f:
        f.write(b"\x00" * 100)  # an entry's name, but no entry
    again = Queue(q.path)
    reasons = dict(again.aside)
    assert sorted(reasons) == ["00000002.eiq", "00000009.eiq", "notes.txt"]
    assert reasons["00000002.eiq"].startswith("torn")
    assert sorted(os.listdir(q.path + "/aside")) == sorted(reasons)
    assert again.flush(client()) == 2
    assert stored_devices() == ["q-1", "q-3"]


def test_an_entry_the_service_refuses_is_moved_aside_and_the_rest_go_on():
    reset_mock()
    q = fresh("refused")
    q.put(sample(1), label="idle")
    q.put(sample(2), label="idle")
    script("400")
    assert q.flush(client()) == 1
    assert [n for n, why in q.aside] == ["00000001.eiq"]
    assert "400" in q.aside[0][1]
    assert stored_devices() == ["q-2"] and len(q) == 0


def test_401_stops_the_flush_and_keeps_everything():
    q = fresh("401")
    q.put(sample(1))
    script()
    raises(errors.Unauthorized, q.flush, client(api_key="ei_" + "0" * 64))
    assert len(q) == 1 and q.aside == []


def test_a_full_queue_refuses_clearly_and_keeps_what_it_has():
    q = fresh("full", max_bytes=1000)
    q.put(sample(1))
    q.put(sample(2))
    before = sorted(os.listdir(q.path))
    e = raises(errors.QueueFull, q.put, sample(3))
    assert "max_bytes=1000" in str(e)
    assert sorted(os.listdir(q.path)) == before and len(q) == 2 and q.used <= 1000
    e = raises(errors.QueueFull, q.put, sample(4, rows=100))
    assert "cannot fit" in str(e)


def test_drop_oldest_drops_and_reports_when_asked():
    q = fresh("drop", max_bytes=1000, policy="drop_oldest")
    for n in range(5):
        q.put(sample(n))
    assert q.dropped and q.dropped[0] == "00000001.eiq"
    assert len(q) + len(q.dropped) == 5 and q.used <= 1000
    assert [e["name"] for e in q][-1] == "00000005.eiq"


def test_put_checks_what_it_queues():
    q = fresh("checks")
    raises(ValueError, q.put, sample(1), category="validation")
    raises(ValueError, q.put, sample(1), label="idle\r\nX-Evil: 1")
    raises(ValueError, q.put, sample(1), file_name="a\nb.cbor")
    raises(ValueError, q.put, sample(1), fmt="xml")
    raises(ValueError, q.put, ei.Sample(device_type="TEST", interval_ms=10, sensors=AXES))
    raises(TypeError, q.put, [[1, 2, 3]])
    raises(ValueError, Queue, q.path, policy="lifo")
    assert len(q) == 0 and os.listdir(q.path) == []


def test_entries_are_streamed_to_flash():
    # 10000 rows of 3 doubles from a one-pass source: 280 KB of CBOR, more than the unix
    # port's whole 256 KB heap in these tests
    q = fresh("big", float32=False)  # doubles, also where floats are single
    rows = 10000
    s = ei.Sample(device_type="TEST", interval_ms=1, sensors=AXES,
                  values=((i, -i, 0.5) for i in range(rows)), rows=rows)
    name = q.put(s, label="big")
    assert os.stat(q.path + "/" + name)[6] > 256 * 1024


def test_entries_hold_float32_where_floats_are_single_and_float64_elsewhere():
    from ei import encoder
    single = 1.0 + 2.0 ** -30 == 1.0  # worked out here, not taken from ei.compat
    q = fresh("floats")
    s = sample(1, rows=10)
    name = q.put(s)
    body = read(q.path + "/" + name).split(b"\n", 1)[1]
    assert body == encoded(s, encoder.Encoding(float32=single))


def test_a_failed_put_leaves_nothing_behind():
    q = fresh("failed")
    bad = ei.Sample(device_type="TEST", interval_ms=1, sensors=AXES,
                    values=iter([(1, 2, 3), (1, 2)]), rows=2)
    raises(ValueError, q.put, bad)
    assert len(q) == 0 and os.listdir(q.path) == []


def test_no_key_is_written_to_flash_or_shown():
    q = fresh("secrets", hmac_key="hmac-secret-key")
    q.put(sample(1), label="idle")
    for name in os.listdir(q.path):
        assert API_KEY not in name and "hmac-secret" not in name
        body = read(q.path + "/" + name)
        assert API_KEY.encode() not in body and b"hmac-secret" not in body
        assert b"HS256" in body  # signed as queued
    assert "hmac-secret" not in repr(q)


def test_ei_queue_is_the_queue():
    q = ei.Queue(ROOT + "-export")
    assert isinstance(q, Queue)
