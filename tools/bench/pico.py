"""`make bench`'s fourth table: ei on the emulated Raspberry Pi Pico (tools/pico: MicroPython
1.28.0's own rp2 firmware in rp2040js), on the board's own clock, with an MPU6050 emulated on
I2C0 (read through the rp2 port's machine.I2C at 400 kHz: each read takes its bus time).

- heap: gc.mem_free() at boot and after `import ei`, and the least free (a collection every
  25 ms of the board's clock, by a soft timer) while ei.daemon() serves a Studio sample of
  10 s at 100 Hz (AT+SAMPLESETTINGS; AT+SAMPLESTART: the MPU6050 into a capture file, then
  a signed CBOR file; AT+READFILE; AT+UNLINKFILE); ei from .py, from .mpy (the port's
  mpy-cross) and frozen in (RPI_PICO with manifest.py);
- Edge Impulse's own daemon code (EiSerialProtocol, through tools/node/daemon-peer.js)
  driving ei.daemon() on the board (boards/rp2_pico, ei as .mpy, paced: idle time follows
  the wall clock) through one Studio sample of 1 s: each command's answer, from its CR to
  the "> " after it, in wall time (what the daemon's timeouts count) and on the board's
  clock (what a Pico takes), against the timeout EiSerialProtocol gives it;
- the sampler at 100 Hz and 1 kHz, to RAM and to a capture file on littlefs: mean period
  error, p99 jitter and end drift (tools/bench/timing.py), each a read of the MPU6050;
  flash erases stall the CPU for the flash chip's typical 45 ms (emulator.mjs);
- flash bytes programmed and erased per queued sample (100 rows of 3 float32 values), from
  the emulator's count of the boot ROM's flash calls;
- a recording (issue 19) of the MPU6050 to the offline queue on flash, boards/rp2_pico's
  ei.collect(window_s=1) for 6 windows: the highest rate that loses no row, drained from the
  chip's FIFO (its 1000 / n Hz from 1 kHz down), and polled (whose rows are read late but
  never lost: from 100 Hz down, the highest with no row a period or more late);
  `python -m tools.bench.pico --record-only` prints these rows alone;
- the emulator's speed: emulated seconds per wall second, while Python runs (the 1 kHz
  sampler) and over the whole table.
This is a benchmark, not a test.
"""
import base64
import json
import pathlib
import subprocess
import sys
import tempfile
import threading
import time

import cbor2
import serial

from service import API_KEY, MockServer
from tools.chips.fake_i2c import FakeMPU6050
from tools.pico.board import FIRMWARE, FIRMWARE_FROZEN, Pico, ei_files, mpy

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BOARD = ROOT / "boards" / "rp2_pico"
NODE = ROOT / "tools" / "node"
END = b"\x1eEND"
HMAC_KEY = "pico-bench-hmac-key"
DAEMON_S = 10  # the daemon's sample for the heap: 1,000 rows at the board's 100 Hz
# The recordings to flash: windows of 1 s, 6 a run; the MPU6050's FIFO rates (1000 / n Hz)
# and polled rates, each tried from the top down
RECORD_WINDOW_S = 1
RECORD_WINDOWS = 6
FIFO_HZ = (1000, 500, 1000 / 3, 250)
POLLED_HZ = (100, 50, 25, 20, 10, 5)
MAIN = """import sys
sys.stdin.buffer.read(1)
try:
    import pico_jobs
    pico_jobs.run(%s)
except Exception as e:
    sys.print_exception(e)
print("\\x1eEND")
"""


def board_files(form="mpy", **config):
    """ei in `form` (none when frozen), boards/rp2_pico's .py files and its example config
    with `config`: what make deploy BOARD=rp2_pico puts on a Pico."""
    f = {} if form == "frozen" else ei_files(compiled=form != "py")
    for src in sorted(BOARD.glob("*.py")):
        f[src.name] = src.read_bytes()
    cfg = json.loads((BOARD / "config.example.json").read_text())
    cfg.update(config)
    f["config.json"] = json.dumps(cfg).encode()
    return f


def files(call, form="mpy", **config):
    """The board's files (its config.json with `config`), the jobs as .mpy, and a main.py
    that runs pico_jobs.run(call)."""
    f = board_files(form, daemon=False, **config)
    for name in ("pico_jobs.py", "timing.py"):
        f[name[:-3] + ".mpy"] = mpy((HERE / name).read_bytes(), name)
    f["main.py"] = (MAIN % call).encode()
    return f


