# ADXL345 (Analog Devices) accelerometer over I2C in full-resolution mode (3.9 mg/LSB at
# every range), per datasheet rev. G. Each FIFO entry is popped by reading the data registers.
from ei.compat import const
from ei.sensors import G, I2CAccelerometer, index, choose, xyz

_DEVID = const(0x00)
_BW_RATE = const(0x2C)
_POWER_CTL = const(0x2D)
_DATA_FORMAT = const(0x31)
_DATAX0 = const(0x32)
_FIFO_CTL = const(0x38)
_FIFO_STATUS = const(0x39)

_MEASURE = const(0x08)     # POWER_CTL: measurement mode (0 = standby, the reset state)
_FULL_RES = const(0x08)    # DATA_FORMAT: 4 mg/LSB at every range, right-justified
_FIFO_BYPASS = const(0x00) # FIFO_CTL FIFO_MODE; bypass also empties the FIFO
_FIFO_STREAM = const(0x80)
_ENTRIES = const(0x3F)     # FIFO_STATUS
_FIFO_ROWS = const(32)

_RANGES = (2, 4, 8, 16)    # DATA_FORMAT Range 0..3
# BW_RATE Rate code 0..15 (3200 / 2 ** (15 - code) Hz, as the datasheet's table rounds it).
# (The datasheet recommends SPI for 1600 and 3200 Hz: I2C at 400 kHz barely keeps up.)
_RATES = (0.10, 0.20, 0.39, 0.78, 1.56, 3.13, 6.25, 12.5, 25, 50, 100, 200, 400, 800, 1600,
          3200)


class ADXL345(I2CAccelerometer):
    """ADXL345(i2c, address=0x53 (0x1D with ALT ADDRESS high), range_g=4 (2, 4, 8 or 16),
    rate_hz=100, fifo=False). rate_hz becomes the slowest output data rate at or above it:
    3200 / 2**n Hz, 0.1 to 3200 Hz (0.10, 0.20, 0.39 ... 1600, 3200). With fifo=True the data registers are the FIFO's oldest
    entry, so read() takes that entry: use read_fifo()."""

    def __init__(self, i2c, address=0x53, range_g=4, rate_hz=100, fifo=False):
        super().__init__(i2c, address, fifo)
        self.chip = self._identify(_DEVID, ((0xE5, "ADXL345"),), "ADXL345")
        rng = index(range_g, _RANGES, "range_g", "ADXL345")
        code = choose(rate_hz, _RATES, "rate_hz", "ADXL345")
        self._set(_POWER_CTL, 0)  # standby while it is configured
        self._set(_DATA_FORMAT, _FULL_RES | rng)
        self._set(_BW_RATE, code)  # LOW_POWER=0: low power mode adds noise
        self._set(_FIFO_CTL, _FIFO_BYPASS)
        if self.fifo:
            self._fifo_start()
        self._set(_POWER_CTL, _MEASURE)
        self.range_g = _RANGES[rng]
        self.rate_hz = _RATES[code]
        self._data = _DATAX0
        self._big = False
        self._shift = 0
        self._scale = G / 256  # full resolution: 256 LSB/g (3.9 mg/LSB) at every range

    def _fifo_start(self):
        self._set(_FIFO_CTL, _FIFO_BYPASS)  # empties it
        self._set(_FIFO_CTL, _FIFO_STREAM)  # when full, the oldest entry is overwritten

    def _drain(self, max_rows):
        n = self._get(_FIFO_STATUS) & _ENTRIES
        # The ADXL345 flags no overwrite: a full FIFO is taken as one, as its Overrun bit does.
        if n >= _FIFO_ROWS:
            raise self._overrun(_FIFO_ROWS)
        if max_rows is not None and n > max_rows:
            n = max_rows
        out = []
        buf = self._buf
        for _ in range(n):
            # One entry per burst: any read of DATAX0..DATAZ1 pops the entry, and the address
            # runs on into FIFO_CTL rather than back to DATAX0. (The 5 us the datasheet asks
            # between FIFO reads is shorter than the I2C address phase of the next read.)
            self._i2c.readfrom_mem_into(self.address, _DATAX0, buf)
            out.append(xyz(buf, 0, False, 0, self._scale))
        return out
