# ei.collect(): the REPL's one call, on a board given to it (ei.use) with the
# simulated accelerometer: it uploads a labelled sample the mock service stores, queues it with
# queue=True (and on a board with no network), checks its arguments before sampling, and
# when the sensor stops answering mid-capture raises with the rows read so far kept or
# queued, never uploaded as a sample with a false length.
from fwtest import remove_tree, API_KEY, mock_addr, raises
from collect_checks import temp_dir, stored_with, stored, stored_count

import ei
from ei.queue import Queue
from ei.sim import Accelerometer

_NET = ("socket", "uploads, or asks the service what it stored, over a socket: the nRF52840 "
        "(f32-nonet) has none")
# all on the emulated Pico ([rp2]): ei.collect() without a network: capture and queue on littlefs
RP2 = "all"
ONLY = {name: _NET for name in (
    "test_collect_uploads_a_labelled_sample_and_returns_the_stored_name",
    "test_collect_uploads_to_testing_and_anomaly_with_category",
    "test_collect_takes_the_interval_from_the_call_the_config_or_the_board",
    "test_collect_brings_the_network_up_once",
    "test_ei_collect_stays_a_function_after_use",
    "test_collect_with_queue_true_queues_instead_of_uploading",
    "test_a_board_without_network_queues_by_default_and_refuses_to_upload",
    "test_a_sensor_that_stops_mid_capture_raises_keeping_the_rows_read",
    "test_a_sensor_that_stops_mid_capture_when_queuing_queues_the_rows_read")}
# a test of what the first import does needs a process where nothing else ran first
OWN_PROCESS = ("test_ei_names_stay_functions_when_ei_forward_loads_the_collector_first",)


class Board:
    """What collect() wants of board.py, with counters."""
    NAME = "unix"
    DEVICE_TYPE = "TEST_BOARD"
    INTERVAL_MS = 10
    NETWORK = "host"

    def __init__(self, sensor=None, network="host"):
        self._sensor = sensor or Accelerometer("wave")
        self.NETWORK = network
        self.setups = 0

    def setup(self, cfg):
        self.setups += 1

    def sensor(self, cfg):
        return self._sensor

    def device_name(self):
        return "aa:bb:cc:dd:ee:ff"


class Counting:
    """A sensor that counts its reads and stops answering (OSError 19, ENODEV, as machine.I2C
    raises when nothing acknowledges) after `fail_after` of them."""

    def __init__(self, fail_after=None, motion="wave"):
        self.inner = Accelerometer(motion)
        self.axes = self.inner.axes
        self.reads = 0
        self.fail_after = fail_after

    def read(self):
        if self.fail_after is not None and self.reads >= self.fail_after:
            raise OSError(19)
        self.reads += 1
        return self.inner.read()


class Discard:
    def write(self, text):
        pass


def on_board(board=None, **cfg):
    """Use `board` with a config for the mock server; returns the folder of its files."""
    host, port = mock_addr()
    folder = temp_dir()
    c = {"board": "unix", "api_key": API_KEY, "host": host, "port": port, "tls": False,
         "capture_path": folder + "/capture.eic", "queue_path": folder + "/queue"}
    c.update(cfg)
    ei.use(board or Board(), c)
    return folder


def service():
    """A client of the mock service, to flush a queue with."""
    host, port = mock_addr()
    return ei.Client(API_KEY, host=host, port=port, tls=False)


def test_collect_uploads_a_labelled_sample_and_returns_the_stored_name():
    folder = on_board()
    try:
        name = ei.collect("c-upload", seconds=0.2)
        e = stored(name)
        assert (e["category"], e["label"], e["rows"]) == ("training", "c-upload", 20), e
        assert e["device_type"] == "TEST_BOARD" and e["device_name"] == "aa:bb:cc:dd:ee:ff"
        assert [s["name"] for s in e["sensors"]] == ["accX", "accY", "accZ"]
        assert name.startswith("c-upload.") and name.endswith(".cbor")
    finally:
        remove_tree(folder)


def test_collect_uploads_to_testing_and_anomaly_with_category():
    folder = on_board()
    try:
        for category in ("testing", "anomaly"):
            e = stored(ei.collect("c-category", seconds=0.05, category=category))
            assert (e["category"], e["label"]) == (category, "c-category"), e
    finally:
        remove_tree(folder)


def test_collect_takes_the_interval_from_the_call_the_config_or_the_board():
    folder = on_board(interval_ms=20)
    try:
        assert stored(ei.collect("c-interval", seconds=0.2))["rows"] == 10  # config: 20 ms
        assert stored(ei.collect("c-interval", seconds=0.2, interval_ms=50))["rows"] == 4
    finally:
        remove_tree(folder)


