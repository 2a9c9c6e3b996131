"""The local service takes what Edge Impulse's own clients send, as the real service does: the CLI
uploader's requests, the firmware's Ref-BINARY samples, the SDK's split category and JSON objects,
and plain CSV, WAV, PNG and JPEG files; and it refuses what the real service cannot read.
"""
import json
import urllib.parse

import cbor2
import pytest

from service import API_KEY, BAD_CSV, DUPLICATE, MockServer, split_category
from service_client import (CSV, binary_sample, describe, encode, entry, jpeg_bytes, png_bytes, post_data,
                            post_files, request, reset,                            sample, stored, wav_bytes)

HMAC_KEY = "bench-hmac-key"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = MockServer(tmp_path_factory.mktemp("fidelity"), hmac_keys=(HMAC_KEY,)).start()
    yield s
    s.stop()


# ---- Ref-BINARY values, as Edge Impulse's firmware writes them ------------------------------

def test_a_ref_binary_i16_sample_is_stored_with_its_rows():
    rows = [[i * 7 - 100] for i in range(40)]
    summary, obj, values = describe("audio.cbor", binary_sample(rows), "application/cbor")
    assert (summary["kind"], summary["binary"], summary["rows"]) == ("acquisition", "i16", 40)
    assert values == rows and obj["payload"]["values"][0].startswith("Ref-BINARY-i16")


def test_ref_binary_rows_interleave_the_sensors(server):
    rows = [[1, -1], [2, -2], [32767, -32768]]
    body = binary_sample(rows, sensors=(("audio", "wav"), ("audio2", "wav")))
    a = post_data(server, body, file_name="stereo.cbor")
    assert a.status == 200
    e = entry(server, "stereo.cbor")
    assert (e["rows"], e["binary"]) == (3, "i16")
    detail = request(server, "GET", "/samples/%d" % e["sample_id"]).json()
    assert detail["values"] == rows


def test_a_signed_ref_binary_sample_is_verified_over_its_raw_data(server):
    rows = [[i] for i in range(16)]
    good = post_data(server, binary_sample(rows, key=HMAC_KEY), file_name="signed.cbor", x_add_date_id="1")
    bad = post_data(server, binary_sample(rows, key="another-key"), file_name="forged.cbor", x_add_date_id="1")
    assert (entry(server, good.text)["signature_valid"], entry(server, bad.text)["signature_valid"]) == (True, False)


@pytest.mark.parametrize("why,body", [
    ("a half row", binary_sample([[1, 2]], sensors=(("a", "u"), ("b", "u")))[:-1]),
    ("no data", binary_sample([])),
    ("an unknown type", binary_sample([[1]], kind="f64")),
])
def test_a_ref_binary_sample_that_cannot_be_read_is_400(server, why, body):
    a = post_data(server, body, file_name="broken.cbor")
    assert a.status == 400 and "Invalid message" in a.text, why


def test_bytes_after_a_cbor_sample_without_ref_binary_are_still_refused(server):
    a = post_data(server, cbor2.dumps(sample()) + b"\x01\x02", file_name="trailing.cbor")
    assert a.status == 400 and "after the end" in a.text


# ---- Edge Impulse's CLI uploader ------------------------------------------------------------

def cli_request(server, files, label=None, category="training", unlabeled=False, allow_duplicates=False):
    """A request as edge-impulse-uploader sends it (form-data's multipart, encodeURIComponent for
    the label, x-disallow-duplicates unless --allow-duplicates), with several files in it."""
    boundary = "--------------------------" + "394857261039485726103948"
    body = b""
    for name, ctype, data in files:
        body += ("--%s\r\nContent-Disposition: form-data; name=\"data\"; filename=\"%s\"\r\n"
                 "Content-Type: %s\r\n\r\n" % (boundary, name, ctype)).encode() + data + b"\r\n"
    body += ("--%s--\r\n" % boundary).encode()
    headers = {"x-api-key": API_KEY, "x-upload-source": "EDGE_IMPULSE_CLI_UPLOADER", "Connection": "keep-alive",
               "x-device-type": "EDGE_IMPULSE_CLI", "Content-Type": "multipart/form-data; boundary=" + boundary}
    if label is not None:
        headers["x-label"] = urllib.parse.quote(label, safe="-_.!~*'()")
    if unlabeled:
        headers["x-label"], headers["x-no-label"] = "", "1"
    if not allow_duplicates:
        headers["x-disallow-duplicates"] = "1"
    return request(server, "POST", "/api/%s/files" % category, body, headers)


