"""Soak: nothing is lost and nothing is stored twice on a bad network, whatever the power does.

The unix port queues samples on its "flash" (ei.Queue) and flushes them through the fault
proxy to the mock server, while this harness kills its process (SIGKILL) at random moments
and starts it again. At the end the server must hold every sample exactly once, in the order
they were taken. `make test` runs 300 samples at 30% faults with 10 kills; `make soak` a
larger run (host_tests/test_soak.py is the test):

    python -m tools.soak --samples 3000 --rate 0.3 --kills 100 --seed 7

A board resumes where it was: it counts the samples it has queued in a file written as the
queue writes its entries (temporary name, then rename). A kill between queueing sample i and
counting it queues sample i again on restart: the same bytes, which the service answers as a
duplicate, so it is still stored once.
"""
import argparse
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import threading
import time

from service import API_KEY, MockServer
from tools.fault_proxy import FaultProxy

ROOT = pathlib.Path(__file__).resolve().parent.parent
MICROPYTHON = pathlib.Path(sys.executable).parent / "micropython"

HMAC_KEY = "soak-hmac-key-never-shown"

# The board's side, run by the unix port: `micropython board.py CONFIG`.
BOARD = r'''
import json
import os
import sys

import ei
from ei.queue import Queue

with open(sys.argv[1]) as f:
    cfg = json.load(f)
state = cfg["state"]


def taken():
    try:
        with open(state) as f:
            return int(f.read())
    except (OSError, ValueError):
        return 0


def count(i):  # power-safe, as the queue writes its entries
    with open(state + ".tmp", "w") as f:
        f.write(str(i))
    os.rename(state + ".tmp", state)


def sample(i):
    s = ei.Sample(device_name="soak-%d" % i, device_type="SOAK", interval_ms=10,
                  sensors=[("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2")])
    for r in range(cfg["rows"]):
        s.append((i, r, 0.5))
    return s


# iat=False: a sample queued again after a kill must have the same bytes (and signature)
q = Queue(cfg["queue"], hmac_key=cfg["hmac_key"], iat=False)
c = ei.Client(cfg["api_key"], host="127.0.0.1", port=cfg["port"], tls=False,
              timeout=cfg["timeout"], retries=3, backoff_ms=20)
i = taken()
n = cfg["samples"]
print("start at", i, "with", len(q), "queued")
while i < n or len(q):
    if i < n:
        q.put(sample(i), label="soak")
        i += 1
        count(i)
        print("taken", i)
    if i % cfg["batch"] == 0 or i >= n:
        try:
            print("flushed", q.flush(c))
        except Exception as e:  # a network that stays bad: keep it queued, go on
            print("flush failed:", repr(e))
            sys.print_exception(e)
print("DONE")
'''


class Board:
    """One run of the board's process; its output lines are collected as they come."""

    def __init__(self, script, config):
        self.lines = []
        self.p = subprocess.Popen(
            [str(MICROPYTHON), "-X", "heapsize=256k", str(script), str(config)],
            env=dict(os.environ, MICROPYPATH=os.pathsep.join([str(ROOT / "firmware"), ".frozen"])),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(line.rstrip("\n"))

    def taken(self):
        """The last 'taken i' the board printed (None before its first)."""
        for line in reversed(self.lines):
            if line.startswith("taken "):
                return int(line.split()[1])
        return None

    def kill(self):
        self.p.send_signal(signal.SIGKILL)
        self.p.wait()
        self._t.join(5)

    def wait(self, timeout):
        rc = self.p.wait(timeout)
        self._t.join(5)
        return rc


def soak(folder, samples=300, rate=0.3, kills=10, seed=1, rows=10, batch=10, timeout=1.0,
         budget_s=600, log=print):
    """Run the soak; return its figures. Raises AssertionError if anything was lost or doubled."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    server = MockServer(data_dir=folder / "store").start()
    proxy = FaultProxy((server.host, server.port), rate=rate, seed=seed).start()
    script = folder / "board.py"
    script.write_text(BOARD)
    config = folder / "config.json"
    config.write_text(json.dumps({
        "queue": str(folder / "queue"), "state": str(folder / "taken"), "samples": samples,
        "rows": rows, "batch": batch, "port": proxy.port, "timeout": timeout,
        "api_key": API_KEY, "hmac_key": HMAC_KEY}))
    # kill when the board has taken these many samples, then after a random few ms more, so
    # kills land across the whole run and at any instant of a put, a flush or a request
    targets = sorted(rng.randrange(samples) for _ in range(kills))
    output = []
    runs = 0
    start = time.monotonic()
    try:
        for target in targets:
            board = Board(script, config)
            runs += 1
            while (board.taken() or 0) < target and board.p.poll() is None:
                if time.monotonic() - start > budget_s:
                    raise AssertionError("the soak ran out of its time budget")
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.3))
            board.kill()
            output += board.lines
            log("kill %d at sample %s (target %d)" % (runs, board.taken(), target))
        board = Board(script, config)
        runs += 1
        rc = board.wait(max(budget_s - (time.monotonic() - start), 1))
        output += board.lines
        assert rc == 0 and board.lines[-1:] == ["DONE"], "\n".join(board.lines[-30:])
    finally:
        elapsed = time.monotonic() - start
        proxy.stop()
        entries = server.store.listing()
        server.stop()
    names = [e["sample"]["payload"]["device_name"] for e in entries]
    expected = ["soak-%d" % i for i in range(samples)]
    missing = sorted(set(expected) - set(names))
    doubled = sorted(n for n in set(names) if names.count(n) > 1)
    assert not missing and not doubled, "missing %s, stored twice %s" % (missing, doubled)
    assert names == expected, "stored out of order"
    assert all(e["signature_valid"] is not False for e in entries)
    text = "\n".join(output)
    assert API_KEY not in text and API_KEY[3:19] not in text and HMAC_KEY not in text
    assert "moved" not in text, "an entry was moved aside: a kill left a torn entry"
    # the server's "already exists" answers: a sample it had was sent again (a lost answer,
    # a kill between upload and removal, or between queueing and counting)
    duplicates = sum(1 for e in proxy.log if e.get("status") == 400)
    connections = sum(proxy.counts.values())
    faults = connections - proxy.counts.get("pass", 0)
    return {"samples": samples, "stored": len(names), "kills": len(targets), "runs": runs,
            "connections": connections, "faults": faults,
            "fault_share": round(faults / connections, 3) if connections else 0,
            "by_fault": dict(sorted(proxy.counts.items())), "duplicates_answered": duplicates,
            "flush_failures": text.count("flush failed"), "seconds": round(elapsed, 1)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=3000)
    ap.add_argument("--rate", type=float, default=0.3)
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--folder", default="data/soak")
    args = ap.parse_args(argv)
    import shutil
    shutil.rmtree(args.folder, ignore_errors=True)
    figures = soak(args.folder, samples=args.samples, rate=args.rate, kills=args.kills,
                   seed=args.seed, budget_s=3600)
    print(json.dumps(figures, indent=1))
    print("soak passed: %d samples stored exactly once, in order, through %d faults in %d "
          "connections (%.0f%%) and %d kills, %d resends answered as duplicates, in %.0f s"
          % (figures["stored"], figures["faults"], figures["connections"],
             100 * figures["fault_share"], figures["kills"], figures["duplicates_answered"],
             figures["seconds"]))


if __name__ == "__main__":
    main()
