"""HS256 signatures of data acquisition objects, checked so that a valid one covers every value
the service stores: the HMAC is over the bytes as received with the signature replaced by 64 '0's
(read as a stream: a 100 MB sample is never in memory). cbor2's own encoding of the object is
tried too, for small samples with no raw data after the object (it would not cover that data).
"""
import hashlib
import hmac

import cbor2

from service.config import EMPTY_SIGNATURE

_REENCODE_BYTES = 1024 * 1024  # a signature over cbor2's own encoding is also tried up to here

def _mac(key, chunks):
    m = hmac.new(key.encode("utf-8"), digestmod=hashlib.sha256)
    for c in chunks:
        m.update(c)
    return m.hexdigest()


def _file_with(f, start, end, middle):
    """The file's bytes in chunks, with [start, end) replaced by middle."""
    f.seek(0)
    yield f.read(start)
    yield middle
    f.seek(end)
    while True:
        chunk = f.read(1024 * 1024)
        if not chunk:
            return
        yield chunk


def verify_cbor(f, size, span, signature, binary, hmac_keys):
    """True/False for an HS256 CBOR sample checked against any of hmac_keys."""
    sig = signature.lower()
    zero = cbor2.dumps(EMPTY_SIGNATURE)
    for key in hmac_keys:
        if hmac.compare_digest(_mac(key, _file_with(f, span[0], span[1], zero)), sig):
            return True
    # A signer that signed cbor2's encoding of the object (not its own bytes) covers every
    # value too, unless the values are raw data after the object: tried for small samples.
    if binary is None and size <= _REENCODE_BYTES:
        f.seek(0)
        try:
            obj = cbor2.loads(f.read())
            obj["signature"] = EMPTY_SIGNATURE
            signed = cbor2.dumps(obj)
        except Exception:  # cbor2 raises many kinds; the walk already accepted it
            return False
        return any(hmac.compare_digest(_mac(k, [signed]), sig) for k in hmac_keys)
    return False


def verify_json(f, span, signature, hmac_keys):
    """JSON: the exact bytes received, with the signature's 64 hex digits (at span, the bytes
    inside its quotes) replaced in place by 64 '0's."""
    sig = signature.lower()
    zero = EMPTY_SIGNATURE.encode()
    return any(hmac.compare_digest(_mac(key, _file_with(f, span[0], span[1], zero)), sig)
               for key in hmac_keys)
