"""Flat memory on the MicroPython unix port: a 3-minute, 100 Hz, 3-axis sample (18,000 rows,
about 504 KB of CBOR) uploads to the mock server under `-X heapsize=64k`, from an iterable
and from a capture file, and the smallest heap that uploads it is within 4 KB of the
smallest that uploads 100 rows.

The firmware runs from .mpy files (tools/bench/harness.py), as a board runs it: compiling source on
the device would spend heap a board never spends. Heaps are searched by bisection in 1 KB
steps between a heap that cannot even import ei and 128 KB: 7 runs, most of them short.
"""

import pytest

from service import MockServer
from tools.bench import harness

ROWS = 18000            # 3 minutes at 100 Hz
HEAP_KB = 64
FLAT_KB = 4             # the most an 18,000-row upload may need over a 100-row one
LO_KB, HI_KB = 32, 128  # import ei alone needs more than LO_KB


def row(i):
    # mp_upload.py's rows
    return [i * 0.001, -1.0 - i % 7, 9.81 + i % 13]


@pytest.fixture(scope="module")
def mpy(tmp_path_factory):
    d = tmp_path_factory.mktemp("mpy")
    harness.build_mpy(d)
    return d


@pytest.fixture(scope="module")
def mock(tmp_path_factory):
    # its own service: samples this big are not left in the session's one
    server = MockServer(data_dir=tmp_path_factory.mktemp("memory-store")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def captures(mpy, tmp_path_factory):
    """Capture files of 100 and 18,000 rows, written on the unix port in a heap of a quarter
    of the 18,000-row file: rows go to flash as they come."""
    d = tmp_path_factory.mktemp("captures")
    paths = {}
    for n in (100, ROWS):
        paths[n] = d / ("c%d.cbor" % n)
        job = harness.Job(mpy, ["capture", paths[n], n], HI_KB)
        assert job.ok, job
    return paths


def upload(mpy, mock, heap_kb, source, arg):
    mock.store.reset()
    return harness.Job(mpy, [source, arg, mock.host, mock.port], heap_kb, module="mp_upload")


def require_ok_in_64k(job):
    assert job.ok, "the upload did not fit in %d KB: %r" % (HEAP_KB, job)


def check_stored(mock, rows):
    [entry] = mock.store.listing()
    assert entry["rows"] == rows
    values = entry["sample"]["payload"]["values"]
    assert values[0] == row(0) and values[rows // 2] == row(rows // 2)
    assert values[-1] == row(rows - 1)
    return entry


def test_an_18000_row_iterable_uploads_in_64k_of_heap(mpy, mock):
    require_ok_in_64k(upload(mpy, mock, HEAP_KB, "iterable", ROWS))
    entry = check_stored(mock, ROWS)
    assert entry["size"] > 500000  # about 504 KB of CBOR went through a 64 KB heap


def test_an_18000_row_capture_uploads_in_64k_of_heap(mpy, mock, captures):
    require_ok_in_64k(upload(mpy, mock, HEAP_KB, "capture", captures[ROWS]))
    check_stored(mock, ROWS)


@pytest.mark.parametrize("source", ["iterable", "capture"])
def test_the_heap_an_upload_needs_does_not_grow_with_its_rows(mpy, mock, captures, source):
    def arg(n):
        return n if source == "iterable" else captures[n]

    smallest = harness.smallest_heap(lambda kb: upload(mpy, mock, kb, source, arg(100)).ok,
                                     LO_KB, HI_KB)
    assert smallest is not None
    # one run shows that 18,000 rows fit where 100 rows need no more than FLAT_KB less
    job = upload(mpy, mock, smallest + FLAT_KB, source, arg(ROWS))
    assert job.ok, "100 rows need %dk; 18,000 rows do not fit in %dk: %r" % (
        smallest, smallest + FLAT_KB, job)
    check_stored(mock, ROWS)
