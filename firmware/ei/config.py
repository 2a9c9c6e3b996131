# The board's config file: the secrets, the server and the board's wiring, checked at
# start-up so that a missing key, a wrong type or a value out of range is named before
# anything runs. `make deploy` writes it from a local file git ignores; ei.daemon() rewrites
# it (save(): checked as it will be read again, then swapped in whole), and serves a file
# that does not load with what can be read of it (salvage()), so that the daemon can repair it.
import json

from ei.compat import const
from ei.errors import Msg

# key: (types, required). Secrets live only here, never in the code or in a message.
KEYS = {
    "board": ((str,), True),
    "api_key": ((str,), True),
    "host": ((str,), False),
    "port": ((int,), False),
    "tls": ((bool,), False),
    "ca": ((str,), False),             # path of a CA certificate (PEM or DER) on the board
    "hmac_key": ((str,), False),
    "timeout": ((int, float), False),  # seconds, for each connect, write and read
    "device_name": ((str,), False),    # default: from the board's MAC (board.device_name())
    "wifi_ssid": ((str,), False),      # required by boards with Wi-Fi (WIFI_BOARDS)
    "wifi_password": ((str,), False),  # absent for an open network
    "wifi_timeout_ms": ((int,), False),
    "wifi_country": ((str,), False),   # two letters, e.g. "GB": the radio's legal channels
    "sensor": ((str,), False),         # chip name for ei.sensors.open(); default: the board's
    "sensor_address": ((int,), False),
    "range_g": ((int,), False),
    "fifo": ((bool,), False),          # drain the chip's FIFO in bursts (rates above polling)
    "sda": ((int,), False),            # I2C pins and bus, overriding the board's defaults
    "scl": ((int,), False),
    "i2c_id": ((int,), False),
    "i2c_freq": ((int,), False),
    "motion": ((str,), False),         # unix board: the simulated accelerometer's motion
    "interval_ms": ((int, float), False),
    "queue": ((bool,), False),         # ei.collect() queues instead of uploading
    "queue_path": ((str,), False),
    "capture_path": ((str,), False),   # where ei.collect() writes rows as it reads them
    "record_label": ((str,), False),   # main.py records at boot with this label, until Ctrl-C
    "record_window_ms": ((int,), False),  # its windows (default 2000; ei.record)
    # Edge Impulse Studio (docs/studio.md)
    "remote_mgmt": ((bool,), False),   # main.py starts ei.remote() at boot, after the network
    "remote_mgmt_url": ((str,), False),  # default ws://remote-mgmt.edgeimpulse.com
    "device_id": ((str,), False),      # Studio's device id (default: device_name)
    "sensor_name": ((str,), False),    # the sensor's name in Studio (default Accelerometer)
    "daemon": ((bool,), False),        # main.py serves ei.daemon() at boot (no remote_mgmt)
    # what edge-impulse-daemon sets over the serial port (ei.daemon(), AT commands)
    "sample_label": ((str,), False),
    "sample_interval_ms": ((int, float), False),
    "sample_length_ms": ((int,), False),
    "upload_path": ((str,), False),    # /api/<category>/data
}
BOARDS = ("unix", "esp32", "rp2_pico_w", "rp2_pico", "nrf52840")
WIFI_BOARDS = ("esp32", "rp2_pico_w")
SECRET = ("api_key", "hmac_key", "wifi_password")
MAX_SAMPLE_MS = 300000  # the longest sample the daemon takes (AT+CONFIG? says 300 s)
# every number's range, lo < value <= hi: finite (inf and nan fall outside every range), and
# small enough for the 32-bit ticks and the flash it drives
_RANGES = {
    "port": (0, 65535), "timeout": (0, 3600), "wifi_timeout_ms": (0, 3600000),
    "sensor_address": (-1, 127), "range_g": (0, 400), "sda": (-1, 255), "scl": (-1, 255),
    "i2c_id": (-1, 15), "i2c_freq": (0, 5000000), "interval_ms": (0, 3600000),
    "sample_interval_ms": (0, 3600000), "sample_length_ms": (0, MAX_SAMPLE_MS),
    "record_window_ms": (0, 3600000),
}
# error texts (ei/messages.py)
_M_NOT_OBJECT = const(132)
_M_MISSING_KEY = const(133)
_M_MISSING_SSID = const(134)
_M_UNKNOWN_KEY = const(135)
_M_KEY_TYPE = const(136)
_M_KEY_RANGE = const(137)
_M_UNKNOWN_BOARD = const(138)
_M_OTHER_BOARD = const(139)
_M_CONFIG_API_KEY = const(140)
_M_NO_CONFIG = const(141)
_M_NOT_JSON_FILE = const(142)
_M_NOT_FINITE_JSON = const(143)


class ConfigError(ValueError):
    """The config file is missing, is not JSON, or a key is missing, unknown or wrong. The
    message names the file and the key, never a secret's value."""


def _kind(types):
    return " or ".join(t.__name__ for t in types)


def check(cfg, where="config", board=None, partial=False):
    """Return cfg if it is a good config for `board` (its name; any board if None), or raise
    ConfigError naming the key. partial=True: keys may be missing (a config being repaired),
    but every key there must be right."""
    if not isinstance(cfg, dict):
        raise ConfigError(Msg(_M_NOT_OBJECT, where))
    for key in cfg:
        check_value(key, cfg[key], where, board)
    if partial:
        return cfg
    for key in KEYS:
        if KEYS[key][1] and key not in cfg:
            raise ConfigError(Msg(_M_MISSING_KEY, where, key))
    if cfg["board"] in WIFI_BOARDS and "wifi_ssid" not in cfg:
        raise ConfigError(Msg(_M_MISSING_SSID, where, cfg["board"]))
    return cfg


