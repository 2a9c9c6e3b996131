# Stream helpers shared by the steps of the data flow, below the encoder, the wire and the
# capture: what every reader of a peer's bytes needs, in one place.


def decode(b):
    """UTF-8 text of bytes from any peer (a server's body, a WebSocket frame, a line typed at
    the serial port), never an error: bytes that are not UTF-8 (a proxy's Latin-1 page) keep
    their ASCII, every other byte becoming U+FFFD. MicroPython ignores errors="replace" and
    raises UnicodeError, so every text a peer sends goes through this one function."""
    try:
        return b.decode()
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
