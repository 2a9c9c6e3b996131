# The daemon's sample files (ei.daemon(), ei/at_server.py; protocol notes 2.2 and 2.4), loaded
# for their commands: read back as base64 (AT+READBUFFER of the bytes AT+SAMPLESTART named,
# AT+READFILE of the file), in pieces from flash, and removed (AT+UNLINKFILE, answered with
# one empty line, as EI's firmware does). Only the files the daemon wrote can be reached.
from binascii import b2a_base64

from ei.at_common import Refused, arguments, number, sample_folder, shown
from ei.compat import const
from ei.errors import Msg

_CHUNK = const(513)       # bytes of a file per base64 piece: a multiple of 3, as the ESP's
# error texts (ei/messages.py)
_M_NO_SAMPLE_FILE = const(160)
_M_NO_SUCH_FILE = const(161)
_M_SPEED = const(162)
_M_NO_SAMPLE_YET = const(163)


def _file(name):
    """name if it is a sample file this daemon wrote (never config.json or the like)."""
    where = sample_folder()
    base = name[len(where) + 1:] if name.startswith(where + "/") else ""
    if not base or "/" in base or base[0] == ".":
        raise Refused(Msg(_M_NO_SAMPLE_FILE, shown(name)))
    return name


def _size(path):
    import os
    try:
        return os.stat(path)[6]
    except OSError:
        raise Refused(Msg(_M_NO_SUCH_FILE, shown(path)))


def _base64(d, name, start, end):
    buf = bytearray(_CHUNK)
    mv = memoryview(buf)
    with open(name, "rb") as f:
        f.seek(start)
        left = end - start
        while left > 0:
            n = f.readinto(mv[:min(_CHUNK, left)])
            if not n:
                break
            d.write(b2a_base64(mv[:n], newline=False))
            left -= n
    d.line()  # so that the daemon's CRLF slicing keeps exactly the base64


def _speed(args, i):
    if len(args) > i and args[i] not in ("y", "n", ""):
        raise Refused(Msg(_M_SPEED))


def readfile(d, args):
    a = arguments(args, 1, 2, "READFILE")
    _speed(a, 1)
    name = _file(a[0])
    _base64(d, name, 0, _size(name))


def readbuffer(d, args):
    a = arguments(args, 2, 3, "READBUFFER")
    _speed(a, 2)
    if d.last_file is None:
        raise Refused(Msg(_M_NO_SAMPLE_YET))
    size = _size(d.last_file)
    start = number(a[0], "from", -1, size, True)
    end = number(a[1], "to", start - 1, size, True)
    _base64(d, d.last_file, start, end)


def unlinkfile(d, args):
    (name,) = arguments(args, 1, 1, "UNLINKFILE")
    _size(_file(name))
    import os
    os.remove(name)
    # one empty line, as EI's firmware prints: the daemon's parser then finds no answer
    # between the echo's CRLF and this one (a bare "> " after the echo would be its answer)
    d.line()
