"""A virtual board: the MicroPython unix port's REPL on a serial port that mpremote can use.

    .venv/bin/python -m tools.virtual_board [--flash DIR] [--heapsize 256k]

prints the port (/dev/pts/N) and runs until Ctrl-C; then, as with a board on /dev/ttyUSB0:

    make deploy BOARD=unix PORT=/dev/pts/N CONFIG=path/to/config.json
    .venv/bin/mpremote connect /dev/pts/N exec "import ei; ei.collect('idle', seconds=2)"

What makes it a board:
- Flash: the unix port runs with its working directory at DIR, so its VfsPosix there is what
  mpremote's fs commands list, read and write (sys.path is '', .frozen, DIR/lib as a board's
  is '', .frozen, /lib, so `mpremote mip install` finds a lib folder too).
- Console: its REPL is on the slave of a pseudo-terminal, made its controlling terminal, so
  Ctrl-C interrupts running code as on a board. A relay thread copies bytes between that and
  a second pseudo-terminal whose slave is the port mpremote opens, as a USB-serial bridge
  does; output while no program has the port open is dropped, as a UART's is.
- Soft reset: the unix port exits on one (Ctrl-D). The relay starts it again as a board
  reboots, writes "MPY: soft reboot" as boards do, and puts it back in the raw REPL if it was
  there, so mpremote's soft reset on connecting works (`resume` is not needed, only faster).
Raw REPL and raw-paste mode are the unix port's own (pyexec), unchanged.
"""
import argparse
import errno
import fcntl
import os
import pathlib
import select
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty

HERE = pathlib.Path(__file__).resolve().parent
BIN = pathlib.Path(sys.executable).parent
MICROPYTHON = BIN / "micropython"
MPREMOTE = BIN / "mpremote"

_RAW = b"raw REPL; CTRL-B to exit"
_FRIENDLY = b">>> "
_KEEP = 1 << 16          # bytes of output kept for log(), and at most waiting for the port
_REBOOT = b"MPY: soft reboot\r\n"


def _make_controlling_tty():
    # In the child, before exec: a session of its own with the console as its terminal, so
    # that Ctrl-C (ISIG) sends it SIGINT. Only async-signal-safe calls here.
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _console_mode(fd):
    """A board's console: 8 bits, no echo or line editing (the REPL does its own), Ctrl-C a
    signal. The unix port puts it raw while it reads a line, and back to this while code
    runs. Output is not post-processed here (ONLCR would turn the REPL's own \\r\\n into
    \\r\\r\\n, which mpremote does not take for "raw REPL; CTRL-B to exit\\r\\n"); the relay
    makes a lone \\n \\r\\n as a board's stdout does."""
    a = termios.tcgetattr(fd)
    a[0] = 0                                          # iflag: no CR/NL mapping, no XON/XOFF
    a[1] = 0                                          # oflag
    a[2] = termios.CS8 | termios.CREAD | termios.CLOCAL
    a[3] = termios.ISIG                               # lflag: no ECHO, no ICANON
    a[6][termios.VMIN] = 1
    a[6][termios.VTIME] = 0
    a[6][termios.VINTR] = 3
    termios.tcsetattr(fd, termios.TCSANOW, a)


