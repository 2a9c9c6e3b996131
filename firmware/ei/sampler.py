# The sampler: reads a sensor at fixed deadlines (ticks_us/ticks_add/ticks_diff, which wrap)
# so that timing does not drift, and writes the interval it really kept. The deadlines and
# what was kept are ei/deadlines.py's, which the recording, the forwarder and remote
# management use without this module.
from ei.acquisition import Sample
from ei.compat import ticks_us, ticks_diff, sleep_us, const, forget, unloaded
from ei.errors import Msg
from ei.deadlines import Timing, check_sensor, fifo_interval, wait_until  # noqa: F401
# error texts (ei/messages.py)
_M_ROWS_AT_LEAST = const(181)
_M_BELOW_MICROSECOND = const(182)

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
    s, t = _read(sensor, interval_ms, rows, device_type, device_name, progress, path,
                 float32)
    if path is not None:
        s = Sample.from_capture(path)
    s.timing = t
    return s


def to_file(path, sensor, interval_ms, rows, device_type="MICROPYTHON", device_name=None,
            float32=None):
    """sample() into the capture file at path, not read back: the Timing. For a caller that
    reads the file in a later step (the daemon's sample, ei/at_sample.py): the capture
    reader's code then never shares the heap with the sampler's."""
    return _read(sensor, interval_ms, rows, device_type, device_name, None, path, float32,
                 True)[1]


def _read(sensor, interval_ms, rows, device_type, device_name, progress, path, float32,
          once=False):
    """(the Sample, its Timing): in RAM, the Sample holds the rows; to a file, it is their
    description only. once: no other Sample follows (to_file), so the Sample's checks
    (ei/sample_check.py), loaded for it, are forgotten once it is made."""
    axes = check_sensor(sensor)
    fifo = getattr(sensor, "fifo", False) and hasattr(sensor, "read_fifo")
    if fifo:
        interval_ms = fifo_interval(sensor, interval_ms)
    if not isinstance(rows, int) or rows < 1:
        raise ValueError(Msg(_M_ROWS_AT_LEAST, rows))
    # in RAM, the rows' room is made now: nothing allocates between two deadlines; to flash,
    # the Sample is the rows' description only (no rows of its own: ei/rows.py stays unloaded)
    new = unloaded("sample_check") if once else ()
    s = Sample(device_name=device_name, device_type=device_type, interval_ms=interval_ms,
               sensors=axes, rows=rows if path is None else 0,
               values=None if path is None else ())
    forget(*new)  # its room is the capture writer's (the daemon's sample at 40 KB, f32)
    period = int(s.interval_ms * 1000 + 0.5)
    if period < 1:
        raise ValueError(Msg(_M_BELOW_MICROSECOND, interval_ms))
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
    return s, t


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
