"""The local ingestion service: a stand-in for Edge Impulse's Ingestion API, with a dashboard.

A real HTTP server (Werkzeug) for host tests, `make serve` and `make mock-server`. It answers
POST /api/{training,testing,anomaly}/{data,files} (and /api/split/files) as the Ingestion API
page documents (shared/seed) and as Edge Impulse's own clients expect: the Python SDK, the CLI
uploader, device firmware. It checks every file it is given, keeps what it accepts under
data_dir/<category>/ (a sample and its metadata, each written whole or not at all), and shows it
at / . It shares no code with firmware/, so it checks the hand-written client independently.

    python -m service --port 8000 --host 127.0.0.1 --data data/mock \
        [--api-key K ...] [--hmac-key K ...] [--timeout S]

Routes besides the ingestion API (no API key: bind to loopback, the default):
    GET  /                      the dashboard (service/dashboard/)
    GET  /samples               stored samples' metadata, oldest first (?category=&label=)
    GET  /samples/<id>          one sample's metadata and its axes over time
    GET  /samples/<id>/raw      the file as received;  GET /samples/<id>/csv  its values as CSV
    GET  /events                server-sent events: `change` whenever the store changes
    GET  /_mock/samples         test API: every entry with its decoded data acquisition object
    POST /_mock/reset           test API: forget everything
"""
import argparse
import csv
import datetime
import hashlib
import hmac
import io
import json
import math
import os
import re
import shutil
import struct
import tempfile
import threading
import time
import urllib.parse
import uuid
import wave

import cbor2
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

API_KEY = "ei_6040df080906d06f090e05013b7090580b707a0b050eb04d00350504070a2040"
CATEGORIES = ("training", "testing", "anomaly")
SPLIT = "split"                      # /api/split/files: training or testing, chosen per file
MAX_FILES = 1000                     # documented: files in one /files request
MAX_FILE_BYTES = 100 * 1024 * 1024   # documented: size of one file
MAX_NAME_BYTES = 200                 # the service's own limit: a stored name must fit a file system name
TIMEOUT = 10.0                       # seconds a client may stay silent while sending a request
MIN_RATE = 1024                      # bytes/s a body must average once TIMEOUT seconds have passed
EMPTY_SIGNATURE = "0" * 64           # what the signature is replaced by before the HMAC is computed
# The page's regex is JavaScript, ^[a-zA-Z0-9\s-_]+ : there the '-' after the class escape \s is literal.
LABEL_RE = re.compile(r"^[a-zA-Z0-9\s\-_]+")
# The real service's words for a duplicate. Edge Impulse's Python SDK test `test_upload_duplicates`
# (edgeimpulse/python-sdk, tests/test_data_upload.py), run against the live service, asserts that the
# error starts with this sentence, and OpenMV IDE's uploader checks the same prefix on a failed
# /data reply. Neither shows the status: 400 is the page's code for a refused message.
DUPLICATE = "An item with this hash already exists"
# The same SDK test suite expects this prefix for a CSV file the service cannot read.
BAD_CSV = "Could not parse this CSV file"
# Binary values: Edge Impulse's firmware (sensor_aq, the microphone drivers) writes the CBOR header
# with `values` as an indefinite array holding one text, "Ref-BINARY-i16" padded with spaces so the
# raw data starts 4-byte aligned, closes the array, and appends the raw little-endian samples.
BINARY_REF = "Ref-BINARY-"
BINARY_TYPES = {"i16": "<h"}
STRUCTURED_LABELS = "structured_labels.labels"  # the SDK's companion part: labels for the other file
_TMP = ".tmp-"                       # prefix of half-written files; never a sample
_FORMATS = {"application/cbor": "cbor", "application/json": "json"}
_CONTENT_TYPES = {"cbor": "application/cbor", "json": "application/json"}
# As Edge Impulse's CLI uploader names them (EXTENSION_MAPPING in its uploader).
_EXTENSIONS = {".wav": "audio/wav", ".cbor": "application/cbor", ".json": "application/json",
               ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".csv": "text/csv",
               ".txt": "text/plain", ".mp4": "video/mp4", ".avi": "video/avi"}
HERE = os.path.dirname(os.path.abspath(__file__))
DASHBOARD = os.path.join(HERE, "dashboard")
_STATIC = {"index.html": "text/html", "app.js": "text/javascript", "style.css": "text/css"}


class Rejected(Exception):
    """A request the service refuses: the status and the text/plain body that says why."""

    def __init__(self, status, text, headers=None):
        super().__init__(text)
        self.status = status
        self.text = text
        self.headers = headers or {}


def _text(status, body, **headers):
    return Response(body, status=status, content_type="text/plain; charset=utf-8", headers=headers)


def _json(obj, status=200):
    return Response(json.dumps(obj), status=status, content_type="application/json")


def _flag(headers, name):
    """A yes/no header: set when present, unless it says 0 or false."""
    value = headers.get(name)
    return value is not None and value.strip().lower() not in ("0", "false")


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _finite(v):
    return isinstance(v, int) or math.isfinite(v)


def _base36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


def _jsonable(obj):
    """A decoded sample as plain JSON: bytes as hex, NaN/inf and CBOR oddities as strings."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, (bytes, bytearray)):
        return bytes(obj).hex()
    return repr(obj)


def infer_label(file_name):
    """Edge Impulse's label from a file name: `idle.01` -> `idle`; None when nothing matches."""
    m = LABEL_RE.match(file_name)
    return m.group(0) if m else None


