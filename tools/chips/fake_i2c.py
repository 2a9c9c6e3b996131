# Register-level models of four accelerometers (MPU6050, LIS3DH, ADXL345, LSM6DSOX), written
# from their datasheets: the one definition of each chip, used by the host tests' fake bus
# (FakeI2C below, on CPython and on every MicroPython runtime) and by the emulated Pico's I2C
# bus (tools/pico/i2c_bus.py), which feeds them byte by byte from the real machine.I2C.
#
# A device is given a physical acceleration (set_acceleration, m/s2) and converts it the way
# the chip would for the range, resolution and justification its registers configure,
# saturating at the largest count. Time is explicit: tick(n) is n output-data-rate periods,
# each converting the acceleration again and, if the chip's FIFO runs, queueing the sample;
# odr_hz() is the rate the registers configure (None while the chip converts nothing), from
# which the emulated bus ticks a chip as emulated time passes.
# A powered-down chip (reset state for all but the LIS3DH) converts nothing.
# Code here runs on MicroPython too: no CPython-only module, no f-string.
import errno

G = 9.80665


class FakeI2C:
    """machine.I2C's register methods over fake devices, one per address.

    Every transaction is appended to `log`: ("read", addr, reg, nbytes) or
    ("write", addr, reg, bytes), unless log=False (then a read allocates nothing, so a test
    can count what the driver allocates). Nothing at an address raises OSError(ENODEV), as
    machine.I2C does when no device acknowledges."""

    def __init__(self, *devices, log=True):
        self.devices = {}
        self.log = [] if log else None
        for d in devices:
            self.attach(d)

    def attach(self, device):
        if device.address in self.devices:
            raise ValueError("two devices at 0x%02x" % device.address)
        self.devices[device.address] = device

    def detach(self, address):
        del self.devices[address]

    def scan(self):
        return sorted(self.devices)

    def _device(self, addr):
        d = self.devices.get(addr)
        if d is None:
            raise OSError(errno.ENODEV)
        return d

    def readfrom_mem_into(self, addr, memaddr, buf, *, addrsize=8):
        if addrsize != 8:
            raise ValueError("these chips have 8-bit register addresses")
        if self.log is not None:
            self.log.append(("read", addr, memaddr, len(buf)))
        self._device(addr).read_into(memaddr, buf)

    def readfrom_mem(self, addr, memaddr, nbytes, *, addrsize=8):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf, addrsize=addrsize)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf, *, addrsize=8):
        if addrsize != 8:
            raise ValueError("these chips have 8-bit register addresses")
        if self.log is not None:
            self.log.append(("write", addr, memaddr, bytes(buf)))
        self._device(addr).write(memaddr, buf)

    def reads(self):
        return [e for e in self.log if e[0] == "read"]

    def writes(self, reg=None):
        """The values written, in order, as (reg, value) for each byte (or only to reg)."""
        out = []
        for op, _, r, data in self.log:
            if op == "write":
                for i in range(len(data)):
                    if reg is None or reg == r + i:
                        out.append((r + i, data[i]))
        return out


def counts(a, lsb_per_g, bits):
    """The count a `bits`-bit converter at lsb_per_g gives for a m/s2, saturating."""
    c = int(round(a / G * lsb_per_g))
    top = (1 << (bits - 1)) - 1
    if c > top:
        return top
    if c < -top - 1:
        return -top - 1
    return c


