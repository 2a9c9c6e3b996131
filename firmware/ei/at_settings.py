# The daemon's settings (ei.daemon(), ei/at_server.py; protocol notes 2.2 and 2.3), loaded for
# their commands: AT+CONFIG? in the sections and "key: value" lines the daemon parses, and the
# commands that set what it prints, each checked as the next boot will read it and saved to
# config.json (AT+CLEARCONFIG forgets what the daemon set; the board's wiring stays).
from ei import collector
from ei.compat import const
from ei.errors import Msg
from ei.at_common import (LABEL, LENGTH_MS, PATH, Refused, arguments, board_call, check_label,
                          fastest, host, number, self_uploads, shown)

AT_VERSION = "1.8.0"       # the AT protocol's version, as AT+CONFIG? names it
_PATHS = ("/api/training/data", "/api/testing/data", "/api/anomaly/data")
_MGMT_URL = "ws://remote-mgmt.edgeimpulse.com"  # remote_mgmt.URL, without loading it
_TOLERANCE = 0.01         # an interval this close to the sensor's is the sensor's
# error texts (ei/messages.py)
_M_NOT_SAVED = const(164)
_M_NO_DEVICE_ID = const(165)
_M_UPLOAD_HOST = const(166)
_M_UPLOAD_PATH = const(167)
_M_AT_FASTER = const(168)
_M_AT_NOT_FIFO = const(169)
# the keys AT+CLEARCONFIG forgets (what the daemon sets)
_SETTINGS = ("sample_label", "sample_interval_ms", "sample_length_ms", "upload_path",
             "device_id", "remote_mgmt_url", "hmac_key")


def _set(d, changes):
    """Change config keys (None removes) and save; put them back if refused."""
    cfg = collector.board(True)[1]
    old = {}
    for k in changes:
        old[k] = cfg.get(k)
    for k in changes:
        _put(cfg, k, changes[k])
    try:
        collector.save_config()
    except Exception as e:  # ConfigError, or OSError from the flash
        for k in old:
            _put(cfg, k, old[k])
        raise Refused(Msg(_M_NOT_SAVED, e))
    d.line("OK")


def _put(cfg, key, value):
    if value is None:
        cfg.pop(key, None)
    else:
        cfg[key] = value


def help(d, args):
    from ei.at_usage import USAGE
    for usage in USAGE:
        d.line("AT+" + usage)


def clearconfig(d, args):
    _set(d, dict((k, None) for k in _SETTINGS))


def deviceid(d, args):
    (v,) = arguments(args, 1, 1, "DEVICEID")
    if not v:
        raise Refused(Msg(_M_NO_DEVICE_ID))
    _set(d, {"device_id": v})


def uploadhost(d, args):
    (url,) = arguments(args, 1, 1, "UPLOADHOST")
    scheme, _, rest = url.partition("://")
    host, _, port = rest.rstrip("/").partition(":")
    if scheme not in ("http", "https") or not host or "/" in host or " " in host:
        raise Refused(Msg(_M_UPLOAD_HOST, shown(url)))
    port = number(port, "the upload host's port", 0, 65535, True) if port else None
    _set(d, {"host": host, "tls": scheme == "https", "port": port})


def mgmtsettings(d, args):
    (url,) = arguments(args, 1, 1, "MGMTSETTINGS")
    from ei.websocket import parse_url
    parse_url(url)  # its ValueError names what is wrong
    _set(d, {"remote_mgmt_url": url})


def uploadsettings(d, args):
    key, path = arguments(args, 2, 2, "UPLOADSETTINGS")
    if path not in _PATHS:
        raise Refused(Msg(_M_UPLOAD_PATH, ", ".join(_PATHS), shown(path)))
    # config.check names a wrong key without showing it (and loads no socket code)
    _set(d, {"api_key": key, "upload_path": path})


def samplesettings(d, args):
    """Checked as a Studio sample request is: the label names the file; the length at most
    the advertised 300 s; the interval not faster than the sensor's fastest rate (its
    FIFO's, if it has one) nor longer than the sample."""
    from ei.config import MAX_SAMPLE_MS
    a = arguments(args, 3, 4, "SAMPLESETTINGS")
    label = check_label(a[0])
    length = number(a[2], "the length (ms)", 0, MAX_SAMPLE_MS)
    interval = number(a[1], "the interval (ms)", 0, length)
    least = fastest()
    if interval < least * (1 - _TOLERANCE):
        raise Refused(Msg(_M_AT_FASTER, a[1], 1000 / least))
    if getattr(collector.sensor(), "fifo", False) and interval > least * (1 + _TOLERANCE):
        raise Refused(Msg(_M_AT_NOT_FIFO, a[1], 1000 / least))
    # an int when whole, as the daemon writes it
    changes = {"sample_label": label,
               "sample_interval_ms": int(interval) if interval == int(interval) else interval,
               "sample_length_ms": int(length + 0.5)}
    if len(a) == 4:
        changes["hmac_key"] = a[3] or None
    _set(d, changes)


def config(d, args):
    b, cfg = collector.board(True)
    try:
        least = fastest()
        hz = "%.2fHz" % (1000 / least)
    except Exception:  # no sensor: said at the daemon's start, and by AT+SAMPLESTART
        least, hz = b.INTERVAL_MS, ""
    wifi = getattr(b, "NETWORK", None) == "wifi" and collector.network_up
    name = cfg.get("device_name") or board_call(b, "device_name")
    L = d.line
    L("===== Device info =====")
    L("ID:         " + (cfg.get("device_id") or name or "00:00:00:00:00:00"))
    L("Type:       " + b.DEVICE_TYPE)
    L("AT Version: " + AT_VERSION)
    L("Data Transfer Baudrate: 115200")  # no baud switching: USB serial ignores it
    L()
    L("===== Sensors ======")
    L("Name: %s, Max sample length: %ds, Frequencies: [%s]" % (
        cfg.get("sensor_name", "Accelerometer"), 300, hz))
    L()
    L("===== Snapshot ======")
    L("Has snapshot:         0")
    L("Supports stream:      0")
    L()
    L("===== Inference ======")  # as the ESP32 firmware prints it; no model runs here
    L("Sensor:           2")
    L("Model type:       classification")
    L()
    L("===== WIFI =====")
    # Present only while joined: the daemon's Wi-Fi wizard (AT+WIFI) is not served
    L("SSID:      " + (cfg.get("wifi_ssid", "") if wifi else ""))
    L("Password:  ")  # never shown
    L("Security:  0")
    L("MAC:       " + ((name or "") if wifi else ""))
    L("Connected: %d" % wifi)
    L("Present:   %d" % wifi)
    L()
    L("===== Sampling parameters =====")
    L("Label:     " + cfg.get("sample_label", LABEL))
    L("Interval:  %.2f ms." % (cfg.get("sample_interval_ms") or least))
    L("Length:    %d ms." % cfg.get("sample_length_ms", LENGTH_MS))
    # the keys as the official firmwares print them: the daemon reads them here
    L("HMAC key:  " + cfg.get("hmac_key", "please-set-me"))
    L()
    L("===== Upload settings =====")
    L("Api Key:   " + cfg.get("api_key", ""))
    L("Host:      " + host(cfg))
    L("Path:      " + cfg.get("upload_path", PATH))
    L()
    L("===== Remote management =====")
    L("URL:        " + cfg.get("remote_mgmt_url", _MGMT_URL))
    L("Connected:  %d" % self_uploads())
    L("Last error: ")
