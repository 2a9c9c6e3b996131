# Capture files: a sample written to flash row by row as it is read (ei.sample(...,
# path=...)), so a capture longer than RAM works, and read back as a re-readable Sample.
#
# The format (version 1); numbers are big-endian, as in CBOR:
#   offset size
#   0      4    magic b"EIcp" (ei capture)
#   4      1    version: 1
#   5      1    float size of the values: 4 (float32) or 8 (float64)
#   6      2    n: bytes of the description below
#   8      4    rows: 0xFFFFFFFF while capturing; the row count once the capture is finished
#   12     8    interval_ms (float64): the one asked for, then the one kept when finished
#   20     n    description: UTF-8 JSON {"device_type": .., "device_name": .. or null,
#               "sensors": [[name, units], ...]}
#   20+n   ...  the rows, each its own CBOR encoding (an array head, then per value 0xFA and
#               a float32 or 0xFB and a float64), so every row has the same width
# A file that ends before its last row, has bytes after it, or was never finished (the board
# reset while sampling) is refused with a CaptureError naming the path and the problem.
# Rows in CBOR let an upload with the same float width copy them from flash to the socket
# with no float made or converted (Sample.cbor_rows, encoder._cbor_rows).
import json
from struct import pack, pack_into, unpack_from

from ei import cbor
from ei.compat import const

MAGIC = b"EIcp"
VERSION = const(1)
_FIXED = const(20)  # bytes before the description
_ROWS_AT = const(8)
_UNFINISHED = const(0xFFFFFFFF)
_BLOCK = const(512)  # bytes of rows gathered before each write to flash (and per read)
_SINGLE = 1.0 + 2.0 ** -30 == 1.0  # this board's floats are single precision


class CaptureError(ValueError):
    """A file that is not a capture, or a capture that is truncated or unfinished."""


def _layout(width, float32):
    """(row head, bytes per value, bytes per row) of a capture's rows."""
    head = cbor.head(4, width)
    step = 5 if float32 else 9
    return head, step, len(head) + width * step