class FakeDevice:
    """One chip's register file and its I2C transaction behaviour. Subclasses say which
    registers are special; a plain register reads back what was written (reset: 0)."""

    NAME = "?"
    ID_REG = 0x0F
    ID = 0
    RESET = ()         # (register, reset value) pairs besides the identity
    READ_ONLY = ()     # writes to these are ignored, as the chips do
    DATA = 0x28        # first output register
    BIG = False        # output byte order
    DEPTH = 32         # FIFO rows

    def __init__(self, address, who_am_i=None):
        self.address = address
        self.id = self.ID if who_am_i is None else who_am_i
        self.accel = (0.0, 0.0, G)  # lying flat
        self._ptr = 0          # the register address pointer
        self._first = False    # the next byte written is a register address
        self._reading = False  # in a read transaction
        self.reset()

    def reset(self):
        self.regs = bytearray(256)
        for reg, value in self.RESET:
            self.regs[reg] = value
        self.regs[self.ID_REG] = self.id
        self.fifo = []
        self.overwritten = False   # a queued row was lost since the FIFO last had room
        self.latched = False

    # The bus side, a byte at a time, as the chip sees it: a write transaction's first byte
    # sets the address pointer, the next ones are written there; a read transaction reads
    # from the pointer; the pointer moves on after each byte (after()); stop() ends either.
    def start_write(self):
        self._first = True

    def write_byte(self, value):
        if self._first:
            self._first = False
            self._ptr = self.begin(value)
            return
        if self._ptr not in self.READ_ONLY:
            self.put(self._ptr, value)
        self._ptr = self.after(self._ptr)

    def start_read(self):
        self._reading = True

    def read_byte(self):
        v = self.get(self._ptr)
        self._ptr = self.after(self._ptr)
        return v

    def stop(self):
        if self._reading:
            self._reading = False
            self.end_read()

    # One register transaction, as machine.I2C's readfrom_mem_into and writeto_mem make it:
    # a write of the register address, then (after a repeated start) the bytes read, or the
    # bytes written after it.
    def read_into(self, reg, buf):
        self.start_write()
        self.write_byte(reg)
        self.start_read()
        for i in range(len(buf)):
            buf[i] = self.read_byte()
        self.stop()

    def write(self, reg, data):
        self.start_write()
        self.write_byte(reg)
        for v in data:
            self.write_byte(v)
        self.stop()

    def begin(self, reg):
        return reg

    def after(self, reg):
        return (reg + 1) & 0xFF

    def get(self, reg):
        return self.regs[reg]

    def put(self, reg, value):
        self.regs[reg] = value

    def end_read(self):
        pass

    # The physical side.
    def set_acceleration(self, x, y, z):
        """Put the chip under (x, y, z) m/s2; its output registers follow if it is on."""
        self.accel = (float(x), float(y), float(z))
        if self.powered():
            self.latch(self.sample())

    def tick(self, n=1):
        """n output data rate periods pass: n conversions, each queued if the FIFO runs."""
        for _ in range(n):
            if self.powered():
                s = self.sample()
                self.latch(s)
                if self.fifo_running():
                    self.queue(s)

    def sample(self):
        """The six output bytes the chip makes of self.accel under its configuration."""
        out = bytearray(6)
        for i in range(3):
            w = self.word(self.accel[i]) & 0xFFFF
            hi, lo = w >> 8, w & 0xFF
            out[2 * i], out[2 * i + 1] = (hi, lo) if self.BIG else (lo, hi)
        return out

    def latch(self, s):
        for i in range(6):
            self.regs[self.DATA + i] = s[i]

    def queue_row(self, row, stream):
        """Queue a row; when full, stream mode drops the oldest, FIFO mode stops."""
        if len(self.fifo) >= self.DEPTH:
            if not stream:
                return
            self.fifo.pop(0)
            self.overwritten = self.latched = True
        self.fifo.append(row)

    def pop_row(self):
        if self.fifo:
            self.fifo.pop(0)
        self.overwritten = False

    def powered(self):
        raise NotImplementedError

    def word(self, a):
        raise NotImplementedError

    def fifo_running(self):
        return False

    def odr_hz(self):
        """The output data rate the registers configure, or None while powered down."""
        raise NotImplementedError

    def queue(self, s):
        raise NotImplementedError


