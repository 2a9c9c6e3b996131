# Rows: the rows appended to a Sample, kept in RAM as their own CBOR, in the board's float
# size, as a capture file keeps them on flash (ei/capture.py): each an array head, then 0xFA
# and a float32 (5 bytes a value on a single-precision board) or 0xFB and a float64 (9 on the
# unix port). A row is encoded as it is appended, between a sampler's deadlines, where the
# time is free; an upload of the same float size then hands these bytes to the socket as they
# are, with no float made or converted, and takes about as long as one write of the body
# (docs/api.md: How an upload streams). A value costs one byte more than in an array of
# floats. Loaded when rows are appended, by the encoder to pack rows of a width other than
# three (pack_rows), and to check an iterable's rows as they are read (checked): an upload of
# an accelerometer's list, iterable or capture never loads it.
from struct import pack_into, unpack_from

from ei.compat import FLOAT32, const
from ei.errors import Msg
from ei.stream import cbor_head

# error texts (ei/messages.py)
_M_MORE_ROWS = const(40)
_M_ROWS_YIELDED = const(41)

_TAG, _FMT, _STEP = (0xFA, ">f", 5) if FLOAT32 else (0xFB, ">d", 9)


def pack_row(buf, p, head, tag, fmt, step, row):
    """Pack a row of numbers into buf at p as a CBOR array: its head, then each value as tag
    (0xFA or 0xFB) and fmt (">f" or ">d"), step (5 or 9) bytes a value. Returns where it
    ends. Allocates nothing: item assignment (a slice would allocate on MicroPython)."""
    for b in head:
        buf[p] = b
        p += 1
    for v in row:
        buf[p] = tag
        pack_into(fmt, buf, p + 1, v)
        p += step
    return p


def checked(sample, values):
    """The rows of the iterable `values` as they are read (Sample.iter_rows), each checked
    (Sample.check_row names a bad one) and their count held to the Sample's rows=. The
    encoder checks an accelerometer's rows in its own loop: an upload of three axes never
    loads this."""
    n = 0
    for row in values:
        if n == sample.rows:
            raise ValueError(Msg(_M_MORE_ROWS, sample.rows))
        yield sample.check_row(row, n)
        n += 1
    if n != sample.rows:
        raise ValueError(Msg(_M_ROWS_YIELDED, n, sample.rows))


def pack_rows(rows, width, float32, ch):
    """The encoder's loop for rows of a width other than three (encoder._rows3 packs an
    accelerometer's): each row packed into the chunk buffer ch (a stream.Chunker) as it
    comes, yielding the buffer each time it is full. Here, not in ei/encoder.py: an upload of
    three axes never loads it. When it ends early (a failed write), it closes its rows."""
    head = cbor_head(4, width)
    fmt, tag, step = (">f", 0xFA, 5) if float32 else (">d", 0xFB, 9)
    n = len(head) + width * step
    buf, size, p = ch.buf, ch.size, ch.pos
    try:
        for row in rows:
            if p + n > size:
                ch.pos = p
                yield ch.take()
                p = 0
            p = pack_row(buf, p, head, tag, fmt, step, row)
        ch.pos = p
    finally:
        if hasattr(rows, "close"):
            rows.close()


class Rows:
    """A re-readable source of rows (see Sample) that rows are appended to. room: rows made
    room for now, in one piece, so that appending them allocates nothing (growing a few bytes
    at a time, between a sampler's deadlines, would let the GC run there). A recording
    (ei/recording.py) uses the same room as a ring: pack(), row() and view() by slot."""

    def __init__(self, width, room):
        self.rows = 0
        self._head = cbor_head(4, width)
        self.row_len = len(self._head) + width * _STEP
        self._buf = bytearray(room * self.row_len)  # not rows until appended
        # one unpack per row when the rows are read back: skip the head and each tag
        self._fmt = ">" + "x" * len(self._head) + ("x" + _FMT[1]) * width

    def append(self, row):
        """Pack a checked row (Sample.append checks it) after the last."""
        buf, n = self._buf, self.row_len
        if (self.rows + 1) * n > len(buf):
            # No room left: grow by an eighth (at least a row), so that a long run of appends
            # copies the rows a few times, not once a row.
            buf.extend(bytes(max(n, len(buf) // 8 // n * n)))
        self.pack(self.rows, row)
        self.rows += 1

    def pack(self, i, row):
        """Pack a checked row into slot i, which must be inside the room made."""
        pack_row(self._buf, i * self.row_len, self._head, _TAG, _FMT, _STEP, row)

    def row(self, i):
        """Slot i's row as a tuple of floats."""
        return unpack_from(self._fmt, self._buf, i * self.row_len)

    def view(self, i, n):
        """The CBOR of slots i to i + n - 1, a view (no copy)."""
        return memoryview(self._buf)[i * self.row_len:(i + n) * self.row_len]

    def iter_rows(self):
        """Yield each row as a tuple of floats."""
        for i in range(self.rows):
            yield self.row(i)

    def cbor_rows(self, float32):
        """The rows' CBOR, a view (no copy), when they are this float size; else None."""
        if float32 != FLOAT32:
            return None
        return self.view(0, self.rows)