def job(call, form="mpy", between=None, **config):
    """Run pico_jobs.run(call) on a fresh board (config: its config.json's changes); (its OK
    values, the emulator's counters before and after the job). between(pico, line) answers a
    job that waits for the host."""
    pico = Pico(files=files(call, form, **config), chips=[FakeMPU6050()],
                firmware=FIRMWARE_FROZEN if form == "frozen" else FIRMWARE)
    pico.start()
    try:
        pico.wait_connected()
        before = pico.report()
        wall = time.monotonic()
        pico.write(b"g")
        if between:
            between(pico)
        text = pico.read_until(END, timeout=600).decode(errors="replace")
        after = pico.report()
        after["wall_s"] = time.monotonic() - wall
    finally:
        pico.stop()
    ok = [line for line in text.splitlines() if line.startswith("OK ")]
    if not ok:
        raise RuntimeError("pico_jobs.run(%s) failed:\n%s" % (call, text))
    return dict(kv.split("=", 1) for kv in ok[-1].split()[1:]), before, after


def answer(pico, command, start, timeout=600):
    """Type `command` to the daemon and wait for its prompt: (its answer, as the daemon cuts
    it from the echo's CRLF to the prompt's, the output's end)."""
    pico.write(command.encode() + b"\r")
    said = pico.read_until(b"\r\n> ", timeout, start)
    return said[said.find(b"\r\n") + 2:-4].decode(errors="replace"), start + len(said)


def daemon_heap(form):
    """pico_jobs.daemon on a fresh board with ei in `form`, served a sample of DAEMON_S at
    100 Hz as the daemon asks for it: (its OK values, the counters before and after)."""
    name = "daemon/heap"
    rows = DAEMON_S * 100

    def serve(pico):
        start = len(pico.read_until(b"> ", 120))
        said, start = answer(pico, "AT+SAMPLESETTINGS=heap,10,%d,%s" % (DAEMON_S * 1000,
                                                                     HMAC_KEY), start)
        assert said == "OK", said
        said, start = answer(pico, "AT+SAMPLESTART", start)
        assert "Samples req: %d" % rows in said and said.endswith("OK"), said
        said, start = answer(pico, "AT+READFILE=%s" % name, start)
        sample = cbor2.loads(base64.b64decode(said))
        assert len(sample["payload"]["values"]) == rows, said[:200]
        said, start = answer(pico, "AT+UNLINKFILE=%s" % name, start)
        assert said == "", said
        pico.write(b"\x03")  # Ctrl-C: the daemon returns, the job prints what it saw

    return job("'daemon'", form, between=serve)


class TimedPico(Pico):
    """A Pico that notes, for each command line written to it, the wall and board time from
    its CR to the daemon's next prompt: `answers`, [(command, wall s, board s)]."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.answers = []
        self._typed = bytearray()
        self._waiting = None
        self._clock_lock = threading.Lock()

    def clock(self):
        """The board's clock now, in s."""
        with self._clock_lock:
            return self.report()["nanos"] / 1e9

    def write(self, data):
        self._typed += data
        if b"\r" in data:
            line = bytes(self._typed).split(b"\r")[0].decode(errors="replace")
            self._typed.clear()
            self._waiting = (line, len(self.output), time.monotonic(), self.clock())
        super().write(data)

    def watch(self, stop):
        """Until stop(): the prompt after each command, timed."""
        while not stop():
            w = self._waiting
            if w and self.output.find(b"> ", w[1]) >= 0:
                wall = time.monotonic() - w[2]
                self._waiting = None
                self.answers.append((w[0], wall, self.clock() - w[3]))
            time.sleep(0.001)


def timeout_s(command, length_ms):
    """The timeout EiSerialProtocol gives the command's answer: 5 s for the "b" it connects
    with, (length + 3000) * 10 ms for sampling and reading the sample back (startSampling
    adds 3000 to the length), 2 s for the rest (execCommand's default)."""
    if command == "b":
        return 5.0
    if command.split("=")[0] in ("AT+SAMPLESTART", "AT+READBUFFER", "AT+READFILE"):
        return (length_ms + 3000) * 10 / 1000
    return 2.0


