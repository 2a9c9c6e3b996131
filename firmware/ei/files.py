# Files: multipart/form-data uploads to /api/{category}/files, every request of one
# upload_files() call until each file is delivered or settled. Loaded only when used
# (Client.upload_files) and forgotten after: RAM goes to samples. Nothing a file needs is
# kept between requests but one byte of outcome (ei/files_answer.py): each part's head and
# size are made again as it is sent, so 1,000 files need the heap 12 do.
import sys

import ei
# what this module loads, forgotten with it after each call (it is itself, of course)
_LOADED = ["files"] + [m for m in ("files_answer", "parts") if "ei." + m not in sys.modules]
from ei import errors, wire  # noqa: E402
from ei.parts import extent, source  # noqa: E402
from ei.compat import sleep_ms, const  # noqa: E402
from ei.stream import decode  # noqa: E402
# (the service's errors, errors.ServerError...: ei/errors_rare.py, loaded by a failure only)
from ei.errors import CertificateError, TransportError, Msg  # noqa: E402
from ei.files_answer import Answer, Results, PENDING, OTHER, ALREADY, STORED, REFUSED  # noqa

MAX_FILES = 1000  # the page's limits for one /files request
MAX_FILE_BYTES = 100 * 1024 * 1024
# error texts (ei/messages.py)
_M_FILE_COUNT = const(60)
_M_SAMPLE_NAME = const(61)
_M_FILE_SIZE = const(62)
_M_ANSWER_LISTS = const(63)
_M_NOT_DELIVERED = const(64)
_M_MORE = const(65)

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


def upload_files(client, files, category="training", label=None, no_label=False,
                 disallow_duplicates=False, add_date_id=False, boundary=None):
    """POST files as multipart/form-data to /api/{category}/files. Each entry of the list
    `files` is (file_name, data), data being a Sample, bytes, a path on flash or an open
    binary file (read from where it stands); the content type follows the extension. The
    list is read again for each request: leave it as it is until this returns.

    The answer is read file by file: returns a sequence (ei.files_answer.Results) of one
    (file_name, True, detail) a file, in order, detail being the stored name (or sample id)
    or "already stored". A retry sends only the files the service does not have yet;
    "already exists" is delivered for that file only. Raises NotDelivered (its .results the
    same sequence, with False and the reason for each file not delivered) when a file was
    refused as invalid (never retried) or the retries ran out; a whole-request error (401,
    a bad label, a network that never came back) before any file was delivered is raised as
    it is."""
    try:
        return _upload_files(client, files, category, label, no_label, disallow_duplicates,
                             add_date_id, boundary)
    finally:
        for m in _LOADED:  # forgotten: what this returns keeps only ei/files_answer.py's code
            if sys.modules.pop("ei." + m, None) is not None:
                try:
                    delattr(ei, m)  # importing a submodule set the package's attribute
                except AttributeError:
                    pass


def _upload_files(client, files, category, label, no_label, disallow_duplicates, add_date_id,
                  boundary):
    wire.check_category(category)
    if not files or len(files) > MAX_FILES:
        raise ValueError(Msg(_M_FILE_COUNT, len(files), MAX_FILES))
    if boundary is None:
        from binascii import hexlify
        from ei.compat import urandom
        boundary = hexlify(urandom(16)).decode()
    wire.check_header(boundary, "boundary")
    return Upload(client, files, category, client.name(label, "label"), no_label,
                  disallow_duplicates, add_date_id, boundary).run()


