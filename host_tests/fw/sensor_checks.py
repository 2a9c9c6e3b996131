# Checks the four chips' tests share (test_sensors_<chip>.py), each against the register-level
# models in tools/chips/fake_i2c.py; the same code runs on CPython and the unix port. Not a
# test module.
from fwtest import EPSILON, raises

from fake_i2c import G, FakeI2C
from ei.sensors import SensorError, FifoOverrun


def on_bus(fake, driver, **kw):
    """A fake chip on a fake bus and the driver opened on it, its set-up left out of the log."""
    dev = fake()
    i2c = FakeI2C(dev)
    d = driver(i2c, **kw)
    i2c.log = []
    return i2c, dev, d


def near(got, want, tol):
    """got within tol of want, and of the rounding of the driver's and this test's arithmetic
    (a few steps of the runtime's floats: float32 on most boards)."""
    tol += 4 * EPSILON * abs(want)
    assert abs(got - want) <= tol, "%r is not within %r of %r" % (got, tol, want)


# --- checks the chip tests share ------------------------------------------------------------

def check_identity(fake, driver, wrong_id):
    """Right chip: opens. Wrong id: SensorError naming address, chip and id. Nothing there:
    SensorError naming the address (and an OSError, like the bus error it replaces)."""
    dev = fake()
    d = driver(FakeI2C(dev))
    assert d.address == dev.address and d.chip
    e = raises(SensorError, driver, FakeI2C(fake(who_am_i=wrong_id)))
    msg = str(e)
    assert "0x%02x" % dev.address in msg and driver.__name__ in msg, msg
    assert "0x%02x" % wrong_id in msg, msg
    assert e.address == dev.address and e.found == wrong_id and e.chip == driver.__name__
    e = raises(SensorError, driver, FakeI2C())
    msg = str(e)
    assert "0x%02x" % dev.address in msg and driver.__name__ in msg, msg
    assert isinstance(e, OSError) and e.found is None
    # Elsewhere on the bus is still nothing at the driver's address.
    other = fake(address=dev.address + 1)
    e = raises(SensorError, driver, FakeI2C(other))
    assert "0x%02x" % dev.address in str(e)
    assert driver(FakeI2C(other), address=other.address).address == other.address


def check_one_g_per_range(fake, driver, lsb_g):
    """1 g on each axis in turn reads 9.80665 m/s2 within one count, at every range;
    lsb_g(range_g) is the datasheet's g per count."""
    for r in (2, 4, 8, 16):
        i2c, dev, d = on_bus(fake, driver, range_g=r)
        assert d.range_g == r
        lsb = lsb_g(r) * G
        for axis in range(3):
            a = [0.0, 0.0, 0.0]
            a[axis] = G
            dev.set_acceleration(*a)
            v = d.read()
            for i in range(3):
                near(v[i], a[i], lsb)
        for a in ((0.5, -0.25, 3.0), (-G, -3.3, 12.0), (-19.6, 19.6, -0.01)):
            dev.set_acceleration(*a)
            v = d.read()
            for i in range(3):
                near(v[i], a[i], lsb)


def check_saturation(fake, driver, range_g, top, bottom):
    """Beyond full scale the reading stops at the largest count (top, bottom in m/s2)."""
    i2c, dev, d = on_bus(fake, driver, range_g=range_g)
    dev.set_acceleration(10 * range_g * G, -10 * range_g * G, 0.0)
    x, y, z = d.read()
    near(x, top, 1e-9)
    near(y, bottom, 1e-9)
    near(z, 0.0, 1e-9)


def check_read_is_one_burst(fake, driver, reg):
    """read() is one 6-byte transaction from the first output register, nothing else."""
    i2c, dev, d = on_bus(fake, driver)
    for _ in range(3):
        d.read()
    assert i2c.log == [("read", dev.address, reg, 6)] * 3, i2c.log


def fifo_rows(dev, n, start=0):
    """Queue n rows in the fake's FIFO, row i being (i/2, -i/4, G - i/8) m/s2."""
    rows = []
    for i in range(start, start + n):
        a = (i * 0.5, -i * 0.25, G - i * 0.125)
        dev.set_acceleration(*a)
        dev.tick()
        rows.append(a)
    return rows


def check_fifo_in_order(fake, driver, n, tol):
    """read_fifo() returns the queued rows oldest first, then nothing; max_rows leaves the
    rest queued for the next call."""
    i2c, dev, d = on_bus(fake, driver, fifo=True)
    assert d.read_fifo() == []
    want = fifo_rows(dev, n)
    got = d.read_fifo(max_rows=3)
    got += d.read_fifo()
    assert len(got) == n, (len(got), n)
    for g, w in zip(got, want):
        for i in range(3):
            near(g[i], w[i], tol)
    assert d.read_fifo() == []
    want = fifo_rows(dev, 2, start=n)
    got = d.read_fifo()
    assert len(got) == 2
    near(got[1][0], want[1][0], tol)
    assert d.read_fifo(max_rows=0) == []


def check_fifo_overrun(fake, driver, depth):
    """A FIFO left to overfill raises FifoOverrun naming chip and address, and restarts
    empty, so the next rows read are the new ones."""
    i2c, dev, d = on_bus(fake, driver, fifo=True)
    dev.tick(depth + 1)
    e = raises(FifoOverrun, d.read_fifo)
    assert isinstance(e, SensorError) and e.address == dev.address
    assert "0x%02x" % dev.address in str(e) and "overran" in str(e), str(e)
    assert d.read_fifo() == []
    want = fifo_rows(dev, 3, start=7)
    got = d.read_fifo()
    assert len(got) == 3
    near(got[0][0], want[0][0], 0.1)


def check_fifo_needs_fifo_true(fake, driver):
    i2c, dev, d = on_bus(fake, driver)
    e = raises(SensorError, d.read_fifo)
    assert "fifo=True" in str(e)
    i2c, dev, d = on_bus(fake, driver, fifo=True)
    raises(ValueError, d.read_fifo, -1)


def check_rates(fake, driver, cases, too_fast):
    """cases: (rate asked, rate the chip runs at, {register: value written}); too_fast is
    beyond the chip and a ValueError naming it."""
    for asked, runs, regs in cases:
        i2c, dev, d = on_bus(fake, driver, rate_hz=asked)
        near(d.rate_hz, runs, 0.01)
        for reg, value in regs.items():
            assert dev.regs[reg] == value, (asked, hex(reg), hex(dev.regs[reg]), hex(value))
    e = raises(ValueError, driver, FakeI2C(fake()), rate_hz=too_fast)
    assert "rate_hz" in str(e) and driver.__name__ in str(e), str(e)
    raises(ValueError, driver, FakeI2C(fake()), rate_hz=0)


def check_ranges(fake, driver, reg, values):
    """values[i] is what `reg` holds for range_g (2, 4, 8, 16)[i]; other ranges are refused
    with the ones the chip has."""
    for r, value in zip((2, 4, 8, 16), values):
        i2c, dev, d = on_bus(fake, driver, range_g=r)
        assert dev.regs[reg] == value, (r, hex(dev.regs[reg]), hex(value))
    e = raises(ValueError, driver, FakeI2C(fake()), range_g=3)
    assert "range_g" in str(e) and "16" in str(e), str(e)


# --- open(), errors, the fake bus -----------------------------------------------------------
