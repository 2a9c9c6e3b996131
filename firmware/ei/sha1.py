# SHA-1 (FIPS 180-4) in Python, for the one port build that lacks hashlib.sha1 (it comes with
# the port's TLS): the WebSocket handshake's Sec-WebSocket-Accept is its only use. Slow and
# allocating (ints over 30 bits are objects on a board), but that is one 60-byte digest.
from struct import pack, unpack

_M = 0xFFFFFFFF


def _rotl(x, n):
    return ((x << n) | (x >> (32 - n))) & _M


def digest(data):
    h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]
    n = len(data)
    msg = bytes(data) + b"\x80" + b"\x00" * ((55 - n) % 64) + pack(">Q", n * 8)
    for off in range(0, len(msg), 64):
        w = list(unpack(">16I", msg[off:off + 64]))
        for i in range(16, 80):
            w.append(_rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1))
        a, b, c, d, e = h
        for i in range(80):
            if i < 20:
                f, k = (b & c) | (~b & d), 0x5A827999
            elif i < 40:
                f, k = b ^ c ^ d, 0x6ED9EBA1
            elif i < 60:
                f, k = (b & c) | (b & d) | (c & d), 0x8F1BBCDC
            else:
                f, k = b ^ c ^ d, 0xCA62C1D6
            a, b, c, d, e = (_rotl(a, 5) + (f & _M) + e + k + w[i]) & _M, a, _rotl(b, 30), c, d
        h = [(x + y) & _M for x, y in zip(h, (a, b, c, d, e))]
    return pack(">5I", *h)
