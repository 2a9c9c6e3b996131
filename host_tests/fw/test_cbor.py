# ei.cbor, the on-device CBOR encoder: RFC 7049 Appendix A vectors and the edges of each type.
# Runs on CPython and on the MicroPython unix port (see conftest.py).
from collections import OrderedDict

from ei.cbor import dump, float32, float64, head, write_head
from fwtest import cbor_dumps as dumps, FLOAT32, load_json, raises, tohex, unhex, vector

# The appendix's vectors whose value is given as a diagnostic rather than as JSON, and that
# the encoder supports. Their keys are the vectors' `diagnostic` text.
_DIAGNOSTIC = {
    "h''": b"",
    "h'01020304'": b"\x01\x02\x03\x04",
    "{1: 2, 3: 4}": OrderedDict([(1, 2), (3, 4)]),
}


def _supported(v):
    """Whether v holds only what the encoder supports (no floats, ints within 64 bits)."""
    if isinstance(v, float):
        return False
    if isinstance(v, int) and v is not True and v is not False:
        return -(2 ** 64) <= v <= 2 ** 64 - 1
    if isinstance(v, list):
        return all(_supported(x) for x in v)
    if isinstance(v, dict):
        return all(_supported(k) and _supported(v[k]) for k in v)
    return True


def _text(s):
    # MicroPython's json leaves an escaped surrogate pair (\ud800\udd51) as two surrogates;
    # join each pair into the one character JSON means. A no-op on CPython.
    out = []
    hi = 0
    for c in s:
        o = ord(c)
        if 0xD800 <= o < 0xDC00:
            hi = o
            continue
        if hi and 0xDC00 <= o < 0xE000:
            c = chr(0x10000 + ((hi - 0xD800) << 10) + (o - 0xDC00))
        hi = 0
        out.append(c)
    return "".join(out)


def _value(v):
    # MicroPython's json does not keep a JSON object's key order; the appendix lists every
    # map's keys in sorted order, so an OrderedDict of the sorted keys is the vector's order.
    if isinstance(v, str):
        return _text(v)
    if isinstance(v, list):
        return [_value(x) for x in v]
    if isinstance(v, dict):
        return OrderedDict([(_value(k), _value(v[k])) for k in sorted(v)])
    return v


def _appendix_cases():
    cases = []
    for vec in load_json(vector("rfc7049_appendix_a.json")):
        if not vec["roundtrip"]:
            continue  # indefinite lengths and non-shortest floats
        if "decoded" in vec:
            if _supported(vec["decoded"]):
                cases.append((_value(vec["decoded"]), vec["hex"]))
        elif vec["diagnostic"] in _DIAGNOSTIC:
            cases.append((_DIAGNOSTIC[vec["diagnostic"]], vec["hex"]))
    return cases


def _hex(obj):
    return tohex(dumps(obj))


# all on the emulated Pico ([rp2]): CBOR floats through the rp2 port's own float code
RP2 = "all"


def test_appendix_a_vectors_of_supported_types_encode_byte_identically():
    cases = _appendix_cases()
    # 16 ints, 3 simple values, 2 byte strings, 7 text strings, 4 arrays, 5 maps and
    # arrays of maps: if the filter dropped one, this count says so.
    assert len(cases) == 37, len(cases)
    for value, want in cases:
        got = _hex(value)
        assert got == want, "%r: %s != %s" % (value, got, want)


def test_unsigned_int_boundaries_use_the_shortest_head():
    assert _hex(0) == "00"
    assert _hex(23) == "17"
    assert _hex(24) == "1818"
    assert _hex(255) == "18ff"
    assert _hex(256) == "190100"
    assert _hex(65535) == "19ffff"
    assert _hex(65536) == "1a00010000"
    assert _hex(2 ** 32 - 1) == "1affffffff"
    assert _hex(2 ** 32) == "1b0000000100000000"
    assert _hex(2 ** 64 - 1) == "1bffffffffffffffff"


