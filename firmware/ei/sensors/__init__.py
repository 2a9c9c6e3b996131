# Accelerometers over machine.I2C: open(i2c, "lis3dh") picks a driver by chip name. Each
# driver is one module named after its chip, imported only when asked for (saves RAM).
# Every driver is a sensor as ei.sampler wants one: `axes` and read() -> (x, y, z) in m/s2.

G = 9.80665  # standard gravity, m/s2 per g
AXES = (("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2"))

# Chip names for open(); more than one name may lead to the same driver.
_ALIASES = {"lsm6dso": "lsm6dsox", "lsm6ds3": "lsm6dsox", "lsm6ds3trc": "lsm6dsox",
            "lsm6ds3tr-c": "lsm6dsox", "lsm6dsl": "lsm6dsox"}
CHIPS = ("mpu6050", "lis3dh", "adxl345", "lsm6dsox")


class SensorError(OSError):
    """The sensor is missing, is not the chip expected, or reported a fault. `address` is its
    I2C address, `chip` the chip expected, `found` the WHO_AM_I read (None if none was)."""

    def __init__(self, message, address=None, chip=None, found=None):
        super().__init__(message)
        self.address = address
        self.chip = chip
        self.found = found


class FifoOverrun(SensorError):
    """The chip's FIFO filled before read_fifo() drained it, so rows were (or at the next
    output data rate tick would be) lost. The FIFO has been restarted empty; the rows read
    so far no longer join up in time with the ones after, so start the sample again."""


def driver(name):
    """The driver class for a chip name (case-insensitive), imported on first use."""
    key = name.lower() if isinstance(name, str) else name
    key = _ALIASES.get(key, key)
    # Forward to the chip's own module: only the driver a board uses is ever loaded.
    if key == "mpu6050":
        from ei.sensors.mpu6050 import MPU6050 as cls
    elif key == "lis3dh":
        from ei.sensors.lis3dh import LIS3DH as cls
    elif key == "adxl345":
        from ei.sensors.adxl345 import ADXL345 as cls
    elif key == "lsm6dsox":
        from ei.sensors.lsm6dsox import LSM6DSOX as cls
    else:
        raise ValueError("unknown sensor %r; known: %s" % (
            name, ", ".join(CHIPS + tuple(sorted(_ALIASES)))))
    return cls


def open(i2c, name, **kw):
    """Open the chip called `name` ("mpu6050", "lis3dh", "adxl345", "lsm6dsox" or an alias)
    on the bus `i2c`; keyword arguments (address, range_g, rate_hz, fifo) go to its driver."""
    return driver(name)(i2c, **kw)


def on_board(cfg, sensor, i2c_id, sda, scl, freq, interval_ms):
    """The accelerometer on a board's I2C pins: board.py gives the defaults; config.json's
    sensor, i2c_id, sda, scl, i2c_freq, sensor_address, range_g, fifo and interval_ms
    override."""
    from machine import I2C, Pin
    i2c = I2C(cfg.get("i2c_id", i2c_id), scl=Pin(cfg.get("scl", scl)),
              sda=Pin(cfg.get("sda", sda)), freq=cfg.get("i2c_freq", freq))
    kw = {"rate_hz": 1000 / (cfg.get("interval_ms") or interval_ms)}
    if "sensor_address" in cfg:
        kw["address"] = cfg["sensor_address"]
    if "range_g" in cfg:
        kw["range_g"] = cfg["range_g"]
    if cfg.get("fifo"):
        kw["fifo"] = True
    return open(i2c, cfg.get("sensor", sensor), **kw)


