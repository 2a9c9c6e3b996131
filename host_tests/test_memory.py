"""Upload heaps in a board's budget (issue 18). Where boards are, on the 32-bit, single-float
build of MicroPython 1.28.0 (f32), firmware from .mpy:
- a 3-minute, 100 Hz, 3-axis sample (18,000 rows, 288 KB of float32 CBOR) from an iterable
  uploads over HTTP in 32 KB of heap, and frozen into the firmware (f32-frozen) in 12 KB, as
  issue 18 asks (each with 1 KB of margin: 31 and 11 KB measured, 2026-12-07);
- the heap 18,000 rows need is within 1 KB of the heap 100 rows need;
- /files of 12 small files, and of 1,000 (their list aside: the caller's), uploads within
  4 KB of the heap /data's 18,000 rows need;
and on the 64-bit unix port: 18,000 rows (504 KB of CBOR) from an iterable and from a capture
file upload in 64 KB, within 4 KB of 100 rows, and 12 files in 64 KB.

The firmware runs from .mpy files (tools/bench/harness.py), as a board runs it: compiling
source on the device would spend heap a board never spends. A smallest heap is searched by
bisection in 1 KB steps: about 7 runs, most of them short. Memory is deterministic (the
same heap, the same outcome), so one run at a bound proves it.
"""
import math
import struct

import pytest

from service import MockServer
from tools.bench import harness

ROWS = 18000            # 3 minutes at 100 Hz
HEAP_KB = 64
FLAT_KB = 4             # the most an 18,000-row upload may need over a 100-row one (unix)
LO_KB, HI_KB = 32, 128  # import ei alone needs more than LO_KB
F32 = harness.ROOT / "build" / "mp" / "1.28.0-f32" / "micropython"
F32_FROZEN = harness.ROOT / "build" / "mp" / "1.28.0-f32-frozen" / "micropython"
F32_DATA_KB = 32        # 18,000 rows over HTTP, ei from .mpy (issue 18's bound)
F32_FROZEN_KB = 12      # the same, ei frozen into the firmware (issue 18's bound)
F32_FLAT_KB = 1         # the most 18,000 rows may need over 100 on f32
FILES_OVER_KB = 4       # the most /files may need over /data's 18,000 rows
UNIX_FILES_KB = 64      # 12 files on the 64-bit port


def row(i):
    # mp_upload.py's rows
    return [i * 0.001, -1.0 - i % 7, 9.81 + i % 13]


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    """The jobs alone, for the runtime that has ei frozen in."""
    d = tmp_path_factory.mktemp("jobs")
    harness.build_mpy(d, firmware=False)
    return d


def built(binary):
    assert binary.is_file(), "%s is not built: `make runtimes` builds it" % binary
    return binary


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


def f32(x):
    return struct.unpack(">f", struct.pack(">f", x))[0]


def row32(i):
    # mp_upload.py's row as the single-precision build computes it: each operation of two
    # float32 values is exact in a double, then rounded once, as float32 arithmetic rounds
    return [f32(f32(i) * f32(0.001)), -1.0 - i % 7, f32(f32(9.81) + i % 13)]


def check_stored(mock, rows, single=False):
    [entry] = mock.store.listing()
    assert entry["rows"] == rows
    values = entry["sample"]["payload"]["values"]
    want = row32 if single else row
    assert values[0] == want(0) and values[rows // 2] == want(rows // 2)
    assert values[-1] == want(rows - 1)
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


# --- where boards are: the 32-bit single-float build ------------------------------------------

def f32_data(mpy, mock, heap_kb, rows=ROWS, frozen=None):
    """The iterable upload of `rows` rows on f32 from .mpy (or on f32-frozen, given its jobs)."""
    mock.store.reset()
    binary = built(F32 if frozen is None else F32_FROZEN)
    path = "%s:.frozen" % (mpy if frozen is None else frozen)
    return harness.Job(None, ["iterable", rows, mock.host, mock.port], heap_kb,
                       module="mp_upload", binary=binary, path=path, timeout=300)


def files_job(mpy, mock, heap_kb, n, binary=None):
    mock.store.reset()
    return harness.Job(None, [n, mock.host, mock.port], heap_kb, module="mp_files",
                       binary=binary, path="%s:.frozen" % mpy, timeout=300)


@pytest.fixture(scope="module")
def f32_data_kb(mpy, mock):
    """The smallest heap (KB) that uploads 18,000 rows on f32 from .mpy."""
    kb = harness.smallest_heap(lambda kb: f32_data(mpy, mock, kb).ok, 8, 256)
    assert kb is not None
    return kb


def test_18000_rows_upload_over_http_in_32_kb_of_heap_from_mpy_on_f32(mpy, mock):
    job = f32_data(mpy, mock, F32_DATA_KB)
    assert job.ok, "18,000 rows did not upload in %d KB on f32: %r" % (F32_DATA_KB, job)
    check_stored(mock, ROWS, single=True)


def test_18000_rows_upload_over_http_in_12_kb_of_heap_frozen_on_f32(jobs, mock):
    job = f32_data(None, mock, F32_FROZEN_KB, frozen=jobs)
    assert job.ok, "18,000 rows did not upload in %d KB frozen: %r" % (F32_FROZEN_KB, job)
    check_stored(mock, ROWS, single=True)


def test_18000_rows_need_no_more_than_1_kb_over_100_rows_on_f32(mpy, mock):
    smallest = harness.smallest_heap(lambda kb: f32_data(mpy, mock, kb, 100).ok, 8, 256)
    assert smallest is not None
    job = f32_data(mpy, mock, smallest + F32_FLAT_KB)
    assert job.ok, "100 rows need %d KB; 18,000 rows do not fit in %d: %r" % (
        smallest, smallest + F32_FLAT_KB, job)


@pytest.mark.parametrize("n", [12, 1000])
def test_files_upload_within_4_kb_of_the_heap_data_s_18000_rows_need_on_f32(mpy, mock,
                                                                         f32_data_kb, n):
    # the caller's list of files is its own (1,000 entries: 82 KB on f32), measured by the
    # job and left aside; what upload_files adds for each file is one byte
    list_kb = math.ceil(int(files_job(mpy, mock, 512, n, F32).values["list_bytes"]) / 1024)
    job = files_job(mpy, mock, f32_data_kb + FILES_OVER_KB + list_kb, n, F32)
    assert job.ok, "%d files do not fit in %d KB (/data: %d KB, the list %d KB): %r" % (
        n, f32_data_kb + FILES_OVER_KB + list_kb, f32_data_kb, list_kb, job)
    assert job.values["delivered"] == str(n)


def test_12_files_upload_in_64_kb_of_heap_on_the_64_bit_port(mpy, mock):
    job = files_job(mpy, mock, UNIX_FILES_KB, 12)
    assert job.ok and job.values["delivered"] == "12", job
