# Streaming uploads: the body is pulled in bounded pieces (encoder.chunks) from a list, an
# iterable or a capture file, through the raw socket or micropython-lib requests
# (transport="urequests"); a source that goes wrong part-way stops the upload, and the
# server sees a short body, never a wrong sample.
from fwtest import encoded, API_KEY, AXES, FLOAT32, client, raises, reset_mock, same_floats, stored

import ei
from ei import encoder, errors
from ei.encoder import Encoding

# The test API's listing (every stored sample, as JSON) is read whole by these tests; the
# upload's own memory bound is test_memory.py's business.
MP_HEAPSIZE = "1024k"
_WHY = ("micropython-lib requests is frozen into the unix port; CPython's `requests` is "
        "another library, not installed here")
_NET = ("socket", "uploads over a socket: the nRF52840 (f32-nonet) has none")
ONLY = {
    "test_an_iterable_of_3000_rows_uploads_in_one_pass": _NET,
    "test_an_iterable_with_fewer_or_more_rows_than_announced_stores_nothing": _NET,
    "test_a_one_pass_iterable_is_not_retried": _NET,
    "test_urequests_transport_stores_the_same_bytes_as_the_socket": [("micropython", _WHY), _NET],
    "test_urequests_transport_streams_an_iterable_and_multipart_files": [("micropython", _WHY),
                                                                         _NET],
    "test_urequests_transport_stops_on_a_bad_row_and_nothing_is_stored": [("micropython", _WHY),
                                                                          _NET],
    "test_urequests_transport_maps_statuses_and_connection_errors": [("micropython", _WHY), _NET],
}


def row(i):
    return (i * 0.001, -1.0 - i, 9.81)


def rows(n):
    for i in range(n):
        yield row(i)


def iterable_sample(n, values=None):
    return ei.Sample(device_type="TEST", interval_ms=10, sensors=AXES,
                     values=rows(n) if values is None else values, rows=n)


def test_chunks_are_bounded_and_join_to_the_whole_body():
    ram = ei.Sample(device_type="TEST", interval_ms=10, sensors=AXES,
                    values=[row(i) for i in range(300)])
    for enc in (Encoding(), Encoding("json"), Encoding(float32=True, hmac_key="k")):
        whole = encoded(ram, enc)
        pieces = [bytes(b) for b in encoder.chunks(ram, enc, 256)]
        assert b"".join(pieces) == whole and max(len(b) for b in pieces) <= 256
        if enc.fmt == "cbor":
            assert b"".join(bytes(b) for b in encoder.chunks(iterable_sample(300), enc,
                                                               256)) == whole


def test_two_bodies_pulled_at_once_do_not_share_a_buffer():
    # one chunk buffer is kept from import time for the next body; a second body pulled
    # while the first is still going makes its own, and both come out whole
    a = ei.Sample(device_type="A", interval_ms=10, sensors=AXES,
                  values=[row(i) for i in range(90)])
    b = ei.Sample(device_type="B", interval_ms=20, sensors=AXES,
                  values=[row(-i) for i in range(90)])
    ga, gb = encoder.chunks(a, Encoding()), encoder.chunks(b, Encoding(hmac_key="k"))
    out = {id(ga): [], id(gb): []}
    live = [ga, gb]
    while live:
        for g in list(live):
            try:
                out[id(g)].append(bytes(next(g)))
            except StopIteration:
                live.remove(g)
    assert b"".join(out[id(ga)]) == encoded(a)
    assert b"".join(out[id(gb)]) == encoded(b, Encoding(hmac_key="k"))


def test_an_iterable_of_3000_rows_uploads_in_one_pass():
    reset_mock()
    e = stored(client().upload(iterable_sample(3000), label="long"))
    assert e["rows"] == 3000
    v = e["sample"]["payload"]["values"]
    assert v[0] == list(row(0)) and v[2999] == list(row(2999))
    reset_mock()  # later tests read the whole store, some on a small heap


def test_an_iterable_with_fewer_or_more_rows_than_announced_stores_nothing():
    reset_mock()
    e = raises(ValueError, client().upload, iterable_sample(10, rows(9)), label="short")
    assert "9 rows, not rows=10" in str(e)
    e = raises(ValueError, client().upload, iterable_sample(10, rows(11)), label="long")
    assert "more than rows=10" in str(e)
    assert stored() == []


def test_a_one_pass_iterable_is_not_retried():
    # a 5xx would be retried for a list; an iterable is spent, so the error comes at once
    s = iterable_sample(5)
    c = ei.Client(API_KEY, host="127.0.0.1", port=9, tls=False, retries=3, backoff_ms=1)
    raises(errors.TransportError, c.upload, s)
    assert c.attempts == 1


def test_urequests_transport_stores_the_same_bytes_as_the_socket():
    reset_mock()
    values = [row(i) for i in range(200)]
    s = ei.Sample(device_type="TEST", interval_ms=10, sensors=AXES, values=values)
    a = stored(client().upload(s, file_name="a.cbor", label="same"))
    b = stored(client(transport="urequests").upload(s, file_name="b.cbor", label="same"))
    assert a["sha256"] == b["sha256"] and b["rows"] == 200 and b["label"] == "same"
    j = stored(client(transport="urequests").upload(s, file_name="c.json", fmt="json"))
    jv, av = j["sample"]["payload"]["values"], a["sample"]["payload"]["values"]
    # the same values; where floats are single precision, each as near the values sent as the
    # service's answer in text allows (fwtest.same_floats)
    assert (same_floats(jv, values) and same_floats(av, values)) if FLOAT32 else jv == av
    reset_mock()


def test_urequests_transport_streams_an_iterable_and_multipart_files():
    reset_mock()
    c = client(transport="urequests", float32=True)
    e = stored(c.upload(iterable_sample(2000), label="it"))
    assert e["rows"] == 2000
    names = [r[2] for r in c.upload_files([("idle.1.cbor", iterable_sample(50)),
                                           ("notes.csv", b"t,x\n0,1\n")])]
    assert len(names) == 2 and stored(names[0])["rows"] == 50
    assert stored(names[1])["size"] == 8
    reset_mock()


def test_urequests_transport_stops_on_a_bad_row_and_nothing_is_stored():
    reset_mock()
    bad = [row(i) for i in range(20)] + [(1.0, 2.0)]
    e = raises(ValueError, client(transport="urequests").upload,
               iterable_sample(21, iter(bad)), label="broken")
    assert "row 20" in str(e)
    assert stored() == []


def test_urequests_transport_maps_statuses_and_connection_errors():
    e = raises(errors.Unauthorized, client(transport="urequests",
                                           api_key="ei_" + "0" * 64).upload, iterable_sample(3))
    assert e.status == 401 and "0000000000" not in str(e)
    c = ei.Client(API_KEY, host="127.0.0.1", port=9, tls=False, transport="urequests",
                  retries=0)
    e = raises(errors.TransportError, c.upload, iterable_sample(3))
    assert "127.0.0.1:9" in str(e)
    e = raises(ValueError, client(transport="urequests", ca=b"-----BEGIN").upload,
               iterable_sample(3))
    assert "certificate" in str(e)
