# JSON that a peer wrote (remote management's messages, a queue entry's header on flash), read
# within bounds: json.loads allocates an object for every value and a container for every
# level, so a 2 KB message of nested lists is 1,000 lists on a board's heap (and a
# RecursionError on CPython). Its depth and its count of values are bounded before it is
# decoded, and it is decoded from where it lies, not from a copy; its length is bounded by
# whoever read it.
from ei.compat import loads as json_loads, const
from ei.errors import Msg
# error texts (ei/messages.py)
_M_JSON_DEPTH = const(185)
_M_JSON_VALUES = const(186)


def loads(buf, depth, values, start=0, end=None):
    """The JSON in buf[start:end] (UTF-8 in a bytes or a bytearray, the buffer it was read
    into), or ValueError before anything is decoded when it nests deeper than `depth` or
    holds more than `values` values (or is not JSON, or not UTF-8)."""
    if end is None:
        end = len(buf)
    view = memoryview(buf)[start:end]
    # brackets and commas anywhere, in strings too, bound both from above: a usual message
    # is passed on this count alone, made in C and allocating nothing
    opened = buf.count(b"[", start, end) + buf.count(b"{", start, end)
    if opened > depth or opened + buf.count(b",", start, end) >= values:
        level = deepest = items = 0
        quoted = escaped = False
        for c in view:  # ints: no character is made (or interned) per step
            if quoted:
                if escaped:
                    escaped = False
                elif c == 0x5C:  # backslash
                    escaped = True
                elif c == 0x22:  # quote
                    quoted = False
            elif c == 0x22:
                quoted = True
            elif c == 0x5B or c == 0x7B:  # [ {
                level += 1
                items += 1
                if level > deepest:
                    deepest = level
            elif c == 0x5D or c == 0x7D:  # ] }
                level -= 1
            elif c == 0x2C:  # ,
                items += 1
        if deepest > depth:
            raise ValueError(Msg(_M_JSON_DEPTH, depth))
        if items >= values:
            raise ValueError(Msg(_M_JSON_VALUES, values))
    return json_loads(view)