class FakeMPU6050(FakeDevice):
    """MPU6050: resets asleep (PWR_MGMT_1=0x40); ACCEL_CONFIG AFS_SEL picks 16384/8192/4096/
    2048 LSB/g; ACCEL_XOUT_H.. big-endian; a 1024-byte FIFO of bytes read through FIFO_R_W,
    which does not auto-increment; an overflow drops the oldest bytes (misaligning rows) and
    sets INT_STATUS FIFO_OFLOW_INT, which clears when INT_STATUS is read. The output
    registers copy a conversion only while the serial interface is idle (register map 4.17),
    so a burst read gets one sampling instant even if the chip converts during it."""

    NAME = "MPU6050"
    ID_REG = 0x75
    ID = 0x68
    RESET = ((0x6B, 0x40),)
    READ_ONLY = (0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x40, 0x72, 0x73, 0x75)
    DATA = 0x3B
    BIG = True
    DEPTH = 1024  # bytes

    def __init__(self, address=0x68, who_am_i=None):
        super().__init__(address, who_am_i)

    def reset(self):
        super().reset()
        self.last_fifo_byte = 0
        self.held = None  # a conversion made during a read, copied out when it ends

    def latch(self, s):
        if self._reading:
            self.held = s
        else:
            super().latch(s)

    def end_read(self):
        if self.held is not None:
            super().latch(self.held)
            self.held = None

    def powered(self):
        return not self.regs[0x6B] & 0x40  # SLEEP

    def odr_hz(self):
        # Sample rate = gyroscope output rate / (1 + SMPLRT_DIV); the gyroscope runs at 8 kHz
        # with DLPF_CFG 0 or 7, else at 1 kHz (the accelerometer's own rate is 1 kHz).
        if not self.powered():
            return None
        gyro = 8000 if self.regs[0x1A] & 7 in (0, 7) else 1000
        return gyro / (1 + self.regs[0x19])

    def word(self, a):
        return counts(a, 16384 >> ((self.regs[0x1C] >> 3) & 3), 16)

    def fifo_running(self):
        return self.regs[0x6A] & 0x40 and self.regs[0x23] & 0x08

    def queue(self, s):
        for b in s:
            if len(self.fifo) >= self.DEPTH:
                self.fifo.pop(0)
                self.regs[0x3A] |= 0x10  # FIFO_OFLOW_INT
            self.fifo.append(b)

    def get(self, reg):
        if reg == 0x3A:  # INT_STATUS clears when read
            v = self.regs[0x3A]
            self.regs[0x3A] = 0
            return v
        if reg == 0x72:
            return len(self.fifo) >> 8
        if reg == 0x73:
            return len(self.fifo) & 0xFF
        if reg == 0x74:  # an empty FIFO repeats the last byte read
            if self.fifo:
                self.last_fifo_byte = self.fifo.pop(0)
            return self.last_fifo_byte
        return self.regs[reg]

    def after(self, reg):
        return reg if reg == 0x74 else (reg + 1) & 0xFF

    def put(self, reg, value):
        if reg == 0x6B and value & 0x80:  # DEVICE_RESET, which clears itself
            self.reset()
            return
        if reg == 0x6A:
            if value & 0x04 and not value & 0x40:  # FIFO_RESET acts only while FIFO_EN=0
                self.fifo = []
            value &= ~0x07  # the reset bits clear themselves
        self.regs[reg] = value


