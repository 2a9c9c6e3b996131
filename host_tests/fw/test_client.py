# The client against real loopback servers: the page's request bytes exactly (echo server),
# and uploads the mock ingestion service stores, refuses or answers with an error.
from fwtest import (encoded, API_KEY, AXES, FLOAT32, client, echo_addr, echo_whole, mock_addr,
                    page_sample, raises, reset_mock, seed_example, stored, tohex, unhex)

import ei
from ei import encoder, errors

_NET = ("socket", "the Client talks over a socket: the nRF52840 (f32-nonet) has none")
ONLY = {name: _NET for name in (
    "test_data_request_is_byte_identical_to_the_page",
    "test_files_request_is_byte_identical_to_the_page",
    "test_optional_headers_go_out_only_when_asked",
    "test_json_upload_sends_application_json",
    "test_labels_and_file_names_are_percent_encoded",
    "test_host_header_carries_a_non_default_port",
    "test_upload_is_stored_by_the_mock_service_with_its_label_and_category",
    "test_json_upload_is_stored_too",
    "test_upload_files_returns_every_stored_name",
    "test_wrong_api_key_raises_unauthorized_with_the_servers_text",
    "test_bad_input_is_refused_before_connecting",
    "test_api_key_must_look_like_one_and_is_never_repeated",
    "test_unreachable_host_is_a_transport_error_naming_it",
    "test_a_bad_row_mid_stream_closes_the_connection_and_nothing_is_stored",
    "test_non_ascii_file_names_in_files_uploads_are_decoded_by_the_service",
    "test_the_default_body_is_float32_where_floats_are_single_and_float64_elsewhere",
    "test_the_default_body_holds_the_values_the_board_holds",
    "test_a_capture_the_board_wrote_uploads_by_copying_its_rows_from_flash",
    "test_upload_files_returns_each_file_s_stored_name_in_order",
    "test_appended_rows_larger_than_a_write_slice_go_out_whole_and_in_order",
    "test_a_body_written_in_small_pieces_reaches_the_server_in_whole_segments")}

# Its echo, 17 KB of hex on the 64-bit port, is gathered whole by the test: a heap of its own,
# not one the module's other tests have cut up.
OWN_PROCESS = ("test_appended_rows_larger_than_a_write_slice_go_out_whole_and_in_order",)


def small_sample(rows=5):
    s = ei.Sample(device_name="aa:bb:cc", device_type="TEST", interval_ms=10, sensors=AXES)
    for i in range(rows):
        s.append((i, -i, 9.81))
    return s


def echo_client(**kw):
    # Host header as the page (the default port of plain HTTP): the socket goes to the echo
    # server, which answers with the hex of the request it received.
    return echo_whole(ei.Client(API_KEY, host="ingestion.edgeimpulse.com", tls=False,
                                addr=echo_addr(), **kw))


def closed_port_client():
    # Port 9 (discard) on loopback: nothing listens, so connecting fails at once. A check
    # that raises ValueError instead proves it ran before any connection was made.
    return ei.Client(API_KEY, host="127.0.0.1", port=9, tls=False)


def test_data_request_is_byte_identical_to_the_page():
    v = seed_example()
    # the page's body holds doubles: float32=False, which a single-precision board must ask for
    echoed = echo_client(float32=False).upload(page_sample(), file_name="test.cbor")
    assert echoed == tohex(v["data_request_head"].encode()) + v["cbor_body_hex"]


def test_files_request_is_byte_identical_to_the_page():
    v = seed_example()
    [(name, delivered, echoed)] = echo_client(float32=False).upload_files(
        [("test.cbor", page_sample())], boundary=v["boundary"])
    assert name == "test.cbor" and delivered
    assert echoed == tohex(v["files_request_head"].encode()) + v["files_body_hex"]


def head_of(hexed):
    return unhex(hexed).split(b"\r\n\r\n")[0].decode().split("\r\n")


def test_optional_headers_go_out_only_when_asked():
    plain = head_of(echo_client().upload(small_sample(), label="idle"))
    assert "X-Label: idle" in plain and "X-File-Name: idle.cbor" in plain
    # startswith one prefix at a time: MicroPython 1.23's takes no tuple
    assert not [h for h in plain for p in ("X-No-Label", "X-Disallow", "X-Add-Date")
                if h.startswith(p)]
    full = head_of(echo_client().upload(small_sample(), file_name="x.cbor", no_label=True,
                                        disallow_duplicates=True, add_date_id=True))
    assert full[4:7] == ["X-No-Label: 1", "X-Disallow-Duplicates: 1", "X-Add-Date-Id: 1"]


