# LIS3DH (ST) accelerometer over I2C in high-resolution (12-bit) mode, per datasheet
# DocID17530. Sub-addresses need bit 7 set for a multi-byte read to auto-increment.
from ei.compat import const
from ei.sensors import G, I2CAccelerometer, index, choose, xyz

_WHO_AM_I = const(0x0F)
_CTRL_REG1 = const(0x20)
_CTRL_REG2 = const(0x21)
_CTRL_REG4 = const(0x23)
_CTRL_REG5 = const(0x24)
_OUT_X_L = const(0x28)
_FIFO_CTRL_REG = const(0x2E)
_FIFO_SRC_REG = const(0x2F)

_AUTO_INC = const(0x80)   # sub-address MSB: increment the register address after each byte
_XYZ_EN = const(0x07)     # CTRL_REG1 Zen|Yen|Xen; LPen=0
_BDU = const(0x80)        # CTRL_REG4: output registers not updated between reading LSB and MSB
_HR = const(0x08)         # CTRL_REG4: high-resolution mode, 12-bit left-justified data
_FIFO_EN = const(0x40)    # CTRL_REG5
_FM_BYPASS = const(0x00)  # FIFO_CTRL_REG FM[1:0]; bypass also empties the FIFO
_FM_STREAM = const(0x80)
_OVRN_FIFO = const(0x40)  # FIFO_SRC_REG: a FIFO slot was overwritten
_EMPTY = const(0x20)
_FSS = const(0x1F)        # FIFO_SRC_REG: unread rows
_FIFO_ROWS = const(32)

_RANGES = (2, 4, 8, 16)                  # CTRL_REG4 FS[1:0] 0..3
_MG_PER_DIGIT = (1, 2, 4, 12)            # high-resolution mode sensitivity, mg/digit
_RATES = (1, 10, 25, 50, 100, 200, 400, 1344)  # CTRL_REG1 ODR[3:0] in high-resolution mode
_ODR = (1, 2, 3, 4, 5, 6, 7, 9)


class LIS3DH(I2CAccelerometer):
    """LIS3DH(i2c, address=0x18 (0x19 with SA0 high), range_g=4 (2, 4, 8 or 16),
    rate_hz=100, fifo=False). rate_hz becomes the slowest output data rate at or above it:
    1, 10, 25, 50, 100, 200, 400 or 1344 Hz. With fifo=True the output registers are the
    FIFO's oldest row, so read() takes that row: use read_fifo()."""

    def __init__(self, i2c, address=0x18, range_g=4, rate_hz=100, fifo=False):
        super().__init__(i2c, address, fifo)
        self.chip = self._identify(_WHO_AM_I, ((0x33, "LIS3DH"),), "LIS3DH")
        fs = index(range_g, _RANGES, "range_g", "LIS3DH")
        odr = choose(rate_hz, _RATES, "rate_hz", "LIS3DH")
        self._set(_CTRL_REG2, 0)  # high-pass filter off: the output is the acceleration itself
        self._set(_CTRL_REG4, _BDU | (fs << 4) | _HR)
        self._set(_CTRL_REG5, _FIFO_EN if self.fifo else 0)
        self._set(_FIFO_CTRL_REG, _FM_BYPASS)
        self._set(_CTRL_REG1, (_ODR[odr] << 4) | _XYZ_EN)
        self.range_g = _RANGES[fs]
        self.rate_hz = _RATES[odr]
        self._data = _OUT_X_L | _AUTO_INC
        self._big = False
        self._shift = 4  # 12 bits, left-justified in 16
        self._scale = _MG_PER_DIGIT[fs] * G / 1000
        if self.fifo:
            self._rows = bytearray(_FIFO_ROWS * 6)
            self._fifo_start()

    def _fifo_start(self):
        self._set(_FIFO_CTRL_REG, _FM_BYPASS)  # empties it
        self._set(_FIFO_CTRL_REG, _FM_STREAM)  # when full, the oldest row is overwritten

    def _drain(self, max_rows):
        src = self._get(_FIFO_SRC_REG)
        if src & _OVRN_FIFO:
            raise self._overrun(_FIFO_ROWS)
        n = 0 if src & _EMPTY else src & _FSS
        if max_rows is not None and n > max_rows:
            n = max_rows
        out = []
        if n:
            # In FIFO mode the address rolls back from OUT_Z_H to OUT_X_L and each pass pops
            # a row, so one burst reads n rows. The FIFO keeps 10 of the 12 bits.
            rows = self._rows
            self._i2c.readfrom_mem_into(self.address, _OUT_X_L | _AUTO_INC,
                                        memoryview(rows)[:n * 6])
            for i in range(n):
                out.append(xyz(rows, i * 6, False, 4, self._scale))
        return out
