# HMAC-SHA256 written on hashlib.sha256 (MicroPython has no hmac): RFC 4231's test cases.
from fwtest import tohex

from ei.signing import HMAC


def mac(key, data):
    h = HMAC(key)
    h.update(data)
    return h.hexdigest()


# all on the emulated Pico ([rp2]): HMAC-SHA256 on the rp2 port's hashlib
RP2 = "all"


def test_rfc4231_case_1_short_key():
    assert mac(b"\x0b" * 20, b"Hi There") == (
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")


def test_rfc4231_case_2_text_key():
    assert mac("Jefe", b"what do ya want for nothing?") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")


def test_rfc4231_case_6_key_longer_than_a_block_is_hashed_first():
    assert mac(b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First") == (
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")


def test_updates_in_pieces_equal_one_update():
    h = HMAC("k")
    for piece in (b"wh", b"at do ya", memoryview(b" want")):
        h.update(piece)
    assert h.hexdigest() == mac("k", b"what do ya want")
    assert tohex(HMAC("k").digest()) == mac("k", b"")


def test_repr_shows_no_key():
    assert "secret" not in repr(HMAC("secret"))
