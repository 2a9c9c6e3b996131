"""Heap budgets on the 32-bit single-precision build (build/mp/1.28.0-f32, 32-bit objects as
an ESP32 or a Pico W has them) with the firmware from .mpy, as a board runs it (issue 16):
- ei.Remote survives every hostile message of the issue (a 1.9 KB label, 2 KB of nested
  lists, 600 objects, 1e309, NaN, text that is not UTF-8, a close whose reason is not, a
  100 KB message) in 58 KB, where one of them stopped it below 80 KB before, and serves and
  uploads the request after them; it serves five plain requests in a row in 52 KB; the issue's bound for
  serving a request, 48 KB, is met (48,128 bytes: see the test);
- opening and flushing an offline queue of 1,000 entries takes no more than 2 KB over the
  heap that 10 entries take (entries are read from flash as needed, not kept in RAM);
- a continuous recording (issue 19) of 200-row windows uploaded while the next is read holds
  a fixed heap within RECORDING_HEAP_KB (the bound reached, not the issue's: see there).
The smallest heaps are searched by bisection in 1 KB steps (tools/bench/harness.py); the
jobs and the peer's scripts are tools/bench/studio_heap.py's, which `make bench` reports.
"""
import pytest

from peer_scenarios import TestPeer as Peer
from service import API_KEY, MockServer
from tools.bench import harness, studio_heap

F32 = harness.ROOT / "build" / "mp" / "1.28.0-f32" / "micropython"
QUEUE_SLACK_KB = 2
# Where ei.Remote must survive every hostile message and then serve a request: before issue
# 16 a 1.9 KB label stopped it below 80 KB (it needed 96 KB for them all); on 2026-12-07,
# once each step of remote management loads its code for that step (ei/remote_mgmt.py), it
# did in 53-54 KB (72 KB before): this is 54 with 4 KB of margin, the smallest heap moving
# with the layout that four connections and the answers' arrival make of a heap this full.
HOSTILE_HEAP_KB = 58
# Where ei.Remote serves plain requests, one after another on one connection: one needed
# 63 KB before its steps' code was loaded for each step, 49 KB after, 47 since the changes
# that the 48 KB test below names (2026-12-07); 30 in a
# row were served in 50 KB (a heap this full is left in pieces by each request, and the next
# finds its room in them or not). The smallest heap moves by a kilobyte with the layout (the
# peer's port, the token's length): this is that 49 with 3 KB of margin (the requests in a
# row were not measured again since).
PLAIN_HEAP_KB = 52
REPEATED = ([studio_heap.request("heap-plain-%d" % i) for i in range(5)], 5)
# A recording (tools/bench/mp_record.py: 1 kHz in 200 ms windows, the rows of 100 Hz in 2 s,
# ten windows to the mock service, its ring 8,000 bytes) ran in 66 KB and not in 65 KB on
# 2026-12-07, once the errors' texts left the modules (71 KB before): this is that with 1 KB
# of margin. Issue 19 wants the upload's budget plus the two windows (about 32 + 7.8 KB): not
# met; most of what it holds is the code of the modules it runs (the client, wire and
# transport, the queue, the recording, acquisition's Sample, the encoder).
RECORDING_HEAP_KB = 67


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


def serve(mpy, mock, peer, token, script, heap_kb, timeout):
    return studio_heap.serve(F32, "%s:.frozen" % mpy, mpy / "capture.eic", mock, peer, token,
                             script, heap_kb, timeout)


@pytest.fixture(scope="module")
def plain_heap(mpy, mock, peer):
    """The smallest heap (KB) in which ei.Remote serves one plain sample request."""
    return studio_heap.smallest_serving(F32, "%s:.frozen" % mpy, mpy / "capture.eic", mock,
                                        peer, studio_heap.PLAIN, 15, 32)  # served in 2 s


