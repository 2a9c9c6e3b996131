"""`make bench`'s third table: ei on the emulated Raspberry Pi Pico (tools/pico: MicroPython
1.28.0's own rp2 firmware in rp2040js), on the board's own clock, with an MPU6050 emulated on
I2C0 (read through the rp2 port's machine.I2C at 400 kHz: each read takes its bus time).

- heap: gc.mem_free() at boot and after `import ei`, and the least free (after a collection
  every 100 rows) during a 10 s sample at 100 Hz into a capture file, as ei.collect and the
  daemon sample; ei from .py, from .mpy (the port's mpy-cross) and frozen in (RPI_PICO with
  manifest.py);
- the sampler at 100 Hz and 1 kHz, to RAM and to a capture file on littlefs: mean period
  error, p99 jitter and end drift (tools/bench/timing.py), each a read of the MPU6050;
  flash erases stall the CPU for the flash chip's typical 45 ms (emulator.mjs);
- flash bytes programmed and erased per queued sample (100 rows of 3 float32 values), from
  the emulator's count of the boot ROM's flash calls;
- the emulator's speed: emulated seconds per wall second, while Python runs (the 1 kHz
  sampler) and over the whole table.
This is a benchmark, not a test.
"""
import pathlib
import re
import sys
import time

from tools.chips.fake_i2c import FakeMPU6050
from tools.pico.board import FIRMWARE, FIRMWARE_FROZEN, Pico, ei_files, mpy

HERE = pathlib.Path(__file__).resolve().parent
END = b"\x1eEND"
MAIN = """import sys
sys.stdin.buffer.read(1)
try:
    import pico_jobs
    pico_jobs.run(%s)
except Exception as e:
    sys.print_exception(e)
print("\\x1eEND")
"""


def files(call, form="mpy"):
    f = {} if form == "frozen" else ei_files(compiled=form != "py")
    for name in ("pico_jobs.py", "timing.py"):
        f[name[:-3] + ".mpy"] = mpy((HERE / name).read_bytes(), name)
    f["main.py"] = (MAIN % call).encode()
    return f


def job(call, form="mpy", between=None):
    """Run pico_jobs.run(call) on a fresh board; (its OK values, the emulator's counters
    before and after the job). between(pico, line) answers a job that waits for the host."""
    pico = Pico(files=files(call, form), chips=[FakeMPU6050()],
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


def main():
    say = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    for fw in (FIRMWARE, FIRMWARE_FROZEN):
        if not fw.is_file():
            print("\n(no emulated Pico rows: %s not built; `make runtimes` builds it)" % fw)
            return 1
    started = time.monotonic()
    emulated = 0.0
    out = ["", "The emulated Raspberry Pi Pico (MicroPython 1.28.0 RPI_PICO in rp2040js; its "
           "own clock; an MPU6050 on I2C0 at 400 kHz): heap",
           "", "| ei | free at boot | free after `import ei` | `import ei` keeps | least free "
           "during a 10 s sample at 100 Hz to flash |", "|---|---|---|---|---|"]
    for form, label in (("py", "from .py"), ("mpy", "from .mpy"), ("frozen", "frozen in")):
        say("pico: heap, ei %s ..." % label)
        v, b, a = job("'heap', 10, 100", form)
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
    say("pico: flash writes per queued sample ...")
    programmed, erased = flash_per_entry()
    wall = time.monotonic() - started
    out += ["", "Flash written per queued sample of 100 rows (3 float32 values a row, CBOR "
            "entry of ~%d bytes): %d bytes programmed, %d bytes erased (4 KB sectors)."
            % (100 * 16 + 200, programmed, erased),
            "", "The emulator: %.2f emulated s per wall s while Python runs (the 1 kHz sampler); "
            "%.1f emulated s in %.0f wall s over this table (idle waits cost no wall time)."
            % (speed, emulated, wall)]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
