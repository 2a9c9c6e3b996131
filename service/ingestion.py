"""The Ingestion API: POST /api/<category>/data (one raw CBOR or JSON body) and
POST /api/<category>/files (multipart/form-data, parts named `data`), as Edge Impulse's page
documents them and as its SDK, CLI and firmware use them. Each file is checked alone and answered
alone on /files; the files that pass are stored together (store.py), in the project of the API
key, and their signatures are checked with that project's HMAC keys."""
import urllib.parse

from werkzeug.exceptions import RequestEntityTooLarge

from service.config import MAX_FIELD, MAX_HEADER_JSON, SPLIT, STRUCTURED_LABELS
from service.files import FORMATS, infer_label, inspect_file, split_category
from service.limits import Incoming, too_big
from service.web import Rejected, flag, json_answer, strict_json, text


def _ascii(request, name):
    """A header that HTTP keeps ASCII; other characters come percent-encoded or JSON-escaped."""
    raw = request.headers.get(name)
    if raw is not None and not raw.isascii():
        raise Rejected(400, "Invalid message: %s is not ASCII (percent-encode a name or label, "
                            "escape JSON as \\uXXXX)" % name)
    return raw


def _label(request, file_name):
    if _ascii(request, "x-label"):
        label = _unquote(request.headers["x-label"], "x-label")
        if len(label.encode("utf-8", "surrogatepass")) > MAX_FIELD:
            raise Rejected(400, "Invalid message: x-label is over %d bytes" % MAX_FIELD)
        return label
    if flag(request.headers, "x-no-label"):
        return None
    return infer_label(file_name)


def _json_header(request, name, types):
    raw = _ascii(request, name)
    if raw is None:
        return None
    if len(raw) > MAX_HEADER_JSON:
        raise Rejected(400, "Invalid message: %s is over %d bytes" % (name, MAX_HEADER_JSON))
    value = strict_json(raw, name)
    if not isinstance(value, types):
        raise Rejected(400, "Invalid message: %s must be a JSON %s" % (name, types[0].__name__))
    return value


def _extra(request):
    """What a sample keeps of the optional headers Edge Impulse's SDK and CLI send: as data, in
    the index's `extra`, never as the service's own fields."""
    extra = {"metadata": _json_header(request, "x-metadata", (dict,)),
             "bounding_boxes": _json_header(request, "x-bounding-boxes", (list, dict)),
             "upload_source": request.headers.get("x-upload-source")}
    return {k: v for k, v in extra.items() if v is not None}


def _unquote(raw, what):
    try:  # percent-encoded UTF-8, as Edge Impulse's clients send non-ASCII names and labels
        return urllib.parse.unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise Rejected(400, "Invalid %s: its percent-encoding is not UTF-8" % what)


def _file_name(raw):
    # RFC 7578 4.2 allows percent-encoding for non-ASCII file names in multipart too
    return _unquote(raw or "", "file name")


def _prepare(app, request, part, file_name, content_type, category, extra, fmt=None):
    """Check one received file; what the store needs to keep it."""
    summary = inspect_file(file_name, part.file, content_type, request.project.hmac_keys, fmt)
    return {"file_name": file_name, "path": part.path, "size": part.size, "sha256": part.sha256,
            "label": _label(request, file_name), "summary": summary, "extra": dict(extra),
            "category": split_category(md5=part.md5) if category == SPLIT else None}


def data(app, request, category):
    """The legacy endpoint: one raw CBOR or JSON body; answers the stored name as text."""
    raw_name = _ascii(request, "x-file-name")
    if not raw_name:
        raise Rejected(421, "Missing x-file-name header")
    file_name = _file_name(raw_name)
    fmt = FORMATS.get(request.mimetype)
    if not fmt:
        raise Rejected(400, "Unsupported content type %r: /data takes application/cbor or "
                            "application/json (multipart/form-data goes to /files)" % request.mimetype)
    limit = app.config.max_file_bytes
    if request.content_length is not None and request.content_length > limit:
        raise too_big(file_name, request.content_length, limit)
    extra = _extra(request)
    part = Incoming(app.store, limit, file_name)
    try:
        while True:  # a chunked body has no length: the limit is checked as it comes
            chunk = request.stream.read(256 * 1024)
            if not chunk:
                break
            part.write(chunk)
        part.finish()
        # /data says its format in Content-Type, whatever the name's extension.
        f = _prepare(app, request, part, file_name, request.mimetype, category, extra, fmt)
        [stored] = app.store.add(category, [f], flag(request.headers, "x-disallow-duplicates"),
                                 flag(request.headers, "x-add-date-id"), request.project.name)
        if isinstance(stored, Rejected):
            raise stored
        return text(200, stored["name"])
    finally:
        part.discard()  # gone already when it was stored


