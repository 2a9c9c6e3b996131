"""Fixed memory for every answer: on the MicroPython unix port with `-X heapsize=64k` and
the firmware from .mpy (as a board runs it), no answer of the hostile server
(hostile_server.py) raises MemoryError, whatever its size, framing or encoding: each ends in
the error that names it. A 200 KB /files answer needs no more heap than a short one (on
the 32-bit build, where boards are).
fw/test_hostile_server.py checks the same answers' errors in detail on every runtime, from source (which needs more heap to compile than a board spends).
"""
import pytest

from hostile_server import HostileServer
from tools.bench import harness

HEAP_KB = 64
EXPECTED = {
    "page-1k": "ServerError", "page-20k": "ServerError", "page-200k": "ServerError",
    "page-chunked": "ServerError", "page-close": "ServerError",
    "endless-chunked": "TransportError", "endless-headers": "TransportError",
    "long-header": "ok", "chunk-negative": "TransportError",
    "chunk-0x": "TransportError", "two-lengths": "TransportError",
    "length-and-chunked": "TransportError", "status-600": "TransportError",
    "continue": "ok", "latin1": "BadRequest",
}


@pytest.fixture(scope="module")
def hostile():
    server = HostileServer().start()
    yield server
    server.stop()


def test_no_hostile_answer_raises_memory_error_in_a_64k_heap_from_mpy(mpy, hostile):
    job = harness.Job(mpy, [hostile.host, hostile.port] + list(EXPECTED), HEAP_KB,
                      module="mp_hostile", timeout=300)
    assert job.ok and not job.out_of_memory, job
    assert job.values == EXPECTED


def test_a_200_kb_files_answer_needs_no_more_heap_than_a_short_one_on_f32(mpy, hostile):
    # what is measured is that the answer adds nothing: its per-file results are read as
    # they stream past, after 200 KB of another member, in the heap a 100-byte answer needs;
    # where boards are, on the 32-bit build (f32, from .mpy)
    f32 = harness.ROOT / "build" / "mp" / "1.28.0-f32" / "micropython"
    assert f32.is_file(), "%s is not built: `make runtimes` builds it" % f32

    def smallest(scenario):
        def ok(heap_kb):
            job = harness.Job(mpy, [hostile.host, hostile.port, scenario], heap_kb,
                              module="mp_hostile", binary=f32)
            return job.ok and job.values == {scenario: "ok"}
        return harness.smallest_heap(ok, 16, 160)

    short, long = smallest("files-plain"), smallest("files-long")
    assert short is not None and long is not None
    assert long <= short + 2, (short, long)
