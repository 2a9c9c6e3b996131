# Minimal CBOR (RFC 8949) encoder for MicroPython: dump() streams each data item through write().
# Unlike cbor2: encoder only; floats are always 64-bit (0xfb); no tags, no indefinite lengths.
from struct import pack

from ei.compat import const
from ei.stream import cbor_head

# Major types (the top 3 bits of a data item's initial byte).
_UINT = const(0)
_NINT = const(1)
_BYTES = const(2)
_TEXT = const(3)
_ARRAY = const(4)
_MAP = const(5)

_U64_MAX = const(0xFFFFFFFFFFFFFFFF)

# Built once: a tuple literal in isinstance() would be allocated on every call.
_BYTE_STRINGS = (bytes, bytearray, memoryview)
_ARRAYS = (list, tuple)


def head(major, n):
    """The initial byte(s) of a data item of major type 0-7 with argument n, in shortest form."""
    if not 0 <= major <= 7:
        raise ValueError("CBOR major type must be 0-7, not %r" % major)
    if not 0 <= n <= _U64_MAX:
        raise ValueError("CBOR argument must be in 0..2**64-1, not %r" % n)
    return cbor_head(major, n)


def write_head(write, major, n):
    write(head(major, n))


def float64(x):
    """0xfb and the big-endian IEEE 754 double of x (9 bytes)."""
    return pack(">Bd", 0xFB, x)


def float32(x):
    """0xfa and the big-endian IEEE 754 single of x (5 bytes); x is rounded to single precision."""
    return pack(">Bf", 0xFA, x)


def dump(obj, write):
    """Write the CBOR encoding of obj through write(bytes), one data item at a time.

    A str is encoded to UTF-8 once and that buffer is written as is; bytes, bytearray and
    memoryview are written without a copy (a memoryview counts len() bytes, so pass a view
    of bytes: MicroPython's memoryview does not tell its item size). Maps are written in
    the dict's iteration order: pass a collections.OrderedDict when the order matters.
    """
    # The singletons first: on CPython True is also an int.
    if obj is None:
        write(b"\xf6")
    elif obj is False:
        write(b"\xf4")
    elif obj is True:
        write(b"\xf5")
    elif isinstance(obj, float):
        write(float64(obj))
    elif isinstance(obj, int):
        if obj >= 0:
            mt, n = _UINT, obj
        else:
            mt, n = _NINT, -1 - obj
        if n > _U64_MAX:
            # struct.pack on MicroPython would silently truncate it.
            raise ValueError("int %d is out of CBOR's 64-bit range (-2**64..2**64-1)" % obj)
        write(cbor_head(mt, n))
    elif isinstance(obj, str):
        b = obj.encode()  # the length is counted in UTF-8 bytes; encode once, write that buffer
        write(cbor_head(_TEXT, len(b)))
        write(b)
    elif isinstance(obj, _BYTE_STRINGS):
        write(cbor_head(_BYTES, len(obj)))
        write(obj)
    elif isinstance(obj, _ARRAYS):
        write(cbor_head(_ARRAY, len(obj)))
        for x in obj:
            dump(x, write)
    elif isinstance(obj, dict):
        write(cbor_head(_MAP, len(obj)))
        # Iterate over keys: items() would allocate a (key, value) tuple per entry on MicroPython.
        for k in obj:
            dump(k, write)
            dump(obj[k], write)
    else:
        raise TypeError("cannot encode %s as CBOR" % type(obj).__name__)
