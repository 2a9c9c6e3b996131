# ei.record: a recording read at fixed deadlines from its start to its end, cut into windows
# that are uploaded (or queued) while the next is read; no row lost between windows, none
# twice, each window's place in x-metadata. Time is the test clock's (clock.py): ten minutes
# of 100 Hz take seconds, and the network's slowness is counted in the same time (Link).
from clock import Clock
from collect_checks import temp_dir
from faults import mode, proxy_client
from fwtest import API_KEY, mock_addr, raises, remove_tree, reset_mock
from recording_checks import (Counter, Link, check_contiguous, chip_rows, fifo_chip,
                              queued_metadata, values, windows_stored)

import ei
from ei.queue import Queue

_NET = ("socket", "uploads over a socket: the nRF52840 (f32-nonet) has none")
ONLY = {name: _NET for name in (
    "test_ten_minutes_at_100_hz_through_a_slow_service_that_drops_30_percent_lose_no_row",
    "test_a_minute_without_network_queues_the_windows_then_flushes_them",
    "test_an_upload_slower_than_a_window_goes_to_the_queue_and_no_read_waits_for_it",
    "test_a_window_without_a_queue_that_the_service_refuses_is_dropped_and_counted",
    "test_a_queued_window_keeps_its_metadata_to_the_service",
    "test_a_recording_refuses_a_client_that_runs_no_code_while_it_sends",
    "test_a_fifo_sensor_is_drained_into_contiguous_windows_at_the_chips_rate",
    "test_reads_go_on_between_the_pieces_of_an_upload_and_while_its_answer_is_awaited",
    "test_the_clients_idle_hook_is_given_back_after_the_recording",
    "test_collect_with_window_s_records_the_boards_sensor")}
ONLY["test_the_heap_a_recording_holds_does_not_grow_with_its_length"] = (
    "micropython", "the heap is a board's (gc.mem_alloc)")
# the checks read 300 windows' rows back from the service: more than a board's heap
MP_HEAPSIZE = "4m"
# on the emulated Pico, the FIFO's overruns (the rest run there too, in 2 minutes: too long for
# make test; host_tests/test_pico_recording.py records its MPU6050 through boards/rp2_pico)
RP2 = ("test_a_fifo_overrun_ends_the_window_and_says_how_many_rows_were_lost",
       "test_rows_lost_while_the_ring_was_full_are_counted_from_the_last_row_read")


# Each read of the test clock takes half a millisecond: sampler.wait_until's last 1.5 ms
# before a deadline is three reads, not a hundred and fifty.
READ_US = 500
# While an answer is awaited, the recorder's hook runs every quarter of a period: no read is
# later than that (and a read of the clock on either side) at 100 Hz.
ON_TIME_US = 10000 // 4 + 2 * READ_US


def clock():
    return Clock(read_us=READ_US)


def client(**kw):
    """Through the fault proxy, with short timeouts: a stall costs 0.3 s of real time (the
    loopback is fast: min_rate adds nothing to the request's deadline)."""
    kw.setdefault("timeout", 0.3)
    kw.setdefault("min_rate", 1 << 24)
    kw.setdefault("retries", 2)
    kw.setdefault("backoff_ms", 10)
    return proxy_client(**kw)


def service_client():
    host, port = mock_addr()
    return ei.Client(API_KEY, host=host, port=port, tls=False, retries=0)


def test_ten_minutes_at_100_hz_through_a_slow_service_that_drops_30_percent_lose_no_row():
    reset_mock()
    folder = temp_dir()
    mode(rate=0.3, seed=19)
    try:
        q = Queue(folder + "/queue")
        with clock() as c, Link(c, bytes_per_s=20000, answer_ms=300):
            rec = ei.record(Counter(), 10, 2000, label="rec-flaky", windows=300,
                            client=client(), queue=q)
    finally:
        mode()
        remove_tree(folder)
    assert rec.windows == 300 and rec.rows == 60000, rec
    assert rec.dropped == 0 and len(q) == 0 and rec.queued == rec.flushed, rec
    # reads went on between the pieces of every upload and while its answer was awaited
    assert rec.late_rows == 0 and rec.max_late_us <= ON_TIME_US, rec
    check_contiguous("rec-flaky", rec, 300, 200, 10)