def test_a_cli_upload_of_several_files_stores_each_with_the_decoded_label(server):
    files = [("knock.1.wav", "audio/wav", wav_bytes(10)), ("knock.2.csv", "text/csv", CSV),
             ("knock.3.cbor", "application/cbor", cbor2.dumps(sample())), ("knock.4.png", "image/png", png_bytes(3, 3))]
    a = cli_request(server, files, label="door knock/é")
    assert a.status == 200 and a.json()["success"] is True
    assert [f["fileName"] for f in a.json()["files"]] == [f[0] for f in files]
    assert {entry(server, f[0])["label"] for f in files} == {"door knock/é"}


def test_a_cli_upload_of_a_file_already_stored_is_refused_with_the_duplicate_text(server):
    data = wav_bytes(12)
    assert cli_request(server, [("dup.1.wav", "audio/wav", data)], label="dup").status == 200
    a = cli_request(server, [("dup.2.wav", "audio/wav", data)], label="dup")
    assert a.status == 400 and a.json()["error"].startswith(DUPLICATE)
    assert a.json()["files"][0]["error"].startswith(DUPLICATE)
    assert cli_request(server, [("dup.3.wav", "audio/wav", data)], label="dup", allow_duplicates=True).status == 200


def test_a_cli_upload_without_a_label_stores_none(server):
    a = cli_request(server, [("idle.9.wav", "audio/wav", wav_bytes(13))], unlabeled=True)
    assert a.status == 200 and entry(server, "idle.9.wav")["label"] is None


# ---- the SDK's ways ---------------------------------------------------------------------------

def test_split_puts_each_file_in_training_or_testing_by_the_clis_md5_rule(server):
    bodies = [cbor2.dumps(sample()) for _ in range(12)]
    a = post_files(server, [("data", "s%d.cbor" % i, "application/cbor", b) for i, b in enumerate(bodies)],
                   category="split")
    assert a.status == 200
    for i, b in enumerate(bodies):
        assert entry(server, "s%d.cbor" % i)["category"] == split_category(b)
    assert {split_category(b"%d" % i) for i in range(50)} == {"training", "testing"}


def test_interval_ms_0_is_a_sample_that_is_not_a_time_series(server):
    a = post_data(server, encode(sample(interval_ms=0), "cbor"), file_name="still.cbor")
    assert a.status == 200 and entry(server, "still.cbor")["interval_ms"] == 0


def test_a_json_object_in_a_part_typed_cbor_is_read_as_json(server):
    # The SDK sends a DataAcquisition as json.dumps(...) in a part typed application/cbor.
    obj = dict(sample(), signature=None)
    obj["protected"]["iat"] = None
    a = post_files(server, [("data", "acq", "application/cbor", json.dumps(obj).encode())])
    assert a.status == 200 and entry(server, "acq")["content_type"] == "application/json"


def test_a_null_signature_is_only_for_alg_none(server):
    obj = dict(sample(alg="HS256"), signature=None)
    assert post_data(server, encode(obj, "json"), fmt="json").status == 400


def test_structured_labels_ride_along_with_their_file_and_are_not_a_sample(server):
    labels = [{"label": "noise", "startIndex": 0, "endIndex": 1}]
    doc = {"version": 1, "type": "structured-labels", "structuredLabels": {"multi.csv": labels}}
    a = post_files(server, [("data", "multi.csv", "text/csv", CSV),
                            ("data", "structured_labels.labels", "application/json", json.dumps(doc).encode())])
    assert a.status == 200 and [f["fileName"] for f in a.json()["files"]] == ["multi.csv"]
    assert entry(server, "multi.csv")["structured_labels"] == labels


def test_x_metadata_is_kept_and_must_be_a_json_object(server):
    body = encode(sample(), "cbor")
    assert post_data(server, body, file_name="meta.cbor", x_metadata='{"site": "bench 2"}').status == 200
    assert entry(server, "meta.cbor")["metadata"] == {"site": "bench 2"}
    a = post_data(server, body, file_name="meta2.cbor", x_metadata="{not json")
    assert a.status == 400 and "x-metadata" in a.text


