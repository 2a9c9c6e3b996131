# A recording whose rate and heap bench.py measures, in real time on a MicroPython unix port:
#   micropython -X heapsize=N -m mp_record HZ WINDOWS WINDOW_MS HOST PORT QUEUE_DIR [CHUNK]
#   micropython -X heapsize=N -m mp_record HZ ROWS sample      (ei.sample alone: no upload)
# A 3-axis sensor (a fresh tuple a read, as the drivers' read() makes) is recorded in windows
# uploaded to HOST:PORT (retries=0: a window that fails or falls behind goes to the queue in
# QUEUE_DIR). Prints "OK rows= windows= sent= queued= flushed= dropped= late_rows=
# max_late_us= heap_first= heap_last= ring=": heap_* is gc.mem_alloc() after a collection
# when the second and the last window were handed off; ring the bytes of the ring's rows.
import gc
import sys

import ei

AXES = (("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2"))


class Sensor:
    axes = AXES

    def __init__(self):
        self.i = 0

    def read(self):
        self.i += 1
        return (self.i * 0.001, -1.0, 9.81)


def sample_alone(hz, rows):
    s = ei.sample(Sensor(), 1000 / hz, rows, device_type="BENCH")
    print("OK rows=%d late_rows=%d max_late_us=%d" % (len(s), s.timing.late_rows,
                                                      s.timing.max_late_us))


def record(hz, windows, window_ms, host, port, queue_dir, chunk=512):
    from ei.recording import Recorder
    heap = []

    def progress(n, outcome):
        if n in (1, windows - 1):
            gc.collect()
            heap.append(gc.mem_alloc())

    c = ei.Client("ei_6040df080906d06f090e05013b7090580b707a0b050eb04d00350504070a2040",
                  host=host, port=port, tls=False, retries=0, timeout=5, min_rate=1 << 20,
                  chunk=chunk)
    r = Recorder(Sensor(), 1000 / hz, window_ms, "bench", windows, "training", c,
                 ei.Queue(queue_dir), progress, None, "BENCH", None)
    ring = r.cap * r.ring.row_len
    rec = r.run()
    print("OK rows=%d windows=%d sent=%d queued=%d flushed=%d dropped=%d late_rows=%d "
          "max_late_us=%d heap_first=%d heap_last=%d ring=%d" % (
              rec.rows, rec.windows, rec.sent, rec.queued, rec.flushed, rec.dropped,
              rec.late_rows, rec.max_late_us, heap[0], heap[-1], ring))


if sys.argv[3] == "sample":
    sample_alone(float(sys.argv[1]), int(sys.argv[2]))
else:
    record(float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4],
           int(sys.argv[5]), sys.argv[6], *[int(a) for a in sys.argv[7:]])