def test_a_minute_without_network_queues_the_windows_then_flushes_them():
    reset_mock()
    folder = temp_dir()
    seen = []

    def progress(n, outcome):
        seen.append(outcome.split(" ")[0])
        if n == 99:
            mode(rate=1.0, faults=["refuse"])  # the network is gone for 30 windows: a minute
        elif n == 129:
            mode()

    try:
        q = Queue(folder + "/queue")
        with clock() as c, Link(c, bytes_per_s=20000, answer_ms=300):
            rec = ei.record(Counter(), 10, 2000, label="rec-offline", windows=300,
                            client=client(), queue=q, progress=progress)
    finally:
        mode()
        remove_tree(folder)
    assert "queued" in seen[100:130] and seen[100:130].count("stored") == 0, seen[100:130]
    assert rec.queued >= 30 and rec.flushed == rec.queued and len(q) == 0, rec
    assert rec.dropped == 0 and rec.max_late_us <= ON_TIME_US, rec
    check_contiguous("rec-offline", rec, 300, 200, 10)


def test_an_upload_slower_than_a_window_goes_to_the_queue_and_no_read_waits_for_it():
    # 500 B/s: a window's upload takes longer than the window, so the hook ends it when the
    # ring's slack is half used and the window is queued; every read stays on time, and the
    # queue is flushed once reading ends
    reset_mock()
    folder = temp_dir()
    try:
        q = Queue(folder + "/queue")
        with clock() as c, Link(c, bytes_per_s=500, answer_ms=300):
            rec = ei.record(Counter(), 10, 2000, label="rec-slow", windows=12,
                            client=client(), queue=q)
    finally:
        remove_tree(folder)
    assert rec.queued > 0 and rec.flushed == rec.queued and rec.dropped == 0, rec
    assert rec.max_late_us <= ON_TIME_US, rec
    check_contiguous("rec-slow", rec, 12, 200, 10)


def test_windows_to_a_queue_alone_are_contiguous_and_carry_their_place():
    folder = temp_dir()
    try:
        q = Queue(folder + "/queue")
        with clock():
            rec = ei.record(Counter(), 10, 500, label="rec-q", windows=4, queue=q)
        entries = list(q)
        assert [e["file_name"] for e in entries] == [
            "rec-q.%s.%05d.cbor" % (rec.id, n) for n in range(4)]
        for n, (e, m) in enumerate(zip(entries, queued_metadata(q))):
            assert (m["recording"], m["window"], m["first_row"], m["offset_ms"]) == (
                rec.id, str(n), str(n * 50), "%d.000" % (n * 500)), m
            assert (m["late_rows"], e["label"], e["add_date_id"]) == ("0", "rec-q", False), e
    finally:
        remove_tree(folder)


def test_late_rows_are_counted_in_their_own_windows_timing():
    # read 170 (window 3 of 50-row windows, its row 20) takes 35 ms: the rows after it are
    # read about 25, 15 and 5 ms late: two a period or more, in window 3's x-metadata only
    folder = temp_dir()
    try:
        q = Queue(folder + "/queue")
        with clock() as t:
            rec = ei.record(Counter(clock=t, stalls={170: 35000}), 10, 500, label="rec-late",
                            windows=6, queue=q)
        meta = queued_metadata(q)
    finally:
        remove_tree(folder)
    assert [m["late_rows"] for m in meta] == ["0", "0", "0", "2", "0", "0"], meta
    assert meta[3]["max_late_ms"] in ("25", "26") and rec.late_rows == 2, (meta, rec)
    assert [m["first_row"] for m in meta] == [str(50 * n) for n in range(6)], meta


