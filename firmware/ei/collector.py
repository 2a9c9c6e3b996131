# collect(): the REPL's one call. Samples the board's sensor with progress on one line, then
# uploads the sample to the ingestion service and prints the stored name, or queues it on
# flash (queue=True, and always on a board with no network). The board is board.py, deployed
# beside this package, and its config.json; both are loaded and checked once, at setup().
import sys

from ei.errors import CaptureStopped

_board = None    # (board module, config dict)
_sensor = None
_network = False
_client = None
_queue = None
_home = ""       # the config file's folder: the capture file and the queue go beside it
_config_path = None  # where save_config() writes (None: the config lives in RAM only)


def use(board, cfg, path=None):
    """Use `board` (a module or object with board.py's names) and the config dict `cfg`
    instead of the deployed ones: a host or a test can drive collect() this way. path: the
    file save_config() writes (None: changes stay in RAM)."""
    global _board, _sensor, _network, _client, _queue, _home, _config_path
    from ei import config
    _home = path.rpartition("/")[0] if path else ""
    _config_path = path
    _board = (board, config.check(cfg, "config", getattr(board, "NAME", None)))
    _sensor = _client = _queue = None
    _network = False


def save_config():
    """Write the config (changed by ei.daemon()'s settings) back to its file, checked first,
    through a temporary file so that a reset mid-write keeps the old one."""
    global _client
    from ei import config
    b, cfg = board()
    config.check(cfg, "config", getattr(b, "NAME", None))
    _client = None  # the next upload uses the new settings
    if _config_path is None:
        return
    import json
    import os
    tmp = _config_path + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(cfg))
    try:
        os.rename(tmp, _config_path)
    except OSError:  # FAT does not rename over a file
        os.remove(_config_path)
        os.rename(tmp, _config_path)


def board():
    """(board module, config): board.py and its config file, loaded and checked once."""
    global _home
    if _board is None:
        import board as b
        from ei import config
        path = getattr(b, "CONFIG", "config.json")
        use(b, config.load(path, getattr(b, "NAME", None)), path)
        _home = path.rpartition("/")[0]
    return _board


def _path(cfg, key, default):
    """cfg[key], or `default` beside the config file."""
    if key in cfg:
        return cfg[key]
    return _home + "/" + default if _home else default


def sensor():
    """The board's sensor, opened once (opening an I2C chip resets and configures it)."""
    global _sensor
    if _sensor is None:
        b, cfg = board()
        _sensor = b.sensor(cfg)
    return _sensor


def network():
    """Bring the board's network up, once; a board without one (NETWORK = None) has none."""
    global _network
    b, cfg = board()
    if getattr(b, "NETWORK", None) is None:
        raise OSError("the %s board has no network: use queue=True, then `make drain` on "
                      "the host" % getattr(b, "NAME", "this"))
    if not _network:
        b.setup(cfg)
        _network = True


def setup():
    """Everything collect() needs, done now so that a mistake shows at start-up: the config
    checked, the sensor opened, the network up (where the board has one). Returns (board,
    config). A board's main.py calls it at boot."""
    b, cfg = board()
    sensor()
    if getattr(b, "NETWORK", None) is not None:
        network()
    return b, cfg


def client():
    global _client
    if _client is None:
        from ei import config
        _client = config.client(board()[1])
    return _client


def offline_queue():
    """The offline queue (config "queue_path", default queue/), opened once."""
    global _queue
    if _queue is None:
        from ei.queue import Queue
        cfg = board()[1]
        # entries are signed as they are queued, so the host that drains them needs no HMAC key
        _queue = Queue(_path(cfg, "queue_path", "queue"), hmac_key=cfg.get("hmac_key"))
    return _queue


def _progress(i, n):
    if i == n or i % 25 == 0:
        sys.stdout.write("\rsampling %d/%d rows" % (i, n))
        if i == n:
            sys.stdout.write("\n")


def collect(label, seconds=2, category="training", interval_ms=None, fmt="cbor", queue=None):
    """Sample `seconds` of the board's sensor and upload it to `category` with `label`;
    returns the stored name. queue=True (the default on a board with no network, or with
    "queue": true in config.json) puts it in the offline queue instead and returns the
    entry's name. Rows go to a capture file on flash as they are read (config
    "capture_path", default capture.eic), so a capture that stops keeps them: it raises
    CaptureStopped, with the rows read queued when queuing, and never uploaded."""
    from ei import wire
    wire.check_category(category)  # mistakes show before the capture, not after it
    if not isinstance(label, str) or not label:
        raise ValueError("label must be a non-empty string, not %r" % (label,))
    b, cfg = board()
    if queue is None:
        queue = cfg.get("queue", getattr(b, "NETWORK", None) is None)
    interval = interval_ms or cfg.get("interval_ms") or b.INTERVAL_MS
    src = sensor()
    if getattr(src, "fifo", False):
        interval = 1000 / src.rate_hz  # the FIFO's rows come at the chip's own rate
    rows = int(seconds * 1000 / interval + 0.5)
    if rows < 1:
        raise ValueError("seconds=%r is less than one row at %r ms" % (seconds, interval))
    if not queue:
        network()  # before sampling: a network that cannot come up costs no capture
    path = _path(cfg, "capture_path", "capture.eic")
    _remove(path)  # what is read back after a failure is this capture's, never an older one
    from ei.sampler import sample
    try:
        s = sample(src, interval, rows, device_type=b.DEVICE_TYPE,
                   device_name=cfg.get("device_name") or b.device_name(), progress=_progress,
                   path=path)
    except Exception as e:  # not KeyboardInterrupt: Ctrl-C just stops
        raise _stopped(e, path, rows, queue, category, label)
    if queue:
        entry = offline_queue().put(s, category, label=label)
        print("queued as", entry)
        return entry
    c = client()
    print("uploading %d rows of %s to %s (%s, label %r)" % (len(s), ", ".join(
        a[0] for a in s.sensors), c.host, category, label))
    # a unique id in the stored name, as Edge Impulse's own daemon does: no overwrites
    name = c.upload(s, category=category, label=label, fmt=fmt, add_date_id=True)
    print("stored as", name)
    return name


def _stopped(e, path, rows, queue, category, label):
    """The CaptureStopped for error e, after queuing what the capture file kept."""
    from ei.capture import CaptureError, open_capture
    sys.stdout.write("\n")
    try:
        kept = open_capture(path, partial=True)
    except CaptureError:  # no whole row was written, or the file could not be made
        kept = None
    if kept is None:
        where = "no rows were read"
    else:
        where = "the %d rows read are kept in %s (and in this error's .sample)" % (
            len(kept), path)
        if queue:
            try:
                entry = offline_queue().put(kept, category, label=label)
                where = "the %d rows read are queued as %s" % (len(kept), entry)
            except Exception as qe:  # QueueFull, flash full: they stay in the capture file
                where += "; queuing them failed: %s: %s%s" % (
                    type(qe).__name__, qe, " (the flash is full)" if isinstance(qe, OSError)
                    and qe.args and qe.args[0] == 28 else "")
    return CaptureStopped("the capture stopped after %d of %d rows: %s: %s; %s" % (
        len(kept) if kept else 0, rows, type(e).__name__, e, where), kept, rows, e)


def _remove(path):
    import os
    try:
        os.remove(path)
    except OSError:
        pass
