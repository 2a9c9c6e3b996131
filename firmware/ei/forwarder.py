# Data forwarder mode: one line of readings per interval on the REPL's serial port, the
# protocol of Edge Impulse's edge-impulse-data-forwarder, so a board with no network still
# feeds Edge Impulse's own tools. The forwarder (115200 baud) splits each line on "," (or a
# tab), counts the lines of one second to find the rate and the values of a line to find the
# axes, and stops a sample at a line starting "ERR".
import sys

from ei.collector import board, sensor as board_sensor
from ei.errors import Msg
from ei.compat import ticks_us, const
from ei.deadlines import check_sensor, wait_until
# error texts (ei/messages.py)
_M_FORWARD_INTERVAL = const(188)
_M_DIGITS = const(189)
_M_READ_WIDTH = const(190)
_M_SENSOR_FAILED = const(191)


def forward(sensor=None, interval_ms=None, seconds=None, digits=4, out=None):
    """Print sensor.read() as one comma-separated line every interval_ms, at fixed deadlines
    as the sampler keeps them (a late line is printed at once, so the rate holds), for
    `seconds`, or until Ctrl-C when None. With no sensor or interval, the board's own
    (board.py and config.json). A sensor that fails prints an ERR line, which stops the
    forwarder's sample, and raises CaptureStopped. Returns the number of lines printed."""
    if sensor is None or interval_ms is None:
        b, cfg = board()
        if sensor is None:
            sensor = board_sensor()
        if interval_ms is None:
            interval_ms = cfg.get("interval_ms") or b.INTERVAL_MS
    width = len(check_sensor(sensor))
    if not (isinstance(interval_ms, (int, float)) and interval_ms > 0):
        raise ValueError(Msg(_M_FORWARD_INTERVAL, interval_ms))
    if not isinstance(digits, int) or not 0 <= digits <= 9:
        raise ValueError(Msg(_M_DIGITS, digits))
    rows = None if seconds is None else int(seconds * 1000 / interval_ms + 0.5)
    period = int(interval_ms * 1000 + 0.5)
    # The line's format is made once; each line then costs one string (the values' text).
    fmt = ",".join(["%%.%df" % digits] * width) + "\n"
    if out is None:
        out = sys.stdout
    write = out.write
    flush = getattr(out, "flush", None)  # CPython buffers a pipe; a board's stdout does not
    n = 0
    deadline = ticks_us()
    ahead = 0
    try:
        while rows is None or n < rows:
            deadline = wait_until(deadline, ahead)
            ahead = period  # any period: an hour is more than ticks_add takes at once
            try:
                row = sensor.read()
                if len(row) != width:
                    raise ValueError(Msg(_M_READ_WIDTH, len(row), width))
            except Exception as e:
                why = Msg(_M_SENSOR_FAILED, n, type(e).__name__, e)
                write("ERR: %s\n" % why)
                from ei.errors import CaptureStopped  # (ei/errors_rare.py: when raised)
                raise CaptureStopped(why, None, rows, e)
            write(fmt % (row if isinstance(row, tuple) else tuple(row)))
            if flush is not None:
                flush()
            n += 1
    except KeyboardInterrupt:  # Ctrl-C is how a forwarding session ends at the REPL
        pass
    return n
