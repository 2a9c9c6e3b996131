# HMAC-SHA256 (RFC 2104) on hashlib.sha256, since MicroPython has no hmac module.
# Streaming: update() as the body is written; the key is never kept in clear or printed.
import hashlib
from binascii import hexlify

_BLOCK = 64  # SHA-256 block size


class HMAC:
    def __init__(self, key):
        if isinstance(key, str):
            key = key.encode()
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        # the padded key, xored in place: one block, no generator nor bytes grown byte by
        # byte (the daemon's encoding at 40 KB failed in these small pieces)
        k = bytearray(_BLOCK)
        k[:len(key)] = key
        for i in range(_BLOCK):
            k[i] ^= 0x36
        self._inner = hashlib.sha256(k)
        for i in range(_BLOCK):
            k[i] ^= 0x6A  # 0x36 ^ 0x5C: the outer pad
        self._outer = k

    def __repr__(self):
        return "<HMAC-SHA256>"

    def update(self, data):
        self._inner.update(data)

    def digest(self):
        # Ends this HMAC: MicroPython's sha256 can be finished only once and has no copy().
        return hashlib.sha256(self._outer + self._inner.digest()).digest()

    def hexdigest(self):
        return hexlify(self.digest()).decode()
