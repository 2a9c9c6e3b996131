# Reading at fixed deadlines, what the sampler (ei/sampler.py), the recording, the data
# forwarder and remote management share: the sensor's check, the wait for a deadline (ticks
# wrap: every difference through ticks_diff), and the Timing of what was kept. Apart from
# sample() so that a recording or remote management does not load the sampler's code.
from ei.compat import ticks_us, ticks_add, ticks_diff, sleep_us, const
from ei.errors import Msg

_SPIN_US = const(1500)  # the last stretch before a deadline is spun, not slept: sleep overshoots
# The most a deadline is moved on at once: ticks_add refuses half the ticks' period (2**29 µs,
# 9 minutes, on a 32-bit board) and a deadline further ahead could not be told from one behind.
_STEP_US = const(1 << 28)
# error texts (ei/messages.py)
_M_NOT_SENSOR = const(183)
_M_FIFO_RATE = const(184)
_TOLERANCE = 0.01       # a mean period off by more than this fraction is written as measured


def check_sensor(sensor):
    axes = getattr(sensor, "axes", None)
    if not axes or not callable(getattr(sensor, "read", None)):
        raise TypeError(Msg(_M_NOT_SENSOR, sensor))
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


def fifo_interval(sensor, interval_ms):
    """The interval_ms of a sensor drained from its FIFO: the chip's (None takes it); one
    off by over 1% is a ValueError."""
    chip_ms = 1000 / sensor.rate_hz
    if interval_ms is None:
        return chip_ms
    if abs(interval_ms - chip_ms) > _TOLERANCE * chip_ms:
        raise ValueError(Msg(_M_FIFO_RATE, sensor.rate_hz, chip_ms, interval_ms))
    return interval_ms
