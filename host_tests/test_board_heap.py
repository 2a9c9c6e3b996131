"""Heap budgets on the 32-bit single-precision build (build/mp/1.28.0-f32, 32-bit objects as
an ESP32 or a Pico W has them) with the firmware from .mpy, as a board runs it (issue 16):
- ei.Remote serves Studio's sample requests, and survives every hostile message of the
  issue (a 1.9 KB label, 2 KB of nested lists, 600 objects, 1e309, NaN, text that is not
  UTF-8, a close whose reason is not, a 100 KB message), in the heap that one plain sample
  request needs, and uploads the request after them; the issue's bound for it, 48 KB, is
  checked too, and not met yet (see the test);
- opening and flushing an offline queue of 1,000 entries takes no more than 2 KB over the
  heap that 10 entries take (entries are read from flash as needed, not kept in RAM).
The smallest heaps are searched by bisection in 1 KB steps (tools/bench/harness.py);
`make bench` reports the same figures.
"""
import shutil
import subprocess

import pytest

from peer_scenarios import TestPeer as Peer
from service import API_KEY, MockServer
from tools.bench import harness

F32 = harness.ROOT / "build" / "mp" / "1.28.0-f32" / "micropython"
QUEUE_SLACK_KB = 2
REMOTE_BOUND_KB = 48   # issue 16's: what a board has left once Wi-Fi and TLS took theirs
# The most the hostile messages may add to the heap a plain request needs. They leave nothing
# behind, but a heap this full (60 KB of the firmware's own) is laid out by them and by when
# each answer's bytes arrive: their three reconnections leave it in pieces that a sample's
# rows or a request head may not find room between, 1 to 5 KB's worth, from run to run.
# (Before issue 16, a 1.9 KB label stopped the board below 80 KB, 12 KB more.)
HOSTILE_SLACK_KB = 6


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


@pytest.fixture(scope="module")
def peer(mock):
    server = Peer([API_KEY], store=mock.store, timeout=5).start()
    yield server
    server.stop()


def request(label, **changes):
    s = {"label": label, "length": 1000, "path": "/api/training/data", "interval": 10,
         "hmacKey": "f9ef5e0bd3c6b6b7d1c3c8cbbb3cd6c3", "sensor": "Accelerometer"}
    s.update(changes)
    return {"sample": s}


def sample_text(fields):
    return ('{"sample":{"label":"heap","path":"/api/training/data","hmacKey":"",'
            '"sensor":"Accelerometer",%s}}' % fields)


GONE = {"wait_ms": 1000}  # the device's close ends the wait: the next step is on a new link
DEEP = "[" * 1000 + "]" * 1000
# every hostile message of the issue, then a plain request: (steps, requests answered)
HOSTILE = ([
    request("l" * 1800, hmacKey=""),                        # a 1.9 KB message
    {"text": DEEP},                                         # 2 KB of nested lists
    {"sample_text": '{"sample":%s}' % DEEP[:-2]},
    {"sample_text": '{"sample":{"label":[%s]}}' % ",".join(["{}"] * 600)},
    {"sample_text": sample_text('"length":1e309,"interval":10')},
    {"sample_text": sample_text('"length":1e39,"interval":10')},
    {"sample_text": sample_text('"length":NaN,"interval":10')},
    {"sample_text": sample_text('"length":1%s,"interval":10' % ("0" * 400))},
    {"raw": "8105" + "22ffff2222"}, GONE,                   # text that is not UTF-8: 1007
    {"raw": "880603e8c328ff41"}, GONE,                      # a close reason that is not
    {"text": "x", "repeat": 100000}, GONE,                  # 100 KB: 1009
    request("heap-after-hostile"),
], 8)


def serve(mpy, mock, peer, token, script, heap_kb, timeout):
    """ei.Remote on f32 in heap_kb, serving the peer's script (steps, requests answered);
    None when it has not within timeout seconds (a heap it cannot serve in: it reconnects,
    and the peer asks its request again)."""
    steps, count = script
    peer.scripts[token] = {"steps": steps, "next": 0}
    try:
        return harness.Job(None, ["127.0.0.1", mock.port, "ws://127.0.0.1:%d/studio/%s" % (
            peer.port, token), count, mpy / "capture.eic"], heap_kb, module="mp_remote",
            binary=F32, path="%s:.frozen" % mpy, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


@pytest.fixture(scope="module")
def plain_heap(mpy, mock, peer):
    """The smallest heap (KB) in which ei.Remote serves one plain sample request."""
    runs = iter(range(1000))

    def ok(kb):
        job = serve(mpy, mock, peer, "plain-%d" % next(runs), ([request("heap-plain")], 1),
                    kb, 15)  # served in 2 s
        return job is not None and job.ok
    return harness.smallest_heap(ok, 32, 160)


def test_ei_remote_survives_every_hostile_message_in_the_heap_a_plain_request_needs(
        mpy, mock, peer, plain_heap):
    assert plain_heap is not None
    kb = plain_heap + HOSTILE_SLACK_KB
    job = serve(mpy, mock, peer, "hostile", HOSTILE, kb, 60)  # served in 10 s
    assert job is not None and job.ok, "a plain request is served in %d KB; the hostile " \
        "messages, not in %d KB: %r" % (plain_heap, kb, job)
    assert job.values == {"handled": str(HOSTILE[1]), "connections": "4"}, job
    log = peer.log("hostile")
    assert [s["state"] for s in log["samples"]] == ["failed"] * 7 + ["finished"], log["samples"][-1]
    assert [c[0] for c in log["closes"][:3]] in ([1007, 1007, 1009], [1007, 1007, 1006]), log


@pytest.mark.xfail(strict=True, reason=(
    "not met: ei.Remote serves a sample request in 66 KB on f32 from .mpy (2026-12-01); "
    "the modules an upload loads take 34 KB of heap there, remote management's 17 KB "
    "(README, Memory where boards are)"))
def test_ei_remote_serves_sample_requests_within_48_kb(plain_heap):
    assert plain_heap is not None and plain_heap <= REMOTE_BOUND_KB, plain_heap


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
