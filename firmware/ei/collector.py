# collect(): the REPL's one call. Samples the board's sensor with progress on one line, then
# uploads the sample to the ingestion service and prints the stored name, or queues it on
# flash (queue=True, and always on a board with no network). The board is board.py, deployed
# beside this package, and its config.json; both are loaded and checked once, at setup().
import sys

from ei.errors import CaptureStopped

_board = None    # (board module, config dict)
_sensor = None
network_up = False  # network() brought the board's network up (the daemon reads it)
_client = None
_queue = None
home = ""        # the config file's folder: the capture file, the queue and daemon/ go beside it
_config_path = None  # where save_config() writes (None: the config lives in RAM only)
_broken = None   # why the config file did not load, while ei.daemon() serves what it could read
_bad_kept = False  # that file is kept as <file>.bad, before the first write repairs it


def use(board, cfg, path=None, broken=None):
    """Use `board` (a module or object with board.py's names) and the config dict `cfg`
    instead of the deployed ones: a host or a test can drive collect() this way. path: the
    file save_config() writes (None: changes stay in RAM). broken: why the file at path did
    not load, when cfg is what could be read of it (board() then raises that, and only
    ei.daemon() serves it, to repair it)."""
    global _board, _sensor, network_up, _client, _queue, home, _config_path, _broken, _bad_kept
    from ei import config
    home = path.rpartition("/")[0] if path else ""
    _config_path = path
    name = getattr(board, "NAME", None)
    _board = (board, config.check(cfg, "config", name, partial=broken is not None))
    _broken = broken
    _bad_kept = False
    _sensor = _client = _queue = None
    network_up = False


def save_config():
    """Write the config (changed by ei.daemon()'s settings) back to its file, only if it
    will load again (config.save). The first write of a config being repaired keeps the file
    that did not load as <file>.bad; once the config is whole, it is the board's again."""
    global _client, _broken, _bad_kept
    from ei import config
    b, cfg = _board
    name = getattr(b, "NAME", None)
    repairing = _broken is not None
    if _config_path is None:
        config.check(cfg, "config", name, partial=repairing)
    else:
        keep = _config_path + ".bad" if repairing and not _bad_kept else None
        config.save(cfg, _config_path, name, partial=repairing, keep=keep)
        _bad_kept = _bad_kept or keep is not None
    _client = None  # the next upload uses the new settings
    if repairing:
        try:
            config.check(cfg, "config", name)
            _broken = None
        except config.ConfigError as e:
            _broken = str(e)


def board(unchecked=False):
    """(board module, config): board.py and its config file, loaded and checked once; a
    ConfigError if it does not load. unchecked=True (ei.daemon(), a board's main.py after
    setup() failed): a file that does not load gives what could be read of it instead,
    and broken() says why (see use_file)."""
    if _board is None:
        import board as b
        use_file(b, getattr(b, "CONFIG", "config.json"), unchecked)
    if _broken is not None and not unchecked:
        from ei.config import ConfigError
        raise ConfigError(_broken)
    return _board


def use_file(board, path, unchecked=False):
    """Use `board` with the config file at path, as board() does with board.py. A file that
    does not load raises its ConfigError; with unchecked=True it is used as far as it can
    be read instead (config.salvage: every key whose value is right, and the board's name),
    so that ei.daemon() can repair it, and broken() says why."""
    from ei import config
    name = getattr(board, "NAME", None)
    try:
        use(board, config.load(path, name), path)
    except config.ConfigError as e:
        if not unchecked:
            raise
        try:
            raw = config.read(path, lenient=True)
        except config.ConfigError:
            raw = {}  # nothing could be read
        kept, dropped = config.salvage(raw, name)
        use(board, kept, path, "%s%s" % (e, "; the keys left out: " + ", ".join(dropped)
                                          if dropped else ""))


def broken():
    """Why the config file does not load, while what could be read of it is served (None
    when it loads)."""
    return _broken


def file_path(cfg, key, default):
    """cfg[key], or `default` beside the config file (the board's files: the capture, the
    queue)."""
    if key in cfg:
        return cfg[key]
    return home + "/" + default if home else default


def sensor():
    """The board's sensor, opened once (opening an I2C chip resets and configures it); with
    what could be read of a config that does not load too (ei.daemon() serves it)."""
    global _sensor
    if _sensor is None:
        b, cfg = board(True)
        _sensor = b.sensor(cfg)
    return _sensor


def network():
    """Bring the board's network up, once; a board without one (NETWORK = None) has none."""
    global network_up
    b, cfg = board()
    if getattr(b, "NETWORK", None) is None:
        raise OSError("the %s board has no network: use queue=True, then `make drain` on "
                      "the host" % getattr(b, "NAME", "this"))
    if not network_up:
        b.setup(cfg)
        network_up = True


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
        _queue = Queue(file_path(cfg, "queue_path", "queue"), hmac_key=cfg.get("hmac_key"))
    return _queue


def _progress(i, n):
    if i == n or i % 25 == 0:
        sys.stdout.write("\rsampling %d/%d rows" % (i, n))
        if i == n:
            sys.stdout.write("\n")


def collect(label=None, seconds=2, category="training", interval_ms=None, fmt="cbor",
            queue=None, window_s=None):
    """Sample `seconds` of the board's sensor and upload it to `category` with `label`;
    returns the stored name. queue=True (the default on a board with no network, or with
    "queue": true in config.json) puts it in the offline queue instead and returns the
    entry's name. Rows go to a capture file on flash as they are read (config
    "capture_path", default capture.eic), so a capture that stops keeps them: it raises
    CaptureStopped, with the rows read queued when queuing, and never uploaded.
    window_s: a recording instead (ei.recording.collect); no label: the config's one."""
    from ei import wire
    wire.check_category(category)  # mistakes show before the capture, not after it
    b, cfg = board()
    if label is None and "record_label" in cfg:
        label, seconds = cfg["record_label"], None
        if window_s is None:
            window_s = cfg.get("record_window_ms", 2000) / 1000
    if not isinstance(label, str) or not label:
        raise ValueError("label must be a non-empty string, not %r" % (label,))
    if queue is None:
        queue = cfg.get("queue", getattr(b, "NETWORK", None) is None)
    interval = interval_ms or cfg.get("interval_ms") or b.INTERVAL_MS
    src = sensor()
    if getattr(src, "fifo", False):
        interval = 1000 / src.rate_hz  # the FIFO's rows come at the chip's own rate
    if window_s is not None:  # without a break: loaded only then (ei/recording.py)
        from ei.recording import collect as record
        return record(label, seconds, window_s, category, interval, fmt, queue)
    rows = int(seconds * 1000 / interval + 0.5)
    if rows < 1:
        raise ValueError("seconds=%r is less than one row at %r ms" % (seconds, interval))
    if not queue:
        network()  # before sampling: a network that cannot come up costs no capture
    path = file_path(cfg, "capture_path", "capture.eic")
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
    from ei.acquisition import Sample
    from ei.capture import CaptureError
    sys.stdout.write("\n")
    try:
        kept = Sample.from_capture(path, partial=True)
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
