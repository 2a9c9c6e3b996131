# MPU6050 (InvenSense) accelerometer over I2C, per the MPU-6000/6050 register map rev 4.2.
# Only the accelerometer is used; the gyroscope runs because it clocks the chip (CLKSEL=1).
from ei.compat import const
from ei.sensors import G, I2CAccelerometer, index, xyz

_SMPLRT_DIV = const(0x19)
_CONFIG = const(0x1A)
_ACCEL_CONFIG = const(0x1C)
_FIFO_EN = const(0x23)
_INT_ENABLE = const(0x38)
_INT_STATUS = const(0x3A)
_ACCEL_XOUT_H = const(0x3B)
_USER_CTRL = const(0x6A)
_PWR_MGMT_1 = const(0x6B)
_FIFO_COUNTH = const(0x72)
_FIFO_R_W = const(0x74)
_WHO_AM_I = const(0x75)

_DEVICE_RESET = const(0x80)    # PWR_MGMT_1; clears itself when the reset is done
_CLKSEL_PLL_X = const(0x01)    # PWR_MGMT_1: SLEEP=0, clock from the X gyro's PLL
_ACCEL_FIFO_EN = const(0x08)   # FIFO_EN
_USER_FIFO_EN = const(0x40)    # USER_CTRL
_FIFO_RESET = const(0x04)      # USER_CTRL; acts only while FIFO_EN is 0
_FIFO_OFLOW = const(0x10)      # INT_ENABLE and INT_STATUS (cleared when read)
_FIFO_BYTES = const(1024)
_FIFO_ROWS = const(170)        # 1024 // 6: the rows the FIFO holds before it overflows
_CHUNK_ROWS = const(16)        # rows read from FIFO_R_W per burst

_RANGES = (2, 4, 8, 16)        # ACCEL_CONFIG AFS_SEL 0..3: 16384, 8192, 4096, 2048 LSB/g
# DLPF_CFG 1..6 and their accelerometer bandwidth (Hz). With DLPF_CFG >= 1 the sample rate
# is 1 kHz / (1 + SMPLRT_DIV), the accelerometer's own output rate being 1 kHz.
_DLPF_HZ = (184, 94, 44, 21, 10, 5)


class MPU6050(I2CAccelerometer):
    """MPU6050(i2c, address=0x68 (0x69 with AD0 high), range_g=4 (2, 4, 8 or 16),
    rate_hz=100, fifo=False). rate_hz becomes the fastest 1000 / n Hz at or above it
    (n = 1..256); the low-pass filter is set to the widest bandwidth below half that rate."""

    def __init__(self, i2c, address=0x68, range_g=4, rate_hz=100, fifo=False):
        super().__init__(i2c, address, fifo)
        # WHO_AM_I is 0x68 at either address: it holds the address' upper six bits.
        self.chip = self._identify(_WHO_AM_I, ((0x68, "MPU6050"),), "MPU6050")
        afs = index(range_g, _RANGES, "range_g", "MPU6050")
        if isinstance(rate_hz, bool) or not isinstance(rate_hz, (int, float)) \
                or not 0 < rate_hz <= 1000:
            raise ValueError("rate_hz must be > 0 and at most the MPU6050's 1000 Hz, not %r"
                             % (rate_hz,))
        div = min(255, int(1000 / rate_hz + 1e-9) - 1)
        self.rate_hz = 1000 / (div + 1)
        dlpf = 6
        for i in range(len(_DLPF_HZ)):
            if _DLPF_HZ[i] <= self.rate_hz / 2:
                dlpf = i + 1
                break
        self._set(_PWR_MGMT_1, _DEVICE_RESET)  # every register to its reset value
        self._wait_clear(_PWR_MGMT_1, _DEVICE_RESET, 200)
        self._set(_PWR_MGMT_1, _CLKSEL_PLL_X)  # wake up: the chip resets into SLEEP
        self._set(_CONFIG, dlpf)
        self._set(_SMPLRT_DIV, div)
        self._set(_ACCEL_CONFIG, afs << 3)
        self.range_g = _RANGES[afs]
        self._data = _ACCEL_XOUT_H
        self._big = True
        self._shift = 0
        self._scale = G * self.range_g / 32768
        if self.fifo:
            self._chunk = bytearray(_CHUNK_ROWS * 6)
            self._fifo_start()

    def _fifo_start(self):
        """Empty the FIFO and queue the accelerometer into it at the sample rate."""
        self._set(_USER_CTRL, 0)
        self._set(_USER_CTRL, _FIFO_RESET)
        self._set(_FIFO_EN, _ACCEL_FIFO_EN)
        self._set(_INT_ENABLE, _FIFO_OFLOW)
        self._get(_INT_STATUS)  # clears an overflow flagged before the reset
        self._set(_USER_CTRL, _USER_FIFO_EN)

    def _drain(self, max_rows):
        b = self._buf
        self._i2c.readfrom_mem_into(self.address, _FIFO_COUNTH, memoryview(b)[:2])
        count = (b[0] << 8) | b[1]  # bytes queued, big-endian
        if count > _FIFO_ROWS * 6:
            raise self._overrun(_FIFO_ROWS)
        rows = count // 6
        if max_rows is not None and rows > max_rows:
            rows = max_rows
        out = []
        chunk = self._chunk
        mv = memoryview(chunk)
        while rows:
            n = rows if rows < _CHUNK_ROWS else _CHUNK_ROWS
            # FIFO_R_W does not auto-increment: a burst from it reads successive FIFO bytes.
            self._i2c.readfrom_mem_into(self.address, _FIFO_R_W, mv[:n * 6])
            for i in range(n):
                out.append(xyz(chunk, i * 6, True, 0, self._scale))
            rows -= n
        # The FIFO is a stream of bytes and 1024 is not a whole number of 6-byte rows: after
        # an overflow the rows read above may straddle two samples, so none can be trusted.
        if self._get(_INT_STATUS) & _FIFO_OFLOW:
            raise self._overrun(_FIFO_ROWS)
        return out
