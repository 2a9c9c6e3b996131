# The board and its config, for collect() (the REPL's one call, ei/collecting.py), ei.daemon()
# and ei.remote(): board.py, deployed beside this package, and its config.json, loaded and
# checked once; the sensor opened once, the network brought up once, the client and the
# offline queue made once.
from ei.compat import const
from ei.errors import Msg

_board = None    # (board module, config dict)
_sensor = None
network_up = False  # network() brought the board's network up (the daemon reads it)
_client = None
_queue = None
home = ""        # the config file's folder: the capture file, the queue and daemon/ go beside it
_config_path = None  # where save_config() writes (None: the config lives in RAM only)
_broken = None   # why the config file did not load, while ei.daemon() serves what it could read
_bad_kept = False  # that file is kept as <file>.bad, before the first write repairs it
# error texts (ei/messages.py)
_M_NO_NETWORK_QUEUE = const(170)


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
        raise OSError(Msg(_M_NO_NETWORK_QUEUE, getattr(b, "NAME", "this")))
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


def __getattr__(name):
    # ei.collector.CaptureStopped, as before: made when named (ei/errors_rare.py), so that
    # the daemon, which loads this module, does not keep the rarer errors' classes
    if name == "CaptureStopped":
        from ei.errors import CaptureStopped
        return CaptureStopped
    raise AttributeError(name)
