"""Continuous recording on the emulated Pico (issue 19): boards/rp2_pico as `make deploy` puts
it, with "record_label" in config.json, records its MPU6050 at boot (ei.boot() runs
ei.collect(): ei.record to the offline queue on littlefs, the Pico having no network) in
windows of "record_window_ms", until Ctrl-C on its USB serial port. Then the queue on flash
is read back and held against what the chip made: the chip model (tools/chips/fake_i2c.py,
clocked by emulated time) logs each conversion, whose values say its number, each read of its
output registers and when, and each start and overflow of its FIFO.

Polled at the board's 100 Hz, every read is one row, in order, in windows that follow each
other; a flash erase stalls the CPU 45 ms (tools/pico/emulator.mjs), as a Pico's does, so
rows after one are read late, and each window's late_rows and max_late_ms say so as the
chip's clock does. Drained from the chip's FIFO at 500 Hz (of the MPU6050's 1000 / n Hz,
the fastest the Pico keeps while it writes its windows to flash: `make bench`), every
conversion from the first after the recording started is one row, none lost, none twice.
"""
import hashlib
import hmac
import json
import re
import time

import cbor2

from fake_i2c import G, FakeMPU6050
from pico_board import board_files, booted, read_files

WINDOW_MS = 500
WINDOWS = 4  # whole windows queued before Ctrl-C; the one being read then is queued shorter
# a row's number in its values: x steps 0.02 m/s2 a conversion (16.7 counts at +-4 g)
STEP = 0.02


