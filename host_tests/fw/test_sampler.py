# The sampler reads at fixed deadlines (no drift) and writes the interval it really kept;
# the simulated accelerometer is deterministic.
from clock import Clock, Sensor
from fwtest import raises

import ei
from ei.compat import ticks_us, ticks_diff, sleep_us
from ei.sim import Accelerometer, G

# On the emulated Pico ([rp2]): deadlines on the port's own clock, and the heap of its hot
# loop to RAM and to littlefs; the virtual-clock tests are arithmetic that f32 shows already.
RP2 = ("test_rows_are_read_at_fixed_deadlines_without_drift",
       "test_nothing_is_allocated_between_deadlines", "test_rows_hold_what_the_sensor_read")
ONLY = {
    "test_nothing_is_allocated_between_deadlines": (
        "micropython", "the heap is a board's (gc.mem_alloc, which CPython has not, and "
        "every tick CPython reads is a new int object)"),
}


class Clocked:
    """A sensor that notes when it was read, taking `cost_us` per read."""
    axes = (("t", "us"),)

    def __init__(self, cost_us=0):
        self.times = []
        self.cost_us = cost_us

    def read(self):
        self.times.append(ticks_us())
        if self.cost_us:
            sleep_us(self.cost_us)
        return (len(self.times),)


