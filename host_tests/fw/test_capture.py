# Capture files: ei.sample(..., path=...) writes each row to flash as it is read, and the
# Sample it returns reads them back from there, as often as needed (JSON, retries). A file
# that is not a capture, or one truncated or unfinished, is refused naming path and problem.
from fwtest import encoded, mock_addr, raises, reset_mock, scratch, stored, API_KEY, AXES

import ei
from ei import encoder
from ei.capture import CaptureError, MAGIC
from ei.capture_writer import Writer
from ei.encoder import Encoding

# all on the emulated Pico ([rp2]): capture files on the Pico's littlefs
RP2 = "all"
ONLY = {"test_a_capture_uploads_more_than_once_as_cbor_and_json":
        ("socket", "uploads over a socket: the nRF52840 (f32-nonet) has none")}


def path(name):
    # one file per process: the runs of a test on two runtimes at once never share one
    return scratch("ei-test-" + name) + ".cbor"


class Counting:
    """A sensor whose row i is (i/4, -i/2, 9.75 + i): exact in float32 and float64."""
    axes = AXES

    def __init__(self, fail_at=None):
        self.n = 0
        self.fail_at = fail_at

    def read(self):
        i = self.n
        if i == self.fail_at:
            raise OSError("sensor unplugged")
        self.n += 1
        return (i / 4, -i / 2, 9.75 + i)


def expected(rows):
    return [[i / 4, -i / 2, 9.75 + i] for i in range(rows)]


def read_bytes(p):
    with open(p, "rb") as f:
        return f.read()


def write_bytes(p, b):
    with open(p, "wb") as f:
        f.write(b)


def captured(name, rows=50, **kw):
    p = path(name)
    return p, ei.sample(Counting(), 0.2, rows, device_type="TEST", device_name="dev-1",
                        path=p, **kw)


def test_sample_with_a_path_writes_the_rows_there_and_reads_them_back():
    p, s = captured("roundtrip")
    assert len(s) == 50 and s.reusable
    assert [list(r) for r in s.iter_rows()] == expected(50)
    assert [list(r) for r in s.iter_rows()] == expected(50)  # re-readable
    again = ei.Sample.from_capture(p)
    assert (again.device_type, again.device_name, again.width) == ("TEST", "dev-1", 3)
    assert again.sensors == list(AXES) and again.interval_ms == s.interval_ms
    assert [list(r) for r in again.iter_rows()] == expected(50)


def test_capture_file_starts_with_its_magic_and_version_and_ends_with_its_last_row():
    p, s = captured("layout", rows=40, float32=False)
    b = read_bytes(p)
    assert b[:4] == MAGIC == b"EIcp" and b[4] == 1 and b[5] == 8
    assert int.from_bytes(b[8:12], "big") == 40  # the count, written when finished
    assert len(b) == 20 + int.from_bytes(b[6:8], "big") + 40 * 28  # 0x83 + 3 x (0xfb + 8)
    assert b[-28] == 0x83 and b[-27] == 0xFB


def test_float32_capture_holds_single_floats_in_16_bytes_a_row():
    p, s = captured("f32", rows=40, float32=True)
    b = read_bytes(p)
    assert b[5] == 4 and len(b) == 20 + int.from_bytes(b[6:8], "big") + 40 * 16
    assert [list(r) for r in s.iter_rows()] == expected(40)


def test_capture_encodes_byte_for_byte_as_the_same_rows_from_ram():
    ram = ei.Sample(device_name="dev-1", device_type="TEST", interval_ms=0.2, sensors=AXES,
                    values=expected(60))
    for f32 in (False, True):
        p, s = captured("enc%d" % f32, rows=60, float32=f32)
        s.interval_ms = ram.interval_ms = 0.2  # whatever the sampler kept
        for enc in (Encoding(), Encoding(float32=True), Encoding("json"),
                    Encoding(hmac_key="k"), Encoding(float32=True, hmac_key="k", iat=1)):
            assert encoded(s, enc) == encoded(ram, enc), (f32, enc)
            assert encoder.encoded_len(s, enc) == len(encoded(ram, enc))


