# The sampler's timing figures from the ticks at which each row was read: the same arithmetic
# on the unix port (mp_jobs.py) and on the emulated Pico (pico_jobs.py). MicroPython code.
from array import array

from ei.compat import ticks_diff, ticks_us

AXES = (("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2"))


class Clocked:
    """A sensor for ei.sample that notes in `times` when each of its n rows was read, then
    returns read() of the sensor it wraps."""
    axes = AXES

    def __init__(self, n, read):
        self.times = array("i", bytes(4 * n))  # made before the loop: the loop allocates none
        self.i = 0
        self._read = read

    def read(self):
        self.times[self.i] = ticks_us()
        self.i += 1
        return self._read()


def report(times, period, s):
    """"period_us=.. mean_err_us=.. p99_jitter_us=.. end_drift_us=.. late_rows=..
    interval_ms=..": mean period error, the 99th percentile of |period - interval|, and the
    end's offset from its fixed deadlines (the median of the last 21 rows, so that one read
    the system delayed is not taken for drift), for the Sample s read at `times` (µs)."""
    n = len(times)
    d = [ticks_diff(times[i + 1], times[i]) for i in range(n - 1)]
    err = sum(d) / len(d) - period
    jit = sorted(abs(x - period) for x in d)
    p99 = jit[min(len(jit) - 1, int(0.99 * len(jit)))]
    drift = sorted(ticks_diff(times[i], times[0]) - i * period for i in range(n - 21, n))[10]
    return ("period_us=%d mean_err_us=%.2f p99_jitter_us=%d end_drift_us=%d late_rows=%d "
            "interval_ms=%s" % (period, err, p99, drift, s.timing.late_rows, s.interval_ms))