def choose(value, options, what, chip):
    """Index of the smallest option >= value (options ascending): the chip's slowest output
    data rate that still keeps up with the one asked for. Beyond the largest option is a
    ValueError naming the chip and its options."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
        raise ValueError("%s must be a number > 0, not %r" % (what, value))
    for i in range(len(options)):
        if options[i] >= value:
            return i
    raise ValueError("%s=%r is beyond the %s's largest, %r (it has %s)" % (
        what, value, chip, options[-1], ", ".join(["%g" % o for o in options])))


def index(value, options, what, chip):
    """Index of value in options (a chip's full scales), or a ValueError listing them."""
    for i in range(len(options)):
        if options[i] == value and not isinstance(value, bool):
            return i
    raise ValueError("%s=%r is not one the %s has: %s" % (
        what, value, chip, ", ".join(["%g" % o for o in options])))


def _s16(hi, lo):
    v = (hi << 8) | lo
    return v - 0x10000 if v & 0x8000 else v


def xyz(buf, off, big, shift, scale):
    """(x, y, z) from the 6 bytes at buf[off]: three signed 16-bit words, big- or
    little-endian, shifted right by `shift` (for left-justified data) and multiplied by
    `scale` (m/s2 a count). Allocates only the floats and the tuple it returns."""
    if big:
        return ((_s16(buf[off], buf[off + 1]) >> shift) * scale,
                (_s16(buf[off + 2], buf[off + 3]) >> shift) * scale,
                (_s16(buf[off + 4], buf[off + 5]) >> shift) * scale)
    return ((_s16(buf[off + 1], buf[off]) >> shift) * scale,
            (_s16(buf[off + 3], buf[off + 2]) >> shift) * scale,
            (_s16(buf[off + 5], buf[off + 4]) >> shift) * scale)


class I2CAccelerometer:
    """What the four drivers share: register access, the identity check, and read().

    A driver's __init__ sets `_data` (the first output register, with any auto-increment
    flag), `_big` (byte order), `_shift` (justification) and `_scale` (m/s2 a count)."""

    axes = AXES
    chip = None      # the chip's name; for families, the member WHO_AM_I identified
    range_g = None   # the full scale configured, in g
    rate_hz = None   # the output data rate configured (the chip's, not the one asked for)

    def __init__(self, i2c, address, fifo):
        self._i2c = i2c
        self.address = address
        self.fifo = bool(fifo)
        self._b1 = bytearray(1)
        # One sample, read in one burst: the three axes always come from the same sample.
        self._buf = bytearray(6)

    def _get(self, reg):
        self._i2c.readfrom_mem_into(self.address, reg, self._b1)
        return self._b1[0]

    def _set(self, reg, value):
        self._b1[0] = value
        self._i2c.writeto_mem(self.address, reg, self._b1)

    def _identify(self, reg, ids, expected):
        """Read the identity register; return the name `ids` ((value, name), ...) gives it,
        or raise SensorError naming the address, the chip expected and what was found."""
        try:
            found = self._get(reg)
        except OSError as e:
            raise SensorError("no %s at I2C address 0x%02x: nothing answered (OSError %s); "
                              "check wiring, power and the address (i2c.scan() lists them)"
                              % (expected, self.address, e.args[0] if e.args else e),
                              self.address, expected)
        for value, name in ids:
            if value == found:
                return name
        raise SensorError("the chip at I2C address 0x%02x is not a %s: register 0x%02x reads "
                          "0x%02x, a %s reads %s" % (
                              self.address, expected, reg, found, expected,
                              " or ".join(["0x%02x" % v for v, _ in ids])),
                          self.address, expected, found)

    def _wait_clear(self, reg, mask, timeout_ms=100):
        """Poll until the self-clearing bits `mask` of `reg` read 0 (a reset finishing)."""
        from ei.compat import ticks_ms, ticks_diff, sleep_ms
        t0 = ticks_ms()
        while True:
            try:
                if not self._get(reg) & mask:
                    return
            except OSError:
                pass  # some chips do not answer while they reset
            if ticks_diff(ticks_ms(), t0) > timeout_ms:
                raise SensorError("the %s at 0x%02x did not finish its reset within %d ms"
                                  % (self.chip, self.address, timeout_ms), self.address,
                                  self.chip)
            sleep_ms(1)

    def read(self):
        """The latest sample (x, y, z) in m/s2, from one burst read of the output registers.
        A chip that stops answering is a SensorError naming it and its address."""
        try:
            self._i2c.readfrom_mem_into(self.address, self._data, self._buf)
        except OSError as e:
            raise self._lost(e)
        return xyz(self._buf, 0, self._big, self._shift, self._scale)

    def _lost(self, e):
        # machine.I2C raises OSError(EIO or ENODEV) when the address is not acknowledged,
        # OSError(ETIMEDOUT) when a chip holds the bus past the bus' timeout
        code = e.args[0] if e.args else e
        return SensorError("the %s at I2C address 0x%02x stopped answering (OSError %s%s); "
                           "check its wiring and power" % (
                               self.chip, self.address, code,
                               ": the bus timed out" if code == 110 else ""),
                           self.address, self.chip)

    def read_fifo(self, max_rows=None):
        """Drain up to max_rows rows (all queued if None) from the chip's FIFO, oldest first,
        as a list of (x, y, z) in m/s2; rows come at `rate_hz`. Raises FifoOverrun if the
        FIFO filled since the last call (rows lost), after restarting it."""
        if not self.fifo:
            raise SensorError("the %s at 0x%02x was opened without fifo=True"
                              % (self.chip, self.address), self.address, self.chip)
        if max_rows is not None and (not isinstance(max_rows, int) or max_rows < 0):
            raise ValueError("max_rows must be None or a whole number >= 0, not %r"
                             % (max_rows,))
        try:
            return self._drain(max_rows)
        except SensorError:
            raise
        except OSError as e:
            raise self._lost(e)

    def restart_fifo(self):
        """Empty the chip's FIFO and queue from now on: rows queued while nobody read them
        (since the driver opened, or since the last sample; a FIFO left alone overruns)
        are dropped, so that a sample starts with the rows of its own time."""
        if not self.fifo:
            raise SensorError("the %s at 0x%02x was opened without fifo=True"
                              % (self.chip, self.address), self.address, self.chip)
        try:
            self._fifo_start()
        except OSError as e:
            raise self._lost(e)

    def _overrun(self, depth):
        self._fifo_start()
        return FifoOverrun("the %s FIFO at 0x%02x overran: it holds %d rows, %d ms at %g Hz; "
                           "call read_fifo() more often" % (
                               self.chip, self.address, depth, int(depth * 1000 / self.rate_hz),
                               self.rate_hz), self.address, self.chip)

    def __repr__(self):
        return "<%s at 0x%02x, +-%dg, %g Hz%s>" % (self.chip, self.address, self.range_g,
                                                  self.rate_hz, ", fifo" if self.fifo else "")
