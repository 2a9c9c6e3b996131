# A body's parts as a board holds them: bytes, a file on flash (its path) or an open binary
# file; their size (extent) and their bytes, through the one chunk buffer (source). Shared by
# /files' parts (ei/files.py) and /data's bodies encoded already (ei/encoded.py: the queue's):
# a module of its own, so that /files does not load upload_encoded's code, nor the queue's
# drain /files' (measured on f32 from .mpy: 1,000 files need 1.2 KB less with it).
from ei import stream
from ei.compat import const
from ei.errors import Msg

# error texts (ei/messages.py)
_M_NO_FILE = const(70)
_M_NOT_DATA = const(71)


def extent(data, name):
    """(size, pos) of the bytes a body or a /files part is made of: bytes (pos None), a path on
    flash (pos None) or an open binary file (read from pos, where it stands now)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return len(data), None
    if isinstance(data, str):
        import os
        try:
            return os.stat(data)[6], None
        except OSError:
            raise ValueError(Msg(_M_NO_FILE, name, data))
    if hasattr(data, "readinto"):
        pos = data.tell()
        size = data.seek(0, 2) - pos
        data.seek(pos)
        return size, pos
    raise TypeError(Msg(_M_NOT_DATA, name, type(data).__name__))


def source(data, pos, size, ch):
    """Yield `size` bytes of a path, or of an open binary file from pos (extent()), through
    ch as copy() does. A path is opened and closed here; an open file is the caller's."""
    if isinstance(data, str):
        f = open(data, "rb")
        try:
            yield from stream.copy(f, size, ch)
        finally:
            f.close()  # also when the request fails half-way: not left for the GC
    else:
        data.seek(pos)  # a retry sends it again from the start
        yield from stream.copy(data, size, ch)
