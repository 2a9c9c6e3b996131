"""What the service is told at start (Config) and the limits it keeps, each with its source:
documented by Edge Impulse, or the service's own (stated in docs/service.md, "Limits").

The service's own limits are chosen so that its memory stays bounded whatever arrives: at most
MAX_CONNECTIONS requests at once, each holding a bounded amount
(docs/service.md: "Bounded, whatever arrives")."""
import dataclasses
import re

API_KEY = "ei_6040df080906d06f090e05013b7090580b707a0b050eb04d00350504070a2040"  # the page's example
DEFAULT_PROJECT = "default"          # the project the old flags (--api-key, --hmac-key) make
CATEGORIES = ("training", "testing", "anomaly")
SPLIT = "split"                      # /api/split/files: training or testing, chosen per file
MAX_FILES = 1000                     # documented: files in one /files request
MAX_FILE_BYTES = 100 * 1024 * 1024   # documented: size of one file
MAX_NAME_BYTES = 200                 # own: a stored name a file system can hold
MAX_JSON_BYTES = 16 * 1024 * 1024    # own: a JSON sample (walked as a stream, but in Python: send CBOR beyond)
MAX_DEPTH = 32                       # own: nesting of JSON or CBOR anywhere (headers, bodies)
MAX_HEADER_JSON = 64 * 1024          # own: an x-metadata or x-bounding-boxes header
MAX_SAFE_INTEGER = 2 ** 53           # own: integers beyond +-2**53 are refused (JavaScript's exact ints)
MAX_FIELD = 256                      # own: bytes of a text the service keeps from a sample or a label
                                     # (device_name, device_type, a sensor's name and units)
MAX_AXES = 1000                      # own: sensors (axes) of a sample, columns of a CSV, channels of a WAV
MAX_TEXT = 64 * 1024                 # own: any other text or byte string built from a sample (CBOR, JSON)
MAX_BUILT = 10000                    # own: items built from a sample outside payload.values
MAX_ROW_BYTES = 256 * 1024           # own: one row of a JSON sample's values or one record of a CSV file
MAX_SUMMARY = 64 * 1024              # own: what the index keeps of a sample (its sensors' names), as JSON
TIMEOUT = 10.0                       # own: seconds a client may stay silent while sending a request,
                                     # and the most a request head may take in all
MIN_RATE = 1024                      # own: bytes/s a head or body must average once TIMEOUT has passed
MAX_CONNECTIONS = 128                # own: open connections; beyond it, 503 at once
MAX_DEVICES = 64                     # own: remote-management devices connected at once (of MAX_CONNECTIONS)
MAX_PENDING = 16                     # own: WebSockets that have not said hello yet (apart from the devices);
                                     # beyond it, the oldest is closed to make room
HELLO_TIMEOUT = 5.0                  # own: seconds from the WebSocket handshake to the hello
MAX_DEVICE_MESSAGE = 64 * 1024       # own: one WebSocket message from a device (a hello is a few hundred bytes)
DEVICE_TIMEOUT = 75.0                # own: seconds a device may stay silent (the CLI pings every 30 s);
                                     # while it samples, the sample's length on top
FORGET_DEVICES = 3600.0              # own: seconds a device that went away stays listed
MAX_GONE_DEVICES = 256               # own: devices that went away kept listed per project (oldest go first)
# Signs the Record form's samples when a project has no HMAC key (not a secret: a local stand-in).
DEV_HMAC_KEY = "ei-local-service-development-hmac-key"
PLOT_POINTS = 5000                   # own: most rows /samples/<id> answers (downsampled)
MAX_PLOT_POINTS = 20000              # own: the most rows a client may ask for
MAX_PLOT_VALUES = 200000             # own: rows x axes in one plot (fewer rows for wide samples)
PLOT_CACHE_BYTES = 32 * 1024 * 1024  # own: downsampled plots kept in memory, as the JSON they are sent as
HEAVY_READS = 2                      # own: plots and CSV exports worked out at once (others wait)
MAX_CSV_VALUES = 2000000             # own: values the CSV export writes at most
PAGE = 1000                          # own: entries of /samples and /devices a page, at most and by default
PAGE_BYTES = 1024 * 1024             # own: a page of /samples ends once its entries pass this size
MAX_RECORDING_ID = 64                # own: a recording id /recordings lists (ei.record's: 8 hex digits)
EMPTY_SIGNATURE = "0" * 64           # what the signature is replaced by before the HMAC is computed
# The page's regex is JavaScript, ^[a-zA-Z0-9\s-_]+ : there the '-' after the class escape \s is literal.
LABEL_RE = re.compile(r"^[a-zA-Z0-9\s\-_]+")
# The real service's words for a duplicate. Edge Impulse's Python SDK test `test_upload_duplicates`
# (edgeimpulse/python-sdk, tests/test_data_upload.py), run against the live service, asserts that the
# error starts with this sentence, and OpenMV IDE's uploader checks the same prefix on a failed
# /data reply. Neither shows the status: 400 is the page's code for a refused message.
DUPLICATE = "An item with this hash already exists"
# The same SDK test suite expects this prefix for a CSV file the service cannot read.
BAD_CSV = "Could not parse this CSV file"
STRUCTURED_LABELS = "structured_labels.labels"  # the SDK's companion part: labels for the other file


@dataclasses.dataclass
class Config:
    """How one service runs. data_dir holds the store; host/port are where it is bound (port 0:
    any free one); allow_hosts: names besides the bound address that the Host header may give.
    projects: service.projects.Project, each with its API and HMAC keys; api_keys/hmac_keys (the
    old flags) make the project named DEFAULT_PROJECT, unless projects alone are given."""
    data_dir: str = "data/serve"
    api_keys: tuple = (API_KEY,)
    hmac_keys: tuple = ()
    projects: tuple = ()
    host: str = "127.0.0.1"
    port: int = 0
    allow_hosts: tuple = ()
    max_file_bytes: int = MAX_FILE_BYTES
    max_files: int = MAX_FILES
    timeout: float = TIMEOUT
    max_connections: int = MAX_CONNECTIONS
    log_requests: bool = False
    max_devices: int = MAX_DEVICES
    max_pending: int = MAX_PENDING
    hello_timeout: float = HELLO_TIMEOUT
    max_device_message: int = MAX_DEVICE_MESSAGE
    device_timeout: float = DEVICE_TIMEOUT
    forget_devices: float = FORGET_DEVICES
    plot_cache_bytes: int = PLOT_CACHE_BYTES
