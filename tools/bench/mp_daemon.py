# ei.daemon() at a small heap, from .mpy (test_memory.py's daemon bound, and make bench):
#   micropython -X heapsize=40k -m mp_daemon HOME SECONDS HMAC_KEY
# Serves what edge-impulse-daemon sends for one Studio sample (AT+SAMPLESETTINGS, then
# AT+SAMPLESTART of SECONDS at 100 Hz from the simulated accelerometer, AT+READFILE and
# AT+UNLINKFILE) in HOME as a board's flash (config.json at its root, the daemon's files in
# daemon/). The daemon's output goes to HOME/out.txt, as a serial port takes it (nothing of it
# kept in RAM), for the host to check.
# Prints "OK bytes=N errors=N": the bytes the daemon wrote, and its ERR lines among them.
import gc
import sys

from ei.sim import Accelerometer


class Board:
    NAME = "unix"
    DEVICE_TYPE = "MICROPYTHON_BENCH"
    INTERVAL_MS = 10
    NETWORK = None

    def setup(self, cfg):
        pass

    def sensor(self, cfg):
        return Accelerometer("wave")

    def device_name(self):
        return "bench-daemon"


class Port:
    """The serial port's host side: each write goes to the file."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.bytes = 0

    def write(self, b):
        self.bytes += len(b)
        self.f.write(b)


class Commands:
    """The daemon's input: the commands' bytes, one at a time, then the end."""

    def __init__(self, data):
        self.data = data
        self.i = 0

    def read(self, n=1):
        b = self.data[self.i:self.i + n]
        self.i += len(b)
        return b


def main(home, seconds, key):
    import json
    import os
    from ei import collector
    os.chdir(home)  # paths as a board's, from the root of its flash
    with open("config.json") as f:
        cfg = json.loads(f.read())
    collector.use(Board(), cfg, "config.json")
    name = "daemon/heap"
    data = ("AT+SAMPLESETTINGS=heap,10,%d,%s\rAT+SAMPLESTART=Accelerometer\r"
            "AT+READFILE=%s,n\rAT+UNLINKFILE=%s\r" % (int(seconds) * 1000, key, name, name))
    inp = Commands(data.encode())
    cfg = data = None
    port = Port("out.txt")
    gc.collect()
    import ei
    ei.daemon(inp, port, start_delay_ms=0)
    port.f.close()
    print("OK bytes=%d errors=%d" % (port.bytes, errors("out.txt")))


def errors(path):
    """The ERR lines in the file, read a piece at a time."""
    n = 0
    tail = b""
    with open(path, "rb") as f:
        while True:
            piece = f.read(256)
            if not piece:
                return n
            text = tail + piece
            n += text.count(b"ERR: ") - tail.count(b"ERR: ")
            tail = text[-4:]


main(*sys.argv[1:4])
