# The client: checks an upload completely, works out its length, then streams the request
# to the Ingestion API (/api/{category}/data or /files) and reads the answer.
from ei import encoder, wire
from ei.acquisition import Sample
from ei.errors import for_status, TransportError
from ei.transport import Connection

_HEX = "0123456789abcdefABCDEF"
MAX_FILES = 1000  # the page's limits for one /files request
MAX_FILE_BYTES = 100 * 1024 * 1024


def check_api_key(key):
    if not isinstance(key, str) or len(key) < 4 or key[:3] != "ei_" or any(
            c not in _HEX for c in key[3:]):
        # the message says what is wrong and never repeats the key
        raise ValueError("api_key must be 'ei_' followed by hex digits (from the project's "
                         "Keys page)")
    return key


def _flag(name, on):
    return [(name, "1")] if on else []


class Client:
    """An Ingestion API client. `addr=(ip, port)` connects there instead of resolving host
    (a local server, or a board with no DNS); the Host header still names `host`."""

    def __init__(self, api_key, host="ingestion.edgeimpulse.com", port=None, tls=True,
                 timeout=10, addr=None, hmac_key=None, float32=False, ca=None,
                 chunk=encoder.CHUNK):
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
        if hmac_key is not None and (not isinstance(hmac_key, (str, bytes)) or not hmac_key):
            raise ValueError("hmac_key must be a non-empty str or bytes")
        self._hmac_key = hmac_key
        self.float32 = bool(float32)
        self._cadata = ca
        self.chunk = chunk

    def __repr__(self):  # no keys
        return "<Client %s://%s%s>" % ("https" if self.tls else "http", self.host,
                                       "" if self.port in (80, 443) else ":%d" % self.port)

    def encoding(self, fmt="cbor"):
        return encoder.Encoding(fmt, self.float32, self._hmac_key)

    # --- the two endpoints -------------------------------------------------------------

    def upload(self, sample, category="training", file_name=None, label=None, no_label=False,
               disallow_duplicates=False, add_date_id=False, fmt="cbor"):
        """POST one sample to /api/{category}/data; returns the stored file name."""
        wire.check_category(category)
        if not isinstance(sample, Sample):
            raise TypeError("upload() takes a Sample, not %r" % (type(sample).__name__,))
        enc = self.encoding(fmt)
        if file_name is None:  # the service needs a name, and infers labels from names
            file_name = "%s.%s" % (label or "sample", fmt)
        headers = [("X-File-Name", self._name(file_name))] + self._options(
            label, no_label, disallow_duplicates, add_date_id)
        length = encoder.encoded_len(sample, enc)
        head = wire.request_head("/api/%s/data" % category, self._host_header(),
                                 self._api_key, headers, enc.content_type, length)
        chunk = self.chunk
        return self._post(head, length,
                          lambda out: encoder.write(sample, enc, out, chunk)).strip()

    def upload_files(self, files, category="training", label=None, no_label=False,
                     disallow_duplicates=False, add_date_id=False, boundary=None):
        """POST files as multipart/form-data to /api/{category}/files; each entry is
        (file_name, Sample or bytes). Returns the stored file names."""
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
        parts = []
        length = len(wire.closing(boundary))
        for entry in files:
            name, data = entry
            name = self._name(name)
            ctype = wire.content_type_for(name)
            if isinstance(data, Sample):
                if ctype not in ("application/cbor", "application/json"):
                    raise ValueError("a Sample's file name must end in .cbor or .json, not %r"
                                     % (name,))
                enc = self.encoding("json" if ctype == "application/json" else "cbor")
                size = encoder.encoded_len(data, enc)
            elif isinstance(data, (bytes, bytearray, memoryview)):
                enc = None
                size = len(data)
            else:
                raise TypeError("file %r: data must be a Sample or bytes, not %s"
                                % (name, type(data).__name__))
            if size > MAX_FILE_BYTES:
                raise ValueError("file %r is %d bytes; the service takes at most %d a file"
                                 % (name, size, MAX_FILE_BYTES))
            ph = wire.part_head(boundary, name, ctype)
            parts.append((ph, data, enc))
            length += len(ph) + size + 2
        headers = self._options(label, no_label, disallow_duplicates, add_date_id)
        head = wire.request_head("/api/%s/files" % category, self._host_header(),
                                 self._api_key, headers,
                                 "multipart/form-data; boundary=" + boundary, length,
                                 length_first=True)
        chunk = self.chunk

        def body(out):
            n = 0
            for ph, data, enc in parts:
                out(ph)
                n += len(ph)
                if enc is None:
                    out(data)
                    n += len(data)
                else:
                    n += encoder.write(data, enc, out, chunk)
                out(b"\r\n")
                n += 2
            end = wire.closing(boundary)
            out(end)
            return n + len(end)

        return _stored_names(self._post(head, length, body))

    # --- internals -----------------------------------------------------------------------

    def _host_header(self):
        return wire.host_header(self.host, self.port, self.tls)

    def _name(self, file_name):
        return wire.encode_uri_component(wire.check_header(file_name, "file_name"))

    def _options(self, label, no_label, disallow_duplicates, add_date_id):
        h = []
        if label is not None:
            h.append(("X-Label", wire.encode_uri_component(wire.check_header(label, "label"))))
        return h + _flag("X-No-Label", no_label) + _flag(
            "X-Disallow-Duplicates", disallow_duplicates) + _flag("X-Add-Date-Id", add_date_id)

    def _post(self, head, length, body):
        """Send head and body (written by body(out), which returns its byte count); return
        the 200 answer's text or raise the status's IngestionError."""
        conn = Connection(self.host, self.port, self.tls, self.timeout, self.addr,
                          self._cadata)
        try:
            conn.write(head)
            sent = body(conn.write)
            if sent != length:  # would be a bug here: never let the server take it
                raise TransportError("body was %d bytes, not the announced %d" % (sent, length))
            status, text = wire.read_response(conn.readinto)
        finally:
            # also when the body fails half-way: the server sees a short body, never a
            # wrong sample
            conn.close()
        if status != 200:
            raise for_status(status, text)
        return text


def _stored_names(text):
    """The /files answer is JSON {"success": .., "files": [..]}, or a plain name."""
    t = text.strip()
    if not t.startswith("{"):
        return [t]
    import json
    names = []
    for f in json.loads(t).get("files", ()):
        names.append(f.get("fileName") if isinstance(f, dict) else f)
    return names