def files(app, request, category):
    """The multipart endpoint: every part named `data` with a filename is a file, checked and
    answered alone: {"success", "files": [{"success", "fileName", "sampleId" | "error"}]}."""
    if request.mimetype != "multipart/form-data":
        raise Rejected(400, "Unsupported content type %r: /files takes multipart/form-data" % request.mimetype)
    if not request.mimetype_params.get("boundary"):
        raise Rejected(400, "Invalid message: multipart/form-data without a boundary parameter")
    try:
        return _files(app, request, category)
    finally:
        for part in request.incoming:
            part.discard()


def _files(app, request, category):
    try:
        parts = request.files.getlist("data")
        unnamed = request.form.getlist("data")
    except RequestEntityTooLarge:
        raise Rejected(400, "Too many files: at most %d files in one request (or a form field over 500 kB)"
                       % app.config.max_files)
    except ValueError as e:
        raise Rejected(400, "Invalid message: malformed multipart body (%s)" % e)
    if unnamed:
        raise Rejected(400, "Invalid message: a part named 'data' has no filename")
    if not parts:
        raise Rejected(400, "Invalid message: no files (multipart parts named 'data' with a filename)")
    if len(parts) > app.config.max_files:
        raise Rejected(400, "Too many files: %d in one request; at most %d" % (len(parts), app.config.max_files))
    extra = _extra(request)
    items, ready, structured = [], [], None
    for part in parts:
        incoming = part.stream.finish()
        name = part.filename or ""
        try:
            name = _file_name(name)
            if name == STRUCTURED_LABELS and len(parts) > 1:
                structured = _structured_labels(incoming)
                continue
            ready.append(_prepare(app, request, incoming, name, part.mimetype, category, extra))
            items.append((name, ready[-1]))
        except Rejected as e:
            if name == STRUCTURED_LABELS:
                raise
            items.append((name, e.text))
    for f in ready:
        if structured and f["file_name"] in structured:
            f["extra"]["structured_labels"] = structured[f["file_name"]]
    stored = iter(app.store.add(category, ready, flag(request.headers, "x-disallow-duplicates"),
                                flag(request.headers, "x-add-date-id"), request.project.name))
    answers = []
    for name, outcome in items:
        if isinstance(outcome, dict):
            outcome = next(stored)
            outcome = outcome.text if isinstance(outcome, Rejected) else outcome
        if isinstance(outcome, str):
            answers.append({"success": False, "fileName": name, "error": outcome})
        else:
            answers.append({"success": True, "fileName": outcome["name"], "sampleId": outcome["sample_id"]})
    failed = [a for a in answers if not a["success"]]
    # The shape Edge Impulse's Python SDK and CLI uploader parse (edgeimpulse/python-sdk,
    # edgeimpulse/data/_functions/upload.py; edge-impulse-cli uploader). A request none of whose
    # files was stored is a 400 with the first reason as `error`, as the SDK reports it.
    answer = {"success": not failed, "files": answers}
    if failed:
        answer["error"] = failed[0]["error"] + (
            " (and %d more of %d files failed)" % (len(failed) - 1, len(answers)) if len(failed) > 1 else "")
    return json_answer(answer, 400 if len(failed) == len(answers) else 200)


def _structured_labels(incoming):
    incoming.seek(0)
    body = incoming.read(1024 * 1024 + 1)
    doc = strict_json(body, STRUCTURED_LABELS) if len(body) <= 1024 * 1024 else None
    if not (isinstance(doc, dict) and doc.get("type") == "structured-labels"
            and isinstance(doc.get("structuredLabels"), dict)):
        raise Rejected(400, "Invalid message: %s is not a structured-labels JSON document (at most 1 MB)"
                       % STRUCTURED_LABELS)
    return doc["structuredLabels"]
