# The encoder: the data acquisition format in CBOR and JSON, byte-exact with the page,
# streamed in bounded chunks with the length known first, signed with HS256 on request.
import json

from fwtest import encoded, cbor_dumps, page_sample, raises, same_floats, seed_example, tohex, unhex

import ei
from ei import encoder
from ei.encoder import Encoding
from ei.signing import HMAC


def appended_sample(rows=50, device_name="aa:bb"):
    s = ei.Sample(device_name=device_name, device_type="TEST", interval_ms=10,
                  sensors=[("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2")])
    for i in range(rows):
        s.append((i * 0.5, -i * 0.25, 9.81 + i))
    return s


ENCODINGS = (Encoding(), Encoding("json"), Encoding(float32=True),
             Encoding(hmac_key="hmac-key"), Encoding("json", hmac_key=b"hmac-key"),
             Encoding(float32=True, hmac_key="k", iat=1700000000))


def test_page_sample_encodes_to_the_documented_265_cbor_bytes():
    v = seed_example()
    body = encoded(page_sample())
    assert len(body) == v["cbor_body_len"] == 265
    assert tohex(body) == v["cbor_body_hex"]


def test_encoded_len_is_exactly_what_write_produces():
    for s in (page_sample(), appended_sample(), appended_sample(0), appended_sample(30, None)):
        for enc in ENCODINGS:
            assert encoder.encoded_len(s, enc) == len(encoded(s, enc)), enc


def list_sample(rows=50, device_name="aa:bb", width=3):
    return ei.Sample(device_name=device_name, device_type="TEST", interval_ms=10,
                     sensors=[("ax%d" % j, "m/s2") for j in range(width)],
                     values=[[(i * 0.5, -i * 0.25, 9.81 + i)[j % 3] + j for j in range(width)]
                             for i in range(rows)])


def test_chunks_packed_through_the_buffer_never_exceed_the_chunk_size():
    sizes = []
    s = list_sample(200)
    n = encoder.write(s, Encoding(), lambda b: sizes.append(len(b)), chunk=256)
    assert max(sizes) <= 256 and sum(sizes) == n == encoder.encoded_len(s, Encoding())
    assert len(sizes) > 10


def test_rows_of_every_width_encode_as_their_head_then_a_tag_and_float_per_value():
    # the packed rows against the layout built here value by value (a head of 1, 2 bytes)
    from struct import pack
    from ei import cbor
    for width in list(range(1, 11)) + [23, 24, 30]:
        s = list_sample(4, width=width)
        for f32 in (False, True):
            expect = bytearray(cbor_dumps("values") + cbor.head(4, 4))
            for r in s.iter_rows():
                expect += cbor.head(4, width)
                for v in r:
                    expect += pack(">Bf" if f32 else ">Bd", 0xFA if f32 else 0xFB, v)
            body = encoded(s, Encoding(float32=f32))
            assert bytes(expect) in body, (width, f32)
            assert len(body) == encoder.encoded_len(s, Encoding(float32=f32))


def test_appended_rows_pass_whole_as_their_stored_cbor_and_encode_as_a_list_does():
    # appended rows are kept as their CBOR in the board's float size: an upload of that size
    # hands them on as they are (views, no copy), and the bytes are the list's, signed too
    from ei.compat import FLOAT32
    for width in range(1, 10):
        rows = list_sample(20, width=width)
        s = ei.Sample(device_name="aa:bb", device_type="TEST", interval_ms=10,
                      sensors=rows.sensors, rows=8)  # room for fewer: the rest grow it
        for r in rows.iter_rows():
            s.append(r)
        assert [list(r) for r in s.iter_rows()] == [list(r) for r in rows.iter_rows()]
        for enc in (Encoding(), Encoding(float32=True), Encoding("json"),
                    Encoding(float32=True, hmac_key="k", iat=1700000000),
                    Encoding(float32=FLOAT32, hmac_key="k")):
            assert encoded(s, enc) == encoded(rows, enc), (width, enc)
        sizes = []
        encoder.write(s, Encoding(float32=FLOAT32), lambda b: sizes.append(len(b)), chunk=64)
        per_value = 5 if FLOAT32 else 9
        assert max(sizes) == 20 * (1 + width * per_value), (width, sizes)


