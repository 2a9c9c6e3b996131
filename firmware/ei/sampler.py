# The sampler: reads a sensor at fixed deadlines (ticks_us/ticks_add/ticks_diff, which wrap)
# so that timing does not drift, and writes the interval it really kept.
from ei.acquisition import Sample
from ei.compat import ticks_us, ticks_add, ticks_diff, sleep_ms, sleep_us, const

_SPIN_US = const(1500)  # the last stretch before a deadline is spun, not slept: sleep overshoots
# The most a deadline is moved on at once: ticks_add refuses half the ticks' period (2**29 µs,
# 9 minutes, on a 32-bit board) and a deadline further ahead could not be told from one behind.
_STEP_US = const(1 << 28)
_TOLERANCE = 0.01       # a mean period off by more than this fraction is written as measured


def check_sensor(sensor):
    axes = getattr(sensor, "axes", None)
    if not axes or not callable(getattr(sensor, "read", None)):
        raise TypeError("a sensor needs `axes` ((name, units) per axis) and read(); got %r"
                        % (sensor,))
    return axes


def wait_until(deadline, ahead=0):
    """Wait until `ahead` µs after the ticks_us `deadline`; return that instant in ticks.
    `ahead` may be any length (a reading an hour): it is added to the deadline a step at a
    time, each once the deadline has come within a step, so that it always compares with
    now. A period of usual length takes one step; nothing is allocated for it."""
    d = ticks_diff(deadline, ticks_us())
    while True:
        if ahead and d < _STEP_US:
            step = ahead if ahead < _STEP_US else _STEP_US
            deadline = ticks_add(deadline, step)
            ahead -= step
            d += step
            continue
        if d <= 0:
            return deadline
        if d > _SPIN_US:
            sleep_us(d - _SPIN_US)
        d = ticks_diff(deadline, ticks_us())