def split_category(body):
    """Where /api/split puts a file: the rule of Edge Impulse's CLI uploader, an 80/20 split on
    the MD5 of the content (first hex digit that is not 'f': 0-b training, c-e testing)."""
    digit = hashlib.md5(body).hexdigest().lstrip("f")[:1]
    return "testing" if digit in ("c", "d", "e") else "training"


# ---- the data acquisition format ------------------------------------------------------------

def decode_sample(body, fmt):
    """Decode a CBOR or JSON body: (object, raw bytes after it for Ref-BINARY values, else None).
    400 when it is not one whole, valid document."""
    try:
        if fmt == "cbor":
            fp = io.BytesIO(body)
            obj = cbor2.CBORDecoder(fp).decode()
            rest = body[fp.tell():]
            if rest and _binary_type(obj) is None:
                raise ValueError("%d bytes after the end of the first item" % len(rest))
            return obj, (rest if _binary_type(obj) is not None else None)
        return json.loads(body.decode("utf-8")), None
    except Exception as e:  # cbor2 and json raise many kinds on garbage
        raise Rejected(400, "Invalid message: body is not valid %s (%s)" % (fmt.upper(), e))


def _binary_type(obj):
    """'i16' when payload.values is a Ref-BINARY reference, else None."""
    try:
        values = obj["payload"]["values"]
        if len(values) == 1 and isinstance(values[0], str) and values[0].startswith(BINARY_REF):
            return values[0][len(BINARY_REF):].strip()
    except (TypeError, KeyError, IndexError):
        pass
    return None


