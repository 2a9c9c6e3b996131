# Encoded bodies: a data acquisition object encoded already (the offline queue's entries, the
# daemon's samples on flash) posted to /api/{category}/data as upload() would post it, read from
# flash through the one chunk buffer (ei/parts.py). Loaded when used (Client.upload_encoded):
# RAM goes to samples.
from ei import wire
from ei.compat import const
from ei.errors import Msg
from ei.parts import extent, source

MAX_FILE_BYTES = 100 * 1024 * 1024  # the page's limit for one file
# error texts (ei/messages.py)
_M_DATA_TYPE = const(66)
_M_SIZE = const(67)
_M_ENCODED_EMPTY = const(68)
_M_TOO_BIG = const(69)


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
        raise ValueError(Msg(_M_DATA_TYPE, ctype))
    length, pos = extent(data, name)
    if size is not None:
        if size > length:
            raise ValueError(Msg(_M_SIZE, size, length))
        length = size
    if not length:
        raise ValueError(Msg(_M_ENCODED_EMPTY))
    if length > MAX_FILE_BYTES:
        raise ValueError(Msg(_M_TOO_BIG, length, MAX_FILE_BYTES))

    def body(ch):
        if pos is None and not isinstance(data, str):
            return ch.put(memoryview(data)[:length])  # larger than ch: goes out as it is
        return source(data, pos, length, ch)

    text = client.send("/api/%s/data" % category, name, opts, ctype, length, client.chunk, body,
                       True)
    return None if text is None else text.strip()