class FakeLIS3DH(FakeDevice):
    """LIS3DH: CTRL_REG1 resets to 0x07 (powered down, ODR=0); the mode (LPen, HR) and FS
    give 8/10/12-bit left-justified little-endian data at the datasheet's mg/digit; a read
    or write auto-increments only if bit 7 of the sub-address is set. A 32-row FIFO keeps
    the top 10 bits; with it on, OUT_X_L..OUT_Z_H give the oldest row, reading OUT_Z_H pops
    it and the address rolls back to OUT_X_L. FIFO_SRC_REG: OVRN_FIFO (a row was
    overwritten, cleared when one is read), EMPTY, FSS (unread rows, at most 31)."""

    NAME = "LIS3DH"
    ID_REG = 0x0F
    ID = 0x33
    RESET = ((0x20, 0x07),)
    READ_ONLY = (0x0F, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2F)
    DATA = 0x28
    _MG = {12: (1, 2, 4, 12), 10: (4, 8, 16, 48), 8: (16, 32, 64, 192)}

    def __init__(self, address=0x18, who_am_i=None):
        self._inc = False
        super().__init__(address, who_am_i)

    def begin(self, reg):
        self._inc = bool(reg & 0x80)
        return reg & 0x7F

    def after(self, reg):
        if not self._inc:
            return reg
        if reg == 0x2D and self.fifo_on():
            return 0x28
        return (reg + 1) & 0x7F

    def powered(self):
        return self.regs[0x20] >> 4 != 0

    # CTRL_REG1 ODR[3:0] 1..9; 8 (1.6 kHz) is low-power mode's, 9 is 1.344 kHz (5.376 in LP).
    _ODR_HZ = (None, 1, 10, 25, 50, 100, 200, 400, 1600, 1344)

    def odr_hz(self):
        odr = self.regs[0x20] >> 4
        if odr == 9 and self.regs[0x20] & 0x08:
            return 5376
        return self._ODR_HZ[odr] if odr < len(self._ODR_HZ) else None

    def bits(self):
        lp, hr = self.regs[0x20] & 0x08, self.regs[0x23] & 0x08
        if lp and hr:
            raise AssertionError("LIS3DH: LPen and HR both set is not allowed")
        return 8 if lp else (12 if hr else 10)

    def word(self, a):
        bits = self.bits()
        mg = self._MG[bits][(self.regs[0x23] >> 4) & 3]
        return counts(a, 1000 / mg, bits) << (16 - bits)

    def fifo_on(self):
        return self.regs[0x24] & 0x40 and self.regs[0x2E] >> 6 != 0

    fifo_running = fifo_on

    def queue(self, s):
        row = bytearray(s)
        for i in (0, 2, 4):
            row[i] &= 0xC0  # the FIFO stores 10 bits
        self.queue_row(row, self.regs[0x2E] >> 6 != 1)  # FIFO mode (1) stops when full

    def get(self, reg):
        if 0x28 <= reg <= 0x2D and self.fifo_on() and self.fifo:
            v = self.fifo[0][reg - 0x28]
            if reg == 0x2D:
                self.pop_row()
            return v
        if reg == 0x2F:
            n = len(self.fifo)
            fss = n if n < 31 else 31
            return ((0x80 if fss >= self.regs[0x2E] & 0x1F else 0)
                    | (0x40 if self.overwritten else 0) | (0x20 if n == 0 else 0) | fss)
        return self.regs[reg]

    def put(self, reg, value):
        if reg == 0x24:
            value &= 0x7F  # BOOT reloads trimming and clears itself
        self.regs[reg] = value
        if reg == 0x2E and value >> 6 == 0:  # bypass empties the FIFO
            self.fifo = []
            self.overwritten = False


class FakeADXL345(FakeDevice):
    """ADXL345: resets in standby (POWER_CTL=0), BW_RATE=0x0A; DATA_FORMAT FULL_RES gives
    256 LSB/g with 10..13 bits for 2..16 g, otherwise 10 bits at 256 >> range LSB/g; right-
    justified (or left with Justify) little-endian from DATAX0. A 32-entry FIFO: with it on
    the data registers give the oldest entry and any read of them pops it at the end of the
    transaction; FIFO_STATUS gives the entries (the one held in the output stage is not
    modelled)."""

    NAME = "ADXL345"
    ID_REG = 0x00
    ID = 0xE5
    RESET = ((0x2C, 0x0A), (0x30, 0x02))
    READ_ONLY = (0x00, 0x30, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x39)
    DATA = 0x32

    def __init__(self, address=0x53, who_am_i=None):
        self._pop = False
        super().__init__(address, who_am_i)

    def powered(self):
        return self.regs[0x2D] & 0x08  # Measure

    def odr_hz(self):
        # BW_RATE rate code 0..15: 3200 Hz / 2 ** (15 - code)
        return 3200 / 2 ** (15 - (self.regs[0x2C] & 0x0F)) if self.powered() else None

    def word(self, a):
        fmt = self.regs[0x31]
        rng = fmt & 3
        if fmt & 0x08:
            bits, lsb_per_g = 10 + rng, 256
        else:
            bits, lsb_per_g = 10, 256 >> rng
        c = counts(a, lsb_per_g, bits)
        return c << (16 - bits) if fmt & 0x04 else c

    def fifo_mode(self):
        return self.regs[0x38] >> 6

    def fifo_running(self):
        return self.fifo_mode() in (1, 2)  # FIFO, stream (trigger mode is not modelled)

    def queue(self, s):
        self.queue_row(bytes(s), self.fifo_mode() == 2)

    def get(self, reg):
        if 0x32 <= reg <= 0x37 and self.fifo_mode() and self.fifo:
            self._pop = True
            return self.fifo[0][reg - 0x32]
        if reg == 0x39:
            return len(self.fifo) & 0x3F
        return self.regs[reg]

    def end_read(self):
        if self._pop:
            self.pop_row()
            self._pop = False

    def put(self, reg, value):
        self.regs[reg] = value
        if reg == 0x38 and value >> 6 == 0:  # bypass empties the FIFO
            self.fifo = []


