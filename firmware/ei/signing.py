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
        key = key + b"\x00" * (_BLOCK - len(key))
        self._outer = bytes(b ^ 0x5C for b in key)
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))

    def __repr__(self):
        return "<HMAC-SHA256>"

    def update(self, data):
        self._inner.update(data)

    def digest(self):
        # Ends this HMAC: MicroPython's sha256 can be finished only once and has no copy().
        return hashlib.sha256(self._outer + self._inner.digest()).digest()

    def hexdigest(self):
        return hexlify(self.digest()).decode()
