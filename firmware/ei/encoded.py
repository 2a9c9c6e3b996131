# Encoded bodies: a data acquisition object encoded already (the offline queue's entries, the
# daemon's samples on flash) posted to /api/{category}/data as upload() would post it, read from
# flash through the one chunk buffer; and the reading of bytes, paths and open files that
# /files' parts share (extent, source). Loaded when used (Client.upload_encoded,
# upload_files): RAM goes to samples.
from ei import stream, wire

MAX_FILE_BYTES = 100 * 1024 * 1024  # the page's limit for one file


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
    name = client.name(file_name)
    opts = (client.name(label, "label"), no_label, disallow_duplicates, add_date_id, metadata)
    if metadata:  # checked before anything is sent
        client.options(opts)
    ctype = content_type
    if ctype is None:  # from the extension
        low = file_name.lower()
        ctype = "application/json" if low.endswith(".json") else (
            "application/cbor" if low.endswith(".cbor") else file_name)
    if ctype not in ("application/cbor", "application/json"):
        raise ValueError("/data takes application/cbor or application/json (.cbor or .json), "
                         "not %r" % (ctype,))
    length, pos = extent(data, name)
    if size is not None:
        if size > length:
            raise ValueError("size=%d but there are only %d bytes" % (size, length))
        length = size
    if not length:
        raise ValueError("the encoded sample is empty; nothing to upload")
    if length > MAX_FILE_BYTES:
        raise ValueError("%d bytes; the service takes at most %d a file"
                         % (length, MAX_FILE_BYTES))

    def body(ch):
        if pos is None and not isinstance(data, str):
            return ch.put(memoryview(data)[:length])  # larger than ch: goes out as it is
        return source(data, pos, length, ch)

    text = client.send("/api/%s/data" % category, name, opts, ctype, length, client.chunk, body,
                       True)
    return None if text is None else text.strip()


def extent(data, name):
    """(size, pos) of the bytes a body or a /files part is made of: bytes (pos None), a path on
    flash (pos None) or an open binary file (read from pos, where it stands now)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return len(data), None
    if isinstance(data, str):
        import os
        try:
            return os.stat(data)[6], None
        except OSError:
            raise ValueError("file %r: no file at %s" % (name, data))
    if hasattr(data, "readinto"):
        pos = data.tell()
        size = data.seek(0, 2) - pos
        data.seek(pos)
        return size, pos
    raise TypeError("file %r: its data is a %s, not bytes, a path or a binary file"
                    % (name, type(data).__name__))


def source(data, pos, size, ch):
    """Yield `size` bytes of a path, or of an open binary file from pos (extent()), through
    ch as copy() does. A path is opened and closed here; an open file is the caller's."""
    if isinstance(data, str):
        f = open(data, "rb")
        try:
            yield from stream.copy(f, size, ch)
        finally:
            f.close()  # also when the request fails half-way: not left for the GC
    else:
        data.seek(pos)  # a retry sends it again from the start
        yield from stream.copy(data, size, ch)
