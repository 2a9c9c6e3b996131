# PEM text to DER certificates, for MicroPython's TLS (its mbedtls takes DER only): loaded
# only when a client verifies its server (Client(ca=...)), so plain HTTP spends no RAM on it.
from ei.compat import const
from ei.errors import Msg

_M_NO_PEM = const(72)  # error text (ei/messages.py)


def ders(cadata):
    """The DER certificates in PEM text (each BEGIN/END block), or DER as it is."""
    if isinstance(cadata, str):
        cadata = cadata.encode()
    if cadata[:5] != b"-----":
        return [bytes(cadata)]
    from binascii import a2b_base64
    out = []
    block = None
    for line in bytes(cadata).split(b"\n"):
        line = line.strip()
        if line.startswith(b"-----BEGIN"):
            block = []
        elif line.startswith(b"-----END"):
            if block is not None:
                out.append(a2b_base64(b"".join(block)))
            block = None
        elif block is not None and line:
            block.append(line)
    if not out:
        raise ValueError(Msg(_M_NO_PEM))
    return out