class FakeLSM6DSOX(FakeDevice):
    """LSM6DSOX (who_am_i=0x69 or 0x6A for an LSM6DS3 or LSM6DS3TR-C, whose FIFO is not
    modelled): CTRL3_C resets to IF_INC (0x04), SW_RESET resets every register and clears
    itself; CTRL1_XL ODR_XL=0 is power-down, FS_XL 0/2/3/1 = 2/4/8/16 g at 0.061/0.122/
    0.244/0.488 mg/LSB; OUTX_L_A.. little-endian; the address auto-increments only with
    IF_INC. FIFO (FIFO_CTRL3 BDR_XL, FIFO_CTRL4 mode): words of tag (accelerometer 0x02 in
    bits 7:3; TAG_CNT and parity not modelled) and six data bytes from FIFO_DATA_OUT_TAG;
    reading FIFO_DATA_OUT_Z_H pops the word. FIFO_STATUS1/2: DIFF_FIFO words, FIFO_OVR_IA
    (full and overwritten), FIFO_OVR_LATCHED (cleared when FIFO_STATUS2 is read)."""

    NAME = "LSM6DSOX"
    ID_REG = 0x0F
    ID = 0x6C
    RESET = ((0x12, 0x04),)
    READ_ONLY = (0x0F, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x3A, 0x3B,
                 0x78, 0x79, 0x7A, 0x7B, 0x7C, 0x7D, 0x7E)
    DATA = 0x28
    DEPTH = 512  # words, uncompressed
    _MG = (0.061, 0.488, 0.122, 0.244)  # by FS_XL code

    def __init__(self, address=0x6A, who_am_i=None):
        super().__init__(address, who_am_i)

    def after(self, reg):
        return (reg + 1) & 0xFF if self.regs[0x12] & 0x04 else reg

    def powered(self):
        return self.regs[0x10] >> 4 != 0

    # CTRL1_XL ODR_XL 1..11 (11: 1.6 Hz, low-power mode only)
    _ODR_HZ = (None, 12.5, 26, 52, 104, 208, 416, 833, 1660, 3330, 6660, 1.6)

    def odr_hz(self):
        odr = self.regs[0x10] >> 4
        return self._ODR_HZ[odr] if odr < len(self._ODR_HZ) else None

    def word(self, a):
        return counts(a, 1 / self._MG[(self.regs[0x10] >> 2) & 3] * 1000, 16)

    def fifo_mode(self):
        return self.regs[0x0A] & 0x07

    def fifo_running(self):
        # One batch a tick: BDR_XL is taken to equal the output data rate.
        return self.id == 0x6C and self.fifo_mode() in (1, 6) and self.regs[0x09] & 0x0F

    def queue(self, s):
        self.queue_row(bytes((0x02 << 3,)) + bytes(s), self.fifo_mode() == 6)

    def get(self, reg):
        n = len(self.fifo)
        if reg == 0x3A:
            return n & 0xFF
        if reg == 0x3B:
            v = ((0x40 if self.overwritten else 0) | (0x20 if n >= self.DEPTH - 1 else 0)
                 | (0x08 if self.latched else 0) | ((n >> 8) & 0x03))
            self.latched = False
            return v
        if 0x78 <= reg <= 0x7E:
            if not self.fifo:
                return 0
            v = self.fifo[0][reg - 0x78]
            if reg == 0x7E:
                self.pop_row()
            return v
        return self.regs[reg]

    def put(self, reg, value):
        if reg == 0x12 and value & 0x01:  # SW_RESET
            self.reset()
            return
        if reg == 0x12:
            value &= 0x7F  # BOOT clears itself
        self.regs[reg] = value
        if reg == 0x0A and value & 0x07 == 0:  # bypass empties the FIFO
            self.fifo = []
            self.overwritten = False