def check_value(key, v, where="config", board=None):
    """Raise ConfigError naming `key` if v is not a value it can have."""
    if key not in KEYS:
        raise ConfigError(Msg(_M_UNKNOWN_KEY, where, key, ", ".join(sorted(KEYS))))
    types = KEYS[key][0]
    # bool is an int in Python: a bool is only accepted where bool is the type
    if not isinstance(v, types) or (bool in types) != isinstance(v, bool):
        raise ConfigError(Msg(_M_KEY_TYPE, where, key, _kind(types), type(v).__name__))
    if key in _RANGES:
        lo, hi = _RANGES[key]
        if not lo < v <= hi:
            raise ConfigError(Msg(_M_KEY_RANGE, where, key, lo, hi, v))
    elif key == "board":
        if v not in BOARDS:
            raise ConfigError(Msg(_M_UNKNOWN_BOARD, where, v, ", ".join(BOARDS)))
        if board is not None and v != board:
            raise ConfigError(Msg(_M_OTHER_BOARD, where, v, board, board))
    elif key == "api_key":
        from ei.api_key import check_api_key  # not ei.client: that loads socket
        try:
            check_api_key(v)
        except ValueError as e:  # its message never repeats the key
            raise ConfigError(Msg(_M_CONFIG_API_KEY, where, e))


def salvage(cfg, board=None):
    """(kept, dropped): the keys of cfg whose values are right, and the names of the others,
    for a config that does not load. The board's own name is kept as 'board'."""
    kept = {}
    dropped = []
    for key in cfg if isinstance(cfg, dict) else ():
        try:
            check_value(key, cfg[key], "config", board)
            kept[key] = cfg[key]
        except ConfigError:
            dropped.append(key)
    if board is not None:
        kept["board"] = board
    return kept, dropped


def read(path="config.json", lenient=False):
    """The JSON in the config file, unchecked; ConfigError if there is none or it is not
    JSON (without quoting it: it could hold a secret). lenient=True: the numbers JSON cannot
    hold (inf, nan: what json.dumps writes for them, as an older ei.daemon() let it) are
    read as null, so that the rest of the file can be salvaged."""
    try:
        f = open(path)
    except OSError:
        # save() on a filesystem whose rename does not replace (FAT) removes the old file
        # first: a reset just then leaves only the new one, whole
        import os
        try:
            os.rename(path + ".tmp", path)
            f = open(path)
        except OSError:
            raise ConfigError(Msg(_M_NO_CONFIG, path))
    with f:
        text = f.read()
    try:
        return _json(text)
    except ValueError:
        pass
    try:
        if lenient:
            return _json(_nulls(text))
    except ValueError:
        pass
    # the parser's message could quote the text, and with it a secret: say only where
    raise ConfigError(Msg(_M_NOT_JSON_FILE, path))


def _json(text):
    cfg = json.loads(text)
    # MicroPython 1.23 returns what it read of a cut-off object: an object ends with "}"
    if isinstance(cfg, dict) and not text.rstrip().endswith("}"):
        raise ValueError
    return cfg


_NOT_FINITE = (b"-Infinity", b"Infinity", b"-inf", b"inf", b"NaN", b"nan")


def _nulls(text):
    """text with each inf, nan, Infinity or NaN outside a string made null."""
    b = text.encode()  # bytes: a loop over a str would intern each character as a qstr
    out = bytearray()
    i = 0
    quoted = False
    while i < len(b):
        c = b[i]
        step = 1
        if quoted:
            if c == 92:  # a backslash: the next byte is escaped
                step = 2
            elif c == 34:
                quoted = False
        elif c == 34:
            quoted = True
        elif c in b"-IiNn":
            for word in _NOT_FINITE:
                if b[i:i + len(word)] == word:
                    out += b"null"
                    i += len(word)
                    step = 0
                    break
        out += b[i:i + step]
        i += step
    return out.decode()


def load(path="config.json", board=None):
    """Read and check the config file at path (see check())."""
    return check(read(path), path, board)


def save(cfg, path="config.json", board=None, partial=False, keep=None):
    """Write cfg to the config file, only if it will load again: the text is checked as the
    next boot will read it (a number JSON cannot hold, such as inf, is refused here, and the
    file is left as it was). The new file replaces the old whole (written beside it, then
    renamed over it: atomic on littlefs), so a reset mid-write keeps one or the other.
    keep: a name the old file is moved to first, once the new one is written."""
    import os
    text = json.dumps(cfg)
    try:
        again = json.loads(text)
    except ValueError:
        raise ConfigError(Msg(_M_NOT_FINITE_JSON, path))
    check(again, path, board, partial)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    if keep is not None:
        try:
            os.rename(path, keep)  # a reset now leaves the .tmp, which read() takes
        except OSError:
            pass  # there was no file
    try:
        os.rename(tmp, path)
    except OSError:  # FAT does not rename over a file: read() finds the .tmp after a reset
        try:
            os.remove(path)
        except OSError:
            pass  # there was none
        os.rename(tmp, path)


def client(cfg):
    """The Client a config describes."""
    from ei.client import Client
    ca = None
    if "ca" in cfg:
        with open(cfg["ca"], "rb") as f:
            ca = f.read()
    return Client(cfg["api_key"], host=cfg.get("host", "ingestion.edgeimpulse.com"),
                  port=cfg.get("port"), tls=cfg.get("tls", True), timeout=cfg.get("timeout", 10),
                  hmac_key=cfg.get("hmac_key"), ca=ca)
