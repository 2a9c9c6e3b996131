# The checks of a new Sample (ei/acquisition.py): its device, interval_ms, sensors and values
# or room for rows, each refused naming the bad value. Run once a sample, not by its rows:
# ei.Remote forgets this module while a sample uploads (ei/remote_record.py), so its code is
# not in the heap then; the next sample loads it again.
from ei.compat import const
from ei.errors import Msg

# error texts (ei/messages.py)
_M_NOT_TEXT = const(46)
_M_NO_INTERVAL = const(47)
_M_INTERVAL = const(48)
_M_NO_SENSORS = const(49)
_M_SENSOR = const(50)
_M_LIST_ROWS = const(51)
_M_SOURCE_ROWS = const(52)
_M_NEEDS_ROWS = const(53)
_M_ROWS = const(54)


def check_text(v, what):
    if not isinstance(v, str) or not v:
        raise ValueError(Msg(_M_NOT_TEXT, what, v))
    return v


def init(s, check_number, device_name, device_type, interval_ms, sensors, values, rows):
    """Sample.__init__: check the arguments and set what they make of Sample s (check_number
    is ei.acquisition's, as its rows are checked)."""
    # Everything is checked before anything is set (in the order the texts name them), so
    # that appended rows' room is made right after the checks, before the sample's own
    # small objects: on a full heap, those took pieces of the one hole the rows fitted
    # (ei.Remote at 47 KB, f32 from .mpy)
    if device_name is not None:
        check_text(device_name, "device_name")
    check_text(device_type, "device_type")
    if interval_ms is None:
        raise ValueError(Msg(_M_NO_INTERVAL))
    interval = check_number(interval_ms, "interval_ms")
    if interval <= 0:
        raise ValueError(Msg(_M_INTERVAL, interval_ms))
    if not sensors:
        raise ValueError(Msg(_M_NO_SENSORS))
    checked = []
    for x in sensors:
        if not isinstance(x, (tuple, list)) or len(x) != 2:
            raise ValueError(Msg(_M_SENSOR, x))
        checked.append((check_text(x[0], "sensor name"), check_text(x[1], "sensor units")))
    width = len(checked)
    src = vals = None
    if isinstance(values, list):
        if rows is not None and rows != len(values):
            raise ValueError(Msg(_M_LIST_ROWS, rows, len(values)))
        s.width = width
        s.sensors = checked
        for i, row in enumerate(values):
            s.check_row(row, i)
        vals = values
        rows = len(values)
    elif hasattr(values, "iter_rows"):
        if rows is not None and rows != values.rows:
            raise ValueError(Msg(_M_SOURCE_ROWS, rows, values.rows))
        src = values
        rows = values.rows
    else:
        if values is not None and rows is None:
            raise ValueError(Msg(_M_NEEDS_ROWS))
        if rows is not None and (not isinstance(rows, int) or rows < 0):
            raise ValueError(Msg(_M_ROWS, rows))
        if values is None:
            from ei.rows import Rows  # loaded when rows are appended: saves RAM otherwise
            src = Rows(width, rows or 0)
            rows = 0
        else:
            vals = values
    s.device_name = device_name
    s.device_type = device_type
    s.interval_ms = interval
    s.sensors = checked
    s.width = width
    s._values = vals
    s._source = src
    s._consumed = False
    s.rows = rows