def test_streamed_bytes_equal_the_whole_body_whatever_the_chunk():
    s = appended_sample(40)
    whole = encoded(s, Encoding(hmac_key="k"))
    for chunk in (64, 100, 1000):
        out = []
        encoder.write(s, Encoding(hmac_key="k"), lambda b: out.append(bytes(b)), chunk=chunk)
        assert b"".join(out) == whole


def test_json_body_has_the_page_keys_in_the_page_order():
    body = encoded(page_sample(), Encoding("json")).decode()
    obj = json.loads(body)
    v = seed_example()["sample"]
    assert obj["payload"]["sensors"] == v["payload"]["sensors"]
    assert same_floats(obj["payload"]["values"], v["payload"]["values"])
    assert obj["protected"] == {"alg": "none", "ver": "v1"} and obj["signature"] == "00"
    keys = ('"payload"', '"device_name"', '"device_type"', '"interval_ms"', '"sensors"',
            '"values"', '"protected"', '"signature"')
    at = [body.index(k) for k in keys]
    assert at == sorted(at)


def test_device_name_is_left_out_when_none():
    body = encoded(appended_sample(2, None))
    assert b"device_name" not in body and body[9] == 0xA4  # payload map of 4 fields


def test_float32_writes_single_floats_and_is_smaller():
    s = appended_sample(100)
    small = encoded(s, Encoding(float32=True))
    big = encoded(s)
    assert small.count(b"\xfa") >= 300
    assert len(small) < 0.6 * len(big)


def test_unsigned_bodies_carry_alg_none_and_signature_00():
    body = encoded(appended_sample(3))
    assert body.endswith(b"calgdnonecverbv1isignatureb00")


def hs256_reference(body, key, fmt):
    """Edge Impulse's check: the signature's text replaced by 64 zeros, HMAC over it."""
    marker = b"isignaturex@" if fmt == "cbor" else b'"signature":"'
    i = body.index(marker) + len(marker)
    sig = body[i:i + 64].decode()
    zeroed = body[:i] + b"0" * 64 + body[i + 64:]
    h = HMAC(key)
    h.update(zeroed)
    return sig, h.hexdigest()


def test_signed_cbor_and_json_verify_by_zeroing_the_signature():
    for fmt in ("cbor", "json"):
        body = encoded(appended_sample(20), Encoding(fmt, hmac_key="hmac-key"))
        assert (b"HS256" in body)
        sig, expected = hs256_reference(body, "hmac-key", fmt)
        assert sig == expected
        assert len(sig) == 64 and sig == sig.lower()


def test_signature_changes_with_the_key_and_with_the_data():
    a = encoded(appended_sample(5), Encoding(hmac_key="one"))
    b = encoded(appended_sample(5), Encoding(hmac_key="two"))
    c = encoded(appended_sample(6), Encoding(hmac_key="one"))
    assert a[-64:] != b[-64:] and a[-64:] != c[-64:]


def test_iat_goes_in_protected_after_alg_and_ver():
    body = encoded(appended_sample(1), Encoding(hmac_key="k", iat=1700000000))
    assert b"iprotected\xa3calgeHS256cverbv1ciat\x1a\x65\x53\xf1\x00" in body


def test_json_of_a_one_pass_iterable_is_refused_before_anything_is_written():
    s = ei.Sample(device_type="T", interval_ms=1, sensors=[("a", "u")],
                  values=iter([(1,), (2,)]), rows=2)
    e = raises(ValueError, encoder.encoded_len, s, Encoding("json"))
    assert "fmt='cbor'" in str(e)


def test_cbor_streams_a_one_pass_iterable():
    rows = [(float(i),) for i in range(30)]
    s = ei.Sample(device_type="T", interval_ms=1, sensors=[("a", "u")], values=iter(rows),
                  rows=30)
    ref = ei.Sample(device_type="T", interval_ms=1, sensors=[("a", "u")], values=rows)
    assert encoder.encoded_len(s, Encoding()) == len(encoded(ref))
    assert encoded(s) == encoded(ref)


