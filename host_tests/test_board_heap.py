"""Heap budgets on the 32-bit single-precision build (build/mp/1.28.0-f32, 32-bit objects as
an ESP32 or a Pico W has them) with the firmware from .mpy, as a board runs it (issue 16):
- opening and flushing an offline queue of 1,000 entries takes no more than 2 KB over the
  heap that 10 entries take (entries are read from flash as needed, not kept in RAM).
The smallest heaps are searched by bisection in 1 KB steps (tools/bench/harness.py);
`make bench` reports the same figures.
"""
import pathlib
import shutil

import pytest

from service import MockServer
from tools.bench import harness

F32 = harness.ROOT / "build" / "mp" / "1.28.0-f32" / "micropython"
QUEUE_SLACK_KB = 2


@pytest.fixture(scope="module")
def mpy(tmp_path_factory):
    if not F32.is_file():
        pytest.fail("%s is not built: `make runtimes` builds it" % F32)
    d = tmp_path_factory.mktemp("mpy")
    harness.build_mpy(d)
    return d


@pytest.fixture(scope="module")
def mock(tmp_path_factory):
    server = MockServer(data_dir=tmp_path_factory.mktemp("heap-store")).start()
    yield server
    server.stop()


def queue_of(path, n):
    """A queue of n one-row entries, each a sample of its own, written by the firmware's
    Queue on CPython (the files a board writes: the format is the same)."""
    import ei
    from ei import log
    from ei.queue import Queue
    q = Queue(str(path), float32=True)
    threshold, log.threshold = log.threshold, log.ERROR
    try:
        for i in range(n):
            q.put(ei.Sample(device_name="heap-%d" % i, device_type="TEST", interval_ms=10,
                            sensors=[("x", "u")], values=[[i]]), label="heap")
    finally:
        log.threshold = threshold
    return path


@pytest.fixture(scope="module")
def queues(tmp_path_factory):
    d = tmp_path_factory.mktemp("queues")
    return {n: queue_of(d / ("q%d" % n), n) for n in (10, 1000)}


def flush(mpy, mock, queues, tmp_path, n, heap_kb):
    """Open and flush a fresh copy of the n-entry queue on f32 in heap_kb."""
    run = tmp_path / ("run-%d-%d" % (n, heap_kb))
    shutil.copytree(queues[n], run)
    job = harness.Job(None, [run, mock.host, mock.port], heap_kb, module="mp_queue",
                      binary=F32, path="%s:.frozen" % mpy, timeout=300)
    shutil.rmtree(run)
    return job


def test_a_queue_of_1000_entries_opens_and_flushes_within_2_kb_of_what_10_need(
        mpy, mock, queues, tmp_path):
    ten = harness.smallest_heap(lambda kb: flush(mpy, mock, queues, tmp_path, 10, kb).ok,
                                16, 128)
    assert ten is not None
    job = flush(mpy, mock, queues, tmp_path, 1000, ten + QUEUE_SLACK_KB)
    assert job.ok, "10 entries flush in %d KB; 1,000 do not in %d KB: %r" % (
        ten, ten + QUEUE_SLACK_KB, job)
    assert job.values == {"entries": "1000", "delivered": "1000"}, job
