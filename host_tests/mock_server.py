"""Mock Edge Impulse ingestion service: a real HTTP server (Werkzeug) for host tests and `make mock-server`.

It answers POST /api/{training,testing,anomaly}/{data,files} as the Ingestion API page documents
(shared/seed), checks every data acquisition object it is given, and keeps what it accepts under
data_dir/<category>/. It shares no code with firmware/, so it checks the hand-written client
independently. Test API, no key needed: GET /_mock/samples, POST /_mock/reset.

    python host_tests/mock_server.py --port 8000 --host 127.0.0.1 --data data/mock [--api-key K ...] [--hmac-key K ...]
"""
import argparse
import datetime
import hashlib
import hmac
import io
import json
import math
import os
import re
import shutil
import threading
import urllib.parse
import uuid

import cbor2
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

API_KEY = "ei_6040df080906d06f090e05013b7090580b707a0b050eb04d00350504070a2040"
CATEGORIES = ("training", "testing", "anomaly")
MAX_FILES = 1000                     # documented: files in one /files request
MAX_FILE_BYTES = 100 * 1024 * 1024   # documented: size of one file
MAX_NAME_BYTES = 200                 # the mock's own limit: a stored name must fit a file system name
EMPTY_SIGNATURE = "0" * 64           # what the signature is replaced by before the HMAC is computed
# The page's regex is JavaScript, ^[a-zA-Z0-9\s-_]+ : there the '-' after the class escape \s is literal.
LABEL_RE = re.compile(r"^[a-zA-Z0-9\s\-_]+")
# The real service's words for a duplicate. Edge Impulse's Python SDK test `test_upload_duplicates`
# (edgeimpulse/python-sdk, tests/test_data_upload.py), run against the live service, asserts that the
# error starts with this sentence, and OpenMV IDE's uploader checks the same prefix on a failed
# /data reply. Neither shows the status: 400 is the page's code for a refused message.
DUPLICATE = "An item with this hash already exists"
_TMP = ".tmp-"                       # prefix of half-written files; never a sample
_FORMATS = {"application/cbor": "cbor", "application/json": "json"}
_CONTENT_TYPES = {"cbor": "application/cbor", "json": "application/json"}


class Rejected(Exception):
    """A request the service refuses: the status and the text/plain body that says why."""

    def __init__(self, status, text, headers=None):
        super().__init__(text)
        self.status = status
        self.text = text
        self.headers = headers or {}


def _text(status, body, **headers):
    return Response(body, status=status, content_type="text/plain; charset=utf-8", headers=headers)


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


def _read_at_most(stream, limit):
    chunks, n = [], 0
    while n < limit:
        chunk = stream.read(min(65536, limit - n))
        if not chunk:
            break
        chunks.append(chunk)
        n += len(chunk)
    return b"".join(chunks)


def infer_label(file_name):
    """Edge Impulse's label from a file name: `idle.01` -> `idle`; None when nothing matches."""
    m = LABEL_RE.match(file_name)
    return m.group(0) if m else None


# ---- the data acquisition format ------------------------------------------------------------

def decode_sample(body, fmt):
    """Decode a CBOR or JSON body; 400 when it is not one whole, valid document."""
    try:
        if fmt == "cbor":
            fp = io.BytesIO(body)
            obj = cbor2.CBORDecoder(fp).decode()
            if fp.tell() != len(body):
                raise ValueError("%d bytes after the end of the first item" % (len(body) - fp.tell()))
            return obj
        return json.loads(body.decode("utf-8"))
    except Exception as e:  # cbor2 and json raise many kinds on garbage
        raise Rejected(400, "Invalid message: body is not valid %s (%s)" % (fmt.upper(), e))


def check_sample(obj):
    """Check a data acquisition object; return what the metadata keeps of it, or raise 400."""
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
    if not isinstance(signature, str):
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
    if not (_is_number(interval) and _finite(interval) and interval > 0):
        bad("payload.interval_ms must be a positive number, not %r" % (interval,))
    sensors = payload["sensors"]
    if not isinstance(sensors, list) or not sensors:
        bad("payload.sensors must be a non-empty list of {name, units}")
    for i, s in enumerate(sensors):
        if not (isinstance(s, dict) and isinstance(s.get("name"), str) and isinstance(s.get("units"), str)):
            bad("payload.sensors[%d] must be a map with string name and units" % i)
    values = payload["values"]
    if not isinstance(values, list):
        bad("payload.values must be a list")
    if not values:
        bad("payload.values is empty")
    width = len(sensors)
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
    return {"device_name": device_name, "device_type": payload["device_type"], "interval_ms": interval,
            "sensors": [{"name": s["name"], "units": s["units"]} for s in sensors], "rows": len(values)}


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
        # its own bytes, which cbor2 need not reproduce (float widths, indefinite lengths).
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


# ---- storage --------------------------------------------------------------------------------

