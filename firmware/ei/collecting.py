# collect(): the REPL's one call (ei.collect), in a module of its own: ei.daemon() and
# ei.remote(), which use ei/collector.py's board and config, do not hold its code.
# Samples the board's sensor with progress on one line, then uploads the sample to the
# ingestion service and prints the stored name, or queues it on flash (queue=True, and
# always on a board with no network); with window_s, a recording (ei/recording.py) of the
# board's sensor. The board and its config are ei/collector.py's.
import sys

from ei.compat import const
from ei.errors import Msg

# error texts (ei/messages.py)
_M_LABEL_TEXT = const(171)
_M_SHORT_SECONDS = const(172)
_M_STOPPED_NONE = const(173)
_M_STOPPED_KEPT = const(174)
_M_STOPPED_QUEUED = const(175)
_M_QUEUING_FAILED = const(176)
_M_FLASH_FULL_NOTE = const(177)
_M_CAPTURE_STOPPED = const(178)
_M_WINDOWS_CBOR = const(179)
_M_WINDOW_S = const(180)

def collect(label=None, seconds=2, category="training", interval_ms=None, fmt="cbor",
            queue=None, window_s=None):
    """Sample `seconds` of the board's sensor and upload it to `category` with `label`;
    returns the stored name. queue=True (the default on a board with no network, or with
    "queue": true in config.json) puts it in the offline queue instead and returns the
    entry's name. Rows go to a capture file on flash as they are read (config
    "capture_path", default capture.eic), so a capture that stops keeps them: it raises
    CaptureStopped, with the rows read queued when queuing, and never uploaded.
    window_s: a recording instead (_record); no label: the config's one."""
    from ei import collector, wire
    wire.check_category(category)  # mistakes show before the capture, not after it
    b, cfg = collector.board()
    if label is None and "record_label" in cfg:
        label, seconds = cfg["record_label"], None
        if window_s is None:
            window_s = cfg.get("record_window_ms", 2000) / 1000
    if not isinstance(label, str) or not label:
        raise ValueError(Msg(_M_LABEL_TEXT, label))
    if queue is None:
        queue = cfg.get("queue", getattr(b, "NETWORK", None) is None)
    interval = interval_ms or cfg.get("interval_ms") or b.INTERVAL_MS
    src = collector.sensor()
    if getattr(src, "fifo", False):
        interval = 1000 / src.rate_hz  # the FIFO's rows come at the chip's own rate
    if window_s is not None:  # without a break: loaded only then (ei/recording.py)
        return _record(label, seconds, window_s, category, interval, fmt, queue)
    rows = int(seconds * 1000 / interval + 0.5)
    if rows < 1:
        raise ValueError(Msg(_M_SHORT_SECONDS, seconds, interval))
    if not queue:
        collector.network()  # before sampling: a network that cannot come up costs no capture
    path = collector.file_path(cfg, "capture_path", "capture.eic")
    _remove(path)  # what is read back after a failure is this capture's, never an older one
    from ei.sampler import sample
    try:
        s = sample(src, interval, rows, device_type=b.DEVICE_TYPE,
                   device_name=cfg.get("device_name") or b.device_name(), progress=_progress,
                   path=path)
    except Exception as e:  # not KeyboardInterrupt: Ctrl-C just stops
        raise _stopped(e, path, rows, queue, category, label)
    if queue:
        entry = collector.offline_queue().put(s, category, label=label)
        print("queued as", entry)
        return entry
    c = collector.client()
    print("uploading %d rows of %s to %s (%s, label %r)" % (len(s), ", ".join(
        a[0] for a in s.sensors), c.host, category, label))
    # a unique id in the stored name, as Edge Impulse's own daemon does: no overwrites
    name = c.upload(s, category=category, label=label, fmt=fmt, add_date_id=True)
    print("stored as", name)
    return name


def _progress(i, n):
    if i == n or i % 25 == 0:
        sys.stdout.write("\rsampling %d/%d rows" % (i, n))
        if i == n:
            sys.stdout.write("\n")


def _stopped(e, path, rows, queue, category, label):
    """The CaptureStopped for error e, after queuing what the capture file kept."""
    from ei import collector
    from ei.acquisition import Sample
    from ei.capture import CaptureError
    sys.stdout.write("\n")
    try:
        kept = Sample.from_capture(path, partial=True)
    except CaptureError:  # no whole row was written, or the file could not be made
        kept = None
    if kept is None:
        where = Msg(_M_STOPPED_NONE)
    else:
        where = Msg(_M_STOPPED_KEPT, len(kept), path)
        if queue:
            try:
                entry = collector.offline_queue().put(kept, category, label=label)
                where = Msg(_M_STOPPED_QUEUED, len(kept), entry)
            except Exception as qe:  # QueueFull, flash full: they stay in the capture file
                full = isinstance(qe, OSError) and qe.args and qe.args[0] == 28
                where = Msg(_M_QUEUING_FAILED, where, type(qe).__name__, qe,
                            Msg(_M_FLASH_FULL_NOTE) if full else "")
    from ei.errors import CaptureStopped  # (ei/errors_rare.py: loaded when raised)
    return CaptureStopped(Msg(_M_CAPTURE_STOPPED, len(kept) if kept else 0, rows,
                              type(e).__name__, e, where), kept, rows, e)


def _remove(path):
    import os
    try:
        os.remove(path)
    except OSError:
        pass


def _record(label, seconds, window_s, category, interval, fmt, queue):
    """ei.collect(label, seconds, window_s=...): the board's sensor recorded
    without a break, `seconds` (None: until Ctrl-C) cut into windows of window_s, each
    uploaded while the next is read, or queued in the board's queue when the network fails
    (always with queue=True); returns the Recording. ei.collect() with no label records the
    config's "record_label" in windows of "record_window_ms" (2000), until Ctrl-C: main.py
    does it at boot."""
    from ei import collector
    from ei.recording import record
    if fmt != "cbor":
        raise ValueError(Msg(_M_WINDOWS_CBOR, fmt))
    if not isinstance(window_s, (int, float)) or not window_s > 0:
        raise ValueError(Msg(_M_WINDOW_S, window_s))
    windows = None
    if seconds is not None:
        windows = max(1, int(seconds / window_s + 0.5))
    if not queue:
        collector.network()  # before reading: a network that cannot come up costs no window
    b, cfg = collector.board()

    def progress(n, outcome):
        print("window %d: %s" % (n, outcome))

    rec = record(collector.sensor(), interval, window_s * 1000, label=label, windows=windows,
                 category=category, client=None if queue else collector.client(),
                 queue=collector.offline_queue(), progress=progress,
                 device_type=b.DEVICE_TYPE,
                 device_name=cfg.get("device_name") or b.device_name())
    print(rec)
    return rec
