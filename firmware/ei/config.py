# The board's config file (config.json on its flash): the secrets, the server and the board's
# wiring, checked at start-up so that a missing key, a wrong type or a value out of range is
# named before anything runs. `make deploy` writes it from a local file git ignores.
import json

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
    # Edge Impulse Studio (README: From Edge Impulse Studio)
    "remote_mgmt": ((bool,), False),   # main.py starts ei.remote() at boot, after the network
    "remote_mgmt_url": ((str,), False),  # default ws://remote-mgmt.edgeimpulse.com
    "device_id": ((str,), False),      # Studio's device id (default: device_name)
    "sensor_name": ((str,), False),    # the sensor's name in Studio (default Accelerometer)
    "daemon": ((bool,), False),        # main.py serves ei.daemon() at boot (no remote_mgmt)
    # what edge-impulse-daemon sets over the serial port (ei.daemon(), AT commands)
    "sample_label": ((str,), False),
    "sample_length_ms": ((int,), False),
    "upload_path": ((str,), False),    # /api/<category>/data
}
BOARDS = ("unix", "esp32", "rp2_pico_w", "rp2_pico", "nrf52840")
WIFI_BOARDS = ("esp32", "rp2_pico_w")
SECRET = ("api_key", "hmac_key", "wifi_password")
# keys whose numbers must be > 0
_POSITIVE = ("timeout", "wifi_timeout_ms", "interval_ms", "i2c_freq", "range_g",
             "sample_length_ms")


class ConfigError(ValueError):
    """The config file is missing, is not JSON, or a key is missing, unknown or wrong. The
    message names the file and the key, never a secret's value."""


def _kind(types):
    return " or ".join(t.__name__ for t in types)


def check(cfg, where="config", board=None):
    """Return cfg if it is a good config for `board` (its name; any board if None), or raise
    ConfigError naming the key."""
    if not isinstance(cfg, dict):
        raise ConfigError("%s must be a JSON object ({...})" % where)
    for key in cfg:
        if key not in KEYS:
            raise ConfigError("%s has an unknown key %r (known: %s)" % (
                where, key, ", ".join(sorted(KEYS))))
    for key in KEYS:
        types, required = KEYS[key]
        if key not in cfg:
            if required:
                raise ConfigError("%s is missing the key %r" % (where, key))
            continue
        v = cfg[key]
        # bool is an int in Python: a bool is only accepted where bool is the type
        if not isinstance(v, types) or (bool in types) != isinstance(v, bool):
            raise ConfigError("%s: %r must be %s, not %s" % (where, key, _kind(types),
                                                            type(v).__name__))
        if key in _POSITIVE and not v > 0:
            raise ConfigError("%s: %r must be > 0, not %r" % (where, key, v))
    name = cfg["board"]
    if name not in BOARDS:
        raise ConfigError("%s: unknown board %r in the key 'board' (known: %s)" % (
            where, name, ", ".join(BOARDS)))
    if board is not None and name != board:
        raise ConfigError("%s: the key 'board' says %r, but this is the %r board; deploy "
                          "the config made for it (make deploy BOARD=%s)" % (
                              where, name, board, board))
    if name in WIFI_BOARDS and "wifi_ssid" not in cfg:
        raise ConfigError("%s is missing the key 'wifi_ssid': the %s board joins a Wi-Fi "
                          "network" % (where, name))
    if not 0 < cfg.get("port", 1) < 65536:
        raise ConfigError("%s: 'port' must be 1-65535, not %r" % (where, cfg["port"]))
    from ei.api_key import check_api_key  # not ei.client: that loads socket
    try:
        check_api_key(cfg["api_key"])
    except ValueError as e:  # its message never repeats the key
        raise ConfigError("%s: 'api_key': %s" % (where, e))
    return cfg


def load(path="config.json", board=None):
    """Read and check the config file at path (see check())."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        raise ConfigError("no config file at %s (make deploy writes it from your local "
                          "boards/<board>/config.json)" % path)
    try:
        cfg = json.loads(text)
        # MicroPython 1.23 returns what it read of a cut-off object: an object ends with "}"
        if isinstance(cfg, dict) and not text.rstrip().endswith("}"):
            raise ValueError
    except ValueError:
        # the parser's message could quote the text, and with it a secret: say only where
        raise ConfigError("%s is not valid JSON" % path)
    return check(cfg, path, board)


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
