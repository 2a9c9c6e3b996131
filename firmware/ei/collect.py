# collect(): the REPL's one call. Samples the board's sensor, shows progress on one line,
# uploads to the ingestion service and prints the stored name.
import sys

_board = None
_client = None


def board():
    """The board module (board.py, deployed beside this package) and its config, set up once."""
    global _board
    if _board is None:
        import board as b
        from ei import config
        cfg = config.load(getattr(b, "CONFIG", "config.json"))
        b.setup(cfg)
        _board = (b, cfg)
    return _board


def _progress(i, n):
    if i == n or i % 25 == 0:
        sys.stdout.write("\rsampling %d/%d rows" % (i, n))
        if i == n:
            sys.stdout.write("\n")


def collect(label, seconds=2, category="training", interval_ms=None, fmt="cbor"):
    """Sample `seconds` of the board's sensor and upload it with `label`; returns the name."""
    global _client
    from ei.sampler import sample
    b, cfg = board()
    interval = interval_ms or cfg.get("interval_ms") or b.INTERVAL_MS
    rows = int(seconds * 1000 / interval + 0.5)
    s = sample(b.sensor(cfg), interval, rows, device_type=b.DEVICE_TYPE,
               device_name=cfg.get("device_name") or b.device_name(), progress=_progress)
    if _client is None:
        from ei import config
        _client = config.client(cfg)
    print("uploading %d rows of %s to %s (%s, label %r)" % (len(s), ", ".join(
        a[0] for a in s.sensors), _client.host, category, label))
    # a unique id in the stored name, as Edge Impulse's own daemon does: no overwrites
    name = _client.upload(s, category=category, label=label, fmt=fmt, add_date_id=True)
    print("stored as", name)
    return name
