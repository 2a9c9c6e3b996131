# What the recording tests share: a sensor whose value is its row's number, a slow network in
# the test clock's time, and the check of what the service stored. Not a test module.
from collect_checks import stored_with
from fwtest import http_json


class Counter:
    """One axis whose value is the number of the read (0, 1, 2, ...): a stored window says
    which rows it holds. It stops (OSError 19, as machine.I2C when nothing answers) after
    fail_after reads, or raises KeyboardInterrupt after interrupt_after; read number i
    stalls `clock` stalls[i] µs (a busy bus)."""
    axes = (("row", "n"),)

    def __init__(self, fail_after=None, interrupt_after=None, clock=None, stalls=None):
        self.reads = 0
        self.fail_after = fail_after
        self.interrupt_after = interrupt_after
        self.clock = clock
        self.stalls = stalls or {}

    def read(self):
        if self.reads == self.fail_after:
            raise OSError(19)
        if self.reads == self.interrupt_after:
            raise KeyboardInterrupt
        if self.reads in self.stalls:
            self.clock.stall(self.stalls[self.reads])
        self.reads += 1
        return (float(self.reads - 1),)


class Link:
    """A slow uplink in the test clock's time, as a board's TCP stack has one: a write goes
    into a send buffer of `buffer` bytes (lwIP's TCP_SND_BUF on the ESP32 is 5,744) that
    drains at bytes_per_s, and waits only while the buffer is full; the answer comes
    answer_ms after the last byte has gone, waited for in the client's idle_ms slices (so
    the idle hook runs between them, as while a real answer is awaited). The requests still
    go to the real service, through the fault proxy when the client points there."""

    def __init__(self, clock, bytes_per_s=20000, answer_ms=300, buffer=5744):
        self.clock = clock
        self.rate = bytes_per_s
        self.answer_us = answer_ms * 1000
        self.buffer = buffer
        self._saved = None

    def _us(self, n):
        return n * 1000000 // self.rate

    def __enter__(self):
        import errno
        from ei.transport import Connection
        write, begin = Connection.write, Connection.begin_response
        self._saved = (write, begin)
        link = self
        clock = self.clock

        def slow_write(conn, b):
            # when the buffered bytes will have gone (µs on the clock): a new connection's
            # buffer is empty
            gone = max(getattr(conn, "_gone_us", 0), clock.elapsed_us)
            wait = gone + link._us(len(b)) - link._us(link.buffer) - clock.elapsed_us
            if wait > 0:  # the buffer is full: the write waits for room
                clock.stall(wait)
            conn._gone_us = gone + link._us(len(b))
            write(conn, b)

        def slow_answer(conn):
            begin(conn)
            real = conn._readinto
            due = getattr(conn, "_gone_us", clock.elapsed_us) + link.answer_us

            def readinto(buf, ms):
                left = due - clock.elapsed_us
                if left > 0:  # the answer is on its way: this slice passes empty
                    clock.stall(min(left, ms * 1000))
                    raise OSError(errno.ETIMEDOUT)
                return real(buf, ms)

            conn._readinto = readinto

        Connection.write = slow_write
        Connection.begin_response = slow_answer
        return self

    def __exit__(self, *exc):
        from ei.transport import Connection
        Connection.write, Connection.begin_response = self._saved
        return False


def windows_stored(label, recording):
    """{window number: stored entry} of one recording, asked by label."""
    out = {}
    for e in stored_with(label):
        meta = e.get("metadata") or {}
        if meta.get("recording") != recording:
            continue
        n = int(meta["window"])
        assert n not in out, "window %d stored twice: %s and %s" % (n, out[n]["name"], e["name"])
        out[n] = e
    return out


def values(entry):
    """The first value of each row of a stored sample, as the service decoded them."""
    rows = http_json("GET", "/samples/%d?max_points=100000" % entry["sample_id"])["values"]
    return [v[0] for v in rows]


def check_contiguous(label, rec, windows, rows, interval_ms):
    """Every row of the recording stored once, in windows 0..windows-1 of `rows` rows that
    follow each other: window n holds rows n*rows to (n+1)*rows - 1, says so in its
    x-metadata, and keeps interval_ms."""
    got = windows_stored(label, rec.id)
    assert sorted(got) == list(range(windows)), "windows stored: %s" % sorted(got)
    for n in range(windows):
        e = got[n]
        first = n * rows
        assert e["metadata"]["first_row"] == str(first), (n, e["metadata"])
        assert e["interval_ms"] == interval_ms and e["rows"] == rows, (n, e)
        v = values(e)  # one window's at a time: 60,000 rows at once outgrow a board's heap
        assert v == [float(first + i) for i in range(rows)], (
            "window %d holds rows %s..%s, not %d..%d" % (n, v[:1], v[-1:], first,
                                                         first + rows - 1))


def fifo_chip(clock, rate_hz=100):
    """A LIS3DH (the register-level fake) opened with fifo=True on a bus whose chip converts
    in the test clock's time: before each transaction, the output data rate periods that
    passed are ticked into it, row r under an acceleration that says r: x = (r % 50) / 5."""
    from fake_i2c import FakeI2C, FakeLIS3DH, G
    from ei.sensors.lis3dh import LIS3DH

    class Bus(FakeI2C):
        def __init__(self, dev):
            super().__init__(dev, log=False)
            self.dev = dev
            self.rate_hz = None
            self.t0 = self.done = 0

        def readfrom_mem_into(self, addr, memaddr, buf, *, addrsize=8):
            if self.rate_hz:
                due = (clock.elapsed_us - self.t0) * self.rate_hz // 1000000
                while self.done < due:
                    self.dev.set_acceleration((self.done % 50) / 5, 0, G)
                    self.dev.tick(1)
                    self.done += 1
            super().readfrom_mem_into(addr, memaddr, buf, addrsize=addrsize)

    bus = Bus(FakeLIS3DH())
    chip = LIS3DH(bus, rate_hz=rate_hz, fifo=True)
    bus.rate_hz = int(chip.rate_hz)
    bus.t0 = clock.elapsed_us
    return chip, bus


def chip_rows(entry):
    """The row numbers (mod 50) a stored window of fifo_chip() holds, from its accX."""
    return [int(x * 5 + 0.5) % 50 for x in values(entry)]


def queued_metadata(q):
    """Each queued entry's x-metadata as a dict, oldest first, from its header on flash (the
    queue keeps it there, not in RAM)."""
    import json
    out = []
    for e in q:
        with open(q.path + "/" + e["name"], "rb") as f:
            head = f.readline()
        out.append(json.loads(json.loads(head[len(b"EIQ1 "):].decode())["metadata"]))
    return out
