"""The chips on one of the emulated Pico's I2C buses, fed byte by byte by its I2C controller.

The chips are the register-level models of tools/chips/fake_i2c.py (the host tests' fake bus
uses the same classes). Emulated time clocks them: before each bus event, every chip that
converts makes the conversions its output data rate (odr_hz(), from its registers) owes since
the last event, each of the acceleration at its own instant (a chip's `motion`, a function of
the emulated time in seconds, or the acceleration last set).

A chip can be made to stop answering, as a real one does: fail(address, "nack") (unplugged:
its address is not acknowledged) or fail(address, "hold") (hung: it holds the bus, so the
byte never completes and machine.I2C's own timeout is what ends the transfer).

The bus is used from board.py's reader thread; a test changes chips under `lock`.
"""
import threading

HOLD = None  # a byte the chip never answers


class Bus:
    def __init__(self, *devices):
        self.devices = {}
        self.lock = threading.RLock()
        self.faults = {}        # address -> "nack" | "hold"
        self.transactions = 0   # address phases acknowledged (a register read is two)
        self._last = {}         # address -> emulated ns of its last conversion
        self._rate = {}         # address -> the odr its last conversion ran at
        self.now_ns = 0.0       # emulated ns of the event being handled (chips may log it)
        self._dev = None        # the chip addressed in the current transaction
        for d in devices:
            self.attach(d)

    def attach(self, device, motion=None):
        with self.lock:
            if device.address in self.devices:
                raise ValueError("two chips at 0x%02x" % device.address)
            if motion is not None or not hasattr(device, "motion"):
                device.motion = motion  # a motion set on the chip before stays
            self.devices[device.address] = device
            self._last.pop(device.address, None)

    def detach(self, address):
        with self.lock:
            del self.devices[address]

    def fail(self, address, how="nack"):
        """From now on the chip at `address` does not answer: "nack" or "hold" (above)."""
        if how not in ("nack", "hold"):
            raise ValueError("how is 'nack' or 'hold', not %r" % (how,))
        with self.lock:
            self.faults[address] = how

    # --- time ------------------------------------------------------------------------------
    def advance(self, now_ns):
        """Every converting chip makes the conversions due by now_ns."""
        self.now_ns = now_ns
        for address, dev in self.devices.items():
            rate = dev.odr_hz()
            last = self._last.get(address)
            if not rate or last is None or self._rate.get(address) != rate:
                # off, new, or reconfigured: its conversions start from now
                self._last[address], self._rate[address] = now_ns, rate
                continue
            period = 1e9 / rate
            n = int((now_ns - last) // period)
            for i in range(n):
                last += period
                if dev.motion is not None:
                    dev.accel = tuple(float(v) for v in dev.motion(last / 1e9))
                dev.tick()
            self._last[address] = last

    # --- the controller's side, one event at a time ----------------------------------------
    def connect(self, now_ns, address, read):
        """The address phase: True (acknowledged), False (not) or HOLD."""
        with self.lock:
            self.advance(now_ns)
            self._dev = None
            fault = self.faults.get(address)
            dev = self.devices.get(address)
            if fault == "hold":
                return HOLD
            if dev is None or fault == "nack":
                return False
            self._dev = dev
            self.transactions += 1
            if read:
                dev.start_read()
            else:
                dev.start_write()
            return True

    def write(self, now_ns, value):
        with self.lock:
            self.advance(now_ns)
            if self._dev is not None:
                self._dev.write_byte(value)

    def read(self, now_ns):
        """The next byte of a read, or HOLD if the chip has hung since it was addressed."""
        with self.lock:
            self.advance(now_ns)
            if self._dev is None:
                return 0xFF  # nobody drives the bus: the pull-ups read as ones
            if self.faults.get(self._dev.address) == "hold":
                return HOLD
            return self._dev.read_byte()

    def stop(self, now_ns):
        with self.lock:
            self.advance(now_ns)
            if self._dev is not None:
                self._dev.stop()
            self._dev = None
