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
# with no float made or converted (Sample.cbor_rows, encoder._cbor_rows). Writing is in
# ei/capture_writer.py, so that an upload of a capture loads only the reading half; the
# constants both share in ei/capture_format.py, so that sampling loads only the writing half.
import json
from struct import unpack_from

from ei.capture_format import FIXED, MAGIC, UNFINISHED, VERSION, layout
from ei.compat import const
from ei.errors import Msg
# error texts (ei/messages.py)
_M_CANNOT_OPEN = const(77)
_M_EMPTY_FILE = const(78)
_M_NOT_CAPTURE = const(79)
_M_VERSION = const(80)
_M_FLOAT_SIZE = const(81)
_M_DESCRIPTION = const(82)
_M_UNFINISHED = const(83)
_M_TRUNCATED = const(84)
_M_AFTER_LAST = const(85)
_M_NO_ROWS_IN = const(86)


class CaptureError(ValueError):
    """A file that is not a capture, or a capture that is truncated or unfinished."""


class Capture:
    """The rows of a capture file, read from flash each time they are wanted (a Sample's
    re-readable source). Each pass opens the file and closes it at its end."""

    def __init__(self, path, width, float32, offset, rows):
        self.path = path
        self.width = width
        self.float32 = float32
        self.offset = offset
        self.rows = rows
        self.head, step, self.row_len = layout(width, float32)
        # one unpack per row: skip the head and each tag, read the floats
        self._fmt = ">" + "x" * len(self.head) + ("xf" if float32 else "xd") * width

    def _open(self):
        f = open(self.path, "rb")
        f.seek(self.offset)
        return f

    def iter_rows(self):
        """Yield each row as a tuple of floats, reading a block of rows at a time (in
        ei/capture_rows.py, loaded for it: the daemon's sample copies its rows, never reads
        them as floats)."""
        from ei.capture_rows import floats
        return floats(self, CaptureError)

    def cbor_rows(self, float32):
        """The open file at the first row, when its rows are this CBOR float width; rows of
        three in the other width: the Capture itself, for copy_rows to convert
        (ei/capture_rows.py)."""
        if float32 == self.float32:
            return self._open()
        return self if self.width == 3 else None


def copy_rows(src, left, ch):
    """The rows of a capture into the encoder's chunk buffer ch (stream.Chunker), yielding it
    each time it is full: `left` bytes read from the open capture file src straight into it
    (no float made or converted), or, src a Capture (Capture.cbor_rows), its rows converted
    to the other float size. Closes the file it reads."""
    if isinstance(src, Capture):
        # converting is rarer (a capture in the other float size than the body's): its code
        # is ei/capture_rows.py's, loaded for it (a daemon sample on f32 copies: its code
        # beside the encoder's took the daemon over 40 KB)
        from ei.capture_rows import converted
        return converted(src, ch, CaptureError)
    return _copied(src, left, ch)


def _copied(f, left, ch):
    from ei.stream import copy
    try:
        yield from copy(f, left, ch)
    finally:
        f.close()


def read_capture(path, partial=False):
    """(rows, device_name, device_type, interval_ms, sensors) of the capture file at `path`:
    its rows as a Capture, the values source of the Sample that Sample.from_capture makes of
    them, and its description."""
    try:
        f = open(path, "rb")
    except OSError as e:
        raise CaptureError(Msg(_M_CANNOT_OPEN, path, e))
    try:
        fixed = f.read(FIXED)
        if not fixed:  # the writer makes the file, then commits its header: a cut between
            raise CaptureError(Msg(_M_EMPTY_FILE, path))
        if len(fixed) < FIXED or fixed[:4] != MAGIC:
            raise CaptureError(Msg(_M_NOT_CAPTURE, path, bytes(fixed[:4]), MAGIC))
        version, fsize, n, rows, interval_ms = unpack_from(">BBHId", fixed, 4)
        if version != VERSION:
            raise CaptureError(Msg(_M_VERSION, path, version, VERSION))
        if fsize not in (4, 8):
            raise CaptureError(Msg(_M_FLOAT_SIZE, path, fsize))
        try:
            desc = json.loads(f.read(n))
            sensors = [(s[0], s[1]) for s in desc["sensors"]]
            device_type = desc["device_type"]
            device_name = desc.get("device_name")
        except (ValueError, KeyError, TypeError, IndexError):
            raise CaptureError(Msg(_M_DESCRIPTION, path))
        size = f.seek(0, 2)
    finally:
        f.close()
    offset = FIXED + n
    float32 = fsize == 4
    row_len = layout(len(sensors), float32)[2]
    whole = (size - offset) // row_len if size > offset else 0
    if rows == UNFINISHED:
        if not partial:
            raise CaptureError(Msg(_M_UNFINISHED, path, whole))
        rows = whole
    elif size < offset + rows * row_len:
        raise CaptureError(Msg(_M_TRUNCATED, path, rows, whole))
    elif size > offset + rows * row_len:
        raise CaptureError(Msg(_M_AFTER_LAST, path, size - offset - rows * row_len))
    if not rows:
        raise CaptureError(Msg(_M_NO_ROWS_IN, path))
    return (Capture(path, len(sensors), float32, offset, rows), device_name, device_type,
            interval_ms, sensors)