def test_rows_are_read_at_fixed_deadlines_without_drift():
    # A read that costs 3 ms of a 5 ms period: sleep(interval) after each read would put every
    # read 8 ms after the one before (60 ms late after 20 rows); at fixed deadlines most come
    # 5 ms after it. A loaded machine that holds the process back delays some reads, and the
    # next ones catch up (3 ms apart): it moves a few gaps, not the median one, which is the
    # measure.
    sensor = Clocked(cost_us=3000)
    s = ei.sample(sensor, 5, 21, device_type="TEST")
    late = [ticks_diff(t, sensor.times[0]) - 5000 * i for i, t in enumerate(sensor.times)]
    assert min(late) > -1000, late  # never early: the span is at least 20 periods
    gaps = sorted(ticks_diff(b, a) for a, b in zip(sensor.times, sensor.times[1:]))
    assert gaps[len(gaps) // 2] < 6500, gaps
    assert s.interval_ms == 5.0 and len(s) == 21


def test_a_sensor_slower_than_the_interval_writes_the_measured_interval():
    sensor = Clocked(cost_us=4000)
    s = ei.sample(sensor, 1, 10, device_type="TEST")
    assert s.interval_ms >= 3.5  # what was kept, not the 1 ms asked for
    assert s.timing.late_rows > 0


def test_a_capture_longer_than_half_the_ticks_period_keeps_its_interval():
    # 600 rows at 1 s: ten minutes, over 2**29 us (half a 32-bit board's ticks period), from a
    # clock one second before the ticks wrap; a virtual clock, so it takes a moment.
    with Clock(before_wrap_us=1000000) as clock:
        s = ei.sample(Sensor(clock), 1000, 600, device_type="TEST")
    assert clock.elapsed_us > 1 << 29 and clock.now < clock.elapsed_us  # it did, over the wrap
    assert s.interval_ms == 1000.0 and s.timing.late_rows == 0, s.interval_ms


def test_a_slower_sensor_over_the_ticks_wrap_gets_its_measured_interval():
    # 1.2 s a read at 1 s asked: 12 minutes across the wrap, and 1200 ms is written
    with Clock(before_wrap_us=1000000) as clock:
        s = ei.sample(Sensor(clock, cost_us=1200000), 1000, 600, device_type="TEST")
    assert abs(s.interval_ms - 1200) < 0.1, s.interval_ms
    assert s.timing.late_rows > 0


def test_one_late_last_read_does_not_change_the_interval_written():
    # the read before the last takes 30 ms more (a flash write, a busy bus): the last row
    # is 3 periods late, the sensor kept its 10 ms all along
    with Clock() as clock:
        s = ei.sample(Sensor(clock, stalls={18: 30000}), 10, 20, device_type="TEST")
    assert s.interval_ms == 10.0 and s.timing.late_rows == 1, (s.interval_ms, s.timing.late_rows)


def test_one_late_first_read_does_not_change_the_interval_written():
    # the first row is read 25 ms after the start, the next two catch up
    with Clock(jumps={1: 25000}) as clock:
        s = ei.sample(Sensor(clock), 10, 20, device_type="TEST")
    assert s.interval_ms == 10.0 and s.timing.late_rows == 2, (s.interval_ms, s.timing.late_rows)


def test_a_sensor_that_really_is_slower_gets_the_interval_it_kept_despite_late_reads():
    # 12 ms a read at 10 ms asked, with the first and the last row late as above: 12 ms
    # (and the 20 us the clock's two reads take a row) is written
    with Clock(jumps={1: 25000}) as clock:
        s = ei.sample(Sensor(clock, cost_us=12000, stalls={18: 30000}), 10, 20,
                      device_type="TEST")
    assert abs(s.interval_ms - 12.02) < 0.005, s.interval_ms


class HeapNoting:
    """Three axes, one row object; notes gc.mem_alloc() at the first and the last read."""
    axes = (("x", "g"), ("y", "g"), ("z", "g"))

    def __init__(self, rows):
        import gc
        self.mem_alloc = gc.mem_alloc
        self.rows = rows
        self.reads = 0
        self.first = self.last = 0  # set now: a new attribute later could grow the dict
        self.row = (0.5, -0.25, 1.0)

    def read(self):
        self.reads += 1
        if self.reads == 1:
            self.first = self.mem_alloc()
        elif self.reads == self.rows:
            self.last = self.mem_alloc()
        return self.row


def test_nothing_is_allocated_between_deadlines():
    # 100 rows at 1 ms with the GC off, to RAM and to a capture file (as ei.collect does):
    # the heap in use at the last read is what it was at the first (the rows' room, or the
    # file's block, is made before the loop)
    import gc
    import os
    from fwtest import tohex
    path = "/tmp/ei-sampler-heap-%s.eic" % tohex(os.urandom(4))
    try:
        for where in (None, path):
            sensor = HeapNoting(100)
            gc.collect()
            gc.disable()
            try:
                s = ei.sample(sensor, 1, 100, device_type="TEST", path=where)
            finally:
                gc.enable()
            grew = sensor.last - sensor.first
            assert len(s) == 100 and grew == 0, (where, grew)
    finally:
        try:
            os.remove(path)
        except OSError:  # the RAM half failed before the file was made
            pass


def test_rows_hold_what_the_sensor_read():
    s = ei.sample(Clocked(), 1, 4, device_type="TEST", device_name="dev-1")
    assert [list(r) for r in s.iter_rows()] == [[1.0], [2.0], [3.0], [4.0]]
    assert s.sensors == [("t", "us")] and s.device_name == "dev-1"


def test_to_file_writes_the_capture_and_returns_the_timing_without_reading_it_back():
    # the daemon's sampling step (ei/at_sample.py): the capture reader is not loaded (its
    # encoding step reads the file), and the file holds what ei.sample(path=) would write
    import os
    import sys
    from ei.sampler import to_file
    from fwtest import scratch
    path = scratch("to-file") + ".eic"
    sys.modules.pop("ei.capture", None)
    try:
        t = to_file(path, Clocked(), 1, 4, device_type="TEST", device_name="dev-1")
        assert "ei.capture" not in sys.modules  # (ei.Sample.from_capture would load it)
        assert t.period_us == 1000 and t.quarter == 1  # the Timing, as sample.timing
        s = ei.Sample.from_capture(path)
        assert [list(r) for r in s.iter_rows()] == [[1.0], [2.0], [3.0], [4.0]]
        assert s.device_type == "TEST" and s.device_name == "dev-1" and s.interval_ms >= 1
    finally:
        try:
            os.remove(path)
        except OSError:
            pass


def test_progress_is_reported_after_each_row():
    seen = []
    ei.sample(Clocked(), 1, 3, device_type="TEST", progress=lambda i, n: seen.append((i, n)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_objects_that_are_not_sensors_are_refused():
    e = raises(TypeError, ei.sample, object(), 10, 5)
    assert "axes" in str(e)
    raises(ValueError, ei.sample, Clocked(), 10, 0)


def test_simulated_accelerometer_is_deterministic_for_a_seed():
    a = Accelerometer("wave", seed=7)
    b = Accelerometer("wave", seed=7)
    c = Accelerometer("wave", seed=8)
    ra = [a.read() for _ in range(50)]
    assert ra == [b.read() for _ in range(50)]
    assert ra != [c.read() for _ in range(50)]


def test_simulated_accelerometer_at_rest_reads_gravity_on_z():
    a = Accelerometer("idle")
    for _ in range(100):
        x, y, z = a.read()
        assert abs(z - G) < 0.1 and abs(x) < 0.6 and abs(y) < 0.1
    assert Accelerometer.axes == (("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2"))


def test_simulated_motions_differ():
    def spread(m):
        a = Accelerometer(m)
        xs = [a.read()[0] for _ in range(100)]
        return max(xs) - min(xs)
    assert spread("wave") > 5 * spread("idle")
    raises(ValueError, Accelerometer, "dance")
