"""make drain: upload the captures a board queued, from this host, with the board's own code.

    .venv/bin/python -m tools.drain --port /dev/ttyACM0 [--config boards/nrf52840/config.json]

A board with no IP network (the nrf52840) queues each ei.collect() on its flash (ei/queue.py:
one NNNNNNNN.eiq file an entry, encoded, labelled and signed as it would be sent). This pulls
those files over mpremote into a local folder, sends them with ei.Queue.flush and ei.Client
running on CPython (the same request code as the board's), and then, on the board, removes
each entry the service now has and moves aside each one it refused, as ei.Queue does there.
Nothing is removed from the board before the service has it: a drain that fails part way
leaves the rest queued for the next one.
"""
import argparse
import ast
import os
import pathlib
import shutil
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "firmware"))

from ei import config  # noqa: E402  (the firmware, on CPython)
from ei.queue import Queue  # noqa: E402

MPREMOTE = pathlib.Path(sys.executable).parent / "mpremote"
_BATCH = 40  # entries copied by one mpremote command (its command line stays short)


class DrainError(Exception):
    pass


class Board:
    """mpremote commands to the board on `port`. The first soft-resets it (what ran stops, a
    queue it had open is closed); the rest resume that session."""

    def __init__(self, port, mpremote=MPREMOTE, timeout=120):
        self.port = port
        self.mpremote = str(mpremote)
        self.timeout = timeout
        self._reset = False

    def run(self, *args):
        cmd = [self.mpremote, "connect", self.port] + ([] if not self._reset else ["resume"])
        r = subprocess.run(cmd + list(args), capture_output=True, text=True,
                           timeout=self.timeout)
        self._reset = True
        if r.returncode != 0:
            raise DrainError("mpremote %s failed: %s" % (args[0], (r.stderr or r.stdout).strip()))
        return r.stdout

    def eval(self, code):
        """Run `code` on the board; the last line it prints, read as a Python literal."""
        out = self.run("exec", code).strip().splitlines()
        if not out:
            raise DrainError("the board printed nothing for %r" % code)
        return ast.literal_eval(out[-1].strip())


def entries_on(board, path):
    """The queue's entry names on the board, oldest first ([] if it has no queue)."""
    return board.eval(
        "import os\n"
        "try:\n"
        "    n = sorted(x for x in os.listdir(%r) if len(x) == 12 and x.endswith('.eiq'))\n"
        "except OSError:\n"
        "    n = []\n"
        "print(repr(n))\n" % path)


def settle(board, path, delivered, refused):
    """On the board: remove the delivered entries, move the refused ones into aside/."""
    if not (delivered or refused):
        return
    board.run("exec",
              "import os\n"
              "q = %r\n"
              "for n in %r:\n"
              "    os.remove(q + '/' + n)\n"
              "if %r:\n"
              "    try:\n"
              "        os.mkdir(q + '/aside')\n"
              "    except OSError:\n"
              "        pass\n"
              "for n in %r:\n"
              "    os.rename(q + '/' + n, q + '/aside/' + n)\n"
              % (path, delivered, bool(refused), refused))


def drain(port, cfg_path, into=None, mpremote=MPREMOTE, log=print):
    """Drain the board on `port` whose config is at cfg_path; returns (delivered, refused,
    left) entry names."""
    cfg = config.load(cfg_path)
    client = config.client(cfg)
    path = cfg.get("queue_path", "queue")
    board = Board(port, mpremote)
    names = entries_on(board, path)
    if not names:
        log("the board on %s has nothing queued in %s" % (port, path))
        return [], [], []
    local = pathlib.Path(into or ROOT / "data" / "drain" / (
        time.strftime("%Y%m%d-%H%M%S-") + str(os.getpid())))
    if local.exists() and any(local.iterdir()):
        # ei.Queue would move what it does not know there aside: only an empty folder will do
        raise DrainError("%s is not empty; drain into a new folder" % local)
    local.mkdir(parents=True, exist_ok=True)
    log("pulling %d queued entries from %s:%s into %s" % (len(names), port, path, local))
    for i in range(0, len(names), _BATCH):
        batch = names[i:i + _BATCH]
        board.run("fs", "cp", *[":%s/%s" % (path, n) for n in batch], str(local) + "/")
    q = Queue(str(local), keep=None)  # every name it delivers or refuses, to settle the board
    pulled = [e["name"] for e in q]
    missing = [n for n in names if n not in pulled]  # torn copies: left on the board
    error = None
    try:
        q.flush(client)
    except Exception as e:  # network, 401, 5xx: what was sent is settled, the rest waits
        error = e
    left = [e["name"] for e in q]
    # the queue's own per-entry truth: delivered (stored, or "already exists"), refused
    refused = [n for n, _ in q.aside if n in names]
    delivered = [n for n in q.delivered if n in names]
    settle(board, path, delivered, refused)
    log("drained %s: %d stored by %s, %d refused (moved aside on the board, kept in %s/aside)"
        ", %d left queued" % (port, len(delivered), client.host, len(refused), local,
                              len(left) + len(missing)))
    for name, why in q.aside:
        log("  refused %s: %s" % (name, why))
    if not (left or refused or missing):
        shutil.rmtree(local, ignore_errors=True)
    if error is not None:
        raise DrainError("stopped after %d entries: %s: %s" % (
            len(delivered), type(error).__name__, error))
    return delivered, refused, left + missing


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", required=True, help="the board's serial port")
    ap.add_argument("--config", default="boards/nrf52840/config.json",
                    help="the board's config (its api_key, host, queue_path)")
    ap.add_argument("--into", help="local folder for the pulled entries")
    args = ap.parse_args(argv)
    try:
        drain(args.port, args.config, args.into)
    except (DrainError, config.ConfigError, OSError) as e:
        print("drain:", e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