def test_json_upload_sends_application_json():
    head = head_of(echo_client().upload(small_sample(), label="wave", fmt="json"))
    assert "Content-Type: application/json" in head and "X-File-Name: wave.json" in head


def test_labels_and_file_names_are_percent_encoded():
    head = head_of(echo_client().upload(small_sample(), label="crème brûlée",
                                        file_name="a b.cbor"))
    assert "X-Label: cr%C3%A8me%20br%C3%BBl%C3%A9e" in head
    assert "X-File-Name: a%20b.cbor" in head


def test_host_header_carries_a_non_default_port():
    host, port = mock_addr()
    head = head_of(ei.Client(API_KEY, host="devbox.local", port=8080, tls=False,
                             addr=echo_addr()).upload(small_sample()))
    assert head[1] == "Host: devbox.local:8080"


def test_upload_is_stored_by_the_mock_service_with_its_label_and_category():
    reset_mock()
    name = client().upload(small_sample(7), category="testing", label="idle")
    e = stored(name)
    assert e["category"] == "testing" and e["label"] == "idle"
    assert e["sample"]["payload"]["values"][6] == [6.0, -6.0, 9.81]
    assert e["sample"]["payload"]["device_name"] == "aa:bb:cc"


def test_json_upload_is_stored_too():
    name = client().upload(small_sample(3), label="wave", fmt="json", category="anomaly")
    e = stored(name)
    assert e["category"] == "anomaly" and len(e["sample"]["payload"]["values"]) == 3


def test_upload_files_returns_each_file_s_stored_name_in_order():
    results = client().upload_files(
        [("idle.1.cbor", small_sample(2)), ("idle.2.json", small_sample(3)),
         ("notes.csv", b"t,x\n0,1\n")], category="training")
    assert [r[:2] for r in results] == [("idle.1.cbor", True), ("idle.2.json", True),
                                        ("notes.csv", True)]
    names = [r[2] for r in results]
    assert stored(names[0])["label"] == "idle"
    assert stored(names[2])["size"] == 8


def test_wrong_api_key_raises_unauthorized_with_the_servers_text():
    e = raises(errors.Unauthorized, client(api_key="ei_" + "0" * 64).upload,
               small_sample())
    assert e.status == 401 and e.body
    assert "0000000000" not in str(e)


def test_statuses_map_to_distinct_error_classes():
    assert isinstance(errors.for_status(400, "x"), errors.BadRequest)
    assert isinstance(errors.for_status(401, "x"), errors.Unauthorized)
    assert isinstance(errors.for_status(421, "x"), errors.MissingHeader)
    assert isinstance(errors.for_status(500, "x"), errors.ServerError)
    e = errors.for_status(404, "no such path")
    assert type(e) is errors.IngestionError and e.status == 404 and e.body == "no such path"


def test_bad_input_is_refused_before_connecting():
    c = closed_port_client()
    s = small_sample()
    raises(ValueError, c.upload, s, category="validation")
    raises(ValueError, c.upload, s, fmt="xml")
    raises(ValueError, c.upload, s, label="idle\r\nX-Evil: 1")
    raises(ValueError, c.upload, s, file_name="")
    raises(TypeError, c.upload, [[1, 2, 3]])
    raises(ValueError, c.upload_files, [])
    raises(ValueError, c.upload_files, [("x.cbor", b"")] * 1001)
    raises(ValueError, c.upload_files, [("x.wav", s)])
    raises(TypeError, c.upload_files, [("x.cbor", 42)])


def test_api_key_must_look_like_one_and_is_never_repeated():
    for bad in ("", "6040df", "ei_xyz", None):
        e = raises(ValueError, ei.Client, bad)
        assert "ei_" in str(e)
    c = ei.Client(API_KEY, hmac_key="hmac-secret")
    assert API_KEY not in repr(c) and "hmac-secret" not in repr(c)


def test_unreachable_host_is_a_transport_error_naming_it():
    e = raises(errors.TransportError, closed_port_client().upload, small_sample())
    assert "127.0.0.1:9" in str(e)


def test_a_bad_row_mid_stream_closes_the_connection_and_nothing_is_stored():
    reset_mock()
    rows = [(1, 2, 3)] * 10 + [(1, 2)]
    s = ei.Sample(device_type="TEST", interval_ms=10, sensors=AXES, values=iter(rows), rows=11)
    e = raises(ValueError, client().upload, s, label="broken")
    assert "row 10" in str(e)
    assert stored() == []