def _binary_rows(kind, raw, width):
    if kind not in BINARY_TYPES:
        raise Rejected(400, "Invalid message: payload.values is %s%s; binary values are %s" % (
            BINARY_REF, kind, ", ".join(BINARY_REF + t for t in BINARY_TYPES)))
    fmt = BINARY_TYPES[kind]
    row_bytes = struct.calcsize(fmt) * width
    if not raw or len(raw) % row_bytes:
        raise Rejected(400, "Invalid message: %d bytes of %s data after the CBOR header are not whole rows "
                            "of %d values" % (len(raw), kind, width))
    flat = struct.unpack("<%d%s" % (len(raw) // struct.calcsize(fmt), fmt[1]), raw)
    return [list(flat[i:i + width]) for i in range(0, len(flat), width)]


def check_sample(obj, raw=None):
    """Check a data acquisition object (with raw, the bytes after a Ref-BINARY header); return
    (what the metadata keeps of it, its values as rows), or raise 400."""
    def bad(why):
        raise Rejected(400, "Invalid message: " + why)

    if not isinstance(obj, dict):
        bad("not a data acquisition object (expected a map with payload, protected and signature)")
    for key in ("payload", "protected", "signature"):
        if key not in obj:
            bad("not a data acquisition object: '%s' is missing" % key)
    protected, payload, signature = obj["protected"], obj["payload"], obj["signature"]
    if not isinstance(protected, dict):
        bad("'protected' must be a map")
    if protected.get("ver") != "v1":
        bad("protected.ver must be \"v1\", not %r" % (protected.get("ver"),))
    if protected.get("alg") not in ("none", "HS256"):
        bad("protected.alg must be \"none\" or \"HS256\", not %r" % (protected.get("alg"),))
    iat = protected.get("iat")
    if iat is not None and not (_is_number(iat) and _finite(iat)):
        bad("protected.iat must be seconds since the epoch, not %r" % (iat,))
    # Edge Impulse's SDK sends "signature": null for alg none (its dataclass default).
    if not isinstance(signature, str) and not (signature is None and protected["alg"] == "none"):
        bad("'signature' must be a string")
    if not isinstance(payload, dict):
        bad("'payload' must be a map")
    for key in ("device_type", "interval_ms", "sensors", "values"):
        if key not in payload:
            bad("payload.%s is missing" % key)
    if not isinstance(payload["device_type"], str):
        bad("payload.device_type must be a string")
    device_name = payload.get("device_name")
    if device_name is not None and not isinstance(device_name, str):
        bad("payload.device_name must be a string")
    interval = payload["interval_ms"]
    # 0 is what the SDK, the CLI and the daemon send for a sample that is not a time series.
    if not (_is_number(interval) and _finite(interval) and interval >= 0):
        bad("payload.interval_ms must be a number of at least 0, not %r" % (interval,))
    sensors = payload["sensors"]
    if not isinstance(sensors, list) or not sensors:
        bad("payload.sensors must be a non-empty list of {name, units}")
    for i, s in enumerate(sensors):
        if not (isinstance(s, dict) and isinstance(s.get("name"), str) and isinstance(s.get("units"), str)):
            bad("payload.sensors[%d] must be a map with string name and units" % i)
    width = len(sensors)
    values = payload["values"]
    binary = _binary_type(obj)
    if binary is not None:
        rows = _binary_rows(binary, raw or b"", width)
    else:
        if not isinstance(values, list):
            bad("payload.values must be a list")
        if not values:
            bad("payload.values is empty")
        rows = []
        for i, row in enumerate(values):
            if width == 1 and not isinstance(row, list):
                row = [row]  # one sensor: a flat list of numbers is accepted too
            if not isinstance(row, list):
                bad("payload.values[%d] must be a list of %d numbers" % (i, width))
            if len(row) != width:
                bad("payload.values[%d] has %d values, but there are %d sensors" % (i, len(row), width))
            for j, v in enumerate(row):
                if not _is_number(v):
                    bad("payload.values[%d][%d] is not a number: %r" % (i, j, v))
                if not _finite(v):
                    bad("payload.values[%d][%d] is not finite: %r" % (i, j, v))
            rows.append(row)
    summary = {"device_name": device_name, "device_type": payload["device_type"], "interval_ms": interval,
               "sensors": [{"name": s["name"], "units": s["units"]} for s in sensors], "rows": len(rows),
               "binary": binary}
    return summary, rows


def _signed_candidates(body, fmt, obj):
    """The bytes the signer may have computed the HMAC over: the object with the signature
    replaced by 64 '0's, serialised in the format received."""
    sig = obj["signature"]
    out = []
    if fmt == "cbor":
        zeroed = dict(obj)  # same key order; the signature keeps its place
        zeroed["signature"] = EMPTY_SIGNATURE
        try:
            out.append(cbor2.dumps(zeroed))
        except Exception:
            pass
        # Also the received bytes with the signature zeroed in place: a streaming encoder signs
        # its own bytes, which cbor2 need not reproduce (float widths, indefinite lengths), and
        # a Ref-BINARY sample signs its raw data after the CBOR too.
        key, value = cbor2.dumps("signature"), cbor2.dumps(sig)
        start = body.find(key + value)
        while start >= 0:
            at = start + len(key)
            out.append(body[:at] + cbor2.dumps(EMPTY_SIGNATURE) + body[at + len(value):])
            start = body.find(key + value, start + 1)
    else:
        # JSON: the exact bytes received, with the signature value's hex replaced in place.
        for m in re.finditer(rb'"signature"\s*:\s*"([^"\\]*)"', body):
            if m.group(1) == sig.encode("utf-8"):
                out.append(body[:m.start(1)] + EMPTY_SIGNATURE.encode() + body[m.end(1):])
    return out


def verify_signature(body, fmt, obj, hmac_keys):
    """True/False for an HS256 sample checked against any of hmac_keys; None when no key is known."""
    if not hmac_keys:
        return None
    sig = obj["signature"].lower()
    for signed in _signed_candidates(body, fmt, obj):
        for key in hmac_keys:
            expected = hmac.new(key.encode("utf-8"), signed, hashlib.sha256).hexdigest()
            if hmac.compare_digest(expected, sig):
                return True
    return False


# ---- plain files: CSV, WAV, images ----------------------------------------------------------

def parse_csv(body):
    """Edge Impulse's CSV format: a header row, then rows of numbers. With a first column
    `timestamp` (ms) it is a time series; without, one row is one sample that is not."""
    def bad(why):
        raise Rejected(400, "%s: %s" % (BAD_CSV, why))

    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        bad("not UTF-8 text (%s)" % e)
    try:
        table = [r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)]
    except csv.Error as e:
        bad(str(e))
    if len(table) < 2:
        bad("it needs a header row and at least one row of values")
    header = [h.strip() for h in table[0]]
    if "" in header or len(set(header)) != len(header):
        bad("column names must be non-empty and distinct: %r" % (header,))
    timed = header[0].lower() == "timestamp"
    names = header[1:] if timed else header
    if not names:
        bad("there is no column of values besides the timestamp")
    data = []
    for i, row in enumerate(table[1:], 1):
        if len(row) != len(header):
            bad("row %d has %d columns, the header %d" % (i, len(row), len(header)))
        try:
            nums = [float(c) for c in row]
        except ValueError:
            bad("row %d holds something that is not a number: %r" % (i, row))
        if not all(math.isfinite(v) for v in nums):
            bad("row %d holds a value that is not finite" % i)
        data.append(nums)
    if timed:
        ts = [r[0] for r in data]
        if any(b <= a for a, b in zip(ts, ts[1:])):
            bad("timestamps must increase")
        interval = (ts[-1] - ts[0]) / (len(ts) - 1) if len(ts) > 1 else 0
        rows = [r[1:] for r in data]
    else:
        if len(data) != 1:
            bad("without a 'timestamp' column a CSV file holds one row (a sample that is not a time "
                "series); this one has %d" % len(data))
        interval, rows = 0, data
    return {"sensors": [{"name": n, "units": ""} for n in names], "interval_ms": interval,
            "rows": len(rows)}, rows


def parse_wav(body):
    """A PCM WAV file: one axis a channel (`audio`, `audio2`, ...), interval_ms from its rate."""
    try:
        with wave.open(io.BytesIO(body)) as w:
            channels, width, rate, frames = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            data = w.readframes(frames)
    except Exception as e:  # wave raises wave.Error, EOFError, struct.error on garbage
        raise Rejected(400, "Could not parse this WAV file: %s" % (e or type(e).__name__))
    if not (channels and rate and width in (1, 2, 3, 4)):
        raise Rejected(400, "Could not parse this WAV file: %d channels, %d bytes a sample at %d Hz"
                       % (channels, width, rate))
    n = len(data) // (width * channels)
    if width == 3:
        flat = [int.from_bytes(data[i:i + 3], "little", signed=True) for i in range(0, n * channels * 3, 3)]
    else:
        flat = struct.unpack("<%d%s" % (n * channels, {1: "B", 2: "h", 4: "i"}[width]), data[:n * channels * width])
        if width == 1:
            flat = [v - 128 for v in flat]  # 8-bit WAV is unsigned
    rows = [list(flat[i:i + channels]) for i in range(0, len(flat), channels)]
    sensors = [{"name": "audio" if c == 0 else "audio%d" % (c + 1), "units": "wav"} for c in range(channels)]
    return {"sensors": sensors, "interval_ms": 1000.0 / rate, "rows": len(rows)}, rows


def image_size(body, content_type):
    """(width, height) of a PNG or JPEG; 400 when the bytes are not one."""
    if body[:8] == b"\x89PNG\r\n\x1a\n" and body[12:16] == b"IHDR" and len(body) >= 24:
        return struct.unpack(">II", body[16:24])
    if body[:2] == b"\xff\xd8":
        i = 2
        while i + 9 <= len(body):
            if body[i] != 0xFF:
                break
            marker = body[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            length = struct.unpack(">H", body[i + 2:i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", body[i + 5:i + 9])
                return width, height
            i += 2 + length
    raise Rejected(400, "Could not parse this image: %s is neither a PNG nor a JPEG with a frame header"
                   % content_type)


def inspect_file(file_name, body, content_type, hmac_keys=(), fmt=None):
    """The sample validator: check one file as the service would store it and describe it.
    fmt ("cbor" or "json") forces a data acquisition object, as /data's Content-Type does; else
    the name's extension decides, then the content type. Returns the metadata it adds (summary), the decoded data acquisition object (or None), the
    rows of values to plot (or None); raises Rejected(400, reason) for what the service refuses."""
    if not file_name or file_name in (".", "..") or file_name.startswith(_TMP) \
            or any(c in file_name for c in "/\\") or any(ord(c) < 32 for c in file_name):
        raise Rejected(400, "Invalid file name %r: the service cannot store it" % file_name)
    if len(file_name.encode("utf-8", "replace")) > MAX_NAME_BYTES:
        raise Rejected(400, "File name too long: at most %d bytes" % MAX_NAME_BYTES)
    ext = os.path.splitext(file_name)[1].lower()
    declared = (content_type or "").split(";")[0].strip().lower()
    if fmt is None:
        fmt = {".cbor": "cbor", ".json": "json"}.get(ext) or _FORMATS.get(declared)
        if fmt == "cbor" and body.lstrip()[:1] == b"{":
            fmt = "json"  # the SDK sends its JSON objects in parts typed application/cbor
    summary = {"kind": "file", "device_name": None, "device_type": None, "interval_ms": None,
               "sensors": None, "rows": None, "binary": None, "signed": False, "signature_valid": None,
               "content_type": _EXTENSIONS.get(ext) or declared or "application/octet-stream"}
    sample = rows = None
    if fmt:
        obj, raw = decode_sample(body, fmt)
        info, rows = check_sample(obj, raw)
        summary.update(info, kind="acquisition", content_type=_CONTENT_TYPES[fmt])
        if obj["protected"]["alg"] == "HS256":
            summary["signed"] = True
            summary["signature_valid"] = verify_signature(body, fmt, obj, hmac_keys)
        sample = _jsonable(obj)
    elif ext == ".csv" or declared == "text/csv":
        info, rows = parse_csv(body)
        summary.update(info, kind="csv", content_type="text/csv")
    elif ext == ".wav" or declared in ("audio/wav", "audio/x-wav", "audio/wave"):
        info, rows = parse_wav(body)
        summary.update(info, kind="audio", content_type="audio/wav")
    elif ext in (".png", ".jpg", ".jpeg") or declared in ("image/png", "image/jpeg"):
        width, height = image_size(body, declared or ext)
        summary.update(kind="image", width=width, height=height, interval_ms=0, rows=1,
                       sensors=[{"name": "image", "units": "rgba"}],
                       content_type="image/png" if body[:1] == b"\x89" else "image/jpeg")
    return summary, sample, rows


def series(meta, body):
    """The rows of values a stored file holds (None for images and other files)."""
    kind = meta.get("kind")
    try:
        if kind == "acquisition":
            fmt = _FORMATS[meta["content_type"]]
            return check_sample(*decode_sample(body, fmt))[1]
        if kind == "csv":
            return parse_csv(body)[1]
        if kind == "audio":
            return parse_wav(body)[1]
    except Rejected:
        pass
    return None


# ---- storage --------------------------------------------------------------------------------

def _write_atomic(path, data):
    """Write to a temporary name in the same folder, then rename: a crash leaves no half file."""
    tmp = os.path.join(os.path.dirname(path), _TMP + uuid.uuid4().hex)
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Store:
    """Accepted samples, in memory (arrival order) and on disk; every method holds the lock.
    `changed` is notified, and `version` grows, whenever what is stored changes."""

    def __init__(self, data_dir):
        self.data_dir = os.path.abspath(str(data_dir))
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.version = 0
        self.entries = []   # [(metadata dict, decoded sample or None)]
        self._next_sample_id = 1
        self._last_date_id = 0
        self._load()

    def _dir(self, category):
        return os.path.join(self.data_dir, category)

    def _load(self):
        """Read back what an earlier run stored; a data file without its metadata is a crash leftover."""
        for category in CATEGORIES:
            folder = self._dir(category)
            os.makedirs(folder, exist_ok=True)
            for fname in os.listdir(folder):
                path = os.path.join(folder, fname)
                if fname.startswith(_TMP):
                    os.remove(path)
                    continue
                if not fname.endswith(".json"):
                    continue
                try:
                    with open(path, "rb") as f:
                        meta = json.loads(f.read().decode("utf-8"))
                    if not (isinstance(meta, dict) and meta.get("name") == fname[:-5] and "sha256" in meta):
                        continue
                    with open(os.path.join(folder, meta["name"]), "rb") as f:
                        body = f.read()
                except (OSError, ValueError):
                    continue
                sample = None
                if meta.get("content_type") in _FORMATS:
                    try:
                        sample = _jsonable(decode_sample(body, _FORMATS[meta["content_type"]])[0])
                    except Rejected:
                        pass
                self.entries.append((meta, sample))
        self.entries.sort(key=lambda e: (e[0].get("sample_id") or 0, e[0].get("received_at") or ""))
        ids = [e[0].get("sample_id") for e in self.entries if isinstance(e[0].get("sample_id"), int)]
        self._next_sample_id = max(ids, default=0) + 1

    def _date_id(self):
        # A unique id in the style of Edge Impulse's (8 base-36 digits, from the clock in ms).
        n = max(int(datetime.datetime.now().timestamp() * 1000), self._last_date_id + 1)
        self._last_date_id = n
        return _base36(n)

    def _stored_name(self, file_name, add_date_id):
        if not add_date_id:
            return file_name
        stem, dot, ext = file_name.rpartition(".")
        if not dot or not stem:
            return file_name + "." + self._date_id()
        return "%s.%s.%s" % (stem, self._date_id(), ext)

    def _remove_clashing(self, category, name):
        """A new sample replaces an earlier one whose files it would overwrite, as a file system
        does (Edge Impulse keeps both under different ids: send x-add-date-id: 1 for unique names)."""
        clash = {name, name + ".json"}
        keep = []
        for meta, sample in self.entries:
            if meta["category"] == category and {meta["name"], meta["name"] + ".json"} & clash:
                for p in (meta["name"], meta["name"] + ".json"):
                    try:
                        os.remove(os.path.join(self._dir(category), p))
                    except OSError:
                        pass
            else:
                keep.append((meta, sample))
        self.entries = keep

    def add(self, category, files, disallow_duplicates, add_date_id):
        """Store every prepared file, or none: raise Rejected naming the first that fails.
        A file's own "category" (from /api/split) wins over `category`."""
        with self.lock:
            if disallow_duplicates:
                seen = {meta["sha256"] for meta, _ in self.entries}
                for f in files:
                    if f["sha256"] in seen:
                        raise Rejected(400, "%s (file %s, sha256 %s)" % (DUPLICATE, f["file_name"], f["sha256"]))
                    seen.add(f["sha256"])
            stored = []
            try:
                for f in files:
                    where = f.get("category") or category
                    name = self._stored_name(f["file_name"], add_date_id)
                    self._remove_clashing(where, name)
                    meta = {"name": name, "file_name": f["file_name"], "category": where, "label": f["label"],
                            "size": len(f["body"]), "sha256": f["sha256"], "received_at": _now(),
                            "sample_id": self._next_sample_id}
                    meta.update(f["summary"])
                    meta.update(f.get("extra") or {})
                    self._next_sample_id += 1
                    folder = self._dir(where)
                    os.makedirs(folder, exist_ok=True)
                    _write_atomic(os.path.join(folder, name), f["body"])
                    stored.append(meta)  # from here on, undone if a later write fails
                    _write_atomic(os.path.join(folder, name + ".json"),
                                  json.dumps(meta, indent=1).encode("utf-8"))
                    self.entries.append((meta, f["sample"]))
            except OSError as e:  # a full disk, a folder gone: take back this request's files
                for meta in stored:
                    for p in (meta["name"], meta["name"] + ".json"):
                        try:
                            os.remove(os.path.join(self._dir(meta["category"]), p))
                        except OSError:
                            pass
                self.entries = [entry for entry in self.entries if entry[0] not in stored]
                raise Rejected(500, "Internal server error: could not store %s: %s" % (
                    f["file_name"], e.strerror or e))
            self.version += 1
            self.changed.notify_all()
            return stored

    def listing(self):
        with self.lock:
            return [dict(meta, sample=sample) for meta, sample in self.entries]

    def metadata(self):
        with self.lock:
            return [dict(meta) for meta, _ in self.entries]

    def get(self, sample_id):
        """(metadata, the file's bytes as received) of one sample; None when there is none."""
        with self.lock:
            for meta, _ in self.entries:
                if meta.get("sample_id") == sample_id:
                    try:
                        with open(os.path.join(self._dir(meta["category"]), meta["name"]), "rb") as f:
                            return dict(meta), f.read()
                    except OSError:
                        return None
        return None

    def reset(self):
        with self.lock:
            self.entries = []
            for category in CATEGORIES:
                shutil.rmtree(self._dir(category), ignore_errors=True)
                os.makedirs(self._dir(category), exist_ok=True)
            self.version += 1
            self.changed.notify_all()


# ---- HTTP: limits on what a client sends ----------------------------------------------------

class _Body:
    """wsgi.input with limits in time: a client that stops sending (the socket's timeout) or that
    trickles (under MIN_RATE on average once `timeout` s have passed) is answered 408, and a
    malformed chunked body 400, instead of holding a thread or crashing the request."""

    def __init__(self, stream, timeout):
        self._stream = stream
        self._timeout = timeout
        self._start = time.monotonic()
        self._received = 0

    def _guard(self, read, size):
        elapsed = time.monotonic() - self._start
        if elapsed > self._timeout + self._received / MIN_RATE:
            raise Rejected(408, "Request Timeout: the body came in at under %d bytes/s (%d bytes in %.1f s)"
                           % (MIN_RATE, self._received, elapsed))
        try:
            data = read(size)
        except TimeoutError:
            raise Rejected(408, "Request Timeout: nothing received for %g s while reading the body"
                           % self._timeout)
        except ConnectionError:
            raise
        except OSError as e:  # werkzeug's DechunkedInput on a bad chunk header or length
            raise Rejected(400, "Malformed chunked body: %s" % e)
        self._received += len(data)
        return data

    def read(self, size=-1):
        # read1: at most one recv, so a trickling client is checked between its bytes rather
        # than waited for until `size` have come.
        return self._guard(getattr(self._stream, "read1", self._stream.read), size)

    def readline(self, size=-1):
        return self._guard(self._stream.readline, size)


class _Part(tempfile.SpooledTemporaryFile):
    """Where werkzeug writes one multipart file: refuses it as soon as it passes the size limit,
    so an oversized part is never written out whole."""

    def __init__(self, limit, file_name):
        super().__init__(max_size=1024 * 1024)
        self._limit, self._file_name, self._size = limit, file_name, 0

    def write(self, data):
        self._size += len(data)
        if self._size > self._limit:
            raise _too_big(self._file_name, self._size, self._limit, "at least ")
        return super().write(data)


class _Request(Request):
    max_file_bytes = MAX_FILE_BYTES

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return _Part(self.max_file_bytes, filename)

    def make_form_data_parser(self):
        parser = super().make_form_data_parser()
        parser.silent = False  # a malformed multipart body is a 400 with werkzeug's reason
        return parser


def _too_big(file_name, size, limit, at_least=""):
    return Rejected(400, "File too large: %s is %s%d bytes; at most %d bytes per file (the service takes 100 MB)"
                    % (file_name, at_least, size, limit))


class _Handler(WSGIRequestHandler):
    """Werkzeug's handler with the service's answers to bad HTTP: every refusal is text/plain with
    a reason, and a client that stops sending its request head gets 408."""
    timeout = TIMEOUT  # the socket's timeout: how long a client may stay silent

    def log(self, type, message, *args):
        if getattr(self.server, "log_requests", False):
            super().log(type, message, *args)

    def handle_one_request(self):
        # http.server's own, but answering a timeout instead of dropping the connection.
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline, self.command = "", ""
                self.send_error(414, "the request line is over 65536 bytes")
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            if self.request_version == "HTTP/0.9":  # "GET /path": no version, no headers
                self.send_error(400, "the request line needs an HTTP version, e.g. HTTP/1.1")
                return
            self.run_wsgi()  # werkzeug serves every method here
            self.wfile.flush()
        except TimeoutError:
            self.send_error(408, "no complete request head within %g s" % self.timeout)

    def send_error(self, code, message=None, explain=None):
        # http.server answers a malformed request with an HTML page; the service says why in text.
        short = self.responses.get(code, ("Error",))[0]
        body = ("%s: %s\n" % (short, message) if message and message != short else short + "\n").encode(
            "utf-8", "replace")
        if not str(getattr(self, "request_version", "")).startswith("HTTP/1"):
            self.request_version = "HTTP/1.0"  # a status line even for a garbled request
        try:
            self.send_response(code, short)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if getattr(self, "command", "") != "HEAD":
                self.wfile.write(body)
        except OSError:
            pass  # the client is gone
        self.close_connection = True


# ---- the HTTP service -----------------------------------------------------------------------

class MockServer:
    """The local ingestion service on (host, port); port 0 picks a free one. start() serves in a
    daemon thread and returns self; stop() ends it. The store survives a restart on the same data_dir.
    timeout: seconds a client may stay silent mid-request (408 after). ssl_context: an
    ssl.SSLContext to serve HTTPS with (the TLS tests), else plain HTTP."""

    def __init__(self, data_dir, api_keys=(API_KEY,), host="127.0.0.1", port=0, hmac_keys=(),
                 max_file_bytes=MAX_FILE_BYTES, max_files=MAX_FILES, log_requests=False, timeout=TIMEOUT,
                 ssl_context=None):
        self.api_keys = tuple(api_keys)
        self.hmac_keys = tuple(hmac_keys)
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files
        self.timeout = timeout
        self.store = Store(data_dir)
        self._closing = False
        handler = type("Handler", (_Handler,), {"timeout": timeout})
        self._server = make_server(host, port, self._wsgi, threaded=True, request_handler=handler,
                                   ssl_context=ssl_context)
        self._server.log_requests = log_requests
        self.host = host
        self.port = self._server.server_port
        self.url = "%s://%s:%d" % ("https" if ssl_context else "http",
                                   host if ":" not in host else "[%s]" % host, self.port)
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._closing = True
        with self.store.changed:
            self.store.changed.notify_all()  # ends the /events streams
        if self._thread:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def serve_forever(self):
        self._server.serve_forever()

    # -- WSGI --

    def _wsgi(self, environ, start_response):
        environ["wsgi.input"] = _Body(environ["wsgi.input"], self.timeout)
        request = _Request(environ)
        request.max_form_parts = self.max_files + 16  # werkzeug's default (1000) would answer 413 first
        request.max_file_bytes = self.max_file_bytes
        try:
            response = self._route(request)
        except Rejected as e:
            response = _text(e.status, e.text, **e.headers)
        except HTTPException as e:  # werkzeug's: a client gone mid-body, a form field too large
            response = _text(400, "Invalid message: %s" % e.description)
        except Exception as e:  # never crash on what a client sends
            response = _text(500, "Internal server error: %s: %s" % (type(e).__name__, e))
        return response(environ, start_response)

    def _route(self, request):
        parts = request.path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "api" and parts[2] in ("data", "files") \
                and (parts[1] in CATEGORIES or (parts[1] == SPLIT and parts[2] == "files")):
            self._allow(request, "POST")
            self._check_key(request)
            self._check_length(request)
            if parts[2] == "data":
                return self._data(request, parts[1])
            return self._files(request, parts[1])
        if parts == ["_mock", "samples"]:
            self._allow(request, "GET")
            return _json(self.store.listing())
        if parts == ["_mock", "reset"]:
            self._allow(request, "POST")
            self.store.reset()
            return _text(200, "")
        if parts == [""] or (len(parts) == 2 and parts[0] == "dashboard"):
            self._allow(request, "GET")
            return self._static("index.html" if parts == [""] else parts[1])
        if parts == ["samples"]:
            self._allow(request, "GET")
            return self._samples(request)
        if len(parts) in (2, 3) and parts[0] == "samples":
            self._allow(request, "GET")
            return self._sample(request, parts[1], parts[2] if len(parts) == 3 else None)
        if parts == ["events"]:
            self._allow(request, "GET")
            return self._events()
        return _text(404, "Not found: %s" % request.path)

    @staticmethod
    def _allow(request, method):
        allowed = (method, "HEAD") if method == "GET" else (method,)
        if request.method not in allowed:
            raise Rejected(405, "Method not allowed: use %s" % method, {"Allow": ", ".join(allowed)})

    def _check_key(self, request):
        key = request.headers.get("x-api-key")
        if not key:
            raise Rejected(401, "Missing x-api-key header")
        if key not in self.api_keys:
            raise Rejected(401, "Invalid API key")

    @staticmethod
    def _check_length(request):
        chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        length = request.headers.get("Content-Length")
        if length is not None and not chunked and not re.fullmatch(r"\s*[0-9]+\s*", length):
            raise Rejected(400, "Invalid Content-Length header: %r" % length[:40])
        if length is None and not chunked:
            raise Rejected(411, "Length Required: send Content-Length or Transfer-Encoding: chunked")

    # -- ingestion --

    def _label(self, request, file_name):
        if request.headers.get("x-label"):
            return urllib.parse.unquote(request.headers["x-label"])
        if _flag(request.headers, "x-no-label"):
            return None
        return infer_label(file_name)

    @staticmethod
    def _json_header(request, name, types):
        raw = request.headers.get(name)
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError as e:
            raise Rejected(400, "Invalid message: %s is not valid JSON (%s)" % (name, e))
        if not isinstance(value, types):
            raise Rejected(400, "Invalid message: %s must be a JSON %s" % (name, types[0].__name__))
        return value

    def _extra(self, request):
        """What a sample keeps of the optional headers Edge Impulse's SDK and CLI send."""
        extra = {"metadata": self._json_header(request, "x-metadata", (dict,)),
                 "bounding_boxes": self._json_header(request, "x-bounding-boxes", (list, dict)),
                 "upload_source": request.headers.get("x-upload-source")}
        return {k: v for k, v in extra.items() if v is not None}

    def _prepare(self, request, file_name, body, content_type, category, fmt=None):
        """Check one file and work out everything stored about it except its name."""
        summary, sample, _ = inspect_file(file_name, body, content_type, self.hmac_keys, fmt)
        return {"file_name": file_name, "body": body, "sha256": hashlib.sha256(body).hexdigest(),
                "label": self._label(request, file_name), "summary": summary, "sample": sample,
                "category": split_category(body) if category == SPLIT else None,
                "extra": self._extra(request)}

    def _data(self, request, category):
        """The legacy endpoint: one raw CBOR or JSON body; answers the stored name."""
        raw_name = request.headers.get("x-file-name")
        if not raw_name:
            raise Rejected(421, "Missing x-file-name header")
        file_name = urllib.parse.unquote(raw_name)
        fmt = _FORMATS.get(request.mimetype)
        if not fmt:
            raise Rejected(400, "Unsupported content type %r: /data takes application/cbor or "
                                "application/json (multipart/form-data goes to /files)" % request.mimetype)
        if request.content_length is not None and request.content_length > self.max_file_bytes:
            raise _too_big(file_name, request.content_length, self.max_file_bytes)
        body = request.stream.read(self.max_file_bytes + 1)  # a chunked body has no length
        while len(body) <= self.max_file_bytes:
            more = request.stream.read(self.max_file_bytes + 1 - len(body))
            if not more:
                break
            body += more
        if len(body) > self.max_file_bytes:
            raise _too_big(file_name, self.max_file_bytes, self.max_file_bytes, "over ")
        # /data says its format in Content-Type, whatever the name's extension.
        f = self._prepare(request, file_name, body, request.mimetype, category, fmt)
        stored = self.store.add(category, [f], _flag(request.headers, "x-disallow-duplicates"),
                                _flag(request.headers, "x-add-date-id"))
        return _text(200, stored[0]["name"])

    def _files(self, request, category):
        """The multipart endpoint: parts named `data`, each a file; all are stored, or none."""
        if request.mimetype != "multipart/form-data":
            raise Rejected(400, "Unsupported content type %r: /files takes multipart/form-data"
                           % request.mimetype)
        if not request.mimetype_params.get("boundary"):
            raise Rejected(400, "Invalid message: multipart/form-data without a boundary parameter")
        try:
            parts = request.files.getlist("data")
            unnamed = request.form.getlist("data")
        except RequestEntityTooLarge:
            raise Rejected(400, "Too many files: at most %d files in one request (or a form field over 500 kB)"
                           % self.max_files)
        except ValueError as e:
            raise Rejected(400, "Invalid message: malformed multipart body (%s)" % e)
        if unnamed:
            raise Rejected(400, "Invalid message: a part named 'data' has no filename")
        if not parts:
            raise Rejected(400, "Invalid message: no files (multipart parts named 'data' with a filename)")
        if len(parts) > self.max_files:
            raise Rejected(400, "Too many files: %d in one request; at most %d" % (len(parts), self.max_files))
        files, structured = [], None
        for part in parts:
            # percent-encoded as x-file-name is (RFC 7578 4.2 allows it for non-ASCII names)
            file_name = urllib.parse.unquote(part.filename or "")
            part.stream.seek(0)
            body = part.stream.read()
            if file_name == STRUCTURED_LABELS and len(parts) > 1:
                structured = self._structured_labels(body)
                continue
            try:
                files.append(self._prepare(request, file_name, body, part.mimetype, category))
            except Rejected as e:
                raise Rejected(e.status, "%s (file %s)" % (e.text, file_name))
        for f in files:
            if structured and f["file_name"] in structured:
                f["extra"]["structured_labels"] = structured[f["file_name"]]
        stored = self.store.add(category, files, _flag(request.headers, "x-disallow-duplicates"),
                                _flag(request.headers, "x-add-date-id"))
        # The shape Edge Impulse's Python SDK and CLI uploader parse (edgeimpulse/python-sdk,
        # edgeimpulse/data/_functions/upload.py; edge-impulse-cli, cli/make-image.ts / upload).
        return _json({"success": True, "files": [
            {"success": True, "fileName": m["name"], "sampleId": m["sample_id"], "projectId": 1}
            for m in stored]})

    @staticmethod
    def _structured_labels(body):
        try:
            doc = json.loads(body.decode("utf-8"))
            labels = doc["structuredLabels"]
            if doc.get("type") != "structured-labels" or not isinstance(labels, dict):
                raise ValueError("not a structured-labels document")
            return labels
        except Exception as e:
            raise Rejected(400, "Invalid message: %s is not a structured-labels JSON document (%s)"
                           % (STRUCTURED_LABELS, e))

    # -- the dashboard and its API --

    @staticmethod
    def _static(name):
        if name not in _STATIC:
            return _text(404, "Not found: /dashboard/%s" % name)
        with open(os.path.join(DASHBOARD, name), "rb") as f:
            body = f.read()
        return Response(body, content_type=_STATIC[name] + "; charset=utf-8",
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "default-src 'self'; img-src 'self' data:"})

    def _samples(self, request):
        entries = self.store.metadata()
        for key in ("category", "label"):
            if key in request.args:
                want = request.args[key] or None
                entries = [m for m in entries if m.get(key) == want]
        return _json(entries)

    def _sample(self, request, sample_id, what):
        found = self.store.get(int(sample_id)) if sample_id.isdigit() else None
        if found is None:
            return _text(404, "Not found: no sample %s" % sample_id)
        meta, body = found
        if what == "raw":
            inline = meta.get("kind") == "image" and request.args.get("inline")
            disposition = "inline" if inline else "attachment; filename*=UTF-8''" + urllib.parse.quote(meta["name"])
            ctype = meta["content_type"] if inline else "application/octet-stream"
            return Response(body, content_type=ctype,
                            headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"})
        rows = series(meta, body)
        if what == "csv":
            if rows is None:
                return _text(404, "Not found: sample %s (%s) has no values to write as CSV"
                             % (sample_id, meta.get("content_type")))
            return Response(self._csv(meta, rows), content_type="text/csv; charset=utf-8", headers={
                "Content-Disposition": "attachment; filename*=UTF-8''" + urllib.parse.quote(meta["name"] + ".csv")})
        if what is not None:
            return _text(404, "Not found: %s" % request.path)
        limit = request.args.get("max_points", "")
        limit = int(limit) if limit.isdigit() and int(limit) > 0 else 5000
        step = max(1, -(-len(rows) // limit)) if rows else 1
        return _json(dict(meta, step=step, values=rows[::step] if rows else None))

    @staticmethod
    def _csv(meta, rows):
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        names = [s["name"] for s in meta.get("sensors") or []] or ["value%d" % i for i in range(len(rows[0]))]
        interval = meta.get("interval_ms") or 0
        w.writerow((["timestamp"] if interval else []) + names)
        for i, row in enumerate(rows):
            w.writerow(([round(i * interval, 6)] if interval else []) + [repr(v) for v in row])
        return out.getvalue()

    def _events(self):
        """Server-sent events: `change` whenever the store changes, a comment every 15 s between."""
        store = self.store

        def stream():
            last = store.version
            yield "retry: 1000\n\n"
            while not self._closing:
                with store.changed:
                    store.changed.wait_for(lambda: store.version != last or self._closing, timeout=15)
                    version = store.version
                if self._closing:
                    return
                if version == last:
                    yield ": still here\n\n"
                    continue
                last = version
                yield "event: change\ndata: %d\n\n" % version

        return Response(stream(), content_type="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def main(argv=None):
    ap = argparse.ArgumentParser(description="The local Edge Impulse ingestion service, with a dashboard at /")
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback: the dashboard "
                    "and test API need no key)")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--data", default="data/mock", help="folder for stored samples (kept across restarts)")
    ap.add_argument("--api-key", action="append", dest="api_keys",
                    help="accepted x-api-key (repeatable; default: the page's example key)")
    ap.add_argument("--hmac-key", action="append", dest="hmac_keys", default=[],
                    help="HMAC key to verify HS256 signatures with (repeatable)")
    ap.add_argument("--timeout", type=float, default=TIMEOUT,
                    help="seconds a client may stay silent mid-request before a 408 (default %(default)s)")
    args = ap.parse_args(argv)
    server = MockServer(args.data, api_keys=args.api_keys or (API_KEY,), host=args.host, port=args.port,
                        hmac_keys=args.hmac_keys, log_requests=True, timeout=args.timeout)
    print("mock ingestion server on %s (data in %s)" % (server.url, args.data), flush=True)
    print("dashboard: %s/" % server.url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
