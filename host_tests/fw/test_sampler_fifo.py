# Sampling from a chip's FIFO: a driver opened with fifo=True is drained in bursts, and the
# rows come at the chip's output data rate, spaced by its clock, not by read() deadlines.
from fake_i2c import FakeI2C, FakeLIS3DH
from fwtest import raises

import ei
from ei.compat import ticks_us, ticks_diff
from ei.sensors import FifoOverrun
from ei.sensors.lis3dh import LIS3DH
from ei.sim import G

MP_HEAPSIZE = "512k"  # the fake chip's FIFO is a Python list


class ClockedBus(FakeI2C):
    """A bus whose chip converts in real time: before each transaction, the output data rate
    periods that passed since the last one are ticked into the fake chip. `most` is the most
    periods ticked at once: the longest the host left the chip alone."""

    def __init__(self, dev):
        super().__init__(dev, log=False)
        self.dev = dev
        self.t0 = ticks_us()
        self.done = 0
        self.reads = 0
        self.most = 0

    def _catch_up(self):
        rate = getattr(self, "rate_hz", None)
        if rate:
            due = ticks_diff(ticks_us(), self.t0) * rate // 1000000
            if due > self.done:
                self.most = max(self.most, due - self.done)
                self.dev.tick(due - self.done)
                self.done = due

    def readfrom_mem_into(self, addr, memaddr, buf, *, addrsize=8):
        self._catch_up()
        self.reads += 1
        super().readfrom_mem_into(addr, memaddr, buf, addrsize=addrsize)


def fifo_sensor(rate_hz=400):
    dev = FakeLIS3DH()
    dev.set_acceleration(0, 0, G)
    bus = ClockedBus(dev)
    d = LIS3DH(bus, rate_hz=rate_hz, fifo=True)
    bus.rate_hz = d.rate_hz
    bus.t0 = ticks_us()
    return d, bus


def sample_kept_up(interval_ms, rows, **kw):
    """ei.sample of a new 400 Hz FIFO sensor; (sample, bus). A loaded test machine may hold
    this process back longer than the FIFO's 32 rows (80 ms): the chip then overruns, as it
    would under a board that stopped reading. Such an overrun is checked to be one (the host
    left the chip alone for over 16 rows at once, where ei reads every 8 rows' time) and the
    sample taken again; an overrun without it, or three in a row, fails."""
    for attempt in range(3):
        d, bus = fifo_sensor(400)
        try:
            return ei.sample(d, interval_ms, rows, device_type="TEST", **kw), bus
        except FifoOverrun as e:
            assert bus.most > 16, (bus.most, e)  # the process was held back, not ei late
            if attempt == 2:
                raise


def test_a_fifo_sensor_is_drained_in_bursts_at_the_chips_rate():
    s, bus = sample_kept_up(None, 200)
    assert len(s) == 200 and s.interval_ms == 2.5  # 400 Hz, the chip's clock
    rows = [list(r) for r in s.iter_rows()]
    assert all(abs(r[2] - G) < 0.1 and abs(r[0]) < 0.1 for r in rows)
    # a burst brings many rows: under half a bus read a row, where polling makes one a row
    assert bus.reads < len(s) // 2


def test_a_fifo_sample_refuses_an_interval_the_chip_does_not_keep():
    d, bus = fifo_sensor(400)
    e = raises(ValueError, ei.sample, d, 10, 20, device_type="TEST")
    assert "400" in str(e) and "interval_ms=10" in str(e)


def test_a_fifo_sample_goes_to_a_capture_file_too():
    import os
    path = "/tmp/ei-fifo-capture-%d.eic" % ticks_us()
    try:
        s, bus = sample_kept_up(2.5, 100, path=path)
        assert len(s) == 100 and s.interval_ms == 2.5
        assert len(list(s.iter_rows())) == 100
    finally:
        os.remove(path)


def test_a_fifo_sample_starts_empty_whatever_the_chip_queued_before():
    # opened at boot and left alone, a chip's FIFO overruns; the sample is not made of it
    d, bus = fifo_sensor(400)
    dev = bus.dev
    dev.set_acceleration(5.0, 0, G)
    dev.tick(40)  # 32 rows hold: the oldest were overwritten while nobody read
    dev.set_acceleration(-2.0, 0, G)
    bus.t0, bus.done = ticks_us(), 0
    s = ei.sample(d, None, 40, device_type="TEST")
    rows = [list(r) for r in s.iter_rows()]
    assert len(rows) == 40 and all(abs(r[0] + 2.0) < 0.1 for r in rows), rows[:3]
