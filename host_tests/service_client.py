"""How the service tests talk to the local ingestion service and make what they send: HTTP
requests on loopback, data acquisition objects, multipart bodies, signed bodies, and the media
files (WAV, PNG, JPEG, CSV, Ref-BINARY CBOR) Edge Impulse's clients upload. Not a test module.
"""
import hashlib
import hmac
import http.client
import io
import itertools
import json
import os
import re
import struct
import time
import wave
import zlib

import cbor2

from service import API_KEY, inspect_file, series
from service.files import decoded

HERE = os.path.dirname(os.path.abspath(__file__))
HMAC_KEY = "a-project-hmac-key"
_unique = itertools.count()


class Answer:
    def __init__(self, status, content_type, body, headers=()):
        self.status, self.content_type, self.body = status, content_type, body
        self.headers = {k.lower(): v for k, v in headers}
        self.text = body.decode("utf-8", "replace")

    def next_page(self):
        """The address of the next page (the Link header's rel="next"), or None."""
        m = re.match(r'<([^>]*)>;\s*rel="next"', self.headers.get("link", ""))
        return m.group(1) if m else None

    def json(self):
        return json.loads(self.text)


def request(srv, method, path, body=b"", headers=None, key=API_KEY):
    """One request on a connection of its own. A GET carries `key` as x-api-key unless the
    headers say otherwise (reads are a project's: key=None to send none)."""
    headers = dict(headers or {})
    if method == "GET" and key is not None and not any(k.lower() == "x-api-key" for k in headers):
        headers["x-api-key"] = key
    c = http.client.HTTPConnection(srv.host, srv.port, timeout=10)
    try:
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        return Answer(r.status, r.getheader("Content-Type") or "", r.read(), r.getheaders())
    finally:
        c.close()


def until(condition, timeout=10):
    """condition()'s first true value, asked every 50 ms; AssertionError after timeout s."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("not within %s s" % timeout)


def every_page(srv, path, key=API_KEY):
    """Every entry of a paged list (/samples, /devices), following its next pages; with the
    number of pages as (entries, pages)."""
    entries, pages = [], 0
    while path:
        a = request(srv, "GET", path, key=key)
        assert a.status == 200, a.text[:300]
        entries += a.json()
        pages += 1
        path = a.next_page()
    return entries, pages


def sample(values=None, sensors=None, alg="none", **payload):
    """A data acquisition object; each call is different bytes (a unique device_name)."""
    if sensors is None:
        sensors = [{"name": "accX", "units": "m/s2"}, {"name": "accY", "units": "m/s2"},
                   {"name": "accZ", "units": "m/s2"}]
    body = {"device_name": "dev-%d" % next(_unique), "device_type": "MOCK_TEST", "interval_ms": 10.0,
            "sensors": sensors, "values": values if values is not None else [[0.1, -0.2, 9.81], [0.2, -0.1, 9.8]]}
    body.update(payload)
    return {"payload": body, "protected": {"ver": "v1", "alg": alg}, "signature": "0" * 64}


def encode(obj, fmt):
    return cbor2.dumps(obj) if fmt == "cbor" else json.dumps(obj).encode()


def post_data(srv, body, fmt="cbor", category="training", file_name="idle.cbor", key=API_KEY, **headers):
    h = {"Content-Type": "application/" + fmt}
    if key is not None:
        h["x-api-key"] = key
    if file_name is not None:
        h["x-file-name"] = file_name
    h.update({k.replace("_", "-"): v for k, v in headers.items()})
    return request(srv, "POST", "/api/%s/data" % category, body, h)


def multipart(parts, boundary="mockboundary1234"):
    """parts: (field name, file name or None, content type, bytes)."""
    out = b""
    for name, file_name, ctype, data in parts:
        disp = 'form-data; name="%s"' % name
        if file_name is not None:
            disp += '; filename="%s"' % file_name
        out += b"--%s\r\nContent-Disposition: %s\r\nContent-Type: %s\r\n\r\n" % (
            boundary.encode(), disp.encode(), ctype.encode())
        out += data + b"\r\n"
    return out + b"--%s--\r\n" % boundary.encode(), "multipart/form-data; boundary=" + boundary


def post_files(srv, parts, category="training", key=API_KEY, **headers):
    body, ctype = multipart(parts)
    h = {"Content-Type": ctype, "x-api-key": key}
    h.update({k.replace("_", "-"): v for k, v in headers.items()})
    return request(srv, "POST", "/api/%s/files" % category, body, h)


def stored(srv):
    return request(srv, "GET", "/_mock/samples").json()


def entry(srv, name):
    matches = [e for e in stored(srv) if e["name"] == name]
    assert len(matches) == 1, (name, [e["name"] for e in stored(srv)])
    return matches[0]


def stored_bytes(srv, name, category="training"):
    """The bytes the service keeps for the sample stored as `name` (read through its store)."""
    [meta] = [e for e in srv.store.metadata(category=category) if e["name"] == name]
    with open(srv.store.path(meta["sample_id"]), "rb") as f:
        return f.read()


def reset(srv):
    assert request(srv, "POST", "/_mock/reset", headers={"x-api-key": API_KEY}).status == 200


def wav_bytes(frames=8, rate=16000, channels=1, width=2):
    """A PCM WAV file, as the wave module writes it: a ramp on every channel."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<" + "h" * channels, *([i * 100] * channels)) for i in range(frames))
                      if width == 2 else bytes(frames * channels * width))
    return out.getvalue()


