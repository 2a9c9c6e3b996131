# What the daemon's commands share (ei.daemon(): ei/at_server.py reads the lines, and loads
# ei/at_settings.py, ei/at_sample.py, ei/at_encode.py and ei/at_files.py for their commands):
# the ERR of a command's wrong arguments (Refused) and their checks, the next sample's
# defaults, where the sample files are, the sensor's fastest interval. A module of its own so
# that the commands import it and not the line discipline that loads them by name: no module
# imports one that imports it back. Kept on the heap with at_server, which raises Refused.
from ei import collector
from ei.compat import const
from ei.errors import Msg

# what the next sample is until the daemon sets it (AT+SAMPLESETTINGS, AT+UPLOADSETTINGS)
LABEL = "idle"
LENGTH_MS = 10000
PATH = "/api/training/data"
FOLDER = "daemon"         # beside config.json: the sample files AT+READFILE may read
# error texts (ei/messages.py)
_M_USAGE = const(151)
_M_NOT_NUMBER_AT = const(152)
_M_NOT_WHOLE = const(153)
_M_OUT_OF_RANGE = const(154)
_M_LABEL_EMPTY = const(155)
_M_LABEL_PATH = const(156)


class Refused(ValueError):
    """A command's arguments are wrong: its text is the ERR line."""


def arguments(args, least, most, name):
    """The arguments of the command `name`, stripped: least to most of them, or Refused
    with its usage."""
    if args is None or not least <= len(args) <= most:
        from ei.at_usage import USAGE  # (read on a mistake only)
        for usage in USAGE:
            if usage[:len(name) + 1] in (name, name + "=", name + "["):
                raise Refused(Msg(_M_USAGE, usage))
    return [a.strip() for a in args]


def shown(text):
    """Some of a peer's text, for an ERR line."""
    return repr(text[:40])


def number(text, what, lo, hi, whole=False):
    """The number in text, lo < n <= hi, or Refused naming `what`: finite (inf and nan are
    in no range), whole where asked, and no bigger than what the board can count to."""
    try:
        n = int(text) if whole else float(text)
    except (ValueError, OverflowError):
        raise Refused(Msg(_M_NOT_WHOLE if whole else _M_NOT_NUMBER_AT, what, shown(text)))
    if not lo < n <= hi:
        raise Refused(Msg(_M_OUT_OF_RANGE, what, lo, hi, shown(text)))
    return n


def check_label(label):
    """label if it can name the sample's file, or Refused."""
    if not label:
        raise Refused(Msg(_M_LABEL_EMPTY))
    if "/" in label or "\\" in label or label[0] == ".":
        raise Refused(Msg(_M_LABEL_PATH))
    return label


def fastest():
    """The shortest interval the sensor takes, in ms: its FIFO's (the only one it then
    takes), or the board's polling interval (its config's interval_ms)."""
    src = collector.sensor()
    if getattr(src, "fifo", False):
        return 1000 / src.rate_hz
    b, cfg = collector.board(True)
    return cfg.get("interval_ms") or b.INTERVAL_MS


def self_uploads():
    """True when the board's own network and remote management are up (config
    "remote_mgmt" on a board with a network that setup() brought up): it then uploads its
    samples itself, and the daemon steps aside."""
    b, cfg = collector.board(True)
    return bool(cfg.get("remote_mgmt") and getattr(b, "NETWORK", None) is not None
                and collector.network_up)


def host(cfg):
    """The upload host as AT+UPLOADHOST takes it: http(s)://host[:port]."""
    tls = cfg.get("tls", True)
    port = cfg.get("port")
    return "%s://%s%s" % ("https" if tls else "http", cfg.get("host", "ingestion.edgeimpulse.com"),
                          "" if port in (None, 443 if tls else 80) else ":%d" % port)


def sample_folder():
    return collector.home + "/" + FOLDER if collector.home else FOLDER


def remove(path):
    """Remove the file at path if it is there."""
    import os
    try:
        os.remove(path)
    except OSError:
        pass


def board_call(b, name):
    f = getattr(b, name, None)
    return f() if f is not None else None
