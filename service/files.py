"""One uploaded file: checked as the service would store it and described (the summary the index
keeps), and read back on demand: rows for a plot, the decoded object for the test API."""
import hashlib
import json
import os

import cbor2

from service import acquisition, cbor_sample, media, signature
from service.config import LABEL_RE, MAX_NAME_BYTES
from service.web import Rejected, jsonable

FORMATS = {"application/cbor": "cbor", "application/json": "json"}
CONTENT_TYPES = {"cbor": "application/cbor", "json": "application/json"}
# As Edge Impulse's CLI uploader names them (EXTENSION_MAPPING in its uploader).
EXTENSIONS = {".wav": "audio/wav", ".cbor": "application/cbor", ".json": "application/json",
              ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".csv": "text/csv",
              ".txt": "text/plain", ".mp4": "video/mp4", ".avi": "video/avi"}


def infer_label(file_name):
    """Edge Impulse's label from a file name: `idle.01` -> `idle`; None when nothing matches."""
    m = LABEL_RE.match(file_name)
    return m.group(0) if m else None


def split_category(body=None, md5=None):
    """Where /api/split puts a file: the rule of Edge Impulse's CLI uploader, an 80/20 split on
    the MD5 of the content (first hex digit that is not 'f': 0-b training, c-e testing)."""
    digit = (md5 or hashlib.md5(body).hexdigest()).lstrip("f")[:1]
    return "testing" if digit in ("c", "d", "e") else "training"


def check_name(file_name):
    if not file_name or file_name in (".", "..") or any(c in file_name for c in "/\\") \
            or any(ord(c) < 32 or ord(c) == 127 for c in file_name):
        raise Rejected(400, "Invalid file name %r: the service cannot store it" % file_name[:80])
    if len(file_name.encode("utf-8", "replace")) > MAX_NAME_BYTES:
        raise Rejected(400, "File name too long: at most %d bytes" % MAX_NAME_BYTES)


def _size(f):
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(0)
    return size


def inspect_file(file_name, f, content_type, hmac_keys=(), fmt=None):
    """Check one file (f: a binary file, seekable) and describe it; Rejected(400, reason) for
    what the service refuses. fmt ("cbor" or "json") forces a data acquisition object, as /data's
    Content-Type does; else the name's extension decides, then the content type."""
    check_name(file_name)
    size = _size(f)
    ext = os.path.splitext(file_name)[1].lower()
    declared = (content_type or "").split(";")[0].strip().lower()
    if fmt is None:
        fmt = {".cbor": "cbor", ".json": "json"}.get(ext) or FORMATS.get(declared)
        if fmt == "cbor" and f.read(64).lstrip()[:1] == b"{":
            fmt = "json"  # the SDK sends its JSON objects in parts typed application/cbor
        f.seek(0)
    summary = {"kind": "file", "device_name": None, "device_type": None, "interval_ms": None,
               "sensors": None, "rows": None, "binary": None, "signed": False, "signature_valid": None,
               "content_type": EXTENSIONS.get(ext) or declared or "application/octet-stream"}
    if fmt == "cbor":
        info, span, binary_at = cbor_sample.read_cbor(f, size)
        summary.update(info, kind="acquisition", content_type=CONTENT_TYPES[fmt])
        if info["signed"] and hmac_keys:
            f.seek(0)
            sig = _signature(f, span)
            summary["signature_valid"] = signature.verify_cbor(f, size, span, sig, info["binary"], hmac_keys)
    elif fmt == "json":
        info, span = acquisition.read_json(f, size)
        summary.update(info, kind="acquisition", content_type=CONTENT_TYPES[fmt])
        if info["signed"] and hmac_keys:
            f.seek(span[0] - 1)
            sig = f.read(span[1] - span[0] + 2).decode("ascii", "replace").strip('"')
            summary["signature_valid"] = signature.verify_json(f, span, sig, hmac_keys)
    elif ext == ".csv" or declared == "text/csv":
        summary.update(media.read_csv(f), kind="csv", content_type="text/csv")
        acquisition.check_summary(summary)
    elif ext == ".wav" or declared in ("audio/wav", "audio/x-wav", "audio/wave"):
        summary.update(media.read_wav(f)[0], kind="audio", content_type="audio/wav")
    elif ext in (".png", ".jpg", ".jpeg") or declared in ("image/png", "image/jpeg"):
        width, height = media.image_size(f, declared or ext)
        f.seek(0)
        summary.update(kind="image", width=width, height=height, interval_ms=0, rows=1,
                       sensors=[{"name": "image", "units": "rgba"}],
                       content_type="image/png" if f.read(1) == b"\x89" else "image/jpeg")
    return summary


def _signature(f, span):
    f.seek(span[0])
    return cbor2.loads(f.read(span[1] - span[0]))


def each_row(meta, f, keep, step=1, start=0):
    """Hand every step-th row of values a stored file holds, from row `start`, to keep(row), in
    order, as the file is read (nothing is collected here). False for images and other files
    (no values)."""
    total = meta.get("rows") or 0
    kind = meta.get("kind")
    if kind not in ("acquisition", "csv", "audio") or not total:
        return False

    def walked(i, row):
        if i >= start and (i - start) % step == 0:
            keep(row)
    size = _size(f)
    picks = range(start, total, step)
    if kind == "acquisition" and meta["content_type"] == "application/json":
        acquisition.read_json(f, size, walked)
    elif kind == "acquisition":
        info, _, binary_at = cbor_sample.read_cbor(f, size, None if meta.get("binary") else walked)
        if binary_at is not None:
            cbor_sample.binary_rows(f, binary_at, info["binary"], len(info["sensors"]), picks, keep)
    elif kind == "csv":
        media.read_csv(f, walked)
    else:
        media.read_wav(f, picks, keep)
    return True


def series(meta, f, max_points=None):
    """(step, rows): every step-th row of values a stored file holds, at most max_points rows
    (all with None); (1, None) for images and other files. Read as a stream; only the rows
    picked are kept."""
    total = meta.get("rows") or 0
    step = max(1, -(-total // max_points)) if max_points and total else 1
    out = []
    return step, out if each_row(meta, f, out.append, step) else None


def decoded(meta, f):
    """The whole data acquisition object, decoded (the test API's view; None for other files)."""
    try:
        if meta.get("content_type") == "application/cbor":
            return jsonable(cbor2.CBORDecoder(f).decode())
        if meta.get("content_type") == "application/json":
            return jsonable(json.load(f))
    except Exception:  # what was stored was checked; this is only a view of it
        return None
    return None