class VirtualBoard:
    """The unix port as a board on `port`, its flash the folder `flash`. start() and close(),
    or use it as a context manager; mpremote(*args) runs mpremote connected to it."""

    def __init__(self, flash, heapsize="256k", micropython=MICROPYTHON):
        self.flash = str(pathlib.Path(flash).resolve())
        self.heapsize = heapsize
        self.micropython = str(micropython)
        self.port = None
        self.boots = 0           # starts of the unix port: 1 + soft resets
        self.dead = None         # why the board stopped rebooting, if it did
        self._proc = None
        self._thread = None
        self._closing = False
        self._raw = False        # the REPL mode last seen in its output
        self._seen = b""
        self._cr = False         # the last byte out was \r
        self._log = bytearray()
        self._lock = threading.Lock()

    # --- life ----------------------------------------------------------------------------

    def start(self):
        os.makedirs(self.flash, exist_ok=True)
        # The port mpremote opens: a pseudo-terminal's slave. Only its path is kept: while no
        # program has it open, reading the master fails (EIO), which is how the relay knows
        # to drop output.
        self._host, slave = os.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        os.close(slave)
        # The console the unix port runs on. The relay holds its slave open too, so the
        # master stays readable while the port reboots.
        self._con, self._con_slave = os.openpty()
        _console_mode(self._con_slave)
        os.set_blocking(self._host, False)
        os.set_blocking(self._con, False)
        self._spawn()
        self._thread = threading.Thread(target=self._relay, name="virtual-board", daemon=True)
        self._thread.start()
        return self

    def close(self):
        self._closing = True
        if self._thread is not None:
            self._thread.join(5)
        self._kill()
        for fd in (self._host, self._con, self._con_slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def log(self):
        """The last output of the board (what its console printed), as text."""
        with self._lock:
            return bytes(self._log).decode("utf-8", "replace")

    def mpremote(self, *args, timeout=120, check=True, text=True):
        """Run `mpremote connect PORT *args`; returns the CompletedProcess (text=False: its
        output as bytes, every \\r kept)."""
        r = subprocess.run([str(MPREMOTE), "connect", self.port] + list(args),
                           capture_output=True, text=text, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError("mpremote %s failed (%d):\n%s%s\n--- board log ---\n%s" % (
                " ".join(args), r.returncode, r.stdout, r.stderr, self.log()[-3000:]))
        return r

    # --- the unix port -------------------------------------------------------------------

    def _spawn(self):
        env = dict(os.environ)
        env["MICROPYPATH"] = ".frozen:" + self.flash + "/lib"
        self._proc = subprocess.Popen(
            [self.micropython, "-X", "heapsize=" + self.heapsize],
            stdin=self._con_slave, stdout=self._con_slave, stderr=self._con_slave,
            cwd=self.flash, env=env, preexec_fn=_make_controlling_tty, close_fds=True)
        self.boots += 1
        self._started = time.monotonic()
        self._asked = False

    def _kill(self):
        p = self._proc
        if p is not None and p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                p.kill()
            p.wait(5)

    # --- the relay -----------------------------------------------------------------------

    def _relay(self):
        to_host = bytearray()
        to_board = bytearray()
        connected = False   # a program has the port open
        quick = 0           # exits in a row, soon after a start, that no input asked for
        while not self._closing:
            rl = [self._con] + ([self._host] if connected else [])
            wl = ([self._host] if to_host and connected else []) + \
                 ([self._con] if to_board else [])
            r, w, _ = select.select(rl, wl, [], 0.02)
            if self._con in r:
                data = self._cook(self._read(self._con))
                if data:
                    self._output(data)
                    if connected:
                        to_host += data
                        if len(to_host) > _KEEP:
                            del to_host[:len(to_host) - _KEEP]
            if not connected or self._host in r:
                try:
                    data = os.read(self._host, 4096)
                    connected = True
                    to_board += data
                    self._asked = True
                except BlockingIOError:
                    connected = True   # open, nothing sent
                except OSError as e:
                    if e.errno != errno.EIO:
                        raise
                    connected = False  # nobody has the port open: output goes nowhere
                    to_host.clear()
            if self._host in w:
                to_host = self._write(self._host, to_host)
            if self._con in w:
                to_board = self._write(self._con, to_board)
            if self._proc.poll() is not None and not self.dead:
                # A soft reset is asked for (Ctrl-D); a port that exits on its own at once
                # would only do it again.
                early = time.monotonic() - self._started < 1 and not self._asked
                quick = quick + 1 if early else 0
                if quick >= 5:
                    self.dead = "the unix port exited at start 5 times in a row (rc %d)" % (
                        self._proc.returncode)
                    msg = ("\r\nvirtual board: %s\r\n" % self.dead).encode()
                    self._output(msg)
                    to_host += msg
                    continue
                to_host += self._reboot()
                to_board.clear()
                if self._raw:
                    to_board += b"\x01"  # back into the raw REPL, as a board's soft reset
            elif self.dead:
                time.sleep(0.05)

    def _reboot(self):
        out = bytearray()
        while True:  # what the old process printed last
            data = self._cook(self._read(self._con))
            if not data:
                break
            self._output(data)
            out += data
        termios.tcflush(self._con_slave, termios.TCIOFLUSH)
        out += _REBOOT
        self._output(_REBOOT)
        self._spawn()
        return out

    def _read(self, fd):
        try:
            return os.read(fd, 4096)
        except (BlockingIOError, OSError):
            return b""

    def _write(self, fd, buf):
        try:
            n = os.write(fd, bytes(buf[:4096]))
        except BlockingIOError:
            return buf
        except OSError:  # the port was closed as we wrote: that output is lost
            return bytearray()
        del buf[:n]
        return buf

    def _cook(self, data):
        """A lone \\n as \\r\\n, as MicroPython's stdout on a board writes it."""
        if b"\n" not in data:
            if data:
                self._cr = data[-1:] == b"\r"
            return data
        out = bytearray()
        prev_cr = self._cr
        for line in data.split(b"\n")[:-1]:
            out += line
            if not (line[-1:] == b"\r" or (not line and prev_cr)):
                out += b"\r"
            out += b"\n"
            prev_cr = False
        out += data.rsplit(b"\n", 1)[1]
        self._cr = out[-1:] == b"\r"
        return bytes(out)

    def _output(self, data):
        with self._lock:
            self._log += data
            if len(self._log) > _KEEP:
                del self._log[:len(self._log) - _KEEP]
        seen = self._seen + data
        raw, friendly = seen.rfind(_RAW), seen.rfind(_FRIENDLY)
        if raw >= 0 or friendly >= 0:
            self._raw = raw > friendly
        self._seen = seen[-32:]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flash", help="the board's flash folder (default: a new temporary one)")
    ap.add_argument("--heapsize", default="256k")
    args = ap.parse_args(argv)
    flash = args.flash or tempfile.mkdtemp(prefix="ei-virtual-board-")
    board = VirtualBoard(flash, args.heapsize).start()
    print("virtual board on %s (flash %s); Ctrl-C to stop" % (board.port, board.flash),
          flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        board.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
