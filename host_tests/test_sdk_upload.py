"""Edge Impulse's own Python SDK (`edgeimpulse` on PyPI, pinned in requirements.txt) uploads to
the local service as it would to the real one: EI_INGESTION_ENDPOINT and EI_API_KEY point it here.

The SDK runs in a subprocess, configured only by those two variables as a user would configure
it; it prints what upload_samples answered, as JSON, for the test to check against the store.
"""
import json
import os
import subprocess
import sys

import cbor2
import pytest

from service import API_KEY, BAD_CSV, DUPLICATE, MockServer
from service_client import CSV, png_bytes, request, sample, wav_bytes

# What the SDK is asked to do: each step is one upload_samples (or upload_numpy) call.
SCRIPT = r'''
import io, json, sys
from edgeimpulse import data
from edgeimpulse.data.sample_type import DataAcquisition, Payload, Protected, Sample, Sensor

files = json.loads(sys.stdin.read())
def blob(name):
    return io.BytesIO(bytes.fromhex(files[name]))

def report(resp):
    return {"successes": [{"file": s.filename, "id": s.sample_id, "category": s.sample.category}
                          for s in resp.successes],
            "fails": [{"file": f.sample.filename, "error": f.error} for f in resp.fails]}

out = {}
# Sample objects around files, in the SDK's default category "split" and in named ones.
out["files"] = report(data.upload_samples([
    Sample(filename="wave.01.cbor", data=blob("cbor"), label="wave", metadata={"source": "bench"}),
    Sample(filename="wave.02.json", data=blob("json"), category="training", label="wave"),
    Sample(filename="good.01.csv", data=blob("csv"), category="testing", label="good"),
    Sample(filename="hadouken.01.wav", data=blob("wav"), category="anomaly", label="hadouken"),
    Sample(filename="capacitor.01.png", data=blob("png"), category="training", label="capacitor"),
]))
# A DataAcquisition object: sent as JSON (interval_ms 0 by default, signature null).
acq = DataAcquisition(protected=Protected(), payload=Payload(
    device_type="SDK_TEST", sensors=[Sensor(name="accX", units="m/s2"), Sensor(name="accY", units="m/s2")],
    values=[[1.0, 2.0], [3.0, 4.0], [5.0, 6.5]], interval_ms=0))
out["acquisition"] = report(data.upload_samples(Sample(filename="acq.01.json", data=acq, label="still")))
# upload_numpy: one JSON sample per row, category split, the SDK's own random names.
out["numpy"] = report(data.upload_numpy(
    data=[[[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.6], [0.7, 0.8]]], labels=["up", "down"],
    sensors=[Sensor(name="x", units="m/s2"), Sensor(name="y", units="m/s2")], sample_rate_ms=20))
# The same bytes again, duplicates refused (the SDK's default).
out["duplicate"] = report(data.upload_samples(Sample(filename="wave.03.cbor", data=blob("cbor"), label="wave")))
# What the real service refuses, the SDK reports as fails with the service's text.
out["bad_csv"] = report(data.upload_samples(Sample(filename="bad.01.csv", data=blob("bad_csv"), label="bad")))
out["bad_key"] = report(data.upload_samples(Sample(filename="k.png", data=blob("png")), api_key="ei_not_a_key"))
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def uploaded(tmp_path_factory):
    server = MockServer(tmp_path_factory.mktemp("sdk")).start()
    files = {"cbor": cbor2.dumps(sample()), "json": json.dumps(sample()).encode(), "csv": CSV,
             "wav": wav_bytes(), "png": png_bytes(),
             "bad_csv": b"accX,accY\n1,2\n3,4\n"}  # no timestamp column, yet two rows
    env = dict(os.environ, EI_INGESTION_ENDPOINT=server.url, EI_API_KEY=API_KEY)
    try:
        r = subprocess.run([sys.executable, "-c", SCRIPT], input=json.dumps({k: v.hex() for k, v in files.items()}),
                           env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        yield json.loads(r.stdout.strip().splitlines()[-1]), request(server, "GET", "/_mock/samples").json()
    finally:
        server.stop()


def test_upload_samples_of_every_kind_of_file_all_succeed_with_sample_ids(uploaded):
    out, stored = uploaded
    files = out["files"]
    assert files["fails"] == []
    assert sorted(s["file"] for s in files["successes"]) == sorted(
        ["wave.01.cbor", "wave.02.json", "good.01.csv", "hadouken.01.wav", "capacitor.01.png"])
    ids = {e["sample_id"] for e in stored}
    assert all(s["id"] in ids for s in files["successes"])


def test_the_sdk_default_category_split_lands_in_training_or_testing(uploaded):
    _, stored = uploaded
    e = next(e for e in stored if e["name"] == "wave.01.cbor")
    assert e["category"] in ("training", "testing")
    assert (e["label"], e["metadata"], e["upload_source"]) == ("wave", {"source": "bench"}, "EDGE_IMPULSE_PYTHON_SDK")


def test_named_categories_and_labels_are_kept(uploaded):
    _, stored = uploaded
    where = {e["name"]: (e["category"], e["label"], e["kind"]) for e in stored}
    assert where["good.01.csv"] == ("testing", "good", "csv")
    assert where["hadouken.01.wav"] == ("anomaly", "hadouken", "audio")
    assert where["capacitor.01.png"] == ("training", "capacitor", "image")


def test_a_data_acquisition_object_with_interval_0_and_a_null_signature_is_stored(uploaded):
    out, stored = uploaded
    assert out["acquisition"]["fails"] == [] and len(out["acquisition"]["successes"]) == 1
    e = next(e for e in stored if e["name"] == "acq.01.json")
    assert (e["interval_ms"], e["rows"], e["device_type"], e["signed"]) == (0, 3, "SDK_TEST", False)
    assert e["sample"]["signature"] is None


def test_upload_numpy_stores_one_time_series_a_row(uploaded):
    out, stored = uploaded
    assert out["numpy"]["fails"] == [] and len(out["numpy"]["successes"]) == 2
    numpy = [e for e in stored if e.get("device_type") == "EDGE_IMPULSE_PYTHON_SDK"]
    assert sorted(e["label"] for e in numpy) == ["down", "up"]
    assert all(e["interval_ms"] == 20 and e["rows"] == 2 for e in numpy)


def test_a_duplicate_fails_with_the_real_services_words(uploaded):
    out, _ = uploaded
    assert out["duplicate"]["successes"] == []
    assert out["duplicate"]["fails"][0]["error"].startswith(DUPLICATE)


def test_a_csv_file_without_timestamps_fails_as_the_sdk_tests_expect(uploaded):
    out, stored = uploaded
    assert out["bad_csv"]["fails"][0]["error"].startswith(BAD_CSV)
    assert "bad.01.csv" not in [e["name"] for e in stored]


def test_a_wrong_api_key_fails_with_invalid_api_key(uploaded):
    out, _ = uploaded
    assert [f["error"] for f in out["bad_key"]["fails"]] == ["Invalid API key"]
