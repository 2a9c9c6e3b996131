# A virtual clock for the sampler's and the recording's tests: their ticks_us, sleep_us and
# sleep_ms are swapped for a clock that starts where a test asks (just before the ticks wrap)
# and moves only when it is read, slept on or stalled. A ten-minute capture then takes a
# moment, and the same ticks and deadlines come out on a loaded machine as on an idle one.
# Ticks wrap at the runtime's own period (2**30 µs on a 32-bit board and in compat's CPython
# half), through compat.
from ei.compat import ticks_add

# Found by name when a clock starts, not when this module is: ei.Remote forgets the sampler and
# its deadlines after a sample request that loaded them (ei.compat.forget), and ei.sample then
# loads new ones.
_SWAPPED = (("ei.sampler", ("ticks_us", "sleep_us")), ("ei.deadlines", ("ticks_us", "sleep_us")),
            ("ei.recording", ("ticks_us", "sleep_ms")))


class Clock:
    """Use as `with Clock(...) as clock:`. Each ticks_us() call takes read_us; jumps maps a
    call's number (1 = the first) to µs the clock jumps forward after it: {1: 25000} makes
    the first row 25 ms late, since the sampler's first call sets the first deadline.
    modules: others whose ticks_us is swapped too (ei.forwarder)."""

    def __init__(self, before_wrap_us=1000000, read_us=10, jumps=None, modules=()):
        self.now = ticks_add(0, -before_wrap_us)
        self.modules = modules
        self.elapsed_us = 0  # since the start, unwrapped (a long int past 2**30: tests only)
        self.read_us = read_us
        self.jumps = jumps or {}
        self.calls = 0
        self._saved = None

    def ticks_us(self):
        self.calls += 1
        t = self.now
        self.stall(self.read_us + self.jumps.get(self.calls, 0))
        return t

    def sleep_us(self, us):
        if us > 0:
            self.stall(us)

    def stall(self, us):
        """The clock moves on by us: a read, a write or a pause that took that long."""
        self.elapsed_us += us
        while us:  # ticks_add takes under half the period at a time, as a board's
            step = min(us, 1 << 28)
            self.now = ticks_add(self.now, step)
            us -= step

    def sleep_ms(self, ms):
        self.sleep_us(ms * 1000)

    def __enter__(self):
        self._saved = []
        swapped = tuple((__import__(m, None, None, ("_",)), n) for m, n in _SWAPPED)
        for module, names in swapped + tuple((m, ("ticks_us",)) for m in self.modules):
            for name in names:
                self._saved.append((module, name, getattr(module, name)))
                setattr(module, name, getattr(self, name))
        return self

    def __exit__(self, *exc):
        for module, name, f in self._saved:
            setattr(module, name, f)
        return False


class Sensor:
    """One axis, read at the clock's time; each read takes cost_us, and read number i (0 =
    the first) stalls the clock stalls[i] µs more."""
    axes = (("t", "us"),)

    def __init__(self, clock, cost_us=0, stalls=None):
        self.clock = clock
        self.cost_us = cost_us
        self.stalls = stalls or {}
        self.reads = 0
        self.row = (1.0,)

    def read(self):
        self.clock.stall(self.cost_us + self.stalls.get(self.reads, 0))
        self.reads += 1
        return self.row


class NearWrap:
    """`with NearWrap(modules, before_ms=500):` the ticks_ms of each module reads before_ms
    before the ticks wrap, then runs on at the real clock's pace: the deadlines and
    keep-alive of a connection (ei.remote_mgmt, ei.websocket, ei.transport) cross the wrap."""

    def __init__(self, modules, before_ms=500):
        from ei.compat import ticks_diff, ticks_ms
        self.modules = modules
        self.real = ticks_ms
        self.offset = ticks_diff(ticks_add(0, -before_ms), ticks_ms())

    def ticks_ms(self):
        return ticks_add(self.real(), self.offset)

    def __enter__(self):
        for m in self.modules:
            m.ticks_ms = self.ticks_ms
        return self

    def __exit__(self, *exc):
        for m in self.modules:
            m.ticks_ms = self.real
        return False
