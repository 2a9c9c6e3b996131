# Stream helpers shared by the steps of the data flow, below the encoder, the wire, the capture
# and /files: the one decode of a peer's text, the one chunk buffer that bodies and answers
# pass through (Chunker; copy() reads a file on flash into it), and a CBOR item's head (a
# sample's, a row's: an upload need not load ei/cbor.py, the general encoder).
from struct import pack

from ei.compat import const
from ei.errors import Msg

_M_FILE_ENDED = const(36)  # error text (ei/messages.py)

# Bytes gathered before each socket write, and the buffer an answer is read through. 512 keeps
# an upload's heap small (a larger buffer costs heap one for one); it costs little time:
# appended rows, the usual sample, pass to the socket as their stored CBOR, not through it.
CHUNK = const(512)

# One chunk buffer is made by reserve() (ei.encoder calls it at import, while the heap still
# has room in one piece: once a program has run a while, its free memory is in small pieces,
# and 512 bytes in one piece may not be found). One body or answer at a time takes it; another
# makes its own. Not made here at import: the daemon and remote management load this module
# for decode() alone.
_spare = None


def reserve():
    global _spare
    if _spare is None:
        _spare = bytearray(CHUNK)


class Chunker:
    """One buffer that small pieces are gathered into. take() hands out what it holds as a
    view, valid until the buffer is written again; put(b) is a generator that yields the
    buffer first when b does not fit. A `mac` (HMAC) sees every byte handed out while it is
    set. release() gives the module's buffer back for the next body."""

    def __init__(self, size=CHUNK):
        global _spare
        self.size = size
        if _spare is not None and len(_spare) == size:
            self.buf, _spare = _spare, None
        else:
            self.buf = bytearray(size)
        self.mv = memoryview(self.buf)
        self.pos = 0
        self.mac = None

    def release(self):
        global _spare
        if self.buf is not None and len(self.buf) == CHUNK:
            _spare = self.buf
        self.buf = self.mv = None

    def take(self):
        # the whole buffer is its own view: a full chunk (rows packed to its end, a file
        # read into it) is handed out with no view made for it
        v = self.mv if self.pos == self.size else self.mv[:self.pos]
        self.pos = 0
        if self.mac is not None:
            self.mac.update(v)
        return v

    def put(self, b):
        n = len(b)
        if self.pos + n > self.size:
            if self.pos:
                yield self.take()
            if n > self.size:  # a large piece goes out as it is
                if self.mac is not None:
                    self.mac.update(b)
                yield b
                return
        self.mv[self.pos:self.pos + n] = b
        self.pos += n


def copy(f, left, ch):
    """Read `left` bytes of the open binary file f straight into ch's buffer (a Chunker), after
    what it holds, yielding the buffer each time it is full: a file on flash (a capture's
    rows, a /files part, a queued body) reaches the socket with no buffer of its own and no
    copy. The caller closes f."""
    size = ch.size
    while left:
        if ch.pos == size:
            yield ch.take()
        n = min(size - ch.pos, left)
        got = f.readinto(ch.mv[ch.pos:ch.pos + n])
        if not got:
            raise ValueError(Msg(_M_FILE_ENDED, left))
        ch.pos += got
        left -= got


def cbor_head(major, n):
    """The initial byte(s) of a CBOR data item of major type `major` (0-7) and argument n
    (0 to 2**64 - 1: a length, a count, an int), in shortest form. One small bytes object:
    struct.pack sizes it exactly."""
    mt = major << 5
    if n < 24:
        return pack(">B", mt | n)
    if n < 0x100:
        return pack(">BB", mt | 24, n)
    if n < 0x10000:
        return pack(">BH", mt | 25, n)
    if n < 0x100000000:
        return pack(">BI", mt | 26, n)
    return pack(">BQ", mt | 27, n)


def decode(b):
    """UTF-8 text of bytes from any peer (a server's body, a WebSocket frame, a line typed at
    the serial port), never an error: bytes that are not UTF-8 (a proxy's Latin-1 page) keep
    their ASCII, every other byte becoming U+FFFD. MicroPython ignores errors="replace" and
    raises UnicodeError, so every text a peer sends goes through this one function."""
    try:
        return str(b, "utf-8")  # (bytes, a bytearray or a view of one)
    except UnicodeError:
        pass
    n = len(b)
    for c in b:
        if c >= 0x80:
            n += 2  # U+FFFD is 3 bytes of UTF-8
    out = bytearray(n)  # one allocation: no list of characters (each one a new qstr)
    i = 0
    for c in b:
        if c < 0x80:
            out[i] = c
            i += 1
        else:
            out[i:i + 3] = b"\xef\xbf\xbd"
            i += 3
    return str(out, "utf-8")
