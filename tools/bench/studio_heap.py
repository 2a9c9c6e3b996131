"""Host side of the heap jobs of issue 16 (mp_remote.py, mp_queue.py), shared by
host_tests/test_board_heap.py and the benchmark: ei.Remote serving a plain sample request, or
every hostile message of the issue and then one, from Studio's side of the protocol (the
tests' peer, host_tests/peer_scenarios.py, which the caller starts); and offline queues of n
entries to open and flush.
"""
import itertools
import shutil
import subprocess
import time

from tools.bench import harness

BOUND_KB = 48  # issue 16's for ei.Remote on f32 from .mpy: what Wi-Fi and TLS leave a board


def request(label, **changes):
    s = {"label": label, "length": 1000, "path": "/api/training/data", "interval": 10,
         "hmacKey": "f9ef5e0bd3c6b6b7d1c3c8cbbb3cd6c3", "sensor": "Accelerometer"}
    s.update(changes)
    return {"sample": s}


def _sample_text(fields):
    return ('{"sample":{"label":"heap","path":"/api/training/data","hmacKey":"",'
            '"sensor":"Accelerometer",%s}}' % fields)


_RUNS = itertools.count()
_GONE = {"wait_ms": 1000}  # the device's close ends the wait: the next step is on a new link
_DEEP = "[" * 1000 + "]" * 1000
# (the peer's steps, the sample requests among them that the device answers)
PLAIN = ([request("heap-plain")], 1)
HOSTILE = ([
    request("l" * 1800, hmacKey=""),                        # a 1.9 KB message
    {"text": _DEEP},                                        # 2 KB of nested lists
    {"sample_text": '{"sample":%s}' % _DEEP[:-2]},
    {"sample_text": '{"sample":{"label":[%s]}}' % ",".join(["{}"] * 600)},
    {"sample_text": _sample_text('"length":1e309,"interval":10')},
    {"sample_text": _sample_text('"length":1e39,"interval":10')},
    {"sample_text": _sample_text('"length":NaN,"interval":10')},
    {"sample_text": _sample_text('"length":1%s,"interval":10' % ("0" * 400))},
    {"raw": "8105" + "22ffff2222"}, _GONE,                  # text that is not UTF-8: 1007
    {"raw": "880603e8c328ff41"}, _GONE,                     # a close reason that is not
    {"text": "x", "repeat": 100000}, _GONE,                 # 100 KB: 1009
    request("heap-after-hostile"),
], 8)


def serve(binary, path, capture, mock, peer, token, script, heap_kb, timeout):
    """ei.Remote (mp_remote, found on MICROPYPATH `path`) on `binary` in heap_kb, serving the
    peer's script; None when it has not within timeout seconds (a heap it cannot serve in:
    it reconnects, and the peer asks its request again)."""
    steps, count = script
    peer.scripts[token] = {"steps": steps, "next": 0}
    try:
        return harness.Job(None, ["127.0.0.1", mock.port, "ws://127.0.0.1:%d/studio/%s" % (
            peer.port, token), count, capture], heap_kb, module="mp_remote", binary=binary,
            path=path, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def smallest_serving(binary, path, capture, mock, peer, script, timeout, lo_kb=16,
                     hi_kb=160):
    """The smallest heap (KB) in which ei.Remote answers the script and stores its last
    request, by bisection."""
    def ok(kb):
        token = "heap-%d" % next(_RUNS)  # a log of its own at the peer
        job = serve(binary, path, capture, mock, peer, token, script, kb, timeout)
        return job is not None and job.ok and \
            settled(peer, token, script[1])[-1]["state"] == "finished"
    return harness.smallest_heap(ok, lo_kb, hi_kb)


def settled(peer, token, n):
    """The peer's notes of the token's samples, once it has n (it notes each a moment after
    the device's last message for it)."""
    for _ in range(100):
        samples = peer.log(token)["samples"]
        if len(samples) >= n:
            return samples
        time.sleep(0.02)
    raise AssertionError("the peer noted %d samples of %s, not %d" % (len(samples), token, n))


def make_queue(path, n):
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


def flush(binary, path, mock, queue, run, heap_kb):
    """Open and flush a fresh copy (at `run`) of `queue` on `binary` in heap_kb."""
    shutil.copytree(queue, run)
    try:
        return harness.Job(None, [run, mock.host, mock.port], heap_kb, module="mp_queue",
                           binary=binary, path=path, timeout=300)
    finally:
        shutil.rmtree(run)
