# Files: multipart/form-data uploads to /api/{category}/files, and bodies that are encoded
# already (the offline queue's entries) to /data, streamed from flash through one buffer.
# Loaded only when used (Client.upload_files, Client.upload_encoded): RAM goes to samples.
from ei import encoder, wire
from ei.acquisition import Sample
from ei.compat import const, sleep_ms
from ei.errors import (for_status, CertificateError, Duplicate, IngestionError, MissingHeader,
                       ServerError, TransportError, Unauthorized)

MAX_FILES = 1000  # the page's limits for one /files request
MAX_FILE_BYTES = 100 * 1024 * 1024

CONTENT_TYPES = (
    (".cbor", "application/cbor"), (".json", "application/json"), (".csv", "text/csv"),
    (".wav", "audio/wav"), (".jpg", "image/jpeg"), (".jpeg", "image/jpeg"),
    (".png", "image/png"), (".txt", "text/plain"),
)


def content_type_for(file_name):
    low = file_name.lower()
    for ext, ct in CONTENT_TYPES:
        if low.endswith(ext):
            return ct
    return "application/octet-stream"


def part_head(boundary, file_name, content_type):
    return ('--%s\r\nContent-Disposition: form-data; name="data"; filename="%s"\r\n'
            'Content-Type: %s\r\n\r\n' % (boundary, file_name, content_type)).encode()


def closing(boundary):
    return ("--%s--\r\n" % boundary).encode()


class NotDelivered(Exception):  # defined here: loaded with /files, not with every upload
    """upload_files: some files are not on the service. results holds, for every file in
    order, (file_name, delivered, detail); error is the last error of the request (None when
    the service refused files as invalid). The message names each file not delivered."""

    def __init__(self, results, error=None):
        bad = ["%s (%s)" % (r[0], r[2]) for r in results if not r[1]]
        super().__init__("%d of %d files not delivered: %s" % (len(bad), len(results),
                                                               ", ".join(bad)))
        self.results = results
        self.error = error



def upload_files(client, files, category="training", label=None, no_label=False,
                 disallow_duplicates=False, add_date_id=False, boundary=None):
    """POST files as multipart/form-data to /api/{category}/files. Each entry is
    (file_name, data), data being a Sample, bytes, a path on flash or an open binary
    file (read from where it stands); the content type follows the extension.

    The answer is read file by file: returns one (file_name, True, detail) a file, in order,
    detail being the stored name (or sample id) or "already stored". A retry sends only the
    files the service does not have yet; "already exists" is delivered for that file only.
    Raises NotDelivered (its .results the same list, with False and the reason for each file
    not delivered) when a file was refused as invalid (never retried) or the retries ran
    out; a whole-request error (401, a bad label, a network that never came back) before any
    file was delivered is raised as it is."""
    wire.check_category(category)
    if not files:
        raise ValueError("upload_files() needs at least one (file_name, data)")
    if len(files) > MAX_FILES:
        raise ValueError("%d files in one request; the service takes at most %d"
                         % (len(files), MAX_FILES))
    if boundary is None:
        from binascii import hexlify
        from ei.compat import urandom
        boundary = hexlify(urandom(16)).decode()
    wire.check_header(boundary, "boundary")
    label = client.label(label)
    parts = []
    reusable = True
    for entry in files:
        given, data = entry
        name = client.name(given)
        ctype = content_type_for(name)
        enc = None
        if isinstance(data, Sample):
            if ctype not in ("application/cbor", "application/json"):
                raise ValueError("a Sample's file name must end in .cbor or .json, not %r"
                                 % (name,))
            wire.check_sample(data, "upload_files()")
            enc = client.encoding("json" if ctype == "application/json" else "cbor")
            size = encoder.encoded_len(data, enc)
            reusable = reusable and data.reusable
            pos = None
        else:
            size, pos = _extent(data, name)
        if size > MAX_FILE_BYTES:
            raise ValueError("file %r is %d bytes; the service takes at most %d a file"
                             % (name, size, MAX_FILE_BYTES))
        parts.append((given, part_head(boundary, name, ctype), data, enc, size, pos))
    return _Upload(client, parts, category, label, no_label, disallow_duplicates, add_date_id,
                   boundary, reusable).run()