def test_data_reads_its_body_as_its_content_type_says_whatever_the_name(server):
    a = post_data(server, encode(sample(), "json"), fmt="json", file_name="named.cbor")
    assert a.status == 200 and entry(server, "named.cbor")["content_type"] == "application/json"


# ---- plain files ------------------------------------------------------------------------------

def test_a_timestamped_csv_is_a_time_series_at_its_mean_interval():
    summary, _, rows = describe("t.csv", CSV, "text/csv")
    assert (summary["kind"], summary["interval_ms"], summary["rows"]) == ("csv", 10, 3)
    assert [s["name"] for s in summary["sensors"]] == ["accX", "accY"] and rows[2] == [1.0, -3.0]


def test_a_csv_without_timestamps_is_one_sample_of_one_row():
    summary, _, rows = describe("one.csv", b"t,x\n0,1\n", "text/csv")
    assert (summary["interval_ms"], rows) == (0, [[0.0, 1.0]])


@pytest.mark.parametrize("body", [b"", b"1234567890", b"accX,accY\n1,2\n3,4\n", b"timestamp,a\n0,1\n0,2\n",
                                  b"timestamp,a\n0,x\n", b"timestamp,a,b\n0,1\n", b"a,a\n1,2\n",
                                  b"timestamp,a\n0,nan\n", b"\xff\xfe\x00", b"timestamp\n0\n1\n"])
def test_a_csv_the_service_cannot_read_is_400_with_its_words(server, body):
    a = post_files(server, [("data", "bad.csv", "text/csv", body)])
    assert a.status == 400 and a.json()["error"].startswith(BAD_CSV) and a.json()["files"][0]["fileName"] == "bad.csv"


@pytest.mark.parametrize("channels,width", [(1, 2), (2, 2), (1, 1), (1, 3), (1, 4)])
def test_a_pcm_wav_is_a_time_series_a_channel_an_axis(channels, width):
    summary, _, rows = describe("w.wav", wav_bytes(6, rate=8000, channels=channels, width=width), "audio/wav")
    assert (summary["kind"], summary["interval_ms"], summary["rows"], len(summary["sensors"])) == (
        "audio", 0.125, 6, channels)
    assert len(rows[0]) == channels


@pytest.mark.parametrize("file_name,body,reason", [("x.wav", b"RIFF\x00\x00", "WAV"), ("x.wav", b"", "WAV"),
                                                   ("x.png", b"\x89PNG", "image"), ("x.jpg", b"\xff\xd8\xff\xd9", "image"),
                                                   ("x.png", jpeg_bytes()[:5], "image")])
def test_a_wav_or_image_the_service_cannot_read_is_400(server, file_name, body, reason):
    a = post_files(server, [("data", file_name, "application/octet-stream", body)])
    assert a.status == 400 and reason in a.text and file_name in a.text


def test_images_keep_their_size():
    assert describe("p.png", png_bytes(5, 4), "image/png")[0]["width"] == 5
    summary = describe("j.jpg", jpeg_bytes(640, 480), "image/jpeg")[0]
    assert (summary["kind"], summary["width"], summary["height"]) == ("image", 640, 480)


def test_other_files_are_kept_as_they_came(server):
    reset(server)
    assert post_files(server, [("data", "clip.mp4", "video/mp4", b"\x00\x00\x00\x18ftypmp42")]).status == 200
    e = stored(server)[0]
    assert (e["kind"], e["content_type"], e["rows"]) == ("file", "video/mp4", None)


def test_a_signature_over_the_ref_binary_header_alone_is_not_valid(server):
    """A signature is valid only when it covers every value stored: here not the raw data."""
    import cbor2
    import hashlib
    import hmac
    body = binary_sample([[1], [2], [3]], key=None)
    obj = cbor2.loads(body)  # the header alone (cbor2 stops before the raw data)
    obj["protected"]["alg"] = "HS256"
    obj["signature"] = "0" * 64
    header_sig = hmac.new(HMAC_KEY.encode(), cbor2.dumps(obj), hashlib.sha256).hexdigest()
    forged = body.replace(b'"alg": "none"', b"").replace(cbor2.dumps("none"), cbor2.dumps("HS256"), 1)
    forged = forged.replace(b"0" * 64, header_sig.encode(), 1)
    a = post_data(server, forged, file_name="header-only.cbor", x_add_date_id="1")
    assert a.status == 200 and entry(server, a.text)["signature_valid"] is False
