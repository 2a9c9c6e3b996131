# Bad input is refused before any byte is sent: each test makes its call through the fault
# proxy and then reads the proxy's log, which shows that no connection was even opened.
from faults import log, proxy_addr, script
from fwtest import API_KEY, AXES, client as fw_client, raises, reset_mock, sample, scratch, stored

import ei

NAN = float("nan")
INF = float("inf")
SPARSE = scratch("ei-input-checks") + ".bin"
_NET = ("socket", "the Client talks over a socket (and the proxy's log shows what was sent): "
        "the nRF52840 (f32-nonet) has none")
# all on the emulated Pico ([rp2]): bad input refused the same way on the port
RP2 = "all"
ONLY = {name: _NET for name in (
    "test_control_characters_in_header_values_are_refused",
    "test_non_ascii_labels_and_file_names_are_percent_encoded_and_decoded_by_the_service",
    "test_a_bad_row_from_a_one_pass_source_stops_the_upload_and_nothing_is_stored",
    "test_empty_samples_are_refused",
    "test_more_than_1000_files_in_one_request_are_refused",
    "test_a_file_over_100_mb_is_refused",
    "test_an_api_key_that_is_not_ei_and_hex_is_refused",
    "test_unknown_categories_and_formats_are_refused")}


def client(**kw):
    return fw_client(proxy_addr(), retries=0, **kw)


def refused(error, fn, *args, **kw):
    """fn raises `error` and the proxy saw no connection at all."""
    script()
    e = raises(error, fn, *args, **kw)
    assert log() == [], "something reached the network"
    return e


def test_control_characters_in_header_values_are_refused():
    c = client()
    for bad in ("idle\r\nX-Evil: 1", "idle\n", "id\rle", "tab\there", "nul\x00", "del\x7f"):
        e = refused(ValueError, c.upload, sample(), label=bad)
        assert "label" in str(e) and "control character" in str(e)
        refused(ValueError, c.upload, sample(), file_name=bad + ".cbor")
        refused(ValueError, c.upload_files, [(bad + ".cbor", sample())])
        refused(ValueError, c.upload_files, [("ok.cbor", sample())], label=bad)
        refused(ValueError, c.upload_encoded, b"\xa0", bad + ".cbor")
        refused(ValueError, c.upload, sample(device_type=bad))
        refused(ValueError, ei.Client, API_KEY, host="example.com" + bad)
    refused(ValueError, ei.Client, API_KEY + "\r\nX-Evil: 1")


def test_non_ascii_labels_and_file_names_are_percent_encoded_and_decoded_by_the_service():
    reset_mock()
    script()
    c = client()
    name = c.upload(sample(), label="crème brûlée", file_name="açaí 1.cbor")
    headers = log()[0]["headers"]
    assert headers["x-label"] == "cr%C3%A8me%20br%C3%BBl%C3%A9e"
    assert headers["x-file-name"] == "a%C3%A7a%C3%AD%201.cbor"
    e = stored(name)
    assert e["label"] == "crème brûlée" and e["file_name"] == "açaí 1.cbor"


def test_nan_infinities_and_non_numbers_are_refused_when_the_sample_is_made():
    for bad in (NAN, INF, -INF):
        e = raises(ValueError, ei.Sample, device_type="T", interval_ms=10, sensors=AXES,
                   values=[[1, 2, 3], [1, bad, 3]])
        assert "row 1 value 1" in str(e)
        raises(ValueError, sample().append, (bad, 0, 0))
        raises(ValueError, ei.Sample, device_type="T", interval_ms=bad, sensors=AXES)
    for bad in ("1", None, True, [1], b"1"):
        raises(TypeError, ei.Sample, device_type="T", interval_ms=10, sensors=AXES,
               values=[[1, 2, bad]])
        raises(TypeError, sample().append, (0, bad, 0))


def test_rows_of_the_wrong_width_are_refused():
    e = raises(ValueError, ei.Sample, device_type="T", interval_ms=10, sensors=AXES,
               values=[[1, 2, 3], [1, 2]])
    assert "row 1 has 2 values" in str(e)
    raises(ValueError, sample().append, (1, 2, 3, 4))


def test_a_bad_row_from_a_one_pass_source_stops_the_upload_and_nothing_is_stored():
    # a one-pass source can only be checked as it streams: the server gets a short body
    reset_mock()
    s = ei.Sample(device_type="T", interval_ms=10, sensors=AXES,
                  values=iter([(1, 2, 3), (1, NAN, 3)]), rows=2)
    script()
    raises(ValueError, client().upload, s)
    assert stored() == []


def test_empty_samples_are_refused():
    c = client()
    empty = ei.Sample(device_type="T", interval_ms=10, sensors=AXES)
    refused(ValueError, c.upload, empty)
    refused(ValueError, c.upload_files, [("a.cbor", empty)])
    refused(ValueError, c.upload_files, [])
    refused(ValueError, c.upload_encoded, b"", "a.cbor")
    raises(ValueError, ei.Sample, device_type="T", interval_ms=10, sensors=[])


def test_more_than_1000_files_in_one_request_are_refused():
    e = refused(ValueError, client().upload_files, [("x.csv", b"1")] * 1001)
    assert "1001 files" in str(e) and "1000" in str(e)


def _sparse(size):
    with open(SPARSE, "wb") as f:
        f.seek(size - 1)
        f.write(b"\0")


def test_a_file_over_100_mb_is_refused():
    # a sparse file: 100 MB and a byte on the file system's books, nothing on its disk
    _sparse(100 * 1024 * 1024 + 1)
    try:
        c = client()
        e = refused(ValueError, c.upload_files, [("big.csv", SPARSE)])
        assert "104857601 bytes" in str(e)
        with open(SPARSE, "rb") as f:
            refused(ValueError, c.upload_files, [("big.csv", f)])
            refused(ValueError, c.upload_encoded, f, "big.cbor")
        refused(ValueError, c.upload_encoded, SPARSE, "big.cbor")
    finally:
        import os
        os.remove(SPARSE)


def test_an_api_key_that_is_not_ei_and_hex_is_refused():
    for bad in ("", "ei_", "6040df08", "EI_6040df08", "ei_6040dg08", "ei_60 40", None, 42):
        e = raises(ValueError, ei.Client, bad)
        assert "'ei_' followed by hex" in str(e)


def test_unknown_categories_and_formats_are_refused():
    c = client()
    refused(ValueError, c.upload, sample(), category="validation")
    refused(ValueError, c.upload, sample(), fmt="xml")
    refused(ValueError, c.upload_encoded, b"\xa0", "a.cbor", category="Training")
    refused(ValueError, c.upload_encoded, b"\xa0", "a.wav")
