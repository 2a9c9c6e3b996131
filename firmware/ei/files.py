# Files: multipart/form-data uploads to /api/{category}/files, and bodies that are encoded
# already (the offline queue's entries) to /data, streamed from flash through one buffer.
# Loaded only when used (Client.upload_files, Client.upload_encoded): RAM goes to samples.
from ei import encoder, wire
from ei.acquisition import Sample

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


def upload_files(client, files, category="training", label=None, no_label=False,
                 disallow_duplicates=False, add_date_id=False, boundary=None):
    """POST files as multipart/form-data to /api/{category}/files. Each entry is
    (file_name, data), data being a Sample, bytes, a path on flash or an open binary
    file (read from where it stands); the content type follows the extension. Returns
    the stored file names (None if a retry found the service already had them)."""
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
    label = client._label(label)
    parts = []
    reusable = True
    end = closing(boundary)
    length = len(end)
    for entry in files:
        name, data = entry
        name = client._name(name)
        ctype = content_type_for(name)
        enc = None
        if isinstance(data, Sample):
            if ctype not in ("application/cbor", "application/json"):
                raise ValueError("a Sample's file name must end in .cbor or .json, not %r"
                                 % (name,))
            if not data.rows:
                raise ValueError("file %r: the sample has no rows" % (name,))
            wire.check_header(data.device_type, "device_type")
            enc = client.encoding("json" if ctype == "application/json" else "cbor")
            size = encoder.encoded_len(data, enc)
            reusable = reusable and data.reusable
            pos = None
        else:
            size, pos = _extent(data, name)
        if size > MAX_FILE_BYTES:
            raise ValueError("file %r is %d bytes; the service takes at most %d a file"
                             % (name, size, MAX_FILE_BYTES))
        ph = part_head(boundary, name, ctype)
        parts.append((ph, data, enc, size, pos))
        length += len(ph) + size + 2
    path = "/api/%s/files" % category
    ctype = "multipart/form-data; boundary=" + boundary
    chunk = client.chunk

    def request(retry):
        return path, client._options(label, no_label, disallow_duplicates or retry,
                                   add_date_id), ctype, length, True

    def body():
        buf = None
        for ph, data, enc, size, pos in parts:
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
        yield end

    text = client._send(request, body, reusable)
    return None if text is None else _stored_names(text)


def upload_encoded(client, data, file_name, category="training", label=None,
                   no_label=False, disallow_duplicates=False, add_date_id=False,
                   content_type=None, size=None):
    """POST a data acquisition object that is encoded already (bytes, a path on flash,
    or an open binary file read from where it stands, `size` bytes or to its end) to
    /api/{category}/data, as upload() would send it: the offline queue's entries go this
    way. content_type defaults from file_name's extension (.cbor or .json). Returns the
    stored file name, or None when a retry found the service already had it."""
    wire.check_category(category)
    name = client._name(file_name)
    label = client._label(label)
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
        headers = [("X-File-Name", name)] + client._options(
            label, no_label, disallow_duplicates or retry, add_date_id)
        return path, headers, ctype, length, False

    def body():
        if pos is None and not isinstance(data, str):
            yield memoryview(data)[:length]
        else:
            yield from _file_chunks(data, pos, length, bytearray(chunk))

    text = client._send(request, body, True)
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
