"""A CBOR reader over a file that holds no more than it is asked to build (RFC 8949).

The service never decodes a sample whole: `payload.values` is walked item by item (see
acquisition.py), other items are built only where the service reads them, and everything
else is stepped over. Nesting is bounded, a length is checked against the bytes left before
anything is read, and what is built is counted against a budget. Tags (bignums, dates, ...)
are refused wherever they are: the data acquisition format has none.
"""
import struct

from service.config import MAX_BUILT, MAX_DEPTH, MAX_TEXT

_CHUNK = 64 * 1024
BUDGET = MAX_BUILT            # items built outside payload.values
BREAK = object()              # the "break" stop code of an indefinite-length item


class CBORError(ValueError):
    pass


def tag_error(tag):
    return CBORError("a tag (%d%s) where the data acquisition format has none" % (
        tag, {0: ", a date", 1: ", a date", 2: ", a bignum", 3: ", a negative bignum",
              55799: ", self-described CBOR"}.get(tag, "")))


class Tag:
    """A simple value CBOR has and Python has not (Tag(-1, n))."""

    def __init__(self, tag, value):
        self.tag, self.value = tag, value

    def __repr__(self):
        return "CBORSimple(%r)" % (self.value,)


class Reader:
    """Reads CBOR items from a binary file `f` of `size` bytes, from its current position."""

    def __init__(self, f, size):
        self.f, self.size = f, size
        self.base = f.tell()   # file offset of buf[0]
        self.buf, self.i = b"", 0
        self.budget = BUDGET

    def tell(self):
        return self.base + self.i

    def left(self):
        return self.size - self.tell()

    def take(self, n):
        if self.i + n > len(self.buf):
            if n > self.left():
                raise CBORError("the data ends inside an item (%d bytes wanted, %d left)" % (n, self.left()))
            rest = self.buf[self.i:]
            self.base = self.tell()
            self.buf, self.i = rest + self.f.read(max(n - len(rest), _CHUNK)), 0
        out = self.buf[self.i:self.i + n]
        self.i += n
        return out

    def skip(self, n):
        if n > self.left():
            raise CBORError("the data ends inside an item (%d bytes wanted, %d left)" % (n, self.left()))
        if self.i + n <= len(self.buf):
            self.i += n
            return
        self.base = self.tell() + n
        self.f.seek(self.base)
        self.buf, self.i = b"", 0

    def at_break(self):
        if self.take(1) == b"\xff":
            return True
        self.i -= 1  # take(1) left that byte in buf
        return False

    def head(self):
        """(major type, argument) of the next item; the argument is None for indefinite lengths
        and the value itself for floats and simple values."""
        ib = self.take(1)[0]
        major, info = ib >> 5, ib & 31
        if major == 7 and info in (25, 26, 27):
            fmt = {25: ">e", 26: ">f", 27: ">d"}[info]
            return 7, struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]
        if info < 24:
            arg = info
        elif info < 28:
            n = 1 << (info - 24)
            arg = int.from_bytes(self.take(n), "big")
        elif info == 31 and major in (2, 3, 4, 5, 7):
            arg = None
        else:
            raise CBORError("malformed item head 0x%02x" % ib)
        if major == 7:
            if arg is None:
                return 7, BREAK
            return 7, {20: False, 21: True, 22: None, 23: None}.get(arg, Tag(-1, arg))
        return major, arg

    def _spend(self):
        self.budget -= 1
        if self.budget < 0:
            raise CBORError("more than %d items outside payload.values" % BUDGET)

    def value(self, depth=0, build=True):
        """The next item as a Python value (None when build is False: stepped over, checked)."""
        if depth > MAX_DEPTH:
            raise CBORError("nested deeper than %d levels" % MAX_DEPTH)
        major, arg = self.head()
        if build:
            self._spend()
        if major == 0:
            return arg
        if major == 1:
            return -1 - arg
        if major in (2, 3):
            return self._string(major, arg, build)
        if major == 4:
            out = [] if build else None
            n = 0
            while (not self.at_break()) if arg is None else n < arg:
                v = self.value(depth + 1, build)
                if build:
                    out.append(v)
                n += 1
            return out
        if major == 5:
            out = {} if build else None
            n = 0
            while (not self.at_break()) if arg is None else n < arg:
                k = self.value(depth + 1, build)
                v = self.value(depth + 1, build)
                if build:
                    if isinstance(k, (list, dict)):
                        raise CBORError("a map key that is an array or a map")
                    out[k] = v
                n += 1
            return out
        if major == 6:
            raise tag_error(arg)
        if arg is BREAK:
            raise CBORError("a break stop code outside an indefinite-length item")
        return arg

    def _string(self, major, arg, build):
        if arg is None:
            parts = []
            while not self.at_break():
                m, n = self.head()
                if m != major or n is None:
                    raise CBORError("an indefinite-length string holds a chunk of another type")
                parts.append(self._string(major, n, build))
            if not build:
                return None
            return ("" if major == 3 else b"").join(parts)
        if not build:
            self.skip(arg)
            return None
        if arg > MAX_TEXT:
            raise CBORError("a string of %d bytes where the service reads at most %d" % (arg, MAX_TEXT))
        data = self.take(arg)
        if major == 2:
            return data
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CBORError("a text string that is not UTF-8 (%s)" % e)