class _Upload:
    """The requests of one upload_files() call, until every file is delivered or settled."""

    def __init__(self, client, parts, category, label, no_label, disallow_duplicates,
                 add_date_id, boundary, reusable):
        self.client = client
        self.parts = parts
        self.path = "/api/%s/files" % category
        self.ctype = "multipart/form-data; boundary=" + boundary
        self.end = closing(boundary)
        self.opts = (label, no_label, disallow_duplicates, add_date_id)
        self.reusable = reusable
        self.results = [None] * len(parts)  # (file_name, delivered, detail) once settled

    def run(self):
        client = self.client
        pending = list(range(len(self.parts)))
        alone = False  # send one file a request: an answer about "a file" names none
        sent = False
        attempt = 0
        error = None
        client.attempts = 0
        while pending:
            batch = pending[:1] if alone else pending
            found = _Results()
            client.attempts += 1
            try:
                status, text = client.post(self._request(batch, sent), self._body(batch),
                                           found.feed)
                failed = self._settle(batch, status, text, found)
            except CertificateError:
                raise  # the same certificate would come back
            except TransportError as e:
                failed = e
            sent = True
            pending = [i for i in pending if self.results[i] is None]
            if failed is None:
                continue
            if failed == "alone":
                alone = True
                if not self.reusable:
                    failed = IngestionError(400, text)
                else:
                    continue
            error = failed
            if not isinstance(failed, (TransportError, ServerError)) or not self.reusable \
                    or attempt >= client.retries:
                break
            attempt += 1
            sleep_ms(client.retry_delay_ms(attempt))
        return self._outcome(pending, error)

    def _settle(self, batch, status, text, found):
        """Record what the answer says of each file of batch; None, "alone" (send the files
        one at a time) or the error that stopped this attempt."""
        entries = found.files
        per_file = len(entries) == len(batch)
        if status == 200 or (400 <= status < 500 and status not in (401, 421)) \
                or status >= 500:
            if per_file:  # the answer's files, in the order they were sent
                for i, (ok, detail, why) in zip(batch, entries):
                    if ok or "already exists" in why:
                        self._done(i, True, detail if ok else "already stored")
                    elif status < 500:
                        self._done(i, False, "refused: " + why)  # invalid: not retried
                return ServerError(status, text) if status >= 500 else None
        if status == 200:
            if entries or found.broken:  # files the answer does not say the fate of
                return TransportError("the /files answer lists %d files for %d sent"
                                      % (len(entries), len(batch)))
            for i in batch:  # a 200 with no per-file results: all of them were stored
                self._done(i, True, text.strip() if len(batch) == 1 else "stored")
            return None
        err = for_status(status, text)
        if isinstance(err, (ServerError, Unauthorized, MissingHeader)) or status < 400:
            return err
        # 4xx about a file, not naming which: alone, the file is the one
        if len(batch) > 1:
            return "alone"
        self._done(batch[0], isinstance(err, Duplicate),
                   "already stored" if isinstance(err, Duplicate) else "refused: " + text)
        return None

    def _done(self, i, delivered, detail):
        self.results[i] = (self.parts[i][0], delivered, detail)

    def _outcome(self, pending, error):
        for i in pending:
            self._done(i, False, "not delivered: %s" % (error,))
        if all(r[1] for r in self.results):
            return self.results
        if error is not None and not any(r[1] for r in self.results) and \
                len(pending) == len(self.results):
            raise error  # nothing was delivered, for one reason
        raise NotDelivered(self.results, error)

    def _request(self, batch, retry):
        length = len(self.end)
        for i in batch:
            p = self.parts[i]
            length += len(p[1]) + p[4] + 2
        label, no_label, dup, date_id = self.opts
        return (self.path, self.client.options(label, no_label, dup or retry, date_id),
                self.ctype, length, True)

    def _body(self, batch):
        chunk = self.client.chunk

        def body():
            buf = None
            for i in batch:
                _, ph, data, enc, size, pos = self.parts[i]
                yield ph
                if enc is not None:
                    yield from encoder.chunks(data, enc, chunk)
                elif pos is None and not isinstance(data, str):
                    yield data
                else:
                    if buf is None:
                        buf = bytearray(chunk)  # one buffer streams every file
                    yield from _file_chunks(data, pos, size, buf)
                yield b"\r\n"
            yield self.end

        return body


_ENTRY = const(512)  # longest per-file result kept to parse (a name, an id, an error line)