class LoggedMPU6050(FakeMPU6050):
    """The MPU6050 model, which says what it made and what was read: `made`, the emulated
    time (s) of each conversion, numbered from 0 and written into its values (number(row)
    reads it back); `reads`, (conversion in the output registers, emulated ns) of each
    read of ACCEL_XOUT_H (a polled row; one made during a read is held until it ends); `fifo_starts`, the number of the next conversion at each start of its
    FIFO; `overflows`, the conversion that overflowed it each time. `bus` (the Pico's I2C0)
    gives the time of a read."""

    def __init__(self):
        self.made, self.reads, self.fifo_starts, self.overflows = [], [], [], []
        self.latched = self.held_made = -1  # the conversions in the output registers, held
        super().__init__()
        self.bus = None
        self.motion = self.convert

    def convert(self, t):
        n = len(self.made)
        self.made.append(t)
        return ((n % 1000) * STEP - 10, (n // 1000) * STEP - 10, G)

    def latch(self, s):
        # s is the last conversion made; during a read the chip holds it until the read
        # ends (register map 4.17): the registers read then hold the one before
        if self._reading:
            self.held_made = len(self.made) - 1
        else:
            self.latched = len(self.made) - 1
        super().latch(s)

    def end_read(self):
        if self.held is not None:
            self.latched = self.held_made
        super().end_read()

    def get(self, reg):
        if reg == 0x3B:  # ACCEL_XOUT_H: the first byte of a read of the output registers
            self.reads.append((self.latched, self.bus.now_ns))
        return super().get(reg)

    def put(self, reg, value):
        if reg == 0x6A and value & 0x40:  # USER_CTRL FIFO_EN: queueing starts
            self.fifo_starts.append(len(self.made))
        super().put(reg, value)

    def queue(self, s):
        if len(self.fifo) + len(s) > self.DEPTH:
            self.overflows.append(len(self.made) - 1)
        super().queue(s)


def number(row):
    """The conversion a row holds, from its x and y."""
    return int(round((row[0] + 10) / STEP)) + 1000 * int(round((row[1] + 10) / STEP))


def record(config):
    """boards/rp2_pico with `config` booted and recording; Ctrl-C once WINDOWS windows are
    queued. (what it printed, the Recording it printed as a dict, the queue's entries in
    order as dicts, the chip)."""
    cfg = dict({"daemon": False, "record_label": "walk", "record_window_ms": WINDOW_MS},
               **config)
    files = board_files("rp2_pico", cfg, go=True)
    chip = LoggedMPU6050()
    with booted(files, chips=[chip]) as pico:
        chip.bus = pico.i2c[0]
        pico.write(b"g")
        queued(pico, b"window %d: queued as" % (WINDOWS - 1))
        pico.write(b"\x03")  # Ctrl-C: the window being read is queued, shorter
        pico.read_until(b">>> ", 120)  # the recording returned; main.py ended: the REPL
        text = pico.text().replace("\r\n", "\n")
    assert "Traceback" not in text and "warning" not in text, text
    said = re.search(r"<Recording (\w{8}): (\d+) windows, (\d+) rows; (\d+) sent, (\d+) queued, "
                     r"(\d+) flushed, (\d+) dropped; (\d+) late rows \(at most (\d+) us\), "
                     r"(\d+) lost, interrupted>", text)
    assert said, text
    rec = dict(zip(("id", "windows", "rows", "sent", "queued", "flushed", "dropped", "late_rows",
                    "max_late_us", "lost"), [said.group(1)] + [int(v) for v in said.groups()[1:]]))
    left = read_files(pico.flash)
    names = sorted(p for p in left if p.startswith("queue/"))
    key = json.loads(files["config.json"])["hmac_key"]  # the example's: entries are signed
    entries = [entry(name, left[name], key) for name in names]
    # each window's line, as it was queued
    assert re.findall(r"window (\d+): queued as (\d+\.eiq)", text) == [
        (str(n), name[len("queue/"):]) for n, name in enumerate(names)], text
    return text, rec, entries, chip


def queued(pico, token, timeout=120):
    """Wait for `token`; fail at once, with what it said, if the board gave the REPL back
    first (the recording stopped)."""
    end = time.monotonic() + timeout
    while token not in pico.output:
        assert b">>> " not in pico.output and time.monotonic() < end, pico.text()
        time.sleep(0.05)


def entry(name, data, hmac_key):
    """A queue entry on flash: its EIQ1 header, its x-metadata and its sample, whose HS256
    signature (the config's hmac_key) is checked as the ingestion service checks it."""
    head, _, body = data.partition(b"\n")
    assert head.startswith(b"EIQ1 ") and name.endswith(".eiq"), (name, head[:40])
    e = json.loads(head[5:])
    assert e["size"] == len(body), (name, e["size"], len(body))
    sample = cbor2.loads(body)
    sig = sample["signature"]
    mac = hmac.new(hmac_key.encode(), body.replace(sig.encode(), b"0" * 64), hashlib.sha256)
    assert sample["protected"]["alg"] == "HS256" and mac.hexdigest() == sig, name
    e["x-metadata"] = json.loads(e["metadata"])
    e["sample"] = sample["payload"]
    return e


def check_windows(rec, entries, interval_ms):
    """Every window queued, in order, contiguous: each one's first row follows the last of the
    one before, as its x-metadata says; whole windows of WINDOW_MS but the last (Ctrl-C).
    The rows of the recording, in order."""
    assert rec["windows"] == rec["queued"] == len(entries) >= WINDOWS + 1, (rec, len(entries))
    assert rec["sent"] == rec["flushed"] == rec["dropped"] == rec["lost"] == 0, rec
    w = int(WINDOW_MS / interval_ms)
    rows = []
    for n, e in enumerate(entries):
        meta, payload = e["x-metadata"], e["sample"]
        assert (e["category"], e["label"], e["file_name"], e["content_type"]) == (
            "training", "walk", "walk.%s.%05d.cbor" % (rec["id"], n), "application/cbor"), e
        assert (meta["recording"], meta["window"], meta["first_row"]) == (
            rec["id"], str(n), str(len(rows))), (n, meta)
        assert meta["offset_ms"] == "%.3f" % (len(rows) * interval_ms), (n, meta)
        assert "lost_before" not in meta, (n, meta)
        assert payload["interval_ms"] == interval_ms, (n, payload["interval_ms"])
        assert payload["device_type"] == "RASPBERRY_PI_PICO" and payload["sensors"] == [
            {"name": a, "units": "m/s2"} for a in ("accX", "accY", "accZ")], payload
        values = payload["values"]
        last = n == len(entries) - 1
        assert len(values) == w or (last and 0 < len(values) < w), (n, len(values))
        assert all(abs(v[2] - G) < 0.002 for v in values), n  # one count at +-4 g
        rows += values
    assert len(rows) == rec["rows"], (len(rows), rec)
    return rows


def test_a_polled_recording_queues_every_read_once_in_contiguous_windows_and_counts_late_rows():
    text, rec, entries, chip = record({})
    rows = check_windows(rec, entries, 10)
    # every read of the chip is one row, in order, none lost or twice (Ctrl-C may come
    # between the last read and its row being kept: that read is after the recording)
    reads = chip.reads
    assert len(reads) - len(rows) in (0, 1), (len(reads), len(rows))
    assert [number(r) for r in rows] == [n for n, _ in reads[:len(rows)]]
    # row k's deadline is the first read's + k periods: how late each read was by the chip's
    # clock, against what each window says (the board counts from its ticks just before the
    # read: give or take a millisecond)
    period = 10e6
    late_ns = [t - reads[0][1] - k * period for k, (_, t) in enumerate(reads[:len(rows)])]
    assert min(late_ns) > -0.5e6, min(late_ns)  # never early
    first = 0
    late_rows = 0
    for e in entries:
        meta, n = e["x-metadata"], len(e["sample"]["values"])
        own = late_ns[first:first + n]
        surely = sum(1 for d in own if d >= period + 1e6)
        maybe = sum(1 for d in own if d >= period - 1e6)
        assert surely <= int(meta["late_rows"]) <= maybe, (meta, own)
        assert abs(int(meta["max_late_ms"]) - max(own) / 1e6) <= 1.5, (meta, max(own))
        late_rows += int(meta["late_rows"])
        first += n
    assert rec["late_rows"] == late_rows, (rec, late_rows)
    assert abs(rec["max_late_us"] - max(late_ns) / 1e3) <= 1500, (rec, max(late_ns))


def test_a_fifo_recording_at_500_hz_queues_every_conversion_once_and_loses_none():
    text, rec, entries, chip = record({"fifo": True, "interval_ms": 2})
    rows = check_windows(rec, entries, 2)
    assert rec["late_rows"] == rec["max_late_us"] == 0, rec
    assert all("late_rows" not in e["x-metadata"] for e in entries)  # the chip keeps time
    # the FIFO started when the board opened the chip at boot, and again when the recording
    # started (what it queued between is not the recording's): never again, and never full
    assert len(chip.fifo_starts) == 2, chip.fifo_starts
    start = chip.fifo_starts[1]
    assert not [n for n in chip.overflows if n >= start], chip.overflows
    # every conversion from the first after that start, in order: none lost, none twice
    got = [number(r) for r in rows]
    assert got == list(range(start, start + len(rows))), (got[:3], start)
    # and each window's offset_ms is its first row's time on the chip's clock
    for e in entries:
        k = int(e["x-metadata"]["first_row"])
        assert abs(chip.made[start + k] - chip.made[start] - k * 0.002) < 1e-6