def _write_atomic(path, data):
    """Write to a temporary name in the same folder, then rename: a crash leaves no half file."""
    tmp = os.path.join(os.path.dirname(path), _TMP + uuid.uuid4().hex)
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Store:
    """Accepted samples, in memory (arrival order) and on disk; every method holds the lock."""

    def __init__(self, data_dir):
        self.data_dir = os.path.abspath(str(data_dir))
        self.lock = threading.Lock()
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
                fmt = _FORMATS.get(meta.get("content_type"))
                sample = None
                if fmt:
                    try:
                        sample = _jsonable(decode_sample(body, fmt))
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
        """Store every prepared file, or none: raise Rejected naming the first that fails."""
        with self.lock:
            if disallow_duplicates:
                seen = {meta["sha256"] for meta, _ in self.entries}
                for f in files:
                    if f["sha256"] in seen:
                        raise Rejected(400, "%s (file %s, sha256 %s)" % (DUPLICATE, f["file_name"], f["sha256"]))
                    seen.add(f["sha256"])
            stored = []
            for f in files:
                name = self._stored_name(f["file_name"], add_date_id)
                self._remove_clashing(category, name)
                meta = {
                    "name": name, "file_name": f["file_name"], "category": category, "label": f["label"],
                    "content_type": f["content_type"], "size": len(f["body"]), "sha256": f["sha256"],
                    "signed": f["signed"], "signature_valid": f["signature_valid"],
                    "received_at": datetime.datetime.now(datetime.timezone.utc)
                    .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "sample_id": self._next_sample_id,
                }
                meta.update(f["summary"])
                self._next_sample_id += 1
                folder = self._dir(category)
                os.makedirs(folder, exist_ok=True)
                _write_atomic(os.path.join(folder, name), f["body"])
                _write_atomic(os.path.join(folder, name + ".json"),
                              json.dumps(meta, indent=1).encode("utf-8"))
                self.entries.append((meta, f["sample"]))
                stored.append(meta)
            return stored

    def listing(self):
        with self.lock:
            return [dict(meta, sample=sample) for meta, sample in self.entries]

    def reset(self):
        with self.lock:
            self.entries = []
            for category in CATEGORIES:
                shutil.rmtree(self._dir(category), ignore_errors=True)
                os.makedirs(self._dir(category), exist_ok=True)


# ---- the HTTP service -----------------------------------------------------------------------

class _Handler(WSGIRequestHandler):
    def log(self, type, message, *args):
        if getattr(self.server, "log_requests", False):
            super().log(type, message, *args)