def test_non_ascii_file_names_in_files_uploads_are_decoded_by_the_service():
    [(_, _, name)] = client().upload_files([("crème.01.cbor", small_sample(2))])
    e = stored(name)
    # the label is inferred with the page's regex ^[a-zA-Z0-9\s-_]+, which stops at "è"
    assert e["file_name"] == "crème.01.cbor" and e["label"] == "cr"


def body_of(hexed):
    return unhex(hexed).split(b"\r\n\r\n", 1)[1]


def test_the_default_body_is_float32_where_floats_are_single_and_float64_elsewhere():
    s = small_sample(20)
    body = body_of(echo_client().upload(s))
    f32 = encoded(s, encoder.Encoding(float32=True))
    f64 = encoded(s, encoder.Encoding(float32=False))
    assert body == (f32 if FLOAT32 else f64)
    assert len(f64) - len(f32) == 20 * 3 * 4  # 3-axis rows: 16 bytes, not 28 (43% fewer)


def rows_of(body, rows, width):
    """The values of a CBOR body's rows (each an array of 0xFA float32 or 0xFB float64)."""
    from struct import unpack_from
    from ei import cbor
    at = body.index(b"fvalues" + cbor.head(4, rows)) + 7 + len(cbor.head(4, rows))
    out = []
    for _ in range(rows):
        at += len(cbor.head(4, width))
        row = []
        for _ in range(width):
            single = body[at] == 0xFA
            row.append(unpack_from(">f" if single else ">d", body, at + 1)[0])
            at += 5 if single else 9
        out.append(row)
    return out


def test_the_default_body_holds_the_values_the_board_holds():
    s = ei.Sample(device_type="TEST", interval_ms=10, sensors=AXES)
    for i in range(10):
        s.append((i * 0.1, -9.81 + i / 3, 1 / (i + 3)))
    held = [list(r) for r in s.iter_rows()]  # float32 or float64, as this runtime keeps them
    assert rows_of(body_of(echo_client().upload(s)), 10, 3) == held


def test_a_capture_the_board_wrote_uploads_by_copying_its_rows_from_flash():
    # ei.sample(path=...) writes the board's float size; the default client's body then has
    # the same float width, and the rows go from the file to the socket as they are stored,
    # never unpacked (iter_rows, which would unpack them, fails here)
    import os
    from ei.sim import Accelerometer
    path = "/tmp/ei-client-capture-%s.eic" % tohex(os.urandom(4))
    try:
        s = ei.sample(Accelerometer("wave", seed=3), 1, 30, device_type="TEST", path=path)
        ram = ei.Sample(device_type="TEST", interval_ms=s.interval_ms, sensors=s.sensors,
                        values=[list(r) for r in s.iter_rows()])

        def unpacked():
            raise AssertionError("the rows were unpacked, not copied")

        s._source.iter_rows = unpacked
        body = body_of(echo_client().upload(s))
        assert body == encoded(ram, encoder.Encoding(float32=FLOAT32))
    finally:
        os.remove(path)


def test_appended_rows_larger_than_a_write_slice_go_out_whole_and_in_order():
    # 300 rows: 4.8 KB of appended rows' CBOR in float32, 8.4 KB in float64, handed to the
    # transport as views of at most 4 KB; room made first (rows=): one block, no growing
    c = echo_client()
    s = ei.Sample(device_name="aa:bb:cc", device_type="TEST", interval_ms=10, sensors=AXES,
                  rows=300)
    for i in range(300):
        s.append((i, -i, 9.81))
    request = unhex(c.upload(s, file_name="t.cbor"))
    head, _, body = request.partition(b"\r\n\r\n")
    assert len(body) > 4096 and body == encoded(s, c.encoding())


def test_a_body_written_in_small_pieces_reaches_the_server_in_whole_segments():
    # 6,000 rows of an iterable (96 KB of body in float32, 168 KB in float64) pass through the
    # 512-byte chunk buffer: 190 to 330 writes. Corked while the body goes out
    # (compat.nodelay(cork=1): every runtime here runs on Linux), the kernel sends them in
    # segments of up to 64 KB on loopback, and the server reads the body in a handful of
    # reads; sent as they come, each write is a segment of its own, and a server that keeps up
    # reads each one alone.
    n = 6000
    s = ei.Sample(device_type="TEST", interval_ms=10, sensors=AXES,
                  values=((i * 0.001, -1.0 - i, 9.81) for i in range(n)), rows=n)
    reads = int(client(echo_addr()).upload(s, file_name="reads"))
    assert 1 <= reads <= 16, reads