def test_negative_int_boundaries_use_the_shortest_head():
    assert _hex(-1) == "20"
    assert _hex(-24) == "37"
    assert _hex(-25) == "3818"
    assert _hex(-256) == "38ff"
    assert _hex(-257) == "390100"
    assert _hex(-65536) == "39ffff"
    assert _hex(-65537) == "3a00010000"
    assert _hex(-(2 ** 32)) == "3affffffff"
    assert _hex(-(2 ** 32) - 1) == "3b0000000100000000"
    assert _hex(-(2 ** 64)) == "3bffffffffffffffff"


def test_int_just_outside_64_bits_raises_value_error():
    for n in (2 ** 64, -(2 ** 64) - 1, 2 ** 100):
        e = raises(ValueError, dumps, n)
        assert "64-bit range" in str(e), str(e)
    e = raises(ValueError, dumps, [1, 2 ** 64])
    assert str(2 ** 64) in str(e), str(e)


def test_bools_and_none_are_simple_values_not_ints():
    assert _hex(False) == "f4"
    assert _hex(True) == "f5"
    assert _hex(None) == "f6"
    assert _hex([True, 1, False, 0]) == "84f501f400"


def test_floats_are_always_float64():
    assert _hex(1.0) == "fb3ff0000000000000"
    assert _hex(0.0) == "fb0000000000000000"
    assert _hex(-0.0) == "fb8000000000000000"
    assert _hex(1.5) == "fb3ff8000000000000"
    # with single-precision floats 1.1 is the float32 nearest it, sent exactly as a float64;
    # 1e300 is beyond a float32's range
    assert _hex(1.1) == ("fb3ff19999a0000000" if FLOAT32 else "fb3ff199999999999a")
    assert _hex(-4.1) == ("fbc010666660000000" if FLOAT32 else "fbc010666666666666")
    if not FLOAT32:
        assert _hex(1e300) == "fb7e37e43c8800759c"
    assert _hex(float("inf")) == "fb7ff0000000000000"
    assert _hex(float("-inf")) == "fbfff0000000000000"


def test_nan_is_a_float64_nan():
    b = dumps(float("nan"))
    assert len(b) == 9 and b[0] == 0xFB
    # exponent all ones, fraction not zero (the sign and payload are the runtime's)
    assert b[1] & 0x7F == 0x7F and b[2] & 0xF0 == 0xF0
    assert (b[2] & 0x0F) or any(b[3:])


def test_text_length_counts_utf8_bytes_not_characters():
    assert _hex("") == "60"
    assert _hex("a") == "6161"
    assert _hex("\u00fc") == "62c3bc"
    assert _hex("\u6c34") == "63e6b0b4"
    assert _hex("\U00010151") == "64f0908591"
    # 8 characters, 24 bytes: the length needs a one-byte argument
    assert _hex("\u6c34" * 8) == "7818" + "e6b0b4" * 8
    assert _hex("x" * 256) == "790100" + "78" * 256


def test_bytes_bytearray_and_memoryview_are_byte_strings():
    assert _hex(b"") == "40"
    assert _hex(b"\x01\x02\x03\x04") == "4401020304"
    assert _hex(bytearray(b"\x01\x02")) == "420102"
    buf = bytearray(b"\x00\x01\x02\x03\x04\x05")
    assert _hex(memoryview(buf)[1:4]) == "43010203"
    assert _hex(b"\xff" * 24) == "5818" + "ff" * 24


def test_lists_and_tuples_are_arrays():
    assert _hex([]) == "80"
    assert _hex(()) == "80"
    assert _hex((1, "a")) == "82016161"
    assert _hex(list(range(1, 26))) == "9819" + "0102030405060708090a0b0c0d0e0f101112131415161718181819"


def test_map_keys_follow_the_ordereddict_order():
    assert _hex({}) == "a0"
    assert _hex(OrderedDict([("b", 1), ("a", 2)])) == "a2616201616102"
    assert _hex(OrderedDict([("a", 2), ("b", 1)])) == "a2616102616201"


def test_map_keys_and_values_may_be_any_supported_type():
    m = OrderedDict([(1, None), (-1, True), (b"\x00", 1.0), (None, [])])
    assert _hex(m) == "a4" + "01f6" + "20f5" + "4100fb3ff0000000000000" + "f680"