class Upload:
    """The requests of one upload_files() call, until every file is delivered or settled."""

    def __init__(self, client, files, category, label, no_label, disallow_duplicates,
                 add_date_id, boundary):
        self.client = client
        self.files = files
        self.path = "/api/%s/files" % category
        self.boundary = boundary
        self.opts = (label, no_label, disallow_duplicates, add_date_id, None)
        self.reusable = True
        self.room = client.chunk
        self.pos = {}  # where each open file stood: a retry reads it again from there
        self.encs = None  # (CBOR, JSON): one Encoding for every Sample, iat stamped once
        self.state = bytearray(len(files))  # each file's outcome (files_answer: PENDING...)
        self.details = {}  # a file's detail when it is not its own name
        self.one = False  # send the files one a request
        acq = sys.modules.get("ei.acquisition")  # a Sample exists only once it is loaded:
        self.sample = None if acq is None else acq.Sample  # /files of bytes never loads it
        for i in range(len(files)):  # everything checked before anything is sent
            data = files[i][1]
            if self.sample is not None and isinstance(data, self.sample):
                wire.check_sample(data, "upload_files()")
            name, ctype, size = self.part(i)
            if ctype is None:
                raise ValueError(Msg(_M_SAMPLE_NAME, name))
            if size > MAX_FILE_BYTES:
                raise ValueError(Msg(_M_FILE_SIZE, name, size, MAX_FILE_BYTES))

    def part(self, i):
        """(name as sent, content type, size) of file i, made again for each request (none
        is kept; a Sample's content type None when its name is not .cbor or .json)."""
        given, data = self.files[i]
        name = self.client.name(given)
        ctype = content_type_for(name)
        if self.sample is not None and isinstance(data, self.sample):
            if ctype != "application/cbor" and ctype != "application/json":
                return name, None, 0
            from ei import encoder
            if self.encs is None:
                self.encs = (self.client.encoding("cbor"), self.client.encoding("json"))
            enc = self.encs[ctype == "application/json"]
            self.room = max(self.room, encoder.room(data, enc))
            self.reusable = self.reusable and data.reusable
            return name, ctype, encoder.encoded_len(data, enc)
        if i in self.pos:
            return name, ctype, data.seek(0, 2) - self.pos[i]
        size, pos = extent(data, name)
        if pos is not None:
            self.pos[i] = pos
        return name, ctype, size

    def batch(self):
        """The indexes of this request's files, in order: every file not settled yet, or the
        first of them alone."""
        state = self.state
        for i in range(len(state)):
            if state[i] & 15 == PENDING:
                yield i
                if self.one:
                    return

    def run(self):
        client = self.client
        state = self.state
        attempt = 0
        error = None
        client.attempts = 0
        while True:
            n = length = 0
            for i in self.batch():
                name, ctype, size = self.part(i)
                length += len(part_head(self.boundary, name, ctype)) + size + 2
                n += 1
            if not n:
                break
            answer = Answer(self)
            request = (self.path, client.options(self.opts, client.attempts),
                       "multipart/form-data; boundary=" + self.boundary,
                       length + len(self.boundary) + 6, True, self.room)
            client.attempts += 1
            try:
                status, text = client.post(request, self.body, answer.feed)
                failed = self.settle(n, status, text, answer)
            except CertificateError:
                raise  # the same certificate would come back
            except TransportError as e:
                failed = e
            for i in range(len(state)):  # what the answer said of files it did not settle
                state[i] &= 15
            if failed is None:
                continue
            if failed == "alone":  # send the files one a request from now on
                self.one = True
                if self.reusable:
                    continue
                failed = errors.IngestionError(400, decode(text))
            error = failed
            if not isinstance(failed, (TransportError, errors.ServerError)) or not self.reusable \
                    or attempt >= client.retries:
                break
            attempt += 1
            sleep_ms(client.retry_delay_ms(attempt))
        results = Results(self.files, state, self.details, error)
        bad = [r for r in results if not r[1]]
        if not bad:
            return results
        if error is not None and all(s == PENDING for s in state):
            raise error  # nothing was delivered, for one reason
        e = errors.NotDelivered(Msg(_M_NOT_DELIVERED, len(bad), len(results),
                             ", ".join("%s (%s)" % (r[0], r[2]) for r in bad[:10]),
                             Msg(_M_MORE, len(bad) - 10) if len(bad) > 10 else ""))
        e.results = results
        e.error = error
        raise e

    def settle(self, n, status, text, answer):
        """Record what the answer says of each of the n files sent; None, "alone" (send the
        files one at a time) or the error that stopped this request. text: the answer's
        first bytes, made text here only where it is used (not by a 200 that lists files)."""
        state = self.state
        if status != 200 or not answer.count:
            text = decode(text)
        if status == 200 or (400 <= status < 500 and status not in (401, 421)) \
                or status >= 500:
            if answer.count == n and not answer.broken:  # per file, in the order sent
                for i in self.batch():
                    said = state[i] >> 4
                    if said != REFUSED:
                        state[i] = said  # delivered: NAMED, OTHER or ALREADY
                    elif status < 500:
                        state[i] = REFUSED  # invalid: not retried
                    if state[i] == OTHER or state[i] == REFUSED:
                        self.details[i] = answer.said[i]
                return errors.ServerError(status, text) if status >= 500 else None
        if status == 200:
            if answer.count or answer.broken:  # files the answer does not say the fate of
                return TransportError(Msg(_M_ANSWER_LISTS, answer.count, n))
            for i in self.batch():  # a 200 with no per-file results: all of them were stored
                state[i] = STORED
                if n == 1:
                    state[i] = OTHER
                    self.details[i] = text.strip()
            return None
        err = errors.for_status(status, text)
        if isinstance(err, (errors.ServerError, errors.Unauthorized, errors.MissingHeader)) \
                or status < 400:
            return err
        # 4xx about a file, not naming which: alone, the file is the one
        if n > 1:
            return "alone"
        for i in self.batch():
            state[i] = ALREADY if isinstance(err, errors.Duplicate) else REFUSED
            self.details[i] = text
        return None

    def body(self, ch):
        """The request's body, every part through the one chunk buffer ch (small files go
        out together, in one write)."""
        for i in self.batch():
            name, ctype, size = self.part(i)
            yield from ch.put(part_head(self.boundary, name, ctype))
            data = self.files[i][1]
            if self.sample is not None and isinstance(data, self.sample):
                from ei import encoder
                yield from encoder.body(data, self.encs[ctype == "application/json"], ch)
            elif isinstance(data, (bytes, bytearray, memoryview)):
                yield from ch.put(data)
            else:
                yield from source(data, self.pos.get(i), size, ch)
            yield from ch.put(b"\r\n")
        yield from ch.put(("--%s--\r\n" % self.boundary).encode())
