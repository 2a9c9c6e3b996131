# The benchmark's jobs on the emulated Pico (tools/bench/pico.py boots it with this file and
# timing.py as .mpy, and an MPU6050 on I2C0). main.py calls run(job, *args); each prints one
# "OK key=value ..." line. MicroPython code; time is the board's own clock.
import gc
import sys

from machine import I2C, Pin

AXES = (("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2"))


def mpu6050(rate_hz):
    import ei.sensors
    return ei.sensors.open(I2C(0, scl=Pin(5), sda=Pin(4), freq=400000), "mpu6050",
                           rate_hz=rate_hz)


def daemon():
    """The heap after `import ei`, then the least heap free while ei.daemon() serves what the
    host sends on the USB serial port (tools/bench/pico.py: a 10 s sample at 100 Hz, read
    back and unlinked), until Ctrl-C: a soft timer collects and reads gc.mem_free() every
    25 ms of the board's clock (10 ms leaves Python no time), between the VM's instructions,
    so that sampling, encoding, reading back and each command's modules are seen (not the
    compiler's own peak inside a .py import: no Python runs then). boards/rp2_pico's
    board.py and config.json are beside this file."""
    from machine import Timer
    gc.collect()
    boot = gc.mem_free()
    import ei
    gc.collect()
    after_import = gc.mem_free()
    least = [after_import]
    looks = [0]

    def look(t):
        gc.collect()
        free = gc.mem_free()
        looks[0] += 1
        if free < least[0]:
            least[0] = free

    timer = Timer(period=25, callback=look)
    try:
        ei.daemon()
    finally:
        timer.deinit()
    print("OK boot_free=%d import_free=%d least_free=%d looks=%d" % (
        boot, after_import, least[0], looks[0]))


def sampler(hz, n, path=None):
    """Period error, p99 jitter and end drift of ei.sample reading the MPU6050 over I2C at
    hz, n rows, to RAM or to a capture file at path."""
    import ei
    import timing
    hz = int(hz)
    n = int(n)
    sensor = timing.Clocked(n, mpu6050(hz).read)
    s = ei.sample(sensor, 1000 / hz, n, device_type="BENCH", path=path)
    print("OK " + timing.report(sensor.times, 1000000 // hz, s))


def queue(entries, rows):
    """Queue `entries` samples of `rows` rows (3 float32 values each), one a line "PUT i"
    after each, so that the host can read the flash counters between them."""
    import ei
    from ei.queue import Queue
    q = Queue("queue")
    for i in range(int(entries)):
        s = ei.Sample(device_type="BENCH", interval_ms=10, sensors=AXES)
        for r in range(int(rows)):
            s.append((r * 0.25, -r * 0.5, 9.80665))
        q.put(s, label="idle")
        print("PUT", i)
        sys.stdin.buffer.read(1)  # the host has read the counters
    print("OK entries=%d" % len(q))


def record(window_s, windows):
    """ei.collect(window_s=) of the board's MPU6050 to the offline queue on flash (the Pico has
    no network), `windows` windows; its config.json says the rate (interval_ms) and whether
    the chip's FIFO is drained. What the Recording counted."""
    import ei
    rec = ei.collect("bench", seconds=float(window_s) * int(windows), window_s=float(window_s))
    print("OK windows=%d rows=%d queued=%d late_rows=%d max_late_us=%d overruns=%d lost=%d" % (
        rec.windows, rec.rows, rec.queued, rec.late_rows, rec.max_late_us, rec.overruns,
        rec.lost_rows))


def run(job, *args):
    {"daemon": daemon, "sampler": sampler, "queue": queue, "record": record}[job](*args)