def ei_daemon_answers(length_ms=1000):
    """EiSerialProtocol (tools/node/daemon-peer.js) driving ei.daemon() at boot on
    boards/rp2_pico (ei as .mpy; paced) through its set-up and one Studio sample of
    length_ms: each command's (name, its timeout in s, the slowest answer in wall s, that
    answer on the board's clock in s), and the emulator's counters before and after."""
    pico = TimedPico(files=board_files("mpy", api_key="ei_" + "5a" * 32, daemon=True),
                     chips=[FakeMPU6050()], paced=True, pty=True)
    server = None
    done = []
    store = tempfile.TemporaryDirectory(prefix="pico-bench-")
    pico.start()
    try:
        pico.wait_connected()
        pico.read_until(b"\r\n> ", 120)  # main.py: ei.setup(), then the daemon
        with serial.Serial(pico.port, timeout=0.2) as port:
            while port.read(4096):  # what it said before the daemon's peer opens the port
                pass
        server = MockServer(data_dir=store.name).start()
        watcher = threading.Thread(target=pico.watch, args=(lambda: bool(done),))
        watcher.start()
        before = pico.report()
        r = subprocess.run(
            ["node", str(NODE / "daemon-peer.js"), "--port", pico.port, "--ingestion",
             server.url, "--api-key", API_KEY, "--hmac-key", HMAC_KEY, "--mgmt-url",
             "ws://%s:%d/" % (server.host, server.port), "--label", "bench",
             "--length-ms", str(length_ms), "--interval-ms", "10"],
            capture_output=True, text=True, timeout=300)
        after = pico.report()
    finally:
        done.append(1)
        pico.stop()
        if server:
            server.stop()
        store.cleanup()
    if r.returncode or '"result"' not in r.stdout:
        raise RuntimeError("daemon-peer.js against the emulated Pico failed:\n%s\n%s"
                           % (r.stdout[-2000:], r.stderr[-2000:]))
    slowest = {}
    for line, wall, board in pico.answers:
        name = line.split("=")[0]
        if name not in slowest or wall > slowest[name][2]:
            slowest[name] = (name, timeout_s(line, length_ms), wall, board)
    return list(slowest.values()), before, after


def flash_per_entry(entries=5, rows=100):
    """Bytes programmed and erased per queued sample: the counters read after each put."""
    marks = []

    def between(pico):
        start = 0
        for i in range(entries):
            pico.read_until(b"PUT %d" % i, 300, start)
            start = len(pico.output)
            marks.append(pico.report()["flash"])
            pico.write(b"g")

    values, _, _ = job("'queue', %d, %d" % (entries, rows), between=between)
    # from the first put's end to the last's: the folder and first entry's set-up left out
    n = entries - 1
    programmed = (marks[-1]["programmed"] - marks[0]["programmed"]) / n
    erased = (marks[-1]["erased"] - marks[0]["erased"]) / n
    return programmed, erased


def recordings():
    """pico_jobs.record on boards/rp2_pico: its MPU6050 recorded to the queue on flash in
    RECORD_WINDOWS windows of RECORD_WINDOW_S, drained from the chip's FIFO at each of its
    1000 / n Hz rates from the top, then polled from 100 Hz down, each way until a rate
    keeps up (FIFO: no row lost; polled, whose rows are read late but never lost: no row a
    period or more late). [(way, Hz, its OK values, emulated s, wall s)] of every rate tried."""
    out = []
    for way, fifo, rates in (("FIFO", True, FIFO_HZ), ("polled", False, POLLED_HZ)):
        for hz in rates:
            v, b, a = job("'record', %r, %d" % (RECORD_WINDOW_S, RECORD_WINDOWS),
                          interval_ms=1000 / hz, fifo=fifo)
            v = {k: int(x) for k, x in v.items()}
            out.append((way, hz, v, (a["nanos"] - b["nanos"]) / 1e9, a["wall_s"]))
            if (v["lost"] if fifo else v["late_rows"]) == 0:
                break
    return out


def recording_rows(runs):
    """The table of recordings() and its summary: the highest rate kept each way."""
    out = ["", "A recording on the emulated Pico (boards/rp2_pico, ei.collect(window_s=%g) of its "
           "MPU6050, ei from .mpy) to the offline queue on flash (littlefs; a 4 KB erase stalls "
           "the CPU 45 ms), %d windows a run; each way from the top rate down until one keeps "
           "up" % (RECORD_WINDOW_S, RECORD_WINDOWS), "",
           "| read | rate | rows | windows queued | rows lost (FIFO overruns) | rows a period or "
           "more late | latest | emulated s | wall s |", "|---|---|---|---|---|---|---|---|---|"]
    best = {}
    for way, hz, v, emulated, wall in runs:
        out.append("| %s | %g Hz | %d | %d | %d (%d) | %d (%.0f%%) | %.1f ms | %.1f | %.0f |" % (
            way, hz, v["rows"], v["queued"], v["lost"], v["overruns"], v["late_rows"],
            100.0 * v["late_rows"] / max(1, v["rows"]), v["max_late_us"] / 1000, emulated, wall))
        if (v["lost"] if way == "FIFO" else v["late_rows"]) == 0:
            best.setdefault(way, hz)
    out += ["", "Highest rate with no row lost, drained from the FIFO: %s; polled (rows read late, "
            "never lost): every rate tried, and with no row a period or more late: %s." % (
                "%g Hz" % best["FIFO"] if "FIFO" in best else "none tried",
                "%g Hz" % best["polled"] if "polled" in best else "none tried")]
    return out