def test_a_capture_uploads_more_than_once_as_cbor_and_json():
    host, port = mock_addr()
    c = ei.Client(API_KEY, host=host, port=port, tls=False)
    p, s = captured("upload", rows=120)
    for fmt in ("cbor", "json"):
        e = stored(c.upload(s, label="captured", fmt=fmt))
        assert e["rows"] == 120 and e["sample"]["payload"]["values"] == expected(120)
    reset_mock()  # later tests read the whole store on a small heap


def test_a_capture_converts_to_the_other_float_size_whatever_its_row_count():
    # the other float size is converted four rows at a time: the last rows of the file (one
    # to three) and rows whose chunk fills part way pass as a list's rows do
    for rows in (1, 2, 3, 4, 5, 7, 33, 70):
        for f32 in (False, True):
            p, s = captured("conv%d-%d" % (rows, f32), rows=rows, float32=f32)
            ram = ei.Sample(device_name="dev-1", device_type="TEST", interval_ms=s.interval_ms,
                            sensors=AXES, values=expected(rows))
            for enc in (Encoding(float32=not f32), Encoding(float32=not f32, hmac_key="k")):
                body = encoded(ram, enc)
                assert encoded(s, enc) == body, (rows, f32, enc)
                out = []  # a chunk too small for four rows of float64: one at a time
                encoder.write(s, enc, lambda b: out.append(bytes(b)), chunk=64)
                assert b"".join(out) == body, (rows, f32, enc)


def test_a_damaged_row_is_refused_naming_it_when_converted():
    # a row whose head is not an array of three (a flash bit flipped) is refused before its
    # chunk is written, in a full block of rows and in the file's last, short one
    for f32 in (False, True):
        p, s = captured("damaged%d" % f32, rows=40, float32=f32)
        b = bytearray(read_bytes(p))
        start = len(b) - 40 * s._source.row_len
        for row in (5, 38):
            bad = path("damaged-%d-%d" % (f32, row))
            c = bytearray(b)
            c[start + row * s._source.row_len] = 0x82
            write_bytes(bad, c)
            out = []
            e = raises(CaptureError, encoder.write, ei.Sample.from_capture(bad),
                       Encoding(float32=not f32), out.append)
            assert bad in str(e) and "row %d is damaged" % row in str(e), (f32, row, str(e))


def test_the_interval_kept_is_what_the_capture_holds():
    class Slow(Counting):
        def read(self):
            ei.compat.sleep_us(3000)
            return Counting.read(self)
    p = path("slow")
    s = ei.sample(Slow(), 1, 6, device_type="TEST", path=p)
    assert s.interval_ms >= 2.5 and ei.Sample.from_capture(p).interval_ms == s.interval_ms


def test_a_capture_that_stopped_part_way_is_refused_and_partial_reads_its_rows():
    p = path("unfinished")
    e = raises(OSError, ei.sample, Counting(fail_at=30), 0.2, 100, device_type="TEST",
               path=p)
    assert "unplugged" in str(e)
    e = raises(CaptureError, ei.Sample.from_capture, p)
    assert p in str(e) and "never finished" in str(e) and "30 whole rows" in str(e)
    s = ei.Sample.from_capture(p, partial=True)
    assert [list(r) for r in s.iter_rows()] == expected(30)


def test_a_truncated_capture_is_refused_naming_the_path():
    p, s = captured("whole", rows=30)
    cut = path("truncated")
    write_bytes(cut, read_bytes(p)[:-5])
    e = raises(CaptureError, ei.Sample.from_capture, cut)
    assert cut in str(e) and "truncated" in str(e) and "30 rows announced" in str(e)


