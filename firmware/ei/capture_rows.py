# A capture file's rows read as floats (ei/capture.py's Capture.iter_rows) or converted to the
# other float size as they are encoded (a capture of float32 rows in a body of float64, or the
# reverse: its copy_rows), loaded for them. A module of its own: a board encodes its captures
# in its own float size, copied as they are, and the daemon's sample on f32 had no room for
# this code beside the encoder's (41,216 bytes of heap with it, 40 KB the bound).
from struct import pack_into, unpack_from

from ei.compat import const
from ei.errors import Msg

_BLOCK = const(512)  # bytes of rows read at a time (the block ei/capture_writer.py writes)
# error texts (ei/messages.py)
_M_ENDED_IN_ROW = const(75)
_M_ROW_DAMAGED = const(76)


def _read(cap, f, buf, mv, i, k, error):
    """Read rows i to i + k - 1 of the Capture cap from its open file f into buf (mv, a view
    of it, cut for a last block shorter than buf); return their bytes."""
    want = k * cap.row_len
    got = f.readinto(buf if want == len(buf) else mv[:want])
    if got != want:
        raise error(Msg(_M_ENDED_IN_ROW, cap.path, i + (got or 0) // cap.row_len, cap.rows))
    return want


def floats(cap, error):
    """Yield each row of the Capture cap as a tuple of floats, reading a block of rows at a
    time (error: ei.capture.CaptureError, passed in: no import circle)."""
    row_len = cap.row_len
    per = max(1, _BLOCK // row_len)
    buf = bytearray(per * row_len)
    mv = memoryview(buf)
    h0 = cap.head[0]
    fmt = cap._fmt
    f = cap._open()
    try:
        i = 0
        while i < cap.rows:
            want = _read(cap, f, buf, mv, i, min(per, cap.rows - i), error)
            for r in range(0, want, row_len):
                if buf[r] != h0:
                    raise error(Msg(_M_ROW_DAMAGED, cap.path, i))
                yield unpack_from(fmt, buf, r)
                i += 1
    finally:
        f.close()


def converted(cap, ch, error):
    """Pack rows of three of the Capture cap into the encoder's chunk buffer ch
    (stream.Chunker) in the other float size, yielding it each time it is full (copy_rows;
    error: ei.capture.CaptureError). Closes the file it reads."""
    # A block read into a buffer of _BLOCK bytes at most, each four rows in one
    # unpack_from and one pack_into straight into ch (a call costs about what its values
    # cost: no generator between, no tuple a row; measured, encoding 18,000 rows, 9.9
    # against 7.8 ms on the unix port, 14.8 against 11.2 on f32, 2026-12-07). Each
    # block's row heads are checked in one unpack and one comparison.
    rl = cap.row_len
    per = _BLOCK // rl // 4 * 4  # whole fours of rows a block (32 of float32, 16 of 64)
    buf = bytearray(per * rl)
    mv = memoryview(buf)
    h0 = cap.head[0]
    heads = (h0,) * per
    hfmt = ">" + ("B%dx" % (rl - 1)) * per
    fmt = cap._fmt
    fmt4 = ">" + fmt[1:] * 4
    if cap.float32:  # float32 on flash, float64 in the body
        out, out4, tag, n = ">HdBdBd", ">HdBdBdHdBdBdHdBdBdHdBdBd", 0xFB, 28
    else:
        out, out4, tag, n = ">HfBfBf", ">HfBfBfHfBfBfHfBfBfHfBfBf", 0xFA, 16
    h = 0x8300 | tag
    ob, p, size = ch.buf, ch.pos, ch.size
    end = size - 4 * n
    f = cap._open()
    try:
        i = 0
        while i < cap.rows:
            k = min(per, cap.rows - i)
            want = _read(cap, f, buf, mv, i, k, error)
            if k < per or unpack_from(hfmt, buf) != heads:
                for r in range(0, want, rl):  # which row (or the last block's rows)
                    if buf[r] != h0:
                        raise error(Msg(_M_ROW_DAMAGED, cap.path, i + r // rl))
            q = k // 4 * 4 * rl if end >= 0 else 0  # (a chunk too small for four)
            for r in range(0, q, 4 * rl):
                x, y, z, u, v, w, a, b, c, d, e, g = unpack_from(fmt4, buf, r)
                if p > end:
                    ch.pos = p
                    yield ch.take()
                    p = 0
                pack_into(out4, ob, p, h, x, tag, y, tag, z, h, u, tag, v, tag, w,
                          h, a, tag, b, tag, c, h, d, tag, e, tag, g)
                p += 4 * n
            for r in range(q, want, rl):  # the file's last rows, fewer than four
                x, y, z = unpack_from(fmt, buf, r)
                if p + n > size:
                    ch.pos = p
                    yield ch.take()
                    p = 0
                pack_into(out, ob, p, h, x, tag, y, tag, z)
                p += n
            i += k
        ch.pos = p
    finally:
        f.close()
