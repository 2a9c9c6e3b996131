# Sample: one sample in Edge Impulse's data acquisition format (device, interval_ms,
# sensors and values), checked as it is built so that a bad one is refused before upload.
from ei.compat import const
from ei.errors import Msg

# error texts (ei/messages.py)
_M_NOT_NUMBER = const(42)
_M_NOT_FINITE = const(43)
_M_VALUE_NOT_NUMBER = const(44)
_M_VALUE_NOT_FINITE = const(45)
_M_NO_APPEND = const(55)
_M_NOT_ROW = const(56)
_M_ROW_WIDTH = const(57)
_M_READ = const(58)
_M_DESCRIPTION_WHY = const(87)  # ei/capture.py's text: a capture's description

_INF = float("inf")
_NINF = -_INF  # made once: -_INF in check_number would make a float a value
_NUMBERS = (int, float)  # built once: a tuple literal in isinstance() allocates per call


def check_number(v, where, j=-1):
    """Return v as a float, or raise naming where the bad value is: `where`, or with j >= 0
    value j of row `where` (the text is only made on failure: this runs once a value)."""
    if isinstance(v, bool) or not isinstance(v, _NUMBERS):
        if j < 0:
            raise TypeError(Msg(_M_NOT_NUMBER, where, v))
        raise TypeError(Msg(_M_VALUE_NOT_NUMBER, where, j, v))
    f = float(v)  # (no float is made of a float: appending allocates nothing)
    if f == f and f != _INF and f != _NINF:
        return f
    if j < 0:
        raise ValueError(Msg(_M_NOT_FINITE, where, v))
    raise ValueError(Msg(_M_VALUE_NOT_FINITE, where, j, v))


class Sample:
    """A sample: `sensors` is a sequence of (name, units); each row has one number per sensor.

    values may be None (then `append` rows; rows=N makes room for N of them now, so that
    appending those allocates nothing), a list of rows (checked now), any iterable
    given with `rows=N` (consumed once, while it is encoded; checked row by row then), or a
    re-readable source: an object with `rows` and `iter_rows()`, such as a capture file
    (ei/capture.py; see Sample.from_capture).
    """

    def __init__(self, device_name=None, device_type="MICROPYTHON", interval_ms=None,
                 sensors=None, values=None, rows=None):
        # The checks of a new sample are ei/sample_check.py's, loaded by the first one (and
        # kept: a recording makes one a window); ei.Remote forgets them while it uploads.
        from ei.sample_check import init
        init(self, check_number, device_name, device_type, interval_ms, sensors, values, rows)

    def __len__(self):
        return self.rows

    def __repr__(self):
        return "<Sample %s %d rows x %d at %sms>" % (self.device_type, self.rows, self.width,
                                                     self.interval_ms)

    @staticmethod
    def from_capture(path, partial=False):
        """The Sample a capture file holds (written by ei.sample(..., path=...)); its values
        stream from the file each time they are read. A file that is not a capture, or one
        truncated or left unfinished, raises ei.capture.CaptureError naming the path and the
        problem; partial=True takes the whole rows of an unfinished one."""
        from ei.capture import CaptureError, read_capture  # when used: saves RAM at import
        src, name, kind, interval_ms, sensors = read_capture(path, partial)
        try:
            return Sample(device_name=name, device_type=kind, interval_ms=interval_ms,
                          sensors=sensors, values=src)
        except (ValueError, TypeError) as e:
            raise CaptureError(Msg(_M_DESCRIPTION_WHY, path, e))

    @property
    def reusable(self):
        """True when the values can be read more than once (a list, appended rows or a
        capture file)."""
        return not (self._values is not None and not isinstance(self._values, list))

    def cbor_rows(self, float32):
        """The rows' CBOR when they are stored already encoded with this float width, for
        the encoder to copy: a memoryview of appended rows (ei/rows.py), or a binary file at
        the first row (a capture file); otherwise None."""
        if self._source is None or not hasattr(self._source, "cbor_rows"):
            return None
        return self._source.cbor_rows(float32)

    def append(self, row):
        if self._values is not None or not hasattr(self._source, "append"):
            raise TypeError(Msg(_M_NO_APPEND))
        self._source.append(self.check_row(row, self.rows))  # into the room: no allocation
        self.rows += 1

    def check_row(self, row, index):
        """Return row if it holds `width` finite numbers; otherwise raise naming the row."""
        try:
            n = len(row)
        except TypeError:
            raise TypeError(Msg(_M_NOT_ROW, index, row))
        if n != self.width:
            raise ValueError(Msg(_M_ROW_WIDTH, index, n, self.width,
                                 ", ".join(s[0] for s in self.sensors)))
        for j in range(n):
            check_number(row[j], index, j)
        return row

    def row_list(self):
        """The rows when they were given as a list (checked then), for the encoder to read by
        index; otherwise None."""
        return self._values if isinstance(self._values, list) else None

    def iter_rows(self, check=True):
        """The rows in order, as an iterator. An iterable source is consumed once and
        checked as it is read; with check=False it is handed on as it is, to a reader that
        checks each row itself (the encoder's, for rows of three: one generator less)."""
        if isinstance(self._values, list):
            return iter(self._values)  # no generator of our own: a list is read at its speed
        if self._source is not None:
            return self._source.iter_rows()
        if self._consumed:
            raise ValueError(Msg(_M_READ))
        self._consumed = True
        if not check:
            return iter(self._values)
        from ei.rows import checked  # (the encoder checks rows of three in its own loop)
        return checked(self, self._values)
