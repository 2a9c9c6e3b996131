# The recording: a sensor read at fixed deadlines from the recording's start to its end (never
# restarted), cut every window_ms into a Sample that is uploaded, or queued, while the next
# window is read. Row k belongs to the deadline start + k * interval, in every window.
#
# Where rows wait: one ring of rows made when the recording starts (two windows and a slack
# of ring_ms; the rows kept as their CBOR, ei/rows.py), so the memory a recording holds does
# not change with its length. A window is handed off when it is whole: uploaded by the client
# with its idle hook set (Client.idle: run after each 512-byte piece of the body is written,
# every idle_ms while the answer is awaited and during a retry's backoff), and the hook reads
# every row that is due into the ring meanwhile. A driver opened with fifo=True is drained in
# bursts there instead. When the window after it is whole too and half the slack is used,
# the hook ends the upload and the window goes to the offline queue, so reads never wait for
# the network; when the ring is full, rows wait for room and are read late (counted in their
# window's timing, never dropped). A window the client cannot deliver is queued; once a
# request has failed, the next windows go to the queue and the queue is flushed, oldest
# first, at the next hand-offs. Each window's place in the recording goes with it as
# x-metadata: recording, window, first_row, offset_ms, late_rows, max_late_ms (and
# lost_before after a FIFO overrun).
from ei import deadlines
from ei.acquisition import Sample
from ei.compat import const, ticks_us, ticks_add, ticks_diff, sleep_ms
from ei.errors import (BadRequest, CaptureStopped, Duplicate, IngestionError, QueueFull,
                       TransportError, Msg)
from ei.log import log, INFO, WARNING
from ei.rows import Rows

_BACKOFF_S = const(30)  # after failures, network attempts are spread up to this far apart
# error texts (ei/messages.py)
_M_NOWHERE = const(192)
_M_NEEDS_SOCKET = const(193)
_M_WINDOWS = const(194)
_M_BELOW_MICROSECOND = const(182)
_M_WINDOW_MS = const(195)
_M_WINDOW_SLOT = const(196)
_M_RECORDING_STOPPED = const(197)


class Behind(Exception):
    """Raised by the idle hook to end a request: the next window is whole and the ring's
    slack is half used, so the window being sent goes to the queue instead."""


class Recording:
    """What a recording did (ei.record returns it; progress and the log say it as it goes):
    windows handed off, rows read, and where the windows went: sent (the service has them),
    queued, flushed (queued ones sent later), dropped (refused, or no queue to keep them);
    rows read late (a period or more after their deadline) and the latest; FIFO overruns
    and the rows they lost; whether Ctrl-C ended it."""

    def __init__(self, rid):
        self.id = rid
        self.windows = self.rows = self.sent = self.queued = self.flushed = 0
        self.dropped = self.late_rows = self.max_late_us = self.overruns = 0
        self.lost_rows = 0
        self.interrupted = False
        self.error = None  # what stopped it, when a sensor failed

    def __repr__(self):
        return ("<Recording %s: %d windows, %d rows; %d sent, %d queued, %d flushed, %d dropped;"
                " %d late rows (at most %d us), %d lost%s>" % (
                    self.id, self.windows, self.rows, self.sent, self.queued, self.flushed,
                    self.dropped, self.late_rows, self.max_late_us, self.lost_rows,
                    ", interrupted" if self.interrupted else ""))


class _Window:
    """One window's rows in the ring (slots pos to pos + rows - 1, wrapping round): the
    re-readable source of its Sample. It has no cbor_rows, so the encoder packs its rows
    into its 512-byte chunk buffer and each socket write is one chunk: no read waits for a
    larger write (appended rows would go in 4 KB views), and ei.capture is not loaded.
    take() reads what is due every 8 rows as they are encoded: a window put in the queue
    runs no idle hook, and on a Pico encoding 500 rows to flash takes longer than the
    MPU6050's FIFO holds at 1 kHz (170 ms)."""

    def __init__(self, ring, cap, take):
        self.ring = ring
        self.cap = cap
        self.take = take
        self.pos = self.rows = 0

    def iter_rows(self):
        take = self.take
        for i in range(self.rows):
            if not i & 7:
                take()  # into free slots only: this window's stay as they are
            yield self.ring.row((self.pos + i) % self.cap)


