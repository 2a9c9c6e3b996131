# Files: multipart/form-data uploads to /api/{category}/files, and bodies that are encoded
# already (the offline queue's entries) to /data, streamed from flash through one buffer.
# Loaded only when used (Client.upload_files, Client.upload_encoded): RAM goes to samples.
# /files' answer, read file by file, is ei/files_answer.py, loaded by upload_files only.
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
    from ei.files_answer import Upload  # its per-file reading: loaded with /files only
    return Upload(client, parts, category, label, no_label, disallow_duplicates, add_date_id,
                  boundary, reusable).run()


def upload_encoded(client, data, file_name, category="training", label=None,
                   no_label=False, disallow_duplicates=False, add_date_id=False,
                   content_type=None, size=None, metadata=None):
    """POST a data acquisition object that is encoded already (bytes, a path on flash,
    or an open binary file read from where it stands, `size` bytes or to its end) to
    /api/{category}/data, as upload() would send it: the offline queue's entries go this
    way. content_type defaults from file_name's extension (.cbor or .json); metadata goes
    as x-metadata (Client.upload). Returns the stored file name, or None when a retry found
    the service already had it."""
    wire.check_category(category)
    client.options(None, False, False, False, metadata)  # checked before anything is sent
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
            label, no_label, disallow_duplicates or retry, add_date_id, metadata)
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