def png_bytes(width=2, height=1):
    """A valid grey PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def jpeg_bytes(width=3, height=2):
    """The head of a baseline JPEG as far as its frame header (SOF0), then its end marker."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


CSV = b"timestamp,accX,accY\n0,1.5,-2\n10,1.25,-2.5\n20,1,-3\n"


def seed():
    """The Ingestion API page's example (host_tests/vectors/seed_example.json)."""
    with open(os.path.join(HERE, "vectors", "seed_example.json")) as f:
        return json.load(f)




def sign(obj, fmt, key=HMAC_KEY, **cbor_options):
    """Sign as a client does: HMAC over the object with 64 '0's as its signature."""
    obj = dict(obj, protected={"ver": "v1", "alg": "HS256"}, signature="0" * 64)
    zeroed = cbor2.dumps(obj, **cbor_options) if fmt == "cbor" else json.dumps(obj).encode()
    sig = hmac.new(key.encode(), zeroed, hashlib.sha256).hexdigest()
    obj["signature"] = sig
    return cbor2.dumps(obj, **cbor_options) if fmt == "cbor" else json.dumps(obj).encode()


def binary_sample(rows, sensors=(("audio", "wav"),), kind="i16", key=None, device_name="mic-1"):
    """The bytes sensor_aq and insert_ref() write: the CBOR header with `values` left open as an
    indefinite array, the padded "Ref-BINARY-i16" text, the array's break, then the raw samples."""
    head = cbor2.dumps({"protected": {"ver": "v1", "alg": "HS256" if key else "none"},
                        "signature": "0" * 64,
                        "payload": {"device_name": device_name, "device_type": "NICLA", "interval_ms": 0.0625,
                                    "sensors": [{"name": n, "units": u} for n, u in sensors], "values": []}})
    assert head.endswith(b"\x80")
    head = head[:-1] + b"\x9f"          # `values` open, as sensor_aq_init leaves it
    pad = (4 - len(head) % 4) % 4      # so the raw data starts 4-byte aligned
    ref = ("Ref-BINARY-" + kind + " " * pad).encode()
    body = head + bytes([0x60 + len(ref)]) + ref + b"\xff"
    body += b"".join(struct.pack("<%dh" % len(r), *r) for r in rows)
    if key:
        sig = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
        body = body.replace(b"0" * 64, sig.encode(), 1)
    return body


def describe(file_name, body, content_type, hmac_keys=(), fmt=None):
    """What the service makes of one file's bytes, as (summary, decoded data acquisition object
    or None, every row of values or None); Rejected for what it refuses."""
    summary = inspect_file(file_name, io.BytesIO(body), content_type, hmac_keys, fmt)
    return summary, decoded(summary, io.BytesIO(body)), series(summary, io.BytesIO(body))[1]
