# The client: checks an upload completely, works out its length, then streams the request
# to the Ingestion API (/api/{category}/data or /files) and reads the answer, retrying what
# is worth retrying without ever storing a sample twice.
from ei import encoder, wire
from ei.api_key import check_api_key
from ei.compat import FLOAT32, sleep_ms, random_below, const
from ei.errors import for_status, CertificateError, Duplicate, ServerError, TransportError
from ei.transport import Connection

_MAX_BACKOFF_MS = const(30000)
# The slowest a server may take a request's body, bytes a second: 1 KB/s is 8 kbit/s, which
# a GPRS or NB-IoT uplink clears; a request may take timeout + length / min_rate seconds.
MIN_RATE = const(1024)
TRANSPORTS = ("socket", "urequests")


def _flag(name, on):
    return [(name, "1")] if on else []


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
                 backoff_ms=500, iat=True, transport="socket", chunk=encoder.CHUNK,
                 min_rate=MIN_RATE):
        self._api_key = check_api_key(api_key)
        self.host = wire.check_header(host, "host")
        self.tls = bool(tls)
        self.port = port if port is not None else (443 if self.tls else 80)
        if not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise ValueError("port must be 1-65535, not %r" % (port,))
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError("timeout must be a number of seconds > 0, not %r" % (timeout,))
        self.timeout = timeout
        self.addr = addr
        self._hmac_key = wire.check_hmac_key(hmac_key)
        # None: the board's float size. A single-precision board loses nothing in float32
        # (43% fewer bytes for 3-axis rows), and a capture it wrote is copied from flash.
        self.float32 = FLOAT32 if float32 is None else bool(float32)
        self.ca = ca  # the CA certificate uploads verify against (not a secret)
        if not isinstance(retries, int) or retries < 0:
            raise ValueError("retries must be a whole number >= 0, not %r" % (retries,))
        self.retries = retries
        self.backoff_ms = backoff_ms
        self.iat = iat
        if transport not in TRANSPORTS:
            raise ValueError("transport must be one of %s, not %r" % (TRANSPORTS, transport))
        self.transport = transport
        self.chunk = chunk
        if not (isinstance(min_rate, int) and min_rate > 0):
            raise ValueError("min_rate must be bytes a second > 0, not %r" % (min_rate,))
        self.min_rate = min_rate
        self.attempts = 0  # how many attempts the last request took

    def __repr__(self):  # no keys
        return "<Client %s://%s%s>" % ("https" if self.tls else "http", self.host,
                                       "" if self.port in (80, 443) else ":%d" % self.port)

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
        file_name = wire.check_upload(sample, category, label, file_name, fmt)
        self.options(None, False, False, False, metadata)  # checked before anything is sent
        enc = self.encoding(fmt, hmac_key)
        name = self.name(file_name)
        label = self.label(label)
        length = encoder.encoded_len(sample, enc)
        path = "/api/%s/data" % category
        chunk = self.chunk

        def request(retry):
            headers = [("X-File-Name", name)] + self.options(
                label, no_label, disallow_duplicates or retry, add_date_id, metadata)
            return path, headers, enc.content_type, length, False

        def body():
            return encoder.chunks(sample, enc, chunk)

        text = self.send(request, body, sample.reusable)
        return None if text is None else text.strip()

    def upload_files(self, *args, **kw):
        """upload_files(files, category="training", ...): POST files as multipart/form-data
        to /api/{category}/files. See ei/files.py (loaded when used) for the arguments."""
        from ei.files import upload_files  # rarely used: loaded when used
        return upload_files(self, *args, **kw)

    def upload_encoded(self, *args, **kw):
        """upload_encoded(data, file_name, category="training", ...): POST a data
        acquisition object encoded already to /api/{category}/data. See ei/files.py."""
        from ei.files import upload_encoded
        return upload_encoded(self, *args, **kw)

    # --- the seam ei.files and ei.via_requests build requests with (not for applications) -

    def name(self, file_name):
        """A file name checked and percent-encoded for x-file-name or a part's filename."""
        return wire.encode_uri_component(wire.check_header(file_name, "file_name"))

    def label(self, label):
        if label is None:
            return None
        return wire.encode_uri_component(wire.check_header(label, "label"))

    def options(self, label, no_label, disallow_duplicates, add_date_id, metadata=None):
        """The optional headers; metadata (a dict, or its header text) goes as x-metadata."""
        h = [("X-Label", label)] if label is not None else []
        h += _flag("X-No-Label", no_label) + _flag(
            "X-Disallow-Duplicates", disallow_duplicates) + _flag("X-Add-Date-Id", add_date_id)
        if metadata:
            from ei.metadata import header  # loaded when used: a plain upload has none
            h.append(("X-Metadata", header(metadata)))
        return h

    def api_key(self):
        """The project's API key, for a protocol that must send it (remote management's
        hello). Never print it."""
        return self._api_key

    def send(self, request, body, reusable):
        """Post, retrying failures worth a retry. request(retry) gives the request's
        (path, headers, content type, length, length first); body() yields the body's pieces
        (each a view that is good until the next is asked for: pull form, so that a transport
        that iterates over a body, like micropython-lib requests, streams it too).
        Returns the 200 answer's text, or None when a retry was answered "duplicate" (an
        earlier attempt's 200 was lost)."""
        attempt = 0
        while True:
            self.attempts = attempt + 1
            try:
                status, text = self.post(request(attempt > 0), body)
                if status == 200:
                    return text
                raise for_status(status, text)
            except Duplicate:
                if attempt:
                    return None  # delivered: an earlier attempt's 200 was lost
                raise
            except CertificateError:
                raise  # the same certificate would come back
            except (TransportError, ServerError):
                # A one-pass iterable cannot be sent again; everything else can.
                if attempt >= self.retries or not reusable:
                    raise
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
        """One attempt: (status, answer text); sink(view) sees the answer's body as it
        streams past (see wire.read_response)."""
        path, headers, ctype, length, length_first = req
        if self.transport == "urequests":
            from ei.via_requests import post
            return post(self, path, headers, ctype, length, body, sink)
        head = wire.request_head(path, wire.host_header(self.host, self.port, self.tls),
                                 self._api_key, headers, ctype, length, length_first)
        conn = Connection(self.host, self.port, self.tls, self.timeout, self.addr,
                          self.ca)
        conn.idle, conn.idle_ms = self.idle, self.idle_ms
        try:
            conn.deadline(self.deadline_ms(length))
            conn.write(head)
            sent = 0
            pieces = body()
            try:
                for b in pieces:
                    conn.write(b)
                    sent += len(b)
            finally:
                pieces.close()  # a file being streamed is closed now, not by the GC
            if sent != length:  # would be a bug here: never let the server take it
                raise ValueError("body was %d bytes, not the announced %d" % (sent, length))
            conn.begin_response()
            return wire.read_response(conn.readinto, sink)
        finally:
            # also when the body fails half-way: the server sees a short body, never a
            # wrong sample
            conn.close()