class Recorder:
    """ei.record's state; see record()."""

    def __init__(self, sensor, interval_ms, window_ms, label, windows, category, client,
                 queue, progress, ring_ms, device_type, device_name):
        from ei import wire
        from ei.compat import urandom
        from binascii import hexlify
        self.axes = deadlines.check_sensor(sensor)
        self.fifo = getattr(sensor, "fifo", False) and hasattr(sensor, "read_fifo")
        if self.fifo:
            interval_ms = deadlines.fifo_interval(sensor, interval_ms)
        wire.check_category(category)
        if label is not None:
            wire.check_header(label, "label")
        if client is None and queue is None:
            raise ValueError(Msg(_M_NOWHERE))
        if client is not None and getattr(client, "transport", "socket") != "socket":
            raise ValueError(Msg(_M_NEEDS_SOCKET))
        if windows is not None and (not isinstance(windows, int) or windows < 1):
            raise ValueError(Msg(_M_WINDOWS, windows))
        # checks interval_ms, device_type and device_name as any Sample; checks rows later
        self.meta = Sample(device_name=device_name, device_type=device_type,
                           interval_ms=interval_ms, sensors=self.axes, rows=0)
        self.interval_ms = self.meta.interval_ms
        self.period = int(self.interval_ms * 1000 + 0.5)
        if self.period < 1:
            raise ValueError(Msg(_M_BELOW_MICROSECOND, interval_ms))
        if not isinstance(window_ms, (int, float)) or isinstance(window_ms, bool) \
                or window_ms < self.interval_ms:
            raise ValueError(Msg(_M_WINDOW_MS, self.interval_ms, window_ms))
        self.w = int(window_ms / self.interval_ms + 0.5)  # rows a window
        slack = self.w // 2 if ring_ms is None else int(ring_ms / self.interval_ms + 0.5)
        self.slack = max(2, slack)
        self.cap = 2 * self.w + self.slack
        # the recording's memory, made now, whatever its length
        self.ring = Rows(len(self.axes), self.cap)
        self.win = _Window(self.ring, self.cap, self._take)
        # each window's Timing while it is in the ring (n % len: no more fit in it)
        self.timings = [None] * (self.cap // self.w + 2)
        self.sensor = sensor
        self.label = label
        self.limit = windows
        self.category = category
        self.client = client
        self.queue = queue
        self.sent_before = queue.sent if queue is not None else 0
        self.progress = progress
        self.rec = Recording(hexlify(urandom(4)).decode())
        self.closed = []  # whole windows not handed off yet: (n, pos, rows, first row, lost)
        self.stored = self.freed = 0  # rows put in the ring / whose slots are free again
        self.k = 0  # the next row's number in the recording
        self.fill = (0, 0, 0, 0)  # the window being read: (n, its first slot, row, lost)
        self.reading = False
        self.deadline = 0
        self.last_drain = 0
        self.failures = self.skip = 0
        self.error = None  # the sensor's error, or KeyboardInterrupt: the recording stops
        self.cap_skip = max(1, _BACKOFF_S * 1000 // int(window_ms))
        self.nap_ms = max(1, int(8 * self.interval_ms))  # FIFO: a quarter of a 32-row FIFO

    # --- reading -------------------------------------------------------------------------

    def _open_window(self, n, lost=0):
        self.fill = (n, self.stored, self.k, lost)
        if not self.fifo:
            self.timings[n % len(self.timings)] = deadlines.Timing(self.period, self.w)

    def _close_window(self):
        n, pos, first, lost = self.fill
        rows = self.stored - pos
        if rows:
            self.closed.append((n, pos, rows, first, lost))
            n += 1
        if self.limit is not None and n >= self.limit:
            self.reading = False
        self.fill = (n, self.stored, self.k, 0)
        if self.reading:
            self._open_window(n)

    def _put_row(self, row, late):
        self.ring.pack(self.stored % self.cap, row)
        n, pos = self.fill[0], self.fill[1]
        if late is not None:
            self.timings[n % len(self.timings)].note(self.stored - pos, late)
        self.stored += 1
        self.k += 1
        self.rec.rows += 1
        if self.stored - pos == self.w:
            self._close_window()

    def _room(self):
        return self.cap - (self.stored - self.freed)

    def _read_due(self):
        """Read every row whose deadline has come, while there is room (polling)."""
        now = ticks_us()
        while self.reading and ticks_diff(now, self.deadline) >= 0 and self._room():
            late = ticks_diff(now, self.deadline)
            try:
                row = self.meta.check_row(self.sensor.read(), self.k)
            except Exception as e:  # not KeyboardInterrupt: Ctrl-C just stops
                return self._sensor_failed(e)
            self.deadline = ticks_add(self.deadline, self.period)
            self._put_row(row, late)
            now = ticks_us()

    def _sensor_failed(self, e):
        """The sensor failed: reading stops, what was read is handed off, then run() raises."""
        self.error = e
        self._stop_reading()

    def _drain(self):
        """Drain the chip's FIFO into the ring, as much as there is room for (fifo=True).
        self.deadline is then about when the chip made the last row read: now, after a drain
        that emptied its FIFO; a period a row on, after one the ring's room cut short."""
        from ei.sensors import FifoOverrun
        now = self.last_drain = ticks_us()
        room = self._room()
        if not (self.reading and room):
            return
        if self.limit is not None:
            room = min(room, (self.limit - self.fill[0]) * self.w - (self.stored - self.fill[1]))
        try:
            rows = self.sensor.read_fifo(room)
            for row in rows:
                self.meta.check_row(row, self.k)
        except FifoOverrun as e:
            # the chip dropped what it held: the rows it made since the last one read are
            # lost, up to the driver's restart of its FIFO, just now (counted from that row,
            # not from the last drain: one the ring had no room for read nothing); the
            # window read so far ends here, and the next one starts where the chip is now
            now = ticks_us()
            lost = max(1, (ticks_diff(now, self.deadline) + self.period // 2) // self.period)
            self.deadline = now  # its next row comes a period from now
            self.rec.overruns += 1
            self.rec.lost_rows += lost
            log(WARNING, "recording %s: %s; about %d rows lost after row %d"
                % (self.rec.id, e, lost, self.k))
            self._close_window()
            self.k += lost
            self.fill = (self.fill[0], self.stored, self.k, lost)
            return
        except Exception as e:
            return self._sensor_failed(e)
        if len(rows) < room:
            self.deadline = now
        else:
            self.deadline = ticks_add(self.deadline, len(rows) * self.period)
        for row in rows:
            self._put_row(row, None)

    def _take(self):
        """Read what is due: rows at their deadlines, or the FIFO every nap."""
        if self.fifo:
            if ticks_diff(ticks_us(), self.last_drain) >= self.nap_ms * 500:
                self._drain()
        else:
            self._read_due()

    def idle(self, ms=0):
        """The client's idle hook while a window is handed off (Client.idle): read what is
        due, and end the request when the ring is nearly full and a queue can keep the
        window; for a retry's backoff, do so for ms."""
        end = ticks_add(ticks_us(), ms * 1000)
        while True:
            if self.reading:
                self._take()
                if self.queue is not None and \
                        self.cap - self._room() >= self.cap - self.slack // 2:
                    raise Behind()
            left = ticks_diff(end, ticks_us()) // 1000
            if left <= 0:
                return
            sleep_ms(min(left, self.client.idle_ms))

    # --- handing windows off -----------------------------------------------------------

    def _hand_off(self):
        n, pos, rows, first, lost = self.closed.pop(0)
        if pos != self.freed:  # would be a bug: windows leave the ring in order
            raise ValueError(Msg(_M_WINDOW_SLOT, n, pos, self.freed))
        self.win.pos, self.win.rows = pos, rows
        interval = self.interval_ms
        meta = {"recording": self.rec.id, "window": str(n), "first_row": str(first),
                "offset_ms": "%d.%03d" % divmod(first * self.period, 1000)}
        if not self.fifo:
            t = self.timings[n % len(self.timings)]
            # Deadlines are fixed over the whole recording: reads late because of an upload
            # catch up, and the interval kept is the one asked for. Only a sensor that falls
            # behind for good (even its least late reads at the window's end a period late)
            # gets the slope it kept written, as ei.sample does.
            if t.tail_late_us >= self.period:
                interval = t.interval_ms(interval)
            meta["late_rows"] = str(t.late_rows)
            meta["max_late_ms"] = str(t.max_late_us // 1000)
            self.rec.late_rows += t.late_rows
            if t.max_late_us > self.rec.max_late_us:
                self.rec.max_late_us = t.max_late_us
        if lost:
            meta["lost_before"] = str(lost)
        s = Sample(device_name=self.meta.device_name, device_type=self.meta.device_type,
                   interval_ms=interval, sensors=self.axes, values=self.win)
        name = "%s.%s.%05d.cbor" % (self.label or "recording", self.rec.id, n)
        try:
            outcome = self._deliver(s, name, meta)
        except BaseException:  # Ctrl-C mid-upload: the window is still to be handed off
            self.closed.insert(0, (n, pos, rows, first, lost))
            raise
        self.freed += rows
        self.rec.windows += 1
        if self.progress is not None:
            self.progress(n, outcome)

    def _deliver(self, s, name, meta):
        """Upload the window, or queue it; says what became of it."""
        c, q = self.client, self.queue
        why = "no client"
        if c is not None and q is not None and self.error is not None:
            why = "stopping"  # Ctrl-C or a failed sensor: the quickest place for it
        elif c is not None and self.skip:
            self.skip -= 1
            why = "offline"
        elif c is not None:
            if q is not None and len(q):
                # a backlog: this window joins it, and the queue is sent oldest first
                out = self._put(s, name, meta)
                self._flush()
                return out
            try:
                stored = c.upload(s, self.category, file_name=name, label=self.label,
                                  no_label=self.label is None, metadata=meta)
                self._ok()
                self.rec.sent += 1
                return "stored as %s" % (stored or name)
            except Behind:
                why = "behind"
            except Duplicate:
                self._ok()  # the service has these very bytes already
                self.rec.sent += 1
                return "already stored"
            except BadRequest as e:
                return self._drop(name, "refused by the service: %s" % (e.body,))
            except (TransportError, IngestionError) as e:
                why = "%s: %s" % (type(e).__name__, e)
                self._failed(why)
        if q is None:
            return self._drop(name, why)
        return self._put(s, name, meta)

    def _put(self, s, name, meta):
        try:
            entry = self.queue.put(s, self.category, label=self.label, file_name=name,
                                   no_label=self.label is None, add_date_id=False,
                                   metadata=meta)
        except (QueueFull, OSError) as e:
            return self._drop(name, "%s: %s" % (type(e).__name__, e))
        finally:
            self._forget()
        self.rec.queued += 1
        return "queued as %s" % entry

    def _flush(self):
        q = self.queue
        try:
            q.flush(self.client)
            self._ok()
        except Behind:
            pass
        except (TransportError, IngestionError) as e:
            self._failed("%s: %s" % (type(e).__name__, e))
        finally:
            self._forget()

    def _forget(self):
        """Count what the queue delivered (its lists keep only the last names: each was
        logged as it happened)."""
        self.rec.flushed = self.queue.sent - self.sent_before

    def _drop(self, name, why):
        self.rec.dropped += 1
        log(WARNING, "recording %s: %s dropped: %s" % (self.rec.id, name, why))
        return "dropped: " + why

    def _ok(self):
        if self.failures:
            log(INFO, "recording %s: the service answers again" % self.rec.id)
        self.failures = self.skip = 0

    def _failed(self, why):
        """A request failed: the next 0, 1, 3, 7, ... windows (at most 30 s of them) go
        straight to the queue, then the network is tried again."""
        if not self.failures:
            log(WARNING, "recording %s: %s; windows go to the queue" % (self.rec.id, why))
        self.failures += 1
        self.skip = min(self.cap_skip, (1 << min(self.failures - 1, 16)) - 1)

    # --- the recording -------------------------------------------------------------------

    def run(self):
        if self.fifo and hasattr(self.sensor, "restart_fifo"):
            # what the chip queued before the recording (an overrun after the board sat
            # idle since the driver opened it, at boot) is not the recording's, as in
            # ei.sample: counted as rows lost, it would open the recording with a gap
            self.sensor.restart_fifo()
        c = self.client
        saved = (c.idle, c.idle_ms) if c is not None else None
        if c is not None:
            c.idle = self.idle
            # a quarter of a period between the hook's runs while an answer is awaited:
            # a row is read at most that late then
            c.idle_ms = max(1, min(50, self.period // 4000))
        self.reading = True
        self._open_window(0)
        self.deadline = self.last_drain = ticks_us()
        try:
            while self.reading or self.closed:
                try:
                    self._loop()
                except KeyboardInterrupt as e:  # stop reading; what was read is kept
                    self.rec.interrupted = True
                    if self.error is not None:
                        raise  # a second Ctrl-C: stop now (what is left stays in RAM)
                    self.error = e
                    self._stop_reading()
        finally:
            if c is not None:
                c.idle, c.idle_ms = saved
        self._last_flush()
        if self.error is not None and not self.rec.interrupted:
            self.rec.error = e = self.error
            raise CaptureStopped(Msg(
                _M_RECORDING_STOPPED, self.rec.id, self.rec.rows, type(e).__name__, e,
                self.rec.windows, self.rec.sent, self.rec.queued, self.rec.dropped), None,
                self.rec.rows, e)
        return self.rec

    def _loop(self):
        while self.reading or self.closed:
            if self.closed:
                self._hand_off()
            elif self.fifo:
                sleep_ms(self.nap_ms)
                self._drain()
            else:
                deadlines.wait_until(self.deadline)
                self._read_due()

    def _stop_reading(self):
        """Reading stops; the window being read is closed, shorter."""
        if self.reading:
            self.reading = False
            self._close_window()

    def _last_flush(self):
        q = self.queue
        if self.client is not None and q is not None and len(q):
            self._flush()
            if len(q):
                log(WARNING, "recording %s: %d windows stay queued for a later flush"
                    % (self.rec.id, len(q)))


def record(sensor, interval_ms, window_ms, label=None, windows=None, category="training",
           client=None, queue=None, progress=None, ring_ms=None, device_type="MICROPYTHON",
           device_name=None):
    """Record `sensor` every `interval_ms` without a break, cut into windows of `window_ms`,
    each uploaded by `client` (to `category`, with `label`) while the next is read, or put
    in `queue` (no client, the network down, the client failing, or the upload slower than
    the ring's slack). Returns a Recording after `windows` windows, or when Ctrl-C stops it
    (the window being read is then handed off, shorter).

    Row k belongs to the deadline start + k * interval_ms; windows follow each other with no
    row between them; each carries its place as x-metadata (recording, window, first_row,
    offset_ms, late_rows, max_late_ms). progress(window, outcome) is called after each
    window is handed off. ring_ms: the slack beyond two windows (default half a window).
    A driver opened with fifo=True is drained in bursts at the chip's rate (interval_ms
    None takes it). A sensor that fails ends the recording with CaptureStopped, after the
    windows read are handed off. While recording, the client's idle hook is the recorder's
    (docs/recording.md)."""
    return Recorder(sensor, interval_ms, window_ms, label, windows, category, client, queue,
                    progress, ring_ms, device_type, device_name).run()