def test_a_queued_window_keeps_its_metadata_to_the_service():
    reset_mock()
    folder = temp_dir()
    try:
        q = Queue(folder + "/queue")
        with clock():
            rec = ei.record(Counter(), 10, 200, label="rec-meta", windows=2, queue=q)
        q = Queue(folder + "/queue")  # after a reset: read back from flash
        assert q.flush(service_client()) == 2
    finally:
        remove_tree(folder)
    got = windows_stored("rec-meta", rec.id)
    assert sorted(got) == [0, 1] and got[1]["metadata"]["first_row"] == "20", got
    assert values(got[1]) == [float(20 + i) for i in range(20)]


def test_the_heap_a_recording_holds_does_not_grow_with_its_length():
    import gc
    from ei import log
    folder = temp_dir()
    held = []

    def progress(n, outcome):
        if n in (20, 80):
            gc.collect()
            held.append(gc.mem_alloc())

    log.handler = lambda level, text: None  # the queue says each entry it drops
    try:
        # a queue that keeps its newest dozen windows: its own index of them is full (and
        # the same size) at both measures, so what is measured is the recording's
        q = Queue(folder + "/queue", policy="drop_oldest", max_bytes=16 * 1024)
        with clock():
            ei.record(Counter(), 10, 1000, label="rec-heap", windows=81, queue=q,
                      progress=progress)
    finally:
        log.handler = None
        remove_tree(folder)
    # 60 windows more, 6,000 rows more: the same heap, within a few allocations' noise
    assert abs(held[1] - held[0]) < 512, held


def test_a_fifo_sensor_is_drained_into_contiguous_windows_at_the_chips_rate():
    reset_mock()
    folder = temp_dir()
    try:
        q = Queue(folder + "/queue")
        with clock() as t, Link(t, bytes_per_s=20000, answer_ms=300):
            chip, bus = fifo_chip(t)
            rec = ei.record(chip, None, 1000, label="rec-fifo", windows=6, queue=q,
                            client=client())
        assert len(q) == 0 and rec.rows == 600 and rec.overruns == 0, rec
    finally:
        remove_tree(folder)
    got = windows_stored("rec-fifo", rec.id)
    assert sorted(got) == list(range(6)), got
    for n in range(6):
        e = got[n]
        assert e["interval_ms"] == 10 and e["metadata"]["first_row"] == str(n * 100), e
        # the chip's rows, one after the other: none lost or read twice between windows
        assert chip_rows(e) == [(n * 100 + i) % 50 for i in range(100)], (n, chip_rows(e))


def test_a_fifo_overrun_ends_the_window_and_says_how_many_rows_were_lost():
    folder = temp_dir()
    said = []
    from ei import log
    log.handler = lambda level, text: said.append(text)
    try:
        q = Queue(folder + "/queue")
        with clock() as t:
            chip, bus = fifo_chip(t)

            def progress(n, outcome):
                if n == 1:
                    t.stall(1000000)  # a second away: the chip's 32 rows fill, and more come

            rec = ei.record(chip, None, 1000, label="rec-overrun", windows=5, queue=q,
                            progress=progress)
        meta = queued_metadata(q)
    finally:
        log.handler = None
        remove_tree(folder)
    # the second away and the nap before the drain that found it: the rows since the last
    # drain, all dropped by the chip
    assert rec.overruns == 1 and 100 <= rec.lost_rows <= 110, rec
    assert [t for t in said if "overran" in t and "rows lost" in t], said
    # window 2 was being read when the chip overran: it ends there, shorter; window 3 starts
    # where the chip is now, and says how many rows went before it
    first = [int(m["first_row"]) for m in meta]
    short = rec.rows - 4 * 100
    assert first[:3] == [0, 100, 200] and 0 < short < 100, (meta, rec)
    assert first[3] == 200 + short + rec.lost_rows and first[4] == first[3] + 100, meta
    assert meta[3]["lost_before"] == str(rec.lost_rows) and "lost_before" not in meta[2], meta
    # and that is the chip's own count: the last row read is the one before those it holds
    assert abs(first[4] + 99 - (bus.done - len(bus.dev.fifo) - 1)) <= 1, (first, bus.done)