def test_a_one_pass_iterable_s_rows_of_three_are_checked_as_they_are_packed():
    # an accelerometer's iterable is checked in the encoder's own loop: every bad row is
    # named as the Sample names it, whole numbers pass, and the count is held to rows=
    axes = [("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2")]

    def dumps(rows, n):
        return encoded(ei.Sample(device_type="T", interval_ms=10, sensors=axes,
                                 values=iter(rows), rows=n))

    good = [(0.5, -1.5, 2.25), (1, 2, 3)]
    ref = ei.Sample(device_type="T", interval_ms=10, sensors=axes, values=good)
    assert dumps(good, 2) == encoded(ref)
    for bad, what in (((1.0, float("nan"), 3.0), "row 1 value 1 is nan"),
                      ((float("-inf"), 2.0, 3.0), "row 1 value 0 is -inf"),
                      ((1.0, 2.0, True), "row 1 value 2 is True; not a number"),
                      ((1.0, "2", 3.0), "row 1 value 1 is '2'; not a number"),
                      ((1.0, 2.0), "row 1 has 2 values"), ((1.0, 2.0, 3.0, 4.0), "row 1 has 4"),
                      (None, "row 1 is None, not a sequence")):
        e = raises((ValueError, TypeError), dumps, [(1.0, 2.0, 3.0), bad], 2)
        assert what in str(e), (bad, str(e))
    assert "more than rows=2" in str(raises(ValueError, dumps, [(1.0, 2.0, 3.0)] * 3, 2))
    assert "1 rows, not rows=2" in str(raises(ValueError, dumps, [(1.0, 2.0, 3.0)], 2))


def test_rows_of_three_encode_alike_from_a_list_an_iterable_and_appended_whatever_their_count():
    # a list's rows are packed four at a time: its last rows (one to three), and those of a
    # chunk that fills part way, give the bytes an iterable and appended rows give
    axes = [("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2")]
    for n in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 31, 33, 37, 100):
        rows = [(i * 0.5, -i * 0.25, 9.81 + i) for i in range(n)]
        listed = ei.Sample(device_type="T", interval_ms=10, sensors=axes, values=rows)
        added = ei.Sample(device_type="T", interval_ms=10, sensors=axes)
        for r in rows:
            added.append(r)
        for enc in (Encoding(), Encoding(float32=True), Encoding(hmac_key="k")):
            it = ei.Sample(device_type="T", interval_ms=10, sensors=axes, values=iter(rows),
                           rows=n)
            body = encoded(listed, enc)
            assert body == encoded(it, enc) == encoded(added, enc), (n, enc)
            assert len(body) == encoder.encoded_len(listed, enc)
            for chunk in (64, 100):  # chunks too small for four rows of float64
                out = []
                encoder.write(listed, enc, lambda b: out.append(bytes(b)), chunk=chunk)
                assert b"".join(out) == body, (n, enc, chunk)


def test_an_iterable_s_own_error_and_its_extra_rows_are_reported_as_they_are():
    # the encoder's loop names a row that is not three values; an error the iterable raises
    # itself goes on unchanged, and a row past rows= is "more than rows=" however bad it is
    axes = [("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2")]

    def dumps(values, n):
        return encoded(ei.Sample(device_type="T", interval_ms=10, sensors=axes, values=values,
                                 rows=n))

    def failing(at, exc):
        for i in range(at):
            yield (1.0, 2.0, 3.0)
        raise exc("sensor gone at %d" % at)
    for at in (0, 1, 40):
        for exc in (ValueError, TypeError, OSError):
            e = raises(exc, dumps, failing(at, exc), 50)
            assert str(e) == "sensor gone at %d" % at, (at, exc, str(e))
    for extra in ((1.0, 2.0), None, (1.0, "x", 3.0), (float("nan"), 0.0, 0.0)):
        e = raises(ValueError, dumps, iter([(1.0, 2.0, 3.0)] * 3 + [extra]), 3)
        assert "more than rows=3" in str(e), (extra, str(e))
    e = raises(TypeError, dumps, iter([(1.0, 2.0, 3.0)] * 39 + [5]), 40)
    assert "row 39 is 5, not a sequence" in str(e), str(e)


def test_unknown_format_is_refused():
    e = raises(ValueError, Encoding, "xml")
    assert "xml" in str(e)


def test_encoding_repr_never_shows_the_key():
    assert "hmac-key" not in repr(Encoding(hmac_key="hmac-key"))


def test_cbor_body_round_trips_through_the_documented_fields():
    # the body decodes (by hand, no decoder on the device) to the page's leading bytes
    body = encoded(page_sample())
    assert body[:1] == unhex("a3") and body[1:9] == b"gpayload"