class MockServer:
    """The mock ingestion service on (host, port); port 0 picks a free one. start() serves in a
    daemon thread and returns self; stop() ends it. The store survives a restart on the same data_dir."""

    def __init__(self, data_dir, api_keys=(API_KEY,), host="127.0.0.1", port=0, hmac_keys=(),
                 max_file_bytes=MAX_FILE_BYTES, max_files=MAX_FILES, log_requests=False):
        self.api_keys = tuple(api_keys)
        self.hmac_keys = tuple(hmac_keys)
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files
        self.store = Store(data_dir)
        self._server = make_server(host, port, self._wsgi, threaded=True, request_handler=_Handler)
        self._server.log_requests = log_requests
        self.host = host
        self.port = self._server.server_port
        self.url = "http://%s:%d" % (host, self.port)
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._thread:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def serve_forever(self):
        self._server.serve_forever()

    # -- WSGI --

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        request.max_form_parts = self.max_files + 16  # werkzeug's default (1000) would answer 413 first
        try:
            response = self._route(request)
        except Rejected as e:
            response = _text(e.status, e.text, **e.headers)
        except Exception as e:  # never crash on what a client sends
            response = _text(500, "Internal server error: %s: %s" % (type(e).__name__, e))
        return response(environ, start_response)

    def _route(self, request):
        parts = request.path.strip("/").split("/")
        if parts == ["_mock", "samples"]:
            self._allow(request, "GET")
            body = json.dumps(self.store.listing())
            return Response(body, status=200, content_type="application/json")
        if parts == ["_mock", "reset"]:
            self._allow(request, "POST")
            self.store.reset()
            return _text(200, "")
        if len(parts) == 3 and parts[0] == "api" and parts[1] in CATEGORIES and parts[2] in ("data", "files"):
            self._allow(request, "POST")
            self._check_key(request)
            if parts[2] == "data":
                return self._data(request, parts[1])
            return self._files(request, parts[1])
        return _text(404, "Not found: %s" % request.path)

    @staticmethod
    def _allow(request, method):
        if request.method != method:
            raise Rejected(405, "Method not allowed: use %s" % method, {"Allow": method})

    def _check_key(self, request):
        key = request.headers.get("x-api-key")
        if not key:
            raise Rejected(401, "Missing x-api-key header")
        if key not in self.api_keys:
            raise Rejected(401, "Invalid API key")

    def _label(self, request, file_name):
        if request.headers.get("x-label"):
            return urllib.parse.unquote(request.headers["x-label"])
        if _flag(request.headers, "x-no-label"):
            return None
        return infer_label(file_name)

    def _too_big(self, file_name, size):
        return Rejected(400, "File too large: %s is %d bytes; at most %d bytes per file (the service takes 100 MB)"
                        % (file_name, size, self.max_file_bytes))

    def _prepare(self, request, file_name, body, fmt, content_type):
        """Check one file and work out everything stored about it except its name."""
        if not file_name or file_name in (".", "..") or file_name.startswith(_TMP) \
                or any(c in file_name for c in "/\\") or any(ord(c) < 32 for c in file_name):
            raise Rejected(400, "Invalid file name %r: the mock server cannot store it" % file_name)
        if len(file_name.encode("utf-8")) > MAX_NAME_BYTES:
            raise Rejected(400, "File name too long: at most %d bytes" % MAX_NAME_BYTES)
        summary = dict.fromkeys(("device_name", "device_type", "interval_ms", "sensors", "rows"))
        sample, signed, valid = None, False, None
        if fmt:
            obj = decode_sample(body, fmt)
            summary = check_sample(obj)
            signed = obj["protected"]["alg"] == "HS256"
            if signed:
                valid = verify_signature(body, fmt, obj, self.hmac_keys)
            sample = _jsonable(obj)
            content_type = _CONTENT_TYPES[fmt]
        return {"file_name": file_name, "body": body, "sha256": hashlib.sha256(body).hexdigest(),
                "label": self._label(request, file_name), "content_type": content_type,
                "signed": signed, "signature_valid": valid, "summary": summary, "sample": sample}

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
            raise self._too_big(file_name, request.content_length)
        body = _read_at_most(request.stream, self.max_file_bytes + 1)  # a chunked body has no length
        if len(body) > self.max_file_bytes:
            raise self._too_big(file_name, len(body))
        f = self._prepare(request, file_name, body, fmt, request.mimetype)
        stored = self.store.add(category, [f], _flag(request.headers, "x-disallow-duplicates"),
                                _flag(request.headers, "x-add-date-id"))
        return _text(200, stored[0]["name"])

    def _files(self, request, category):
        """The multipart endpoint: parts named `data`, each a file; all are stored, or none."""
        if request.mimetype != "multipart/form-data":
            raise Rejected(400, "Unsupported content type %r: /files takes multipart/form-data"
                           % request.mimetype)
        try:
            parts = request.files.getlist("data")
            unnamed = request.form.getlist("data")
        except RequestEntityTooLarge:
            raise Rejected(400, "Too many files: at most %d files in one request" % self.max_files)
        if unnamed:
            raise Rejected(400, "Invalid message: a part named 'data' has no filename")
        if not parts:
            raise Rejected(400, "Invalid message: no files (multipart parts named 'data' with a filename)")
        if len(parts) > self.max_files:
            raise Rejected(400, "Too many files: %d in one request; at most %d" % (len(parts), self.max_files))
        files = []
        for part in parts:
            file_name = part.filename or ""
            part.stream.seek(0, 2)
            size = part.stream.tell()
            if size > self.max_file_bytes:
                raise self._too_big(file_name, size)
            part.stream.seek(0)
            body = part.stream.read()
            ext = os.path.splitext(file_name)[1].lower()
            fmt = {".cbor": "cbor", ".json": "json"}.get(ext) or _FORMATS.get(part.mimetype)
            try:
                files.append(self._prepare(request, file_name, body, fmt,
                                           part.mimetype or "application/octet-stream"))
            except Rejected as e:
                raise Rejected(e.status, "%s (file %s)" % (e.text, file_name))
        stored = self.store.add(category, files, _flag(request.headers, "x-disallow-duplicates"),
                                _flag(request.headers, "x-add-date-id"))
        # The shape Edge Impulse's Python SDK parses (edgeimpulse/python-sdk,
        # edgeimpulse/data/_functions/upload.py and sample_type.py).
        answer = {"success": True, "files": [
            {"success": True, "fileName": m["name"], "sampleId": m["sample_id"], "projectId": 1}
            for m in stored]}
        return Response(json.dumps(answer), status=200, content_type="application/json")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Mock Edge Impulse ingestion server")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--data", default="data/mock", help="folder for stored samples")
    ap.add_argument("--api-key", action="append", dest="api_keys",
                    help="accepted x-api-key (repeatable; default: the page's example key)")
    ap.add_argument("--hmac-key", action="append", dest="hmac_keys", default=[],
                    help="HMAC key to verify HS256 signatures with (repeatable)")
    args = ap.parse_args(argv)
    server = MockServer(args.data, api_keys=args.api_keys or (API_KEY,), host=args.host, port=args.port,
                        hmac_keys=args.hmac_keys, log_requests=True)
    print("mock ingestion server on %s (data in %s)" % (server.url, args.data), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