def test_rows_lost_while_the_ring_was_full_are_counted_from_the_last_row_read():
    # a flash so slow (30 ms a row) that the ring fills while a window is put: the drains
    # then find no room and read nothing, and the chip's FIFO overruns with rows made long
    # before the last drain. The rows lost count from the last row read, so the windows
    # after an overrun start where the chip's rows are.
    folder = temp_dir()
    from ei import log
    log.handler = lambda level, text: None
    try:
        with clock() as t:
            class SlowFlash(Queue):
                def put(self, sample, *a, **kw):
                    for _ in sample.iter_rows():  # reads go on between the rows
                        t.stall(30000)
                    return Queue.put(self, sample, *a, **kw)

            q = SlowFlash(folder + "/queue")
            chip, bus = fifo_chip(t)
            rec = ei.record(chip, None, 1000, label="rec-full", windows=4, queue=q)
        meta = queued_metadata(q)
    finally:
        log.handler = None
        remove_tree(folder)
    # the window being read when the chip overran ended there, shorter
    assert rec.overruns >= 1 and rec.windows == 4 and rec.rows < 400, rec
    lost = [int(m.get("lost_before", 0)) for m in meta]
    assert sum(lost) == rec.lost_rows, (meta, rec)
    # the recording's row numbers went on to the chip's own: its last row read is the one
    # before those its FIFO holds now, give or take a row at each overrun
    made = bus.done - len(bus.dev.fifo)
    assert abs(rec.rows + rec.lost_rows - made) <= rec.overruns, (rec, made)


def test_reads_go_on_between_the_pieces_of_an_upload_and_while_its_answer_is_awaited():
    reset_mock()
    calls = []
    c = client(retries=0)
    with clock() as t, Link(t, bytes_per_s=2000, answer_ms=500, buffer=512):
        rec = ei.record(Counter(), 10, 1000, label="rec-idle", windows=3, client=c,
                        progress=lambda n, o: calls.append((n, o)))
    # a send buffer of one piece, that drains at 2 KB/s: each 512-byte piece waits for the
    # last (a quarter of a second), then the answer takes half a second; at 100 Hz, over a
    # hundred rows are due during each upload, and each is read within a piece's write
    assert [o.split(" ")[0] for _, o in calls] == ["stored"] * 3, calls
    assert rec.sent == 3 and rec.max_late_us <= 512 * 1000000 // 2000 + 2 * READ_US, rec
    check_contiguous("rec-idle", rec, 3, 100, 10)


def test_the_clients_idle_hook_is_given_back_after_the_recording():
    def mine():
        pass
    c = client()
    c.idle, c.idle_ms = mine, 25
    with clock():
        ei.record(Counter(), 10, 100, label="rec-hook", windows=1, client=c)
    assert c.idle is mine and c.idle_ms == 25


def test_a_window_without_a_queue_that_the_service_refuses_is_dropped_and_counted():
    from faults import script
    reset_mock()
    script("400")
    said = []
    from ei import log
    log.handler = lambda level, text: said.append(text)
    try:
        with clock():
            rec = ei.record(Counter(), 10, 100, label="rec-drop", windows=2, client=client())
    finally:
        log.handler = None
    assert rec.dropped == 1 and rec.sent == 1, rec
    assert [t for t in said if "dropped" in t and "rec-drop.%s.00000" % rec.id in t], said
    # the gap shows: window 1 starts at row 10 and there is no window 0
    got = windows_stored("rec-drop", rec.id)
    assert sorted(got) == [1] and got[1]["metadata"]["first_row"] == "10"


