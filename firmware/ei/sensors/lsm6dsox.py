# LSM6DSOX (ST) accelerometer over I2C, per datasheet DS12814; its gyroscope stays off.
# Also drives the LSM6DSO, LSM6DS3 and LSM6DS3TR-C: same control and output registers.
from ei.compat import const
from ei.sensors import G, I2CAccelerometer, SensorError, index, choose, xyz

_FIFO_CTRL3 = const(0x09)
_FIFO_CTRL4 = const(0x0A)
_WHO_AM_I = const(0x0F)
_CTRL1_XL = const(0x10)
_CTRL3_C = const(0x12)
_OUTX_L_A = const(0x28)
_FIFO_STATUS1 = const(0x3A)
_FIFO_DATA_OUT_TAG = const(0x78)

_BDU = const(0x40)           # CTRL3_C: output registers not updated between reading LSB and MSB
_IF_INC = const(0x04)        # CTRL3_C: auto-increment the register address (set at reset)
_SW_RESET = const(0x01)      # CTRL3_C; clears itself when the reset is done
_FIFO_BYPASS = const(0x00)   # FIFO_CTRL4 FIFO_MODE; bypass also empties the FIFO
_FIFO_CONTINUOUS = const(0x06)
_FIFO_OVR = const(0x48)      # FIFO_STATUS2 FIFO_OVR_IA | FIFO_OVR_LATCHED
_DIFF_FIFO_HI = const(0x03)  # FIFO_STATUS2 DIFF_FIFO[9:8]
_TAG_ACCEL = const(0x02)     # FIFO_DATA_OUT_TAG TAG_SENSOR (bits 7:3): accelerometer
_FIFO_WORDS = const(512)

# WHO_AM_I: the LSM6DSO and LSM6DSOX share 0x6C, as the LSM6DS3TR-C and LSM6DSL share 0x6A.
# (The LSM6DSO32 also reads 0x6C but has twice these ranges: it is not supported.)
_IDS = ((0x6C, "LSM6DSOX/LSM6DSO"), (0x6A, "LSM6DS3TR-C/LSM6DSL"), (0x69, "LSM6DS3"))
_RANGES = (2, 4, 8, 16)
_FS_XL = (0, 2, 3, 1)                     # CTRL1_XL FS_XL code for each range
_MG_PER_LSB = (0.061, 0.122, 0.244, 0.488)
_RATES = (12.5, 26, 52, 104, 208, 417, 833, 1667, 3333, 6667)  # CTRL1_XL ODR_XL 1..10


class LSM6DSOX(I2CAccelerometer):
    """LSM6DSOX(i2c, address=0x6A (0x6B with SA0 high), range_g=4 (2, 4, 8 or 16),
    rate_hz=100, fifo=False). rate_hz becomes the slowest output data rate at or above it:
    12.5, 26, 52, 104, 208, 417, 833, 1667, 3333 or 6667 Hz. `chip` names the family
    member found; fifo=True needs an LSM6DSOX/LSM6DSO (the LSM6DS3's FIFO is another
    design)."""

    def __init__(self, i2c, address=0x6A, range_g=4, rate_hz=100, fifo=False):
        super().__init__(i2c, address, fifo)
        self.chip = self._identify(_WHO_AM_I, _IDS, "LSM6DSOX")
        fs = index(range_g, _RANGES, "range_g", self.chip)
        odr = choose(rate_hz, _RATES, "rate_hz", self.chip)
        if self.fifo and self.chip != _IDS[0][1]:
            raise SensorError("fifo=True needs an LSM6DSOX/LSM6DSO; the %s at 0x%02x has "
                              "another FIFO design (read() works)" % (self.chip, address),
                              address, "LSM6DSOX")
        self._set(_CTRL3_C, _SW_RESET)  # every register to its reset value: FIFO off
        self._wait_clear(_CTRL3_C, _SW_RESET)
        self._set(_CTRL3_C, _BDU | _IF_INC)
        self._set(_CTRL1_XL, ((odr + 1) << 4) | (_FS_XL[fs] << 2))
        self.range_g = _RANGES[fs]
        self.rate_hz = _RATES[odr]
        self._data = _OUTX_L_A
        self._big = False
        self._shift = 0
        self._scale = _MG_PER_LSB[fs] * G / 1000
        if self.fifo:
            self._odr = odr + 1
            self._word = bytearray(7)  # FIFO word: tag, then X, Y, Z little-endian
            self._fifo_start()

    def _fifo_start(self):
        self._set(_FIFO_CTRL4, _FIFO_BYPASS)  # empties it
        self._set(_FIFO_CTRL3, self._odr)     # BDR_XL: batch every accelerometer sample
        self._set(_FIFO_CTRL4, _FIFO_CONTINUOUS)  # when full, the oldest word is overwritten

    def _drain(self, max_rows):
        st = memoryview(self._buf)[:2]
        self._i2c.readfrom_mem_into(self.address, _FIFO_STATUS1, st)
        if st[1] & _FIFO_OVR:
            raise self._overrun(_FIFO_WORDS)
        n = ((st[1] & _DIFF_FIFO_HI) << 8) | st[0]  # words queued
        out = []
        w = self._word
        while n and (max_rows is None or len(out) < max_rows):
            # One word per burst: tag and data come out together, and reading the last data
            # register pops the word.
            self._i2c.readfrom_mem_into(self.address, _FIFO_DATA_OUT_TAG, w)
            n -= 1
            if w[0] >> 3 == _TAG_ACCEL:
                out.append(xyz(w, 1, False, 0, self._scale))
        return out
