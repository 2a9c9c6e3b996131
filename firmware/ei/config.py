# The board's config file (config.json on its flash): the secrets and the server, checked
# at start-up so that a missing key or a wrong type is named before anything runs.
import json

# key: (types, required). Secrets live only here, never in the code or in a message.
KEYS = {
    "board": ((str,), True),
    "api_key": ((str,), True),
    "host": ((str,), False),
    "port": ((int,), False),
    "tls": ((bool,), False),
    "ca": ((str,), False),           # path of a CA certificate (PEM or DER) on the board
    "hmac_key": ((str,), False),
    "device_name": ((str,), False),
    "wifi_ssid": ((str,), False),
    "wifi_password": ((str,), False),
    "wifi_timeout_ms": ((int,), False),
    "timeout": ((int, float), False),
    "sensor": ((str,), False),
    "motion": ((str,), False),        # unix board: the simulated accelerometer's motion
    "interval_ms": ((int, float), False),
    "queue_path": ((str,), False),
}
BOARDS = ("unix", "esp32", "rp2_pico_w", "nrf52840")
SECRET = ("api_key", "hmac_key", "wifi_password")


class ConfigError(ValueError):
    pass


def check(cfg, where="config"):
    if not isinstance(cfg, dict):
        raise ConfigError("%s must be a JSON object" % where)
    for key, (types, required) in KEYS.items():
        if key not in cfg:
            if required:
                raise ConfigError("%s is missing the key %r" % (where, key))
            continue
        v = cfg[key]
        if not isinstance(v, types) or (bool in types) != isinstance(v, bool):
            raise ConfigError("%s: %r must be %s, not %s" % (
                where, key, " or ".join(t.__name__ for t in types), type(v).__name__))
    for key in cfg:
        if key not in KEYS:
            raise ConfigError("%s has an unknown key %r (known: %s)" % (
                where, key, ", ".join(sorted(KEYS))))
    if cfg["board"] not in BOARDS:
        raise ConfigError("%s: unknown board %r (known: %s)" % (where, cfg["board"],
                                                               ", ".join(BOARDS)))
    return cfg


def load(path="config.json"):
    try:
        with open(path) as f:
            cfg = json.load(f)
    except OSError:
        raise ConfigError("no config file at %s (make deploy writes it from your local "
                          "config.json)" % path)
    except ValueError:
        raise ConfigError("%s is not valid JSON" % path)
    return check(cfg, path)


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
