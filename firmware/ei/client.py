# The client: checks an upload completely, works out its length, then streams the request
# to the Ingestion API (/api/{category}/data or /files) and reads the answer, retrying what
# is worth retrying without ever storing a sample twice.
from ei import stream, transport, wire  # (each loaded into the holes before it: ei/__init__)
from ei.compat import sleep_ms, random_below, forget, const
from ei.errors import CertificateError, TransportError, Msg

_MAX_BACKOFF_MS = const(30000)
# The slowest a server may take a request's body, bytes a second: 1 KB/s is 8 kbit/s, which
# a GPRS or NB-IoT uplink clears; a request may take timeout + length / min_rate seconds.
MIN_RATE = const(1024)
# error texts (ei/messages.py)
_M_BODY_CAME = const(26)
_M_BODY_OVER = const(27)
stream.reserve()  # the chunk buffer every request and answer passes through, made now


class Client:
    """An Ingestion API client.

    addr=(ip, port) connects there instead of resolving host (a local server, or a board
    with no DNS); the Host header still names `host`. retries: connection failures, resets,
    timeouts and 5xx are retried up to this many times, with exponential backoff from
    backoff_ms and random jitter; 400, 401 and 421 never are. A retried request always
    carries x-disallow-duplicates, so a request whose 200 was lost is not stored twice.
    float32: CBOR single floats; None (the default) when the board's floats are single.
    min_rate: a request (body and answer) that takes longer than timeout + length / min_rate
    seconds ends with Timeout, however its server dribbles."""

    # idle: None, or a callable run while a request waits on the network: idle(0) after each
    # piece of the body is written and every idle_ms while the answer is awaited, idle(ms)
    # for a retry's backoff (it waits the ms itself); not during connect or a TLS handshake.
    # ei.record reads its sensor there; what it raises ends the request, not retried.
    idle = None
    idle_ms = 10

    def __init__(self, api_key, host="ingestion.edgeimpulse.com", port=None, tls=True,
                 timeout=10, addr=None, hmac_key=None, float32=None, ca=None, retries=3,
                 backoff_ms=500, iat=True, transport="socket", chunk=stream.CHUNK,
                 min_rate=MIN_RATE):
        # its arguments' checks run once a client: loaded for it and forgotten after, so
        # that their code is not kept with the client's (ei.Remote's heap)
        from ei.client_check import init
        forget("client_check")
        init(self, api_key, host, port, tls, timeout, addr, hmac_key, float32, ca, retries,
             backoff_ms, iat, transport, chunk, min_rate)

    def __repr__(self):  # no keys
        return "<Client %s://%s:%d>" % ("https" if self.tls else "http", self.host, self.port)

    def encoding(self, fmt="cbor", hmac_key=None):
        """The encoding of this client's uploads, signed with hmac_key instead of the client's
        own when given; iat is stamped when signing with a set clock."""
        key = self._hmac_key if hmac_key is None else wire.check_hmac_key(hmac_key)
        return wire.encoding(fmt, self.float32, key, self.iat)

    # --- the two endpoints -------------------------------------------------------------

    def upload(self, sample, category="training", file_name=None, label=None, no_label=False,
               disallow_duplicates=False, add_date_id=False, fmt="cbor", hmac_key=None,
               metadata=None):
        """POST one sample to /api/{category}/data. Returns the stored file name, or None
        when a retry found the service already had it (its first 200 was lost). hmac_key
        signs this sample instead of the client's key (Studio's sample requests carry one).
        metadata: a dict of names to strings or numbers, sent as x-metadata."""
        from ei import encoder  # not loaded by /files of files, nor by queued bodies
        file_name = wire.check_upload(sample, category, label, file_name, fmt)
        if metadata:  # checked before anything is sent
            self.options((None, False, False, False, metadata))
        enc = self.encoding(fmt, hmac_key)
        name = self.name(file_name)
        label = self.name(label, "label")
        length = encoder.encoded_len(sample, enc)
        room = max(self.chunk, encoder.room(sample, enc))
        text = self.send("/api/%s/data" % category, name,
                         (label, no_label, disallow_duplicates, add_date_id, metadata),
                         enc.content_type, length, room,
                         lambda ch: encoder.body(sample, enc, ch), sample.reusable)
        return None if text is None else text.strip()

    def upload_files(self, *args, **kw):
        """upload_files(files, category="training", ...): POST files as multipart/form-data
        to /api/{category}/files. See ei/files.py for the arguments: its code is loaded when
        used and forgotten after."""
        import gc
        gc.collect()  # its code then fills the holes the caller's list of files left (as
        from ei.files import upload_files  # ei/__init__ loads a module: 1,000 files, 1.4 KB)
        return upload_files(self, *args, **kw)

    def upload_encoded(self, *args, **kw):
        """upload_encoded(data, file_name, category="training", ...): POST a data
        acquisition object encoded already to /api/{category}/data. See ei/encoded.py."""
        from ei.encoded import upload_encoded
        return upload_encoded(self, *args, **kw)

    # --- the seam ei.files and ei.via_requests build requests with (not for applications) -

    def name(self, text, what="file_name"):
        """A file name, or a label (what="label": None is no label), checked and
        percent-encoded for a header or a part. (One method for both: a Client's methods
        fit the smallest class dictionary with idle and idle_ms beside them.)"""
        if text is None and what == "label":
            return None
        return wire.encode_uri_component(wire.check_header(text, what))

    def options(self, opts, retry=False):
        """The optional headers of opts (label, no_label, disallow_duplicates, add_date_id,
        metadata: a dict, or x-metadata's text); a retry always disallows duplicates."""
        label, no_label, dup, date_id, metadata = opts
        h = [("X-Label", label)] if label is not None else []
        for name, on in (("X-No-Label", no_label), ("X-Disallow-Duplicates", dup or retry),
                         ("X-Add-Date-Id", date_id)):
            if on:
                h.append((name, "1"))
        if metadata:
            from ei.metadata import header  # loaded when used: a plain upload has none
            h.append(("X-Metadata", header(metadata)))
        return h

    def api_key(self):
        """The project's API key, for a protocol that must send it (remote management's
        hello). Never print it."""
        return self._api_key

    def send(self, path, name, opts, ctype, length, room, body, reusable):
        """POST a /data body (upload, upload_encoded), retrying failures worth a retry: its
        file name, opts (options()), content type and length; body(ch) writes it into ch, a
        stream.Chunker of room bytes, yielding as ch.put does (what is left in ch at its end
        is sent after it). Returns the 200 answer's text, or None when a retry was answered
        "duplicate" (an earlier attempt's 200 was lost)."""
        attempt = 0
        while True:
            self.attempts = attempt + 1
            try:
                status, text = self.post((path, [("X-File-Name", name)] + self.options(
                    opts, attempt > 0), ctype, length, False, room), body)
            except CertificateError:
                raise  # the same certificate would come back
            except TransportError:
                # A one-pass iterable cannot be sent again; everything else can.
                if attempt >= self.retries or not reusable:
                    raise
            else:
                if status == 200:
                    return text
                # the service's errors are loaded now (ei/errors_rare.py), not by every upload
                from ei.errors import for_status, Duplicate, ServerError
                e = for_status(status, text)
                if isinstance(e, Duplicate) and attempt:
                    return None  # delivered: an earlier attempt's 200 was lost
                if not isinstance(e, ServerError) or attempt >= self.retries or not reusable:
                    raise e
            attempt += 1
            (sleep_ms if self.idle is None else self.idle)(self.retry_delay_ms(attempt))

    def retry_delay_ms(self, attempt):
        """The wait before retry number `attempt` (1, 2, ...): backoff_ms doubled each time,
        at most 30 s, with random jitter over its upper half. A fleet that lost its access
        point does not come back in lockstep, and each wait is at least the last one."""
        delay = min(self.backoff_ms << (attempt - 1), _MAX_BACKOFF_MS)
        return delay // 2 + random_below(delay // 2 + 1)

    def deadline_ms(self, length):
        """How long a request with a body of `length` bytes may take, answer included."""
        r = self.min_rate
        return int(self.timeout * 1000) + length // r * 1000 + length % r * 1000 // r

    def post(self, req, body, sink=None):
        """One attempt: (status, answer text); sink sees the answer's body as it streams
        past, the text then left as bytes (see wire.read_response)."""
        path, headers, ctype, length, length_first, room = req
        if self.transport == "urequests":
            from ei.via_requests import post
            return post(self, path, headers, ctype, length, room, body, sink)
        conn = transport.Connection(self.host, self.port, self.tls, self.timeout, self.addr,
                                    self.ca)
        if self.idle is not None:  # run while the answer is awaited
            conn.idle, conn.idle_ms = self.idle, self.idle_ms
        try:
            conn.deadline(self.deadline_ms(length))
            ch = stream.Chunker(room)
            try:
                for s in wire.head(path, wire.host_header(self.host, self.port, self.tls),
                                   self._api_key, headers, ctype, length, length_first):
                    for b in ch.put(s.encode()):  # (only a head over the buffer fills it)
                        conn.write(b)
                req = headers = s = None  # not kept while the body is written
                # The one loop that writes a request's body, piece by piece (a small sample
                # goes out with its head in one write); the idle hook runs after each piece.
                # (Shaped so, its writes reuse the frame's stack slots where the head's loop
                # left its last generator: otherwise 80 bytes more stay alive, measured on f32.)
                sent = -ch.pos
                pieces = body(ch)
                try:
                    for b in pieces:
                        sent += len(b)
                        if sent > length:  # never let the server take more than it is told
                            break
                        conn.write(b)
                        if self.idle is not None:  # (a recording reads its sensor here)
                            self.idle(0)
                    if sent <= length and ch.pos:  # what is left in the buffer: the last piece
                        sent += ch.pos
                        if sent <= length:
                            conn.write(ch.take())
                            if self.idle is not None:
                                self.idle(0)
                finally:
                    pieces.close()  # a file being streamed is closed now, not by the GC
                    pieces = None
            finally:
                ch.release()  # the answer is read through the same buffer
            if sent != length:  # a file changed while it was sent (or a bug here)
                raise ValueError(Msg(_M_BODY_CAME, sent, length) if sent <= length else
                                 Msg(_M_BODY_OVER, length, length))
            conn.begin_response()
            return wire.read_response(conn.readinto, sink)
        finally:
            # also when the body fails half-way: the server sees a short body, never a
            # wrong sample
            conn.close()
