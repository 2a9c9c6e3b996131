# The words of the firmware's errors, loaded only when one is shown (ei.errors.Msg) and
# forgotten after: the modules that raise them keep a number (_M_NAME = const(n), n its
# place here) and the values, not the text. host_tests/test_messages.py checks that every
# module's numbers name these texts, and that each is given as many values as it takes.
import sys


def text(code, args):
    """Text number `code` % args. This module is forgotten after: a board that showed one
    error does not keep every text (the next error's Msg loads it again)."""
    try:
        for part in TEXTS:
            n = part.count("\n")
            if code < n:
                i = 0
                for _ in range(code):
                    i = part.find("\n", i) + 1
                return part[i:part.find("\n", i)] % args
            code -= n
    finally:
        if sys.modules.pop("ei.messages", None) is not None:
            try:
                delattr(sys.modules["ei"], "messages")  # (importing it set the package's)
            except (KeyError, AttributeError):
                pass


# One string a module's texts, each ending in a newline: loaded from .mpy, 198 texts as 32
# strings take 10 KB of heap while an error is shown, as 198 strings 15 KB (f32, 2026-12-07).
TEXTS = (
    # ei/encoder.py (and any module's __getattr__)
    "module '%s' has no attribute '%s'\n",  # 0 NO_ATTRIBUTE
    # ei/wire.py
    "category must be one of training, testing, anomaly; not %r\n"  # 1 CATEGORY
    "%s takes a Sample, not %r\n"  # 2 NOT_SAMPLE
    "the sample has no rows; nothing to upload\n"  # 3 NO_ROWS
    "hmac_key must be a non-empty str or bytes\n"  # 4 HMAC_KEY
    "%s must be a non-empty string\n"  # 5 EMPTY
    "%s holds a control character (code %d); refused\n"  # 6 CONTROL
    "a sink kept over %d bytes of the response's body\n"  # 7 SINK_KEPT
    "a response %s line over %d bytes\n"  # 8 LONG_LINE
    "connection closed in the response's %s\n"  # 9 CLOSED_IN
    "a response body over %d bytes\n"  # 10 LONG_BODY
    "bad or two different Content-Lengths: %r\n"  # 11 LENGTHS
    "Transfer-Encoding %r is not chunked\n"  # 12 TRANSFER
    "over %d %s lines in the response\n"  # 13 HEADERS
    "connection closed after %d of %d body bytes\n"  # 14 CLOSED_AFTER
    "not an HTTP response (a status 100-599): %r\n"  # 15 NOT_HTTP
    "over %d interim (1xx) answers\n"  # 16 INTERIM
    "both Content-Length and chunked in the response\n"  # 17 BOTH
    "a response body of %d bytes (over %d)\n"  # 18 BODY_SIZE
    "bad chunk size in the response: %r\n"  # 19 CHUNK_SIZE
    "a response chunk is not as long as its size\n",  # 20 CHUNK_LEN
    # ei/client.py
    "port must be 1-65535, not %r\n"  # 21 PORT
    "timeout must be a number of seconds > 0, not %r\n"  # 22 TIMEOUT
    "retries must be a whole number >= 0, not %r\n"  # 23 RETRIES
    "transport must be socket or urequests, not %r\n"  # 24 TRANSPORT
    "min_rate must be bytes a second > 0, not %r\n"  # 25 MIN_RATE
    "the body came to %d bytes, not the %d announced: did a file change while it was "
    "sent?\n"  # 26 BODY_CAME
    "the body came to over %d bytes, not the %d announced: did a file change while it "
    "was sent?\n",  # 27 BODY_OVER
    # ei/transport.py
    "resolving %s\n"  # 28 RESOLVING
    "connecting to %s\n"  # 29 CONNECTING
    "TLS handshake with %s\n"  # 30 HANDSHAKE
    "sending to %s\n"  # 31 SENDING
    "reading from %s\n"  # 32 READING
    "%s timed out\n"  # 33 TIMED_OUT
    "%s failed: %s: %s\n"  # 34 FAILED
    "the request to %s did not end within its deadline (timeout + length / "
    "min_rate)\n",  # 35 DEADLINE
    # ei/stream.py
    "the file ended %d bytes early (did it change while it was sent?)\n",  # 36 FILE_ENDED
    # ei/encoder.py
    "fmt must be 'cbor' or 'json', not %r\n"  # 37 FMT
    "iat must be seconds since the epoch, not %r\n"  # 38 IAT
    "JSON's length depends on every number, so it needs values that can be read twice (a "
    "list or a capture file); use fmt='cbor'\n",  # 39 JSON_ONCE
    # ei/encoder.py, ei/rows.py
    "values yielded more than rows=%d rows\n"  # 40 MORE_ROWS
    "values yielded %d rows, not rows=%d\n",  # 41 ROWS_YIELDED
    # ei/acquisition.py
    "%s is %r; not a number\n"  # 42 NOT_NUMBER
    "%s is %r; values must be finite\n"  # 43 NOT_FINITE
    "row %d value %d is %r; not a number\n"  # 44 VALUE_NOT_NUMBER
    "row %d value %d is %r; values must be finite\n"  # 45 VALUE_NOT_FINITE
    "%s must be a non-empty string, not %r\n"  # 46 NOT_TEXT
    "interval_ms is required (milliseconds between rows)\n"  # 47 NO_INTERVAL
    "interval_ms must be > 0, not %r\n"  # 48 INTERVAL
    "sensors must list at least one (name, units)\n"  # 49 NO_SENSORS
    "each sensor must be (name, units), not %r\n"  # 50 SENSOR
    "rows=%d but values has %d rows\n"  # 51 LIST_ROWS
    "rows=%d but the source has %d rows\n"  # 52 SOURCE_ROWS
    "an iterable of values needs rows=N, its number of rows\n"  # 53 NEEDS_ROWS
    "rows must be a whole number >= 0, not %r\n"  # 54 ROWS
    "append() needs a Sample made without values\n"  # 55 NO_APPEND
    "row %d is %r, not a sequence of numbers\n"  # 56 NOT_ROW
    "row %d has %d values; the sample has %d sensors (%s)\n"  # 57 ROW_WIDTH
    "this sample's values were an iterable and were already read\n",  # 58 READ
    # ei/api_key.py
    "api_key must be 'ei_' followed by hex digits (from the project's Keys page)\n",  # 59 API_KEY
    # ei/files.py
    "%d files in one request; the service takes 1 to %d\n"  # 60 FILE_COUNT
    "a Sample's file name must end in .cbor or .json, not %r\n"  # 61 SAMPLE_NAME
    "file %r is %d bytes; the service takes at most %d a file\n"  # 62 FILE_SIZE
    "the /files answer lists %d files for %d sent\n"  # 63 ANSWER_LISTS
    "%d of %d files not delivered: %s%s\n"  # 64 NOT_DELIVERED
    " and %d more\n",  # 65 MORE
    # ei/encoded.py
    "/data takes application/cbor or application/json (.cbor or .json), not %r\n"  # 66 DATA_TYPE
    "size=%d but there are only %d bytes\n"  # 67 SIZE
    "the encoded sample is empty; nothing to upload\n"  # 68 ENCODED_EMPTY
    "%d bytes; the service takes at most %d a file\n",  # 69 TOO_BIG
    # ei/parts.py
    "file %r: no file at %s\n"  # 70 NO_FILE
    "file %r: its data is a %s, not bytes, a path or a binary file\n",  # 71 NOT_DATA
    # ei/pem.py
    "ca: no certificate in the PEM text\n",  # 72 NO_PEM
    # ei/metadata.py
    "metadata must be a dict of names to strings or numbers, not %r\n"  # 73 METADATA
    "metadata %r: names are strings, values strings or numbers, not %r\n",  # 74 METADATA_ITEM
    # ei/capture_rows.py
    "%s: the file ended in row %d of %d\n"  # 75 ENDED_IN_ROW
    "%s: row %d is damaged\n"  # 76 ROW_DAMAGED
    # ei/capture.py
    "%s: cannot open it (%s)\n"  # 77 CANNOT_OPEN
    "%s was never finished: it is empty (the capture stopped, e.g. the board reset, as "
    "it began); no rows were kept\n"  # 78 EMPTY_FILE
    "%s is not an ei capture file (it starts %r, not %r)\n"  # 79 NOT_CAPTURE
    "%s is a version %d capture; this firmware reads version %d\n"  # 80 VERSION
    "%s: its header is damaged (float size %d)\n"  # 81 FLOAT_SIZE
    "%s: its description is damaged\n"  # 82 DESCRIPTION
    "%s was never finished (sampling stopped before its end, e.g. the board reset); it "
    "holds %d whole rows: Sample.from_capture(path, partial=True) reads them\n"  # 83 UNFINISHED
    "%s is truncated: %d rows announced, %d whole rows in the file\n"  # 84 TRUNCATED
    "%s has %d bytes after its last row\n"  # 85 AFTER_LAST
    "%s holds no rows\n"  # 86 NO_ROWS_IN
    "%s: its description is damaged (%s)\n",  # 87 DESCRIPTION_WHY
    # ei/via_requests.py
    "body was %d bytes, not the announced %d\n"  # 88 BODY_WAS
    "transport='urequests' cannot verify a certificate (micropython-lib requests turns "
    "checks off); use transport='socket' with ca=\n"  # 89 NO_CA
    "posting to %s\n"  # 90 POSTING
    "%s failed: %r\n"  # 91 FAILED_R
    "bad response from %s: %s\n"  # 92 BAD_RESPONSE
    "response body of %d bytes, over %d\n",  # 93 BODY_SIZE_R
    # ei/remote_mgmt.py
    "%s must be a finite number of milliseconds > 0, not %s\n"  # 94 POSITIVE
    "path must be /api/<training|testing|anomaly>/data, not %s\n"  # 95 PATH
    "frequencies must list rates in Hz > 0, not %r\n"  # 96 FREQUENCIES
    "max_sample_s must be seconds > 0, not %r\n"  # 97 MAX_SAMPLE_S
    "no answer to the hello from %s\n"  # 98 NO_HELLO
    "%s refused the hello: %s\n"  # 99 HELLO_REFUSED
    "no pong within %d ms\n"  # 100 NO_PONG
    "the request is not JSON this device takes: %s\n"  # 101 NOT_JSON
    "sample must be an object\n"  # 102 SAMPLE_OBJECT
    "length %s ms is over this device's %s s\n"  # 103 LENGTH_OVER
    "interval %s ms is longer than the sample's %s ms: not one value\n"  # 104 INTERVAL_LONGER
    "interval %s ms: the sensor's FIFO gives %s ms\n"  # 105 FIFO_INTERVAL
    "interval %s ms is faster than the sensor's %s Hz\n"  # 106 INTERVAL_FASTER
    "hmacKey must be a string\n"  # 107 HMAC_KEY_TEXT
    "unknown sensor %s (this device has %r)\n"  # 108 UNKNOWN_SENSOR
    "sampling failed: %s: %s\n"  # 109 SAMPLING_FAILED
    "upload failed: %s: %s\n"  # 110 UPLOAD_FAILED
    "the %s board has no network: use ei.daemon() with edge-impulse-daemon on the "
    "host\n",  # 111 NO_NETWORK
    # ei/websocket.py
    "WebSocket closed (%d%s)\n"  # 112 WS_CLOSED
    "url must be a ws:// or wss:// URL, not %r\n"  # 113 URL
    "url must start with ws:// or wss://, not %r\n"  # 114 URL_SCHEME
    "url %r has no host\n"  # 115 URL_HOST
    "url %r has a port that is not a number\n"  # 116 URL_PORT_NUMBER
    "url %r: port must be 1-65535\n"  # 117 URL_PORT
    "url %r: the path holds a space or control character\n"  # 118 URL_PATH
    "max_size must be a whole number >= 125, not %r\n"  # 119 MAX_SIZE
    "buf must be buffer(max_size=%d)\n"  # 120 WS_BUF
    "%s refused the WebSocket upgrade: %s\n"  # 121 UPGRADE_REFUSED
    "%s sent over %d headers\n"  # 122 WS_HEADERS
    "%s answered 101 without Upgrade: websocket\n"  # 123 NO_UPGRADE
    "%s sent a wrong Sec-WebSocket-Accept\n"  # 124 WRONG_ACCEPT
    "the WebSocket to %s is closing\n",  # 125 WS_CLOSING
    # ei/queue.py
    "policy must be 'refuse' or 'drop_oldest', not %r\n"  # 126 POLICY
    "max_bytes must be a whole number > 0, not %r\n"  # 127 MAX_BYTES
    "label and file name are too long for a queue entry (%d bytes of header; at most "
    "%d)\n"  # 128 ENTRY_HEADER
    "encoded %d bytes, not the %d announced\n"  # 129 ENCODED_SIZE
    "an entry of %d bytes cannot fit in a queue of max_bytes=%d\n"  # 130 ENTRY_TOO_BIG
    "queue full: %d entries use %d of max_bytes=%d; this entry needs %d (flush it, or "
    "use policy='drop_oldest')\n",  # 131 QUEUE_FULL
    # ei/config.py
    "%s must be a JSON object ({...})\n"  # 132 NOT_OBJECT
    "%s is missing the key %r\n"  # 133 MISSING_KEY
    "%s is missing the key 'wifi_ssid': the %s board joins a Wi-Fi network\n"  # 134 MISSING_SSID
    "%s has an unknown key %r (known: %s)\n"  # 135 UNKNOWN_KEY
    "%s: %r must be %s, not %s\n"  # 136 KEY_TYPE
    "%s: %r must be more than %s and at most %s, not %r\n"  # 137 KEY_RANGE
    "%s: unknown board %r in the key 'board' (known: %s)\n"  # 138 UNKNOWN_BOARD
    "%s: the key 'board' says %r, but this is the %r board; deploy the config made for "
    "it (make deploy BOARD=%s)\n"  # 139 OTHER_BOARD
    "%s: 'api_key': %s\n"  # 140 CONFIG_API_KEY
    "no config file at %s (make deploy writes it from your local "
    "boards/<board>/config.json)\n"  # 141 NO_CONFIG
    "%s is not valid JSON\n"  # 142 NOT_JSON_FILE
    "%s: a value would not be JSON (a number that is not finite?)\n",  # 143 NOT_FINITE_JSON
    # ei/at_server.py
    "the config file does not load: %s. Served with what could be read of it; the AT "
    "commands that set the keys named repair it (the file that did not load is then kept "
    "as .bad)\n"  # 144 CONFIG_BROKEN
    "a command line is at most %d bytes; the rest was dropped\n"  # 145 LINE_LONG
    "read_back is 'buffer' or 'file', not %r\n"  # 146 READ_BACK
    "the line holds a control character (code %d)\n"  # 147 AT_CONTROL
    "the line is not UTF-8 text: %s\n"  # 148 NOT_UTF8
    "Not a valid AT command (%s)\n"  # 149 NOT_AT
    "unknown command AT+%s (AT+HELP lists them)\n",  # 150 UNKNOWN_COMMAND
    # ei/at_common.py
    "usage: AT+%s\n"  # 151 USAGE
    "%s must be a number, not %s\n"  # 152 NOT_NUMBER_AT
    "%s must be a whole number, not %s\n"  # 153 NOT_WHOLE
    "%s must be more than %s and at most %s, not %s\n"  # 154 OUT_OF_RANGE
    "the label is empty\n"  # 155 LABEL_EMPTY
    "the label names the sample's file: no /, \\ or leading .\n",  # 156 LABEL_PATH
    # ei/at_sample.py
    "unknown sensor %s (this device has %s)\n"  # 157 AT_UNKNOWN_SENSOR
    "the length is less than one interval\n"  # 158 SHORT_LENGTH
    "the sample needs %d KB of flash and %d KB are free\n",  # 159 NO_FLASH
    # ei/at_files.py
    "no sample file %s (AT+SAMPLESTART names its file)\n"  # 160 NO_SAMPLE_FILE
    "no file %s\n"  # 161 NO_SUCH_FILE
    "the last argument is y or n (this board stays at 115200 baud)\n"  # 162 SPEED
    "no sample yet: AT+SAMPLESTART first\n",  # 163 NO_SAMPLE_YET
    # ei/at_settings.py
    "not saved: %s\n"  # 164 NOT_SAVED
    "the device id is empty\n"  # 165 NO_DEVICE_ID
    "the upload host is http(s)://host[:port], not %s\n"  # 166 UPLOAD_HOST
    "the path is one of %s, not %s\n"  # 167 UPLOAD_PATH
    "the interval %s ms is faster than the sensor's %.2f Hz\n"  # 168 AT_FASTER
    "the interval %s ms is not the sensor's FIFO's %.2f Hz\n",  # 169 AT_NOT_FIFO
    # ei/collector.py
    "the %s board has no network: use queue=True, then `make drain` on the "
    "host\n",  # 170 NO_NETWORK_QUEUE
    # ei/collecting.py
    "label must be a non-empty string, not %r\n"  # 171 LABEL_TEXT
    "seconds=%r is less than one row at %r ms\n"  # 172 SHORT_SECONDS
    "no rows were read\n"  # 173 STOPPED_NONE
    "the %d rows read are kept in %s (and in this error's .sample)\n"  # 174 STOPPED_KEPT
    "the %d rows read are queued as %s\n"  # 175 STOPPED_QUEUED
    "%s; queuing them failed: %s: %s%s\n"  # 176 QUEUING_FAILED
    " (the flash is full)\n"  # 177 FLASH_FULL_NOTE
    "the capture stopped after %d of %d rows: %s: %s; %s\n"  # 178 CAPTURE_STOPPED
    "a recording's windows are CBOR (appended rows), not %r\n"  # 179 WINDOWS_CBOR
    "window_s must be seconds > 0, not %r\n",  # 180 WINDOW_S
    # ei/sampler.py
    "rows must be a whole number >= 1, not %r\n"  # 181 ROWS_AT_LEAST
    "interval_ms=%r is below a microsecond\n",  # 182 BELOW_MICROSECOND
    # ei/deadlines.py
    "a sensor needs `axes` ((name, units) per axis) and read(); got %r\n"  # 183 NOT_SENSOR
    "the FIFO delivers rows at the chip's rate, %s Hz (interval_ms=%s), not "
    "interval_ms=%s\n",  # 184 FIFO_RATE
    # ei/peer_json.py
    "JSON nested deeper than %d\n"  # 185 JSON_DEPTH
    "JSON of over %d values\n",  # 186 JSON_VALUES
    # ei/capture_writer.py
    "the flash is full: no room in %s after %d rows read (it keeps those it committed); "
    "free room on the board (make drain empties the queue) or capture less\n",  # 187 FLASH_FULL
    # ei/forwarder.py
    "interval_ms must be a number > 0, not %r\n"  # 188 FORWARD_INTERVAL
    "digits must be 0-9, not %r\n"  # 189 DIGITS
    "read() gave %d values for %d axes\n"  # 190 READ_WIDTH
    "the sensor failed after %d lines: %s: %s\n",  # 191 SENSOR_FAILED
    # ei/recording.py
    "a recording needs a client, a queue, or both: its windows must go somewhere\n"  # 192 NOWHERE
    "ei.record needs a Client with transport='socket': requests runs no code of ours "
    "while it sends, so rows would wait\n"  # 193 NEEDS_SOCKET
    "windows must be None (until Ctrl-C) or a whole number >= 1, not %r\n"  # 194 WINDOWS
    "window_ms must be at least interval_ms (%s), not %r\n"  # 195 WINDOW_MS
    "window %d at slot %d, not %d\n"  # 196 WINDOW_SLOT
    "recording %s stopped after %d rows: %s: %s; its %d windows were handed off (%d "
    "sent, %d queued, %d dropped)\n",  # 197 RECORDING_STOPPED
)
