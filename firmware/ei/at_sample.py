# The daemon's sample (ei.daemon(), ei/at_server.py; protocol notes 2.4), loaded for its
# command: AT+SAMPLESTART samples the sensor into the capture file on flash as the rows are
# read, then encodes it into a signed CBOR file in the board's float size, in pieces (no
# sample is ever whole in RAM), named after its label only once whole (a reset mid-write
# leaves none), for the daemon to read back (ei/at_files.py), upload itself and unlink;
# unless the board's own Wi-Fi and remote management are up: then the board uploads it
# itself. The sampling is this module's; the encoding, the command's next step, is
# ei/at_encode.py's: the sampler and the encoder take the heap in turn, not together.
from ei import collector
from ei.at_common import (LABEL, LENGTH_MS, Refused, board_call, check_label, fastest, remove,
                          sample_folder, shown)
from ei.compat import FLOAT32, const, sleep_ms
from ei.errors import Msg

_SLACK = const(4096)      # flash kept free beyond a sample's two files (littlefs' own blocks)
# error texts (ei/messages.py)
_M_AT_UNKNOWN_SENSOR = const(157)
_M_SHORT_LENGTH = const(158)
_M_NO_FLASH = const(159)
# the sample file being written, beside the samples: renamed to the label's name once whole
# (atomic on littlefs), so that a reset mid-write leaves no sample under that name, only this,
# which AT+READFILE cannot reach (a leading dot) and the next sample replaces
_PART = ".part"


def samplestart(d, args):
    b, cfg = collector.board(True)
    name = cfg.get("sensor_name", "Accelerometer")
    if args is not None and args[0].strip() and args[0].strip() != name:
        raise Refused(Msg(_M_AT_UNKNOWN_SENSOR, shown(args[0].strip()), shown(name)))
    label = check_label(cfg.get("sample_label", LABEL))
    length = cfg.get("sample_length_ms", LENGTH_MS)
    src = collector.sensor()
    interval = cfg.get("sample_interval_ms") or fastest()
    if getattr(src, "fifo", False):
        interval = 1000 / src.rate_hz  # the FIFO's rows come at the chip's own rate
    rows = int(length / interval + 0.5)
    if rows < 1:
        raise Refused(Msg(_M_SHORT_LENGTH))
    where = sample_folder()
    part = where + "/" + _PART
    remove(part)  # what a reset mid-write left: its flash is this sample's
    _room(rows * len(src.axes) * (5 if FLOAT32 else 9) * 2)  # the capture, then the file
    _mkdir(where)
    file = where + "/" + label
    L = d.line
    L("Sampling settings:")
    L("\tInterval: %.5f ms." % interval)
    L("\tLength: %d ms." % length)
    L("\tName: " + label)
    L("\tFile name: " + file)
    L("Samples req: %d" % rows)
    L("Starting in %d ms..." % d.start_delay_ms)
    d.flush()
    sleep_ms(d.start_delay_ms)
    L("Sampling...")
    d.flush()
    capture = collector.file_path(cfg, "capture_path", "capture.eic")
    remove(file)  # a failure below leaves no older sample under this name
    try:
        n = _sample(src, interval, rows, b, cfg, capture)
    except BaseException:
        remove(capture)
        raise
    L("Done sampling, total samples collected: %d" % n)
    L("Processing...")
    d.flush()
    # the command's next step (ei/at_server.py): the encoding, in ei/at_encode.py, loaded once
    # this module and the sampler have left the heap
    return "encode", "encode", (capture, part, file)


# In a function of its own: what it made is gone from the stack once it returns (the
# heap's collector takes what any stack slot still points to), and with it its modules.

def _sample(src, interval, rows, b, cfg, capture):
    """Sample into the capture file (not read back: the encoding step reads it); the rows
    read, every one asked for (or an error)."""
    from ei.sampler import to_file
    to_file(capture, src, interval, rows, device_type=b.DEVICE_TYPE, device_name=cfg.get(
        "device_name") or board_call(b, "device_name"))
    return rows


def _room(need):
    """Refused when the flash has not `need` bytes free (and some to spare)."""
    import os
    try:
        st = os.statvfs(collector.home or ".")
    except (OSError, AttributeError):
        return  # a filesystem that cannot say: the write will
    free = st[1] * st[4]  # f_frsize * f_bavail
    if need + _SLACK > free:
        raise Refused(Msg(_M_NO_FLASH, (need + _SLACK) // 1024, free // 1024))


def _mkdir(path):
    import os
    try:
        os.mkdir(path)
    except OSError:
        pass  # it is there already
