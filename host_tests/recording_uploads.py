"""Recordings made by the firmware's own ei.record (on CPython, in the test clock's time:
fw/clock.py) and uploaded to a service by the firmware's own client, with what a board in the
field meets: a window dropped while the network was gone, a sensor that fell behind for a
window, a FIFO that overran, windows still queued on flash; and a window built with the
firmware's encoder where a test needs what ei.record never sends (an overlap). For the
timeline's tests (test_service_recordings.py, test_timeline_chromium.py). Not a test module.
"""
import math
import socket

import ei
from clock import Clock
from ei.acquisition import Sample
from ei.queue import Queue
from service import API_KEY

INTERVAL_MS = 20          # 50 Hz
WINDOW_ROWS = 50          # 1 s windows
READ_US = 500             # each read of the test clock (as test_recording.py's)
AXES = (("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2"))


def value(k, phase=0):
    """Row k of a recording: a walk's accelerations, so that a plot says which row is where
    (`phase` rows on: another recording's windows are other bytes, never duplicates)."""
    k += phase
    return (round(2.0 * math.sin(2 * math.pi * k / 100), 6), round(1.5 * math.cos(2 * math.pi * k / 160), 6),
            round(9.81 + 0.5 * math.sin(2 * math.pi * k / 37), 6))


class Motion:
    """Three axes whose row k is value(k, phase); reads numbered in `slow` take slow_us each
    (a bus that stalls: the sensor falls behind for those rows)."""
    axes = AXES

    def __init__(self, clock, phase=0, slow=(), slow_us=0):
        self.clock = clock
        self.phase = phase
        self.slow = slow
        self.slow_us = slow_us
        self.reads = 0

    def read(self):
        if self.reads in self.slow:
            self.clock.stall(self.slow_us)
        self.reads += 1
        return value(self.reads - 1, self.phase)


def client(srv, **kw):
    return ei.Client(API_KEY, host=srv.host, port=srv.port, tls=False, retries=0, timeout=5, **kw)


def closed_port():
    """A loopback port nothing listens on: a connection to it is refused (the network gone)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def record_walk(srv, label="walk", windows=8):
    """A recording to `srv` in 1 s windows of 50 rows, no queue: the network is gone while
    window 3 is sent (it is dropped: rows 150-199 never arrive) and the sensor is slower than
    the interval through window 6 (its interval_ms is the one it kept, and window 7's first
    rows are read late). Returns the Recording."""
    c = client(srv)
    port, dead = c.port, closed_port()

    def progress(n, outcome):
        c.port = dead if n == 2 else port

    with Clock(read_us=READ_US) as clock:
        return ei.record(Motion(clock, slow=range(6 * WINDOW_ROWS, 7 * WINDOW_ROWS), slow_us=30000),
                         INTERVAL_MS, WINDOW_ROWS * INTERVAL_MS, label=label, windows=windows, client=c,
                         progress=progress)


def record_queued(srv, folder, label="run", windows=6, gone_from=2, phase=1000):
    """A recording to `srv` with an offline queue in `folder`: the network goes before window
    `gone_from` and does not come back before the recording ends, so those windows stay queued.
    Returns (the Recording, flush): flush() sends the queue once the network is back."""
    c = client(srv)
    port, dead = c.port, closed_port()
    q = Queue(str(folder))

    def progress(n, outcome):
        if n == gone_from - 1:
            c.port = dead

    with Clock(read_us=READ_US) as clock:
        rec = ei.record(Motion(clock, phase), INTERVAL_MS, WINDOW_ROWS * INTERVAL_MS, label=label, windows=windows,
                        client=c, queue=q, progress=progress)

    def flush():
        c.port = port
        return q.flush(c)
    return rec, flush


def record_overrun(srv, label="fifo"):
    """A recording of the LIS3DH (the register-level fake, fifo=True) at 100 Hz in 1 s windows
    to `srv`: a second without a drain after window 1 overruns its FIFO, so window 2 ends
    short and window 3 says `lost_before`. Returns the Recording. (No queue: the fake's rows
    repeat every 50, so windows that start 50 rows apart are the same bytes, and a queue's
    flush, which sends x-disallow-duplicates, would count the second as stored already.)"""
    from recording_checks import fifo_chip
    with Clock(read_us=READ_US) as clock:
        chip, _ = fifo_chip(clock)

        def progress(n, outcome):
            if n == 1:
                clock.stall(1000000)
        return ei.record(chip, None, 1000, label=label, windows=5, client=client(srv), progress=progress)


def post_window(srv, rid, n, first_row, rows, label="walk", interval_ms=INTERVAL_MS, phase=0, **metadata):
    """Window n of recording rid, rows first_row.. of value(k, phase), uploaded by the firmware's
    client and encoder with the x-metadata ei.record writes (and `metadata` over it)."""
    period_us = int(interval_ms * 1000)
    meta = {"recording": rid, "window": str(n), "first_row": str(first_row),
            "offset_ms": "%d.%03d" % divmod(first_row * period_us, 1000), "late_rows": "0", "max_late_ms": "0"}
    meta.update(metadata)
    s = Sample(device_name="walk-board", device_type="MICROPYTHON", interval_ms=interval_ms,
               sensors=AXES, values=[value(first_row + i, phase) for i in range(rows)])
    return client(srv).upload(s, "training", file_name="%s.%s.%05d.cbor" % (label, rid, n), label=label,
                              metadata=meta)