def test_a_sensor_that_stops_ends_the_recording_after_handing_off_what_was_read():
    folder = temp_dir()
    try:
        q = Queue(folder + "/queue")
        with clock():
            e = raises(ei.CaptureStopped, ei.record, Counter(fail_after=125), 10, 500,
                       label="rec-stop", queue=q)
        assert "after 125 rows" in str(e) and isinstance(e.error, OSError), e
        assert [m["first_row"] for m in queued_metadata(q)] == ["0", "50", "100"]
        # the window being read when it stopped is handed off shorter, with its 25 rows
        assert [x["size"] for x in q][2] < [x["size"] for x in q][1]
    finally:
        remove_tree(folder)


def test_ctrl_c_hands_off_the_window_being_read_and_returns():
    folder = temp_dir()
    try:
        q = Queue(folder + "/queue")
        with clock():
            rec = ei.record(Counter(interrupt_after=130), 10, 500, label="rec-int", queue=q)
        assert rec.interrupted and rec.windows == 3 and rec.rows == 130, rec
        assert [m["first_row"] for m in queued_metadata(q)] == ["0", "50", "100"]
    finally:
        remove_tree(folder)


def test_a_recording_checks_its_arguments_before_reading():
    s = Counter()
    q = object()
    assert "client, a queue" in str(raises(ValueError, ei.record, s, 10, 1000))
    assert "window_ms" in str(raises(ValueError, ei.record, s, 10, 5, queue=q))
    assert "windows" in str(raises(ValueError, ei.record, s, 10, 100, windows=0, queue=q))
    assert "category" in str(raises(ValueError, ei.record, s, 10, 100, queue=q,
                                    category="train"))
    assert s.reads == 0


def test_a_recording_refuses_a_client_that_runs_no_code_while_it_sends():
    c = ei.Client(API_KEY, transport="urequests")
    assert "transport" in str(raises(ValueError, ei.record, Counter(), 10, 100, client=c))


def test_x_metadata_is_sorted_json_of_strings_and_numbers_in_ascii():
    from ei.metadata import header
    assert header({"window": "3", "first_row": 600, "recording": "ab"}) == \
        '{"first_row": 600, "recording": "ab", "window": "3"}'
    assert header(None) is None and header({}) is None
    # beyond ASCII, escaped as CPython's json escapes it (MicroPython's would not)
    assert header({"place": "K\u00f8ge \U0001f600"}) == \
        '{"place": "K\\u00f8ge \\ud83d\\ude00"}'
    assert header({"a": "\x7f"}) == '{"a": "\\u007f"}'  # not a raw DEL
    raises(TypeError, header, {"a": [1]})
    raises(TypeError, header, ["a"])


class Board:
    """What ei.collect wants of board.py (see test_collect.py)."""
    NAME = "unix"
    DEVICE_TYPE = "TEST_BOARD"
    INTERVAL_MS = 10
    NETWORK = "host"

    def __init__(self, sensor):
        self._sensor = sensor

    def setup(self, cfg):
        pass

    def sensor(self, cfg):
        return self._sensor

    def device_name(self):
        return "aa:bb:cc:dd:ee:ff"


def test_collect_with_window_s_records_the_boards_sensor():
    host, port = mock_addr()
    folder = temp_dir()
    ei.use(Board(Counter()), {"board": "unix", "api_key": API_KEY, "host": host, "port": port,
                              "tls": False, "queue_path": folder + "/queue"})
    reset_mock()
    try:
        with clock():
            rec = ei.collect("rec-collect", seconds=3, window_s=1)
        assert rec.windows == 3 and rec.sent == 3, rec
        got = windows_stored("rec-collect", rec.id)
        assert sorted(got) == [0, 1, 2] and values(got[2])[0] == 200.0, got
        assert got[0]["device_type"] == "TEST_BOARD"
    finally:
        remove_tree(folder)