class Timing:
    """What the sampler measured (µs against the fixed deadlines): the least late read of the
    capture's first quarter and of its last quarter, the worst lateness, and how many rows
    were a period or more late."""

    def __init__(self, period_us, rows):
        self.period_us = period_us
        self.quarter = max(1, rows // 4)
        self.last_from = rows - self.quarter
        self.head_row = self.tail_row = None  # row numbers of those two reads
        self.head_late_us = self.tail_late_us = 0
        self.max_late_us = 0
        self.late_rows = 0

    def interval_ms(self, asked):
        """The interval_ms to write: the one asked for, or the period kept (period_ms) when
        that is off by more than 1%."""
        kept = self.period_ms()
        if kept is not None and abs(kept - asked) > _TOLERANCE * asked:
            return kept
        return asked

    def note(self, i, late):
        """Row i was read `late` µs after its deadline."""
        if late > self.max_late_us:
            self.max_late_us = late
        if late >= self.period_us:
            self.late_rows += 1
        # the least late read of each end: ints compared, nothing allocated
        if i < self.quarter and (self.head_row is None or late < self.head_late_us):
            self.head_row = i
            self.head_late_us = late
        if i >= self.last_from and (self.tail_row is None or late <= self.tail_late_us):
            self.tail_row = i
            self.tail_late_us = late

    def period_ms(self):
        """The period kept: the slope between those two reads, or None under two rows.

        Reads are never early, only late, so the least late of many is the one nearest the
        sensor's own pace: one late read, first or last, is passed over (first and last
        reads alone would rewrite interval_ms for it), while a sensor that really is slower
        falls further behind with each row and its slope is what it kept. Worked out from
        lateness against the deadlines (start + i * period), never from the ticks of two
        reads: their difference wraps after 2**29 µs (9 minutes on a 32-bit board). Each
        lateness is a small int, good while no read is 2**29 µs behind its deadline."""
        if self.tail_row is None or self.head_row is None or self.tail_row <= self.head_row:
            return None
        return (self.period_us + (self.tail_late_us - self.head_late_us)
                / (self.tail_row - self.head_row)) / 1000


def sample(sensor, interval_ms, rows, device_type="MICROPYTHON", device_name=None,
           progress=None, path=None, float32=None):
    """Read `rows` rows from `sensor`, one every `interval_ms`, into a Sample.

    Deadlines are fixed from the start (start + i * interval), not `sleep(interval)` after
    each read, so the time a read takes never accumulates. If the sensor could not keep up
    (mean period off by over 1%), the measured interval_ms is written, not the asked one,
    and sample.timing says by how much. progress(i, rows) is called after each row.

    With `path`, rows go to that capture file on flash as they are read (ei/capture.py;
    float32=None keeps the board's float size), not to RAM, and the Sample returned reads
    them from there. A row is packed into a preallocated block and a block is written when
    full, so the time a write takes is caught up by the next deadlines, not accumulated.

    A sensor opened with fifo=True (ei.sensors drivers) is drained in bursts instead: the
    chip's own clock spaces the rows at its output data rate, for rates above what polling
    holds; interval_ms must then be the chip's (1000 / sensor.rate_hz)."""
    axes = check_sensor(sensor)
    fifo = getattr(sensor, "fifo", False) and hasattr(sensor, "read_fifo")
    if fifo:
        interval_ms = fifo_interval(sensor, interval_ms)
    if not isinstance(rows, int) or rows < 1:
        raise ValueError("rows must be a whole number >= 1, not %r" % (rows,))
    # in RAM, the rows' room is made now: nothing allocates between two deadlines
    s = Sample(device_name=device_name, device_type=device_type, interval_ms=interval_ms,
               sensors=axes, rows=rows if path is None else None)
    period = int(s.interval_ms * 1000 + 0.5)
    if period < 1:
        raise ValueError("interval_ms=%r is below a microsecond" % (interval_ms,))
    w = None
    if path is not None:
        from ei.capture_writer import Writer  # imported when used: saves RAM
        w = Writer(path, s, float32, commit=not fifo)  # FIFO rows: see Writer
    add = s.append if w is None else w.append
    t = Timing(period, rows)
    try:
        if fifo:
            _drain(sensor, rows, add, progress)
        else:
            _poll(sensor, rows, add, period, progress, t)
            s.interval_ms = t.interval_ms(s.interval_ms)
        if w is not None:
            w.finish(s.interval_ms)
    finally:
        if w is not None:
            w.close()  # after an error the file stays unfinished, and reading it says so
    if w is not None:
        s = Sample.from_capture(path)
    s.timing = t
    return s


def fifo_interval(sensor, interval_ms):
    """The interval_ms of a sensor drained from its FIFO: the chip's (None takes it); one
    off by over 1% is a ValueError."""
    chip_ms = 1000 / sensor.rate_hz
    if interval_ms is None:
        return chip_ms
    if abs(interval_ms - chip_ms) > _TOLERANCE * chip_ms:
        raise ValueError("the FIFO delivers rows at the chip's rate, %s Hz (interval_ms=%s), "
                         "not interval_ms=%s" % (sensor.rate_hz, chip_ms, interval_ms))
    return interval_ms


def _poll(sensor, rows, add, period, progress, t):
    """read() at fixed deadlines, noting in t when each row was read and how late."""
    deadline = ticks_us()
    ahead = 0
    for i in range(rows):
        deadline = wait_until(deadline, ahead)
        ahead = period  # the next deadline: any period, of minutes or hours
        now = ticks_us()
        t.note(i, ticks_diff(now, deadline))
        add(sensor.read())
        if progress is not None:
            progress(i + 1, rows)


def _drain(sensor, rows, add, progress):
    """Read `rows` rows from the sensor's FIFO in bursts, one every 8 rows' time: a quarter
    of the smallest FIFO here (32 rows), so a late wake-up still finds room. A burst that
    took that long already (a flash erase while its rows were written: 45 ms on a Pico) is
    followed by the next at once, not by another nap. An overrun raises the driver's error. The FIFO is restarted first (where the sensor can):
    what it queued before the sample, an overrun after an idle minute included, is not the
    sample's."""
    restart = getattr(sensor, "restart_fifo", None)
    if restart is not None:
        restart()
    nap_us = max(1000, int(8000000 / sensor.rate_hz))
    n = 0
    while n < rows:
        t0 = ticks_us()
        for row in sensor.read_fifo(rows - n):
            add(row)
            n += 1
            if progress is not None:
                progress(n, rows)
        if n < rows:
            left = nap_us - ticks_diff(ticks_us(), t0)
            if left > 0:
                sleep_us(left)
