# /files' answer, read file by file, and the requests of one upload_files() call: a retry
# sends only the files the service does not have yet. Loaded by upload_files only (the offline
# queue's /data uploads go through ei/files.py without it).
from ei import encoder
from ei.compat import const, sleep_ms
from ei.errors import (for_status, CertificateError, Duplicate, IngestionError, MissingHeader,
                       ServerError, TransportError, Unauthorized)
from ei.files import _file_chunks, closing


class NotDelivered(Exception):  # here: loaded with /files, not with every upload
    """upload_files: some files are not on the service. results holds, for every file in
    order, (file_name, delivered, detail); error is the last error of the request (None when
    the service refused files as invalid). The message names each file not delivered."""

    def __init__(self, results, error=None):
        bad = ["%s (%s)" % (r[0], r[2]) for r in results if not r[1]]
        super().__init__("%d of %d files not delivered: %s" % (len(bad), len(results),
                                                               ", ".join(bad)))
        self.results = results
        self.error = error



class Upload:
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
