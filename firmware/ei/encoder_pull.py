# The encoder's other outputs (ei/encoder.py writes a body into the client's chunk buffer):
# the body pulled in pieces (chunks), written through a callable such as a file's write
# (write: the offline queue, a daemon sample on flash). Named through ei.encoder
# (encoder.write), which loads this module when first asked.
from ei import stream
from ei.encoder import CHUNK, body, room


def chunks(sample, enc, chunk=CHUNK):
    """Yield the encoded sample in pieces of at most `chunk` bytes (fixed pieces larger than
    a chunk pass whole; appended rows pass as views of their stored CBOR, _SLICE bytes at
    most). A piece is a view of one reused buffer: use it before asking for the next. This
    is the pull form of write(), for transports that iterate over a body."""
    ch = stream.Chunker(max(chunk, room(sample, enc)))
    try:
        yield from body(sample, enc, ch)
        if ch.pos:
            yield ch.take()
    finally:
        # at the end, or when the transport closes this generator (the last piece is out)
        ch.release()


def write(sample, enc, out, chunk=CHUNK):
    """Write the encoded sample through out(bytes), in the pieces chunks() yields. Returns
    the bytes written."""
    n = 0
    pieces = chunks(sample, enc, chunk)
    try:
        for b in pieces:
            out(b)
            n += len(b)
    finally:
        # also when out() fails (flash full): a capture file being read is closed now, not
        # whenever the GC finds it (MicroPython's generators have no finaliser)
        pieces.close()
    return n