def test_ei_remote_survives_every_hostile_message_and_serves_on_in_58_kb(mpy, mock, peer):
    job = serve(mpy, mock, peer, "hostile", studio_heap.HOSTILE, HOSTILE_HEAP_KB, 60)
    assert job is not None and job.ok, "the hostile messages, not in %d KB: %r" % (
        HOSTILE_HEAP_KB, job)
    assert job.values == {"handled": "8", "connections": "4"}, job
    samples = studio_heap.settled(peer, "hostile", 8)
    assert [s["state"] for s in samples] == ["failed"] * 7 + ["finished"], samples[-1]
    log = peer.log("hostile")
    assert [c[0] for c in log["closes"][:3]] in ([1007, 1007, 1009], [1007, 1007, 1006]), log


def test_ei_remote_serves_five_sample_requests_in_a_row_in_52_kb(mpy, mock, peer):
    job = serve(mpy, mock, peer, "plain", REPEATED, PLAIN_HEAP_KB, 60)
    assert job is not None and job.ok, "five plain requests, not served in %d KB: %r" % (
        PLAIN_HEAP_KB, job)
    assert job.values == {"handled": "5", "connections": "1"}, job
    samples = studio_heap.settled(peer, "plain", 5)
    assert [s["state"] for s in samples] == ["finished"] * 5, samples


# Met on 2026-12-07: 47 KB in each of 6 runs (49 before the checks of a Sample, a Client and
# a Remote left their classes for modules loaded to check, a request's recording became a
# step module, the log lines stopped keeping ei.log loaded, and the rows' room was made where
# the message's 2 KB had been): at the upload's peak (its HMAC made) 45,376 bytes are live,
# 46,656 before (docs/performance.md). The layout moves it: 48,640 bytes in 256-byte steps once
# the body's cork merged (ei/transport.py), 48,128 again once HMAC's pads were made in place
# (make bench 2026-12-07 20:40 UTC: 47 KB).
def test_ei_remote_serves_sample_requests_within_48_kb(plain_heap):
    assert plain_heap is not None and plain_heap <= studio_heap.BOUND_KB, plain_heap


@pytest.fixture(scope="module")
def queues(tmp_path_factory):
    d = tmp_path_factory.mktemp("queues")
    return {n: studio_heap.make_queue(d / ("q%d" % n), n) for n in (10, 1000)}


def flush(mpy, mock, queues, tmp_path, n, heap_kb):
    return studio_heap.flush(F32, "%s:.frozen" % mpy, mock, queues[n],
                             tmp_path / ("run-%d-%d" % (n, heap_kb)), heap_kb)


def test_a_queue_of_1000_entries_opens_and_flushes_within_2_kb_of_what_10_need(
        mpy, mock, queues, tmp_path):
    ten = harness.smallest_heap(lambda kb: flush(mpy, mock, queues, tmp_path, 10, kb).ok,
                                16, 128)
    assert ten is not None
    job = flush(mpy, mock, queues, tmp_path, 1000, ten + QUEUE_SLACK_KB)
    assert job.ok, "10 entries flush in %d KB; 1,000 do not in %d KB: %r" % (
        ten, ten + QUEUE_SLACK_KB, job)
    assert job.values == {"entries": "1000", "delivered": "1000"}, job


def test_a_recording_of_200_row_windows_holds_a_fixed_heap_within_67_kb(mpy, mock, tmp_path):
    mock.store.reset()
    job = harness.Job(None, [1000, 10, 200, mock.host, mock.port, tmp_path / "queue"],
                      RECORDING_HEAP_KB, module="mp_record", binary=F32,
                      path="%s:.frozen" % mpy, timeout=300)
    assert job.ok, "the recording, not in %d KB: %r" % (RECORDING_HEAP_KB, job)
    v = job.values
    # every window uploaded while the next was read, none queued or lost
    assert (v["rows"], v["windows"], v["sent"], v["queued"], v["dropped"]) == (
        "2000", "10", "10", "0", "0"), v
    # fixed: what it holds after the last window is what it held after the first
    assert abs(int(v["heap_last"]) - int(v["heap_first"])) <= 512, v
