"""What the service is told at start (Config) and the limits it keeps, each with its source:
documented by Edge Impulse, or the service's own (stated in README's "Limits")."""
import dataclasses
import re

API_KEY = "ei_6040df080906d06f090e05013b7090580b707a0b050eb04d00350504070a2040"  # the page's example
CATEGORIES = ("training", "testing", "anomaly")
SPLIT = "split"                      # /api/split/files: training or testing, chosen per file
MAX_FILES = 1000                     # documented: files in one /files request
MAX_FILE_BYTES = 100 * 1024 * 1024   # documented: size of one file
MAX_NAME_BYTES = 200                 # own: a stored name a file system can hold
MAX_JSON_BYTES = 16 * 1024 * 1024    # own: a JSON sample is decoded whole to check it (send CBOR beyond)
MAX_DEPTH = 32                       # own: nesting of JSON or CBOR anywhere (headers, bodies)
MAX_HEADER_JSON = 64 * 1024          # own: an x-metadata or x-bounding-boxes header
TIMEOUT = 10.0                       # own: seconds a client may stay silent while sending a request
MIN_RATE = 1024                      # own: bytes/s a head or body must average once TIMEOUT has passed
MAX_CONNECTIONS = 128                # own: open connections; beyond it, 503 at once
MAX_DEVICES = 64                     # own: remote-management devices connected at once (of MAX_CONNECTIONS)
MAX_DEVICE_MESSAGE = 64 * 1024       # own: one WebSocket message from a device (a hello is a few hundred bytes)
DEVICE_TIMEOUT = 75.0                # own: seconds a device may stay silent (the CLI pings every 30 s);
                                     # while it samples, the sample's length on top
# Signs the Record form's samples when the service has no --hmac-key (not a secret: a local stand-in).
DEV_HMAC_KEY = "ei-local-service-development-hmac-key"
PLOT_POINTS = 5000                   # own: most rows /samples/<id> answers (downsampled)
PLOT_CACHE = 32                      # own: downsampled plots kept in memory
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
    any free one); allow_hosts: names besides the bound address that the Host header may give."""
    data_dir: str = "data/serve"
    api_keys: tuple = (API_KEY,)
    hmac_keys: tuple = ()
    host: str = "127.0.0.1"
    port: int = 0
    allow_hosts: tuple = ()
    max_file_bytes: int = MAX_FILE_BYTES
    max_files: int = MAX_FILES
    timeout: float = TIMEOUT
    max_connections: int = MAX_CONNECTIONS
    log_requests: bool = False
    max_devices: int = MAX_DEVICES
    max_device_message: int = MAX_DEVICE_MESSAGE
    device_timeout: float = DEVICE_TIMEOUT

    @property
    def sample_hmac_key(self):
        """The hmacKey of the sample requests the service sends: its first HMAC key, else
        DEV_HMAC_KEY (and then signatures are not checked: no key was given to check them)."""
        return self.hmac_keys[0] if self.hmac_keys else DEV_HMAC_KEY