def test_collect_brings_the_network_up_once():
    b = Board()
    folder = on_board(b)
    try:
        ei.collect("idle", seconds=0.05)
        ei.collect("idle", seconds=0.05)
        assert b.setups == 1
    finally:
        remove_tree(folder)


def test_ei_names_stay_functions_when_ei_forward_loads_the_collector_first():
    # Importing a submodule binds it on its package: the modules are named so that no
    # import can put a module where a function was. (On MicroPython this test has a process
    # of its own, OWN_PROCESS: this is the collector's first import.)
    ei.forward(Accelerometer(), 1, seconds=0.002, out=Discard())  # loads ei.collector too
    assert callable(ei.collect) and callable(ei.forward) and callable(ei.setup)
    assert callable(ei.use) and issubclass(ei.CaptureStopped, Exception)


def test_ei_collect_stays_a_function_after_use():
    folder = on_board()
    try:
        ei.collect("c-again", seconds=0.05)
        from ei.collector import CaptureStopped
        assert CaptureStopped is ei.CaptureStopped and callable(ei.collect)
        ei.collect("c-again", seconds=0.05)
    finally:
        remove_tree(folder)


def test_a_wrong_category_or_label_is_refused_before_sampling():
    s = Counting()
    folder = on_board(Board(s))
    try:
        assert "category" in str(raises(ValueError, ei.collect, "idle", category="train"))
        assert "label" in str(raises(ValueError, ei.collect, ""))
        assert s.reads == 0
    finally:
        remove_tree(folder)


def test_collect_with_queue_true_queues_instead_of_uploading():
    folder = on_board()
    try:
        before = stored_count("c-queue")
        entry = ei.collect("c-queue", seconds=0.1, queue=True, category="testing")
        assert stored_count("c-queue") == before
        q = Queue(folder + "/queue")
        (e,) = list(q)
        assert (e["name"], e["label"], e["category"]) == (entry, "c-queue", "testing"), e
        assert q.flush(service()) == 1
        e = stored_with("c-queue")[-1]
        assert (e["rows"], e["category"]) == (10, "testing"), e
    finally:
        remove_tree(folder)


def test_a_board_without_network_queues_by_default_and_refuses_to_upload():
    b = Board(network=None)
    folder = on_board(b)
    try:
        before = stored_count("c-offline")
        entry = ei.collect("c-offline", seconds=0.05)
        assert [e["name"] for e in Queue(folder + "/queue")] == [entry]
        assert "has no network" in str(raises(OSError, ei.collect, "c-offline", queue=False))
        assert stored_count("c-offline") == before and b.setups == 0
    finally:
        remove_tree(folder)


def test_a_sensor_that_stops_mid_capture_raises_keeping_the_rows_read():
    folder = on_board(Board(Counting(fail_after=7)))
    try:
        before = stored_count("c-stopped")
        e = raises(ei.CaptureStopped, ei.collect, "c-stopped", seconds=0.2)
        assert "after 7 of 20 rows" in str(e) and "OSError" in str(e), e
        assert e.rows == 20 and isinstance(e.error, OSError)
        assert len(e.sample) == 7  # the true length of what was read
        expected = Accelerometer("wave")
        for row in e.sample.iter_rows():
            want = expected.read()
            assert all(abs(row[i] - want[i]) < 1e-5 for i in range(3)), (row, want)
        assert stored_count("c-stopped") == before  # nothing uploaded
    finally:
        remove_tree(folder)


def test_a_sensor_that_stops_mid_capture_when_queuing_queues_the_rows_read():
    # "circle": rows no other test uploads (the service stores byte-identical samples once)
    folder = on_board(Board(Counting(fail_after=5, motion="circle")))
    try:
        e = raises(ei.CaptureStopped, ei.collect, "c-stopped-queued", seconds=0.2, queue=True)
        assert "5 rows read are queued as" in str(e), e
        q = Queue(folder + "/queue")
        assert len(q) == 1 and q.flush(service()) == 1
        assert stored_with("c-stopped-queued")[-1]["rows"] == 5
    finally:
        remove_tree(folder)


def test_a_sensor_that_fails_at_once_keeps_and_queues_nothing():
    folder = on_board(Board(Counting(fail_after=0)))
    try:
        e = raises(ei.CaptureStopped, ei.collect, "wave", seconds=0.1, queue=True)
        assert e.sample is None and "no rows were read" in str(e), e
        assert len(Queue(folder + "/queue")) == 0
    finally:
        remove_tree(folder)


def test_a_stale_capture_file_is_never_taken_for_the_failed_one():
    folder = on_board(Board(Counting(fail_after=0)))
    try:
        with open(folder + "/capture.eic", "wb") as f:
            f.write(b"an older capture")
        e = raises(ei.CaptureStopped, ei.collect, "wave", seconds=0.1)
        assert e.sample is None, e
    finally:
        remove_tree(folder)