def test_nested_structures_encode_depth_first():
    sample = OrderedDict([
        ("protected", OrderedDict([("ver", "v1"), ("alg", "none")])),
        ("payload", OrderedDict([
            ("interval_ms", 10),
            ("sensors", [OrderedDict([("name", "accX"), ("units", "m/s2")])]),
            ("values", [[1, -2], (3, [[]])]),
        ])),
    ])
    want = (
        "a2"
        + "6970726f746563746564" + "a2" + "63766572" + "627631" + "63616c67" + "646e6f6e65"
        + "677061796c6f6164" + "a3"
        + "6b696e74657276616c5f6d73" + "0a"
        + "6773656e736f7273" + "81" + "a2" + "646e616d65" + "6461636358"
        + "65756e697473" + "646d2f7332"
        + "6676616c756573" + "82" + "820121" + "82" + "03" + "81" + "80"
    )
    assert _hex(sample) == want


def test_unsupported_type_raises_type_error_naming_the_type():
    class Reading:
        pass

    for obj, name in ((Reading(), "Reading"), ({1, 2}, "set"), (1j, "complex")):
        e = raises(TypeError, dumps, obj)
        assert name in str(e), str(e)
    e = raises(TypeError, dumps, OrderedDict([("k", [Reading()])]))
    assert "Reading" in str(e), str(e)


def test_dump_through_a_write_callable_gives_the_same_bytes_as_dumps():
    payload = b"\x01" * 300
    obj = OrderedDict([("a", [1, 2.5, "\u00fc", payload]), ("b", None)])
    chunks = []
    dump(obj, chunks.append)
    assert b"".join(chunks) == dumps(obj)
    # streamed one data item at a time, and the byte string written as is, not copied
    assert len(chunks) > 5
    assert any(c is payload for c in chunks)


def test_head_has_the_shortest_form_for_each_size_class():
    assert head(0, 0) == b"\x00"
    assert head(0, 23) == b"\x17"
    assert head(7, 22) == b"\xf6"
    assert head(3, 24) == b"\x78\x18"
    assert head(4, 255) == b"\x98\xff"
    assert head(5, 256) == b"\xb9\x01\x00"
    assert head(2, 65535) == b"\x59\xff\xff"
    assert head(2, 65536) == b"\x5a\x00\x01\x00\x00"
    assert head(4, 2 ** 32 - 1) == b"\x9a\xff\xff\xff\xff"
    assert head(5, 2 ** 32) == b"\xbb\x00\x00\x00\x01\x00\x00\x00\x00"
    assert head(1, 2 ** 64 - 1) == b"\x3b" + b"\xff" * 8


def test_head_rejects_a_bad_major_type_or_argument():
    raises(ValueError, head, 8, 0)
    raises(ValueError, head, -1, 0)
    raises(ValueError, head, 0, -1)
    raises(ValueError, head, 0, 2 ** 64)


def test_write_head_writes_the_head_in_one_call():
    chunks = []
    write_head(chunks.append, 4, 3)
    write_head(chunks.append, 5, 1000)
    assert chunks == [b"\x83", b"\xb9\x03\xe8"]


def test_float64_is_0xfb_and_a_big_endian_double():
    assert float64(1.5) == unhex("fb3ff8000000000000")
    assert float64(-4.1) == unhex("fbc010666660000000" if FLOAT32 else "fbc010666666666666")
    assert float64(100000.0) == unhex("fb40f86a0000000000")
    assert float64(float("inf")) == unhex("fb7ff0000000000000")


def test_float32_is_0xfa_and_a_big_endian_single():
    assert float32(1.5) == unhex("fa3fc00000")
    assert float32(100000.0) == unhex("fa47c35000")
    assert float32(3.4028234663852886e38) == unhex("fa7f7fffff")
    assert float32(-0.0) == unhex("fa80000000")
    assert float32(float("-inf")) == unhex("faff800000")
    # rounded to the nearest single
    assert float32(1.1) == unhex("fa3f8ccccd")
