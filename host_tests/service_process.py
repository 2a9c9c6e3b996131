"""The service in a process of its own, as a user runs it (`python -m service`, `make serve`),
for the tests that restart it, kill it or measure it. Not a test module."""
import os
import pathlib
import re
import signal
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


class Remote:
    """A service in another process, found by the address it prints first; what it prints
    after that is read (and kept in `lines`) so that its log never fills the pipe."""

    def __init__(self, cmd, **kw):
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True, **kw)
        deadline = time.monotonic() + 120   # `make serve` may first bring .venv up to date
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("ingestion service on ") or not line:
                break
        m = re.match(r"ingestion service on http://([0-9.]+):(\d+) \(data in (.+)\)$", line.strip())
        assert m, "no address printed: %r (exit %s)" % (line, self.proc.poll())
        self.host, self.port, self.data = m.group(1), int(m.group(2)), m.group(3)
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def peak_rss(self):
        """The most resident memory the process has had (VmHWM), in bytes."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no VmHWM in /proc/%d/status" % self.proc.pid)

    def stop(self, sig=signal.SIGINT):
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def cli(data, *args):
    """`python -m service` on a free loopback port, with the test API, storing in `data`."""
    return Remote([sys.executable, "-m", "service", "--port", "0", "--testing", "--data", str(data)]
                  + list(args), cwd=str(ROOT))