def main():
    say = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    for fw in (FIRMWARE, FIRMWARE_FROZEN):
        if not fw.is_file():
            print("\n(no emulated Pico rows: %s not built; `make runtimes` builds it)" % fw)
            return 1
    if "--record-only" in sys.argv:  # python -m tools.bench.pico --record-only: those alone
        print("\n".join(recording_rows(recordings())))
        return 0
    started = time.monotonic()
    emulated = 0.0
    out = ["", "The emulated Raspberry Pi Pico (MicroPython 1.28.0 RPI_PICO in rp2040js; its "
           "own clock; an MPU6050 on I2C0 at 400 kHz): heap",
           "", "| ei | free at boot | free after `import ei` | `import ei` keeps | least free "
           "while ei.daemon() serves a %d s sample at 100 Hz |" % DAEMON_S,
           "|---|---|---|---|---|"]
    for form, label in (("py", "from .py"), ("mpy", "from .mpy"), ("frozen", "frozen in")):
        say("pico: heap, ei %s, the daemon's %d s sample ..." % (label, DAEMON_S))
        v, b, a = daemon_heap(form)
        emulated += (a["nanos"] - b["nanos"]) / 1e9
        boot, imp, least = int(v["boot_free"]), int(v["import_free"]), int(v["least_free"])
        out.append("| %s | %s | %s | %s | %s |" % (label, "{:,}".format(boot),
                                                   "{:,}".format(imp),
                                                   "{:,}".format(boot - imp),
                                                   "{:,}".format(least)))
    out += ["", "The sampler on the emulated Pico, each row a read of the MPU6050 over I2C "
            "(ei from .mpy)", "",
            "| rate | rows | to | mean period error | p99 jitter | end drift | late rows |",
            "|---|---|---|---|---|---|---|"]
    speed = None
    for hz, n in ((100, 500), (1000, 2000)):
        for path in (None, "capture.eic"):
            say("pico: sampler %d Hz, %d rows, to %s ..." % (hz, n, path or "RAM"))
            v, b, a = job("'sampler', %d, %d, %r" % (hz, n, path))
            secs = (a["nanos"] - b["nanos"]) / 1e9
            emulated += secs
            if hz == 1000 and path is None:
                speed = secs / a["wall_s"]
            out.append("| %d Hz | %d | %s | %s us | %s us | %s us | %s |" % (
                hz, n, "a capture file" if path else "RAM", v["mean_err_us"],
                v["p99_jitter_us"], v["end_drift_us"], v["late_rows"]))
    say("pico: Edge Impulse's EiSerialProtocol driving ei.daemon() (paced) ...")
    answers, b, a = ei_daemon_answers()
    emulated += (a["nanos"] - b["nanos"]) / 1e9
    out += ["", "Edge Impulse's own daemon code (EiSerialProtocol) driving ei.daemon() on the "
            "emulated Pico (ei from .mpy; its idle time paced to the wall clock), its set-up "
            "and a Studio sample of 1 s: the slowest answer to each command, from its CR to "
            "the daemon's prompt, in wall time (what the timeout counts) and on the board's "
            "clock (what a Pico takes)", "",
            "| command | EiSerialProtocol's timeout | answered in (wall) | of the timeout | on "
            "the board's clock |", "|---|---|---|---|---|"]
    for name, limit, wall_s, board_s in answers:
        out.append("| `%s` | %g s | %.2f s | %.0f%% | %.2f s |" % (
            name, limit, wall_s, 100 * wall_s / limit, board_s))
    say("pico: flash writes per queued sample ...")
    programmed, erased = flash_per_entry()
    say("pico: recordings to flash, FIFO then polled, from the top rate down ...")
    runs = recordings()
    emulated += sum(r[3] for r in runs)
    wall = time.monotonic() - started
    out += ["", "Flash written per queued sample of 100 rows (3 float32 values a row, CBOR "
            "entry of ~%d bytes): %d bytes programmed, %d bytes erased (4 KB sectors)."
            % (100 * 16 + 200, programmed, erased)]
    out += recording_rows(runs)
    out += ["", "The emulator: %.2f emulated s per wall s while Python runs (the 1 kHz sampler); "
            "%.1f emulated s in %.0f wall s over this table (idle waits cost no wall time, "
            "but in the paced run of the daemon)."
            % (speed, emulated, wall)]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
