# Encoded bodies: a data acquisition object encoded already (the offline queue's entries, the
# daemon's samples on flash) posted to /api/{category}/data as upload() would post it, read from
# flash through the one chunk buffer. Loaded when used (Client.upload_encoded): RAM goes to
# samples.
from ei import stream, wire

MAX_FILE_BYTES = 100 * 1024 * 1024  # the page's limit for one file


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
    ctype = content_type
    if ctype is None:  # from the extension
        low = file_name.lower()
        ctype = "application/json" if low.endswith(".json") else (
            "application/cbor" if low.endswith(".cbor") else file_name)
    if ctype not in ("application/cbor", "application/json"):
        raise ValueError("/data takes application/cbor or application/json (.cbor or .json), "
                         "not %r" % (ctype,))
    length, pos = stream.extent(data, name)
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

    def request(retry):
        headers = [("X-File-Name", name)] + client.options(
            label, no_label, disallow_duplicates or retry, add_date_id)
        return path, headers, ctype, length, False, client.chunk

    def body(ch):
        if pos is None and not isinstance(data, str):
            return ch.put(memoryview(data)[:length])  # larger than ch: goes out as it is
        return stream.source(data, pos, length, ch)

    text = client.send(request, body, True)
    return None if text is None else text.strip()