def test_bytes_after_the_last_row_are_refused():
    p, s = captured("whole2", rows=30)
    longer = path("longer")
    write_bytes(longer, read_bytes(p) + b"\x00" * 3)
    e = raises(CaptureError, ei.Sample.from_capture, longer)
    assert longer in str(e) and "3 bytes after its last row" in str(e)


def test_a_file_that_is_not_a_capture_is_refused_naming_the_path():
    for content in (b"a,b,c\n1,2,3\n", b"\xa3gpayload" + b"\x00" * 30):
        other = path("other")
        write_bytes(other, content)
        e = raises(CaptureError, ei.Sample.from_capture, other)
        assert other in str(e) and "not an ei capture file" in str(e)
    e = raises(CaptureError, ei.Sample.from_capture, path("missing-no-such"))
    assert "missing-no-such" in str(e) and "cannot open" in str(e)
    assert isinstance(e, ValueError)


def test_a_capture_of_a_later_version_is_refused():
    p, s = captured("v2", rows=3)
    b = bytearray(read_bytes(p))
    b[4] = 2
    write_bytes(p, b)
    e = raises(CaptureError, ei.Sample.from_capture, p)
    assert "version 2" in str(e) and p in str(e)


def test_writer_refuses_a_bad_row_naming_it_and_leaves_the_file_unfinished():
    p = path("badrow")
    meta = ei.Sample(device_type="TEST", interval_ms=10, sensors=AXES)
    w = Writer(p, meta)
    w.append((1, 2, 3))
    e = raises(ValueError, w.append, (1, 2))
    assert "row 1 has 2 values" in str(e)
    w.close()
    e = raises(CaptureError, ei.Sample.from_capture, p)
    assert "never finished" in str(e) and "1 whole rows" in str(e)


def test_an_empty_file_is_a_capture_cut_as_it_began():
    # the writer makes the file, then commits its header: a reset between leaves it empty
    p = path("empty")
    write_bytes(p, b"")
    for partial in (False, True):
        e = raises(CaptureError, ei.Sample.from_capture, p, partial=partial)
        assert p in str(e) and "never finished" in str(e) and "no rows" in str(e), str(e)


def test_writer_commits_its_header_at_once_and_its_rows_every_4_kb():
    # LittleFS keeps a file's length in RAM until it is synced: what a reset would keep is
    # what another reader sees before the writer closes the file
    p = path("synced")
    meta = ei.Sample(device_type="TEST", interval_ms=10, sensors=AXES)
    w = Writer(p, meta)
    try:
        e = raises(CaptureError, ei.Sample.from_capture, p)
        assert "never finished" in str(e) and "0 whole rows" in str(e), str(e)
        per_block = 512 // 16 if w.float32 else 512 // 28  # rows of 3 values a 512-byte block
        for i in range(8 * per_block):
            w.append((i, -i, 9.75))
        kept = ei.Sample.from_capture(p, partial=True)
        assert len(kept) == 8 * per_block, len(kept)
    finally:
        w.close()


def is_closed(f):
    """A closed file refuses to be read (CPython: ValueError; MicroPython: OSError EBADF)."""
    try:
        f.read(1)
    except (OSError, ValueError):
        return True
    return False


def test_a_failed_write_closes_the_capture_file_it_was_reading():
    # the offline queue writes a capture's body to flash: flash full, three times, must leave
    # no file open (MicroPython's generators have no finaliser: only closing them closes it)
    p, s = captured("failed-write", 40)
    opened = []
    source = s._source
    real = source._open

    def tracked():
        f = real()
        opened.append(f)
        return f
    source._open = tracked

    def full(b):
        raise OSError(28, "ENOSPC")
    for f32 in (source.float32, not source.float32):  # copied from flash, and converted
        for _ in range(3):
            raises(OSError, encoder.write, s, Encoding(float32=f32), full)
    assert len(opened) == 6 and all(is_closed(f) for f in opened)
