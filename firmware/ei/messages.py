# The words of the firmware's errors, loaded only when one is shown (ei.errors.Msg) and
# forgotten after: the modules that raise them keep a number (_M_NAME = const(n), n its
# place here) and the values, not the text. host_tests/test_messages.py checks that every
# module's numbers name these texts, and that each is given as many values as it takes.
import sys


def text(code, args):
    """TEXTS[code] % args. This module is forgotten after: a board that showed one error does
    not keep every text (the next error's Msg loads it again)."""
    try:
        return TEXTS[code] % args
    finally:
        if sys.modules.pop("ei.messages", None) is not None:
            try:
                delattr(sys.modules["ei"], "messages")  # (importing it set the package's)
            except (KeyError, AttributeError):
                pass


TEXTS = (
    # ei/encoder.py (and any module's __getattr__)
    "module '%s' has no attribute '%s'",  # 0 NO_ATTRIBUTE
    # ei/wire.py
    "category must be one of training, testing, anomaly; not %r",  # 1 CATEGORY
    "%s takes a Sample, not %r",  # 2 NOT_SAMPLE
    "the sample has no rows; nothing to upload",  # 3 NO_ROWS
    "hmac_key must be a non-empty str or bytes",  # 4 HMAC_KEY
    "%s must be a non-empty string",  # 5 EMPTY
    "%s holds a control character (code %d); refused",  # 6 CONTROL
    "a sink kept over %d bytes of the response's body",  # 7 SINK_KEPT
    "a response %s line over %d bytes",  # 8 LONG_LINE
    "connection closed in the response's %s",  # 9 CLOSED_IN
    "a response body over %d bytes",  # 10 LONG_BODY
    "bad or two different Content-Lengths: %r",  # 11 LENGTHS
    "Transfer-Encoding %r is not chunked",  # 12 TRANSFER
    "over %d %s lines in the response",  # 13 HEADERS
    "connection closed after %d of %d body bytes",  # 14 CLOSED_AFTER
    "not an HTTP response (a status 100-599): %r",  # 15 NOT_HTTP
    "over %d interim (1xx) answers",  # 16 INTERIM
    "both Content-Length and chunked in the response",  # 17 BOTH
    "a response body of %d bytes (over %d)",  # 18 BODY_SIZE
    "bad chunk size in the response: %r",  # 19 CHUNK_SIZE
    "a response chunk is not as long as its size",  # 20 CHUNK_LEN
    # ei/client.py
    "port must be 1-65535, not %r",  # 21 PORT
    "timeout must be a number of seconds > 0, not %r",  # 22 TIMEOUT
    "retries must be a whole number >= 0, not %r",  # 23 RETRIES
    "transport must be socket or urequests, not %r",  # 24 TRANSPORT
    "min_rate must be bytes a second > 0, not %r",  # 25 MIN_RATE
    "the body came to %d bytes, not the %d announced: did a file change while it was "
    "sent?",  # 26 BODY_CAME
    "the body came to over %d bytes, not the %d announced: did a file change while it was "
    "sent?",  # 27 BODY_OVER
    # ei/transport.py
    "resolving %s",  # 28 RESOLVING
    "connecting to %s",  # 29 CONNECTING
    "TLS handshake with %s",  # 30 HANDSHAKE
    "sending to %s",  # 31 SENDING
    "reading from %s",  # 32 READING
    "%s timed out",  # 33 TIMED_OUT
    "%s failed: %s: %s",  # 34 FAILED
    "the request to %s did not end within its deadline (timeout + length / "
    "min_rate)",  # 35 DEADLINE
    # ei/stream.py
    "the file ended %d bytes early (did it change while it was sent?)",  # 36 FILE_ENDED
    # ei/encoder.py
    "fmt must be 'cbor' or 'json', not %r",  # 37 FMT
    "iat must be seconds since the epoch, not %r",  # 38 IAT
    "JSON's length depends on every number, so it needs values that can be read twice (a "
    "list or a capture file); use fmt='cbor'",  # 39 JSON_ONCE
    # ei/encoder.py, ei/acquisition.py
    "values yielded more than rows=%d rows",  # 40 MORE_ROWS
    "values yielded %d rows, not rows=%d",  # 41 ROWS_YIELDED
    # ei/acquisition.py
    "%s is %r; not a number",  # 42 NOT_NUMBER
    "%s is %r; values must be finite",  # 43 NOT_FINITE
    "row %d value %d is %r; not a number",  # 44 VALUE_NOT_NUMBER
    "row %d value %d is %r; values must be finite",  # 45 VALUE_NOT_FINITE
    "%s must be a non-empty string, not %r",  # 46 NOT_TEXT
    "interval_ms is required (milliseconds between rows)",  # 47 NO_INTERVAL
    "interval_ms must be > 0, not %r",  # 48 INTERVAL
    "sensors must list at least one (name, units)",  # 49 NO_SENSORS
    "each sensor must be (name, units), not %r",  # 50 SENSOR
    "rows=%d but values has %d rows",  # 51 LIST_ROWS
    "rows=%d but the source has %d rows",  # 52 SOURCE_ROWS
    "an iterable of values needs rows=N, its number of rows",  # 53 NEEDS_ROWS
    "rows must be a whole number >= 0, not %r",  # 54 ROWS
    "append() needs a Sample made without values",  # 55 NO_APPEND
    "row %d is %r, not a sequence of numbers",  # 56 NOT_ROW
    "row %d has %d values; the sample has %d sensors (%s)",  # 57 ROW_WIDTH
    "this sample's values were an iterable and were already read",  # 58 READ
    # ei/api_key.py
    "api_key must be 'ei_' followed by hex digits (from the project's Keys page)",  # 59 API_KEY
    # ei/files.py
    "%d files in one request; the service takes 1 to %d",  # 60 FILE_COUNT
    "a Sample's file name must end in .cbor or .json, not %r",  # 61 SAMPLE_NAME
    "file %r is %d bytes; the service takes at most %d a file",  # 62 FILE_SIZE
    "the /files answer lists %d files for %d sent",  # 63 ANSWER_LISTS
    "%d of %d files not delivered: %s%s",  # 64 NOT_DELIVERED
    " and %d more",  # 65 MORE
    # ei/encoded.py
    "/data takes application/cbor or application/json (.cbor or .json), not %r",  # 66 DATA_TYPE
    "size=%d but there are only %d bytes",  # 67 SIZE
    "the encoded sample is empty; nothing to upload",  # 68 ENCODED_EMPTY
    "%d bytes; the service takes at most %d a file",  # 69 TOO_BIG
    # ei/parts.py
    "file %r: no file at %s",  # 70 NO_FILE
    "file %r: its data is a %s, not bytes, a path or a binary file",  # 71 NOT_DATA
    # ei/pem.py
    "ca: no certificate in the PEM text",  # 72 NO_PEM
    # ei/metadata.py
    "metadata must be a dict of names to strings or numbers, not %r",  # 73 METADATA
    "metadata %r: names are strings, values strings or numbers, not %r",  # 74 METADATA_ITEM
    # ei/capture.py
    "%s: the file ended in row %d of %d",  # 75 ENDED_IN_ROW
    "%s: row %d is damaged",  # 76 ROW_DAMAGED
    "%s: cannot open it (%s)",  # 77 CANNOT_OPEN
    "%s was never finished: it is empty (the capture stopped, e.g. the board reset, as it "
    "began); no rows were kept",  # 78 EMPTY_FILE
    "%s is not an ei capture file (it starts %r, not %r)",  # 79 NOT_CAPTURE
    "%s is a version %d capture; this firmware reads version %d",  # 80 VERSION
    "%s: its header is damaged (float size %d)",  # 81 FLOAT_SIZE
    "%s: its description is damaged",  # 82 DESCRIPTION
    "%s was never finished (sampling stopped before its end, e.g. the board reset); it holds "
    "%d whole rows: Sample.from_capture(path, partial=True) reads them",  # 83 UNFINISHED
    "%s is truncated: %d rows announced, %d whole rows in the file",  # 84 TRUNCATED
    "%s has %d bytes after its last row",  # 85 AFTER_LAST
    "%s holds no rows",  # 86 NO_ROWS_IN
    "%s: its description is damaged (%s)",  # 87 DESCRIPTION_WHY
    # ei/via_requests.py
    "body was %d bytes, not the announced %d",  # 88 BODY_WAS
    "transport='urequests' cannot verify a certificate (micropython-lib requests turns "
    "checks off); use transport='socket' with ca=",  # 89 NO_CA
    "posting to %s",  # 90 POSTING
    "%s failed: %r",  # 91 FAILED_R
    "bad response from %s: %s",  # 92 BAD_RESPONSE
    "response body of %d bytes, over %d",  # 93 BODY_SIZE_R
)