class Writer:
    """Writes the rows of `sample` (a Sample with its metadata and no rows) to `path`.

    append(row) checks the row and packs it into one preallocated block, written to flash
    when full; finish(interval_ms) writes the rest and the row count. float32=None writes
    the board's own float size (a single-precision board loses nothing with float32)."""

    def __init__(self, path, sample, float32=None):
        self.path = path
        self.sample = sample
        self.float32 = _SINGLE if float32 is None else bool(float32)
        head, step, row_len = _layout(sample.width, self.float32)
        self._fmt = ">f" if self.float32 else ">d"
        self._step = step
        self._hl = len(head)
        self._row_len = row_len
        self.rows = 0
        # The block's row heads and value tags never change: written once here, so that
        # append only packs the values.
        self._buf = bytearray(max(1, _BLOCK // row_len) * row_len)
        tag = 0xFA if self.float32 else 0xFB
        for r in range(0, len(self._buf), row_len):
            self._buf[r:r + len(head)] = head
            for j in range(sample.width):
                self._buf[r + len(head) + j * step] = tag
        self._pos = 0
        desc = json.dumps({"device_type": sample.device_type, "device_name": sample.device_name,
                           "sensors": [list(s) for s in sample.sensors]}).encode()
        self._f = open(path, "wb")
        try:
            self._f.write(MAGIC + pack(">BBHId", VERSION, 4 if self.float32 else 8, len(desc),
                                       _UNFINISHED, sample.interval_ms))
            self._f.write(desc)
        except BaseException:
            self.close()
            raise

    def append(self, row):
        row = self.sample.check_row(row, self.rows)
        buf = self._buf
        p = self._pos + self._hl + 1
        for v in row:
            pack_into(self._fmt, buf, p, v)
            p += self._step
        self._pos += self._row_len
        self.rows += 1
        if self._pos == len(buf):
            self._f.write(buf)
            self._pos = 0

    def _flush(self):
        if self._pos:
            self._f.write(memoryview(self._buf)[:self._pos])
            self._pos = 0

    def finish(self, interval_ms=None):
        """Write the last rows, the row count and the interval kept; close the file."""
        self._flush()
        self._f.seek(_ROWS_AT)
        self._f.write(pack(">Id", self.rows, self.sample.interval_ms if interval_ms is None
                           else interval_ms))
        self.close()

    def close(self):
        """Close the file. Unless finish() ran, it stays unfinished (its rows are written,
        its count is not): reading it says so, and partial=True reads the rows."""
        if self._f is not None:
            try:
                self._flush()
            finally:
                self._f.close()
                self._f = None


class Capture:
    """The rows of a capture file, read from flash each time they are wanted (a Sample's
    re-readable source). Each pass opens the file and closes it at its end."""

    def __init__(self, path, width, float32, offset, rows):
        self.path = path
        self.width = width
        self.float32 = float32
        self.offset = offset
        self.rows = rows
        self.head, step, self.row_len = _layout(width, float32)
        # one unpack per row: skip the head and each tag, read the floats
        self._fmt = ">" + "x" * len(self.head) + ("xf" if float32 else "xd") * width

    def _open(self):
        f = open(self.path, "rb")
        f.seek(self.offset)
        return f

    def iter_rows(self):
        """Yield each row as a tuple of floats, reading a block of rows at a time."""
        row_len = self.row_len
        per = max(1, _BLOCK // row_len)
        buf = bytearray(per * row_len)
        mv = memoryview(buf)
        h0 = self.head[0]
        fmt = self._fmt
        f = self._open()
        try:
            i = 0
            while i < self.rows:
                k = min(per, self.rows - i)
                want = k * row_len
                got = f.readinto(mv[:want])
                if got != want:
                    raise CaptureError("%s: the file ended in row %d of %d" % (
                        self.path, i + (got or 0) // row_len, self.rows))
                for r in range(0, want, row_len):
                    if buf[r] != h0:
                        raise CaptureError("%s: row %d is damaged" % (self.path, i))
                    yield unpack_from(fmt, buf, r)
                    i += 1
        finally:
            f.close()

    def cbor_rows(self, float32):
        """The open file at the first row, when its rows are this CBOR float width."""
        return self._open() if float32 == self.float32 else None


def open_capture(path, partial=False):
    """The Sample in the capture file at `path` (see Sample.from_capture)."""
    from ei.acquisition import Sample
    try:
        f = open(path, "rb")
    except OSError as e:
        raise CaptureError("%s: cannot open it (%s)" % (path, e))
    try:
        fixed = f.read(_FIXED)
        if len(fixed) < _FIXED or fixed[:4] != MAGIC:
            raise CaptureError("%s is not an ei capture file (it starts %r, not %r)"
                               % (path, bytes(fixed[:4]), MAGIC))
        version, fsize, n, rows, interval_ms = unpack_from(">BBHId", fixed, 4)
        if version != VERSION:
            raise CaptureError("%s is a version %d capture; this firmware reads version %d"
                               % (path, version, VERSION))
        if fsize not in (4, 8):
            raise CaptureError("%s: its header is damaged (float size %d)" % (path, fsize))
        try:
            desc = json.loads(f.read(n))
            sensors = [(s[0], s[1]) for s in desc["sensors"]]
            device_type = desc["device_type"]
            device_name = desc.get("device_name")
        except (ValueError, KeyError, TypeError, IndexError):
            raise CaptureError("%s: its description is damaged" % path)
        size = f.seek(0, 2)
    finally:
        f.close()
    offset = _FIXED + n
    float32 = fsize == 4
    row_len = _layout(len(sensors), float32)[2]
    whole = (size - offset) // row_len if size > offset else 0
    if rows == _UNFINISHED:
        if not partial:
            raise CaptureError("%s was never finished (sampling stopped before its end, e.g. "
                               "the board reset); it holds %d whole rows: "
                               "Sample.from_capture(path, partial=True) reads them"
                               % (path, whole))
        rows = whole
    elif size < offset + rows * row_len:
        raise CaptureError("%s is truncated: %d rows announced, %d whole rows in the file"
                           % (path, rows, whole))
    elif size > offset + rows * row_len:
        raise CaptureError("%s has %d bytes after its last row" % (
            path, size - offset - rows * row_len))
    if not rows:
        raise CaptureError("%s holds no rows" % path)
    src = Capture(path, len(sensors), float32, offset, rows)
    try:
        return Sample(device_name=device_name, device_type=device_type,
                      interval_ms=interval_ms, sensors=sensors, values=src)
    except (ValueError, TypeError) as e:
        raise CaptureError("%s: its description is damaged (%s)" % (path, e))
