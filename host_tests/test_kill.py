"""A cut at any instant leaves the queue in its old state or its new one, never a torn entry.

The unix port puts large samples in a loop (each entry is written for a while, so kills land
mid-write too) and prints each name put() returned; this kills it (SIGKILL) at random moments.
After each kill the queue is opened from CPython, with the board's own ei.queue code: nothing
is moved aside, and it holds every entry put() returned, plus at most the one being written
(a put that had finished its rename but not yet returned). A SIGKILL ends the process at any
instruction; what it cannot show is a power cut's effect on the file system itself, which the
queue leaves to an atomic rename (LittleFS's is; see docs/reliability.md).
"""
import os
import pathlib
import random
import signal
import subprocess
import sys
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from conftest import FIRMWARE, MICROPYTHON, micropython_env  # noqa: E402

sys.path.insert(0, str(FIRMWARE))
from ei.queue import Queue  # noqa: E402

BOARD = r'''
import sys
import ei
from ei.queue import Queue

q = Queue(sys.argv[1], max_bytes=1 << 30)
i = len(q)
print("open")  # the kill's moment is counted from here, not from the process's start
while True:
    s = ei.Sample(device_name="kill-%d" % i, device_type="KILL", interval_ms=1,
                  sensors=[("x", "u"), ("y", "u"), ("z", "u")],
                  values=((i, r, 0.5) for r in range(3000)), rows=3000)
    print("put", q.put(s, label="kill"))
    i += 1
'''


def test_kills_at_random_moments_leave_old_or_new_state(tmp_path):
    rng = random.Random(4)
    script = tmp_path / "board.py"
    script.write_text(BOARD)
    path = tmp_path / "queue"
    returned = []
    mid_write = 0  # kills that found an entry half-written
    for kill in range(15):
        p = subprocess.Popen([str(MICROPYTHON), str(script), str(path)], env=micropython_env(),
                             stdout=subprocess.PIPE, text=True)
        lines = []
        opened = threading.Event()

        def read(out=p.stdout, lines=lines, opened=opened):
            for line in out:
                lines.append(line)
                opened.set()
        t = threading.Thread(target=read, daemon=True)
        t.start()
        # a loaded machine may take longer than the kill's delay just to start the port
        assert opened.wait(30), "the board did not open its queue"
        time.sleep(rng.uniform(0.05, 0.4))
        p.send_signal(signal.SIGKILL)
        p.wait()
        t.join(5)
        returned += [line.split()[1] for line in lines if line.startswith("put ")]
        if [n for n in os.listdir(path) if n.endswith(".tmp")]:
            mid_write += 1
        q = Queue(str(path))  # CPython, the board's own code: what a restart finds
        names = [e["name"] for e in q]
        assert q.aside == [], "a kill left a torn entry: %s" % q.aside
        assert names[:len(returned)] == returned, (names, returned)
        assert len(names) - len(returned) <= 1  # the one whose put had not returned yet
        returned = names  # the next run goes on from what is there
        assert not [n for n in os.listdir(path) if n.endswith(".tmp")]  # removed on open
    # the kills did land while entries were being written, and between them
    assert mid_write >= 3 and len(returned) > 15, (mid_write, len(returned))