class _Results:
    """The per-file results of a /files answer, {"success", "files": [{"success",
    "fileName" or "sampleId", "error"}, ...]}, read as the answer streams past: each object
    of the "files" array is parsed alone, so a 1000-file answer needs _ENTRY bytes, not the
    whole answer. files: (ok, name or id, error) in the answer's order."""

    def __init__(self):
        self.files = []
        self.broken = False  # an entry over _ENTRY bytes or not JSON
        self._depth = 0
        self._str = self._esc = False
        self._buf = None
        self._n = -1  # bytes of the entry being gathered; -1 between entries

    def feed(self, view):
        for c in view:
            if self._n >= 0:
                if self._n < _ENTRY:
                    self._buf[self._n] = c
                self._n += 1
            if self._str:
                if self._esc:
                    self._esc = False
                elif c == 0x5C:  # backslash
                    self._esc = True
                elif c == 0x22:
                    self._str = False
            elif c == 0x22:
                self._str = True
            elif c == 0x7B or c == 0x5B:  # { [
                self._depth += 1
                if self._depth == 3 and c == 0x7B:  # an object in the top object's array
                    if self._buf is None:
                        self._buf = bytearray(_ENTRY)
                    self._buf[0] = c
                    self._n = 1
            elif c == 0x7D or c == 0x5D:  # } ]
                if self._depth == 3 and self._n >= 0:
                    self._entry()
                self._depth -= 1

    def _entry(self):
        n, self._n = self._n, -1
        if n > _ENTRY:
            self.broken = True
            return
        import json
        try:
            f = json.loads(bytes(self._buf[:n]))
            ok = f.get("success") is True
            detail = f.get("fileName") or f.get("sampleId")
            why = f.get("error") or ""
        except (ValueError, AttributeError):
            self.broken = True
            return
        self.files.append((ok, "" if detail is None else str(detail), str(why)))


def upload_encoded(client, data, file_name, category="training", label=None,
                   no_label=False, disallow_duplicates=False, add_date_id=False,
                   content_type=None, size=None):
    """POST a data acquisition object that is encoded already (bytes, a path on flash,
    or an open binary file read from where it stands, `size` bytes or to its end) to
    /api/{category}/data, as upload() would send it: the offline queue's entries go this
    way. content_type defaults from file_name's extension (.cbor or .json). Returns the
    stored file name, or None when a retry found the service already had it."""
    wire.check_category(category)
    name = client.name(file_name)
    label = client.label(label)
    ctype = content_type or content_type_for(file_name)
    if ctype not in ("application/cbor", "application/json"):
        raise ValueError("/data takes application/cbor or application/json, not %r"
                         % (ctype,))
    length, pos = _extent(data, name)
    if size is not None:
        if size > length:
            raise ValueError("size=%d but there are only %d bytes" % (size, length))
        length = size
    if not length:
        raise ValueError("the encoded sample is empty; nothing to upload")
    if length > MAX_FILE_BYTES:
        raise ValueError("%d bytes; the service takes at most %d a file"
                         % (length, MAX_FILE_BYTES))
    path = "/api/%s/data" % category
    chunk = client.chunk

    def request(retry):
        headers = [("X-File-Name", name)] + client.options(
            label, no_label, disallow_duplicates or retry, add_date_id)
        return path, headers, ctype, length, False

    def body():
        if pos is None and not isinstance(data, str):
            yield memoryview(data)[:length]
        else:
            yield from _file_chunks(data, pos, length, bytearray(chunk))

    text = client.send(request, body, True)
    return None if text is None else text.strip()


def _extent(data, name):
    """(size, pos) of bytes, a path (pos None) or an open binary file (read from pos on)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return len(data), None
    if isinstance(data, str):
        return _file_size(data, name), None
    if hasattr(data, "readinto"):
        pos = data.tell()
        size = data.seek(0, 2) - pos
        data.seek(pos)
        return size, pos
    raise TypeError("file %r: data must be a Sample, bytes, a path or a binary file, not %s"
                    % (name, type(data).__name__))


def _file_size(path, name):
    import os
    try:
        return os.stat(path)[6]
    except OSError:
        raise ValueError("file %r: no file at %s" % (name, path))


def _file_chunks(data, pos, size, buf):
    """Yield a file (a path, or an open file from `pos`) in views of buf."""
    f = open(data, "rb") if isinstance(data, str) else data
    try:
        if pos is not None:
            f.seek(pos)  # a retry sends it again from the start
        mv = memoryview(buf)
        n = 0
        while n < size:
            got = f.readinto(mv[:min(len(buf), size - n)])
            if not got:
                break
            yield mv[:got]
            n += got
        if n != size:
            raise ValueError("a file changed size while it was uploaded (%d of %d bytes)"
                             % (n, size))
    finally:
        if f is not data:
            f.close()
