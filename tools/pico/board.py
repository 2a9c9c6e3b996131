"""An emulated Raspberry Pi Pico running MicroPython's own rp2 firmware (make runtimes builds it).

    with Pico(files={"main.py": b"print('hi')"}, chips=[FakeMPU6050()]) as pico:
        pico.read_until(b"hi")

The CPU, flash, USB and I2C controllers are rp2040js's, run by emulator.mjs (Node) in a child
process; this side gives it the flash image and the input pins its wiring holds, holds the
chips on I2C0 (i2c_bus.Bus over tools/chips/fake_i2c.py), and carries the USB serial port: to
`output` and read_until(), and, with pty=True, to a pseudo-terminal (`port`) that mpremote,
`make deploy` or a daemon open as they would a Pico's /dev/ttyACM0.

The flash is 2 MB: the firmware at 0, the filesystem (littlefs v2, 352 blocks of 4096 bytes,
as the RPI_PICO firmware mounts it) at 0xA0000, made from `files` with littlefs-python. After
stop(), or a power cut (cut_at: the chip stops after that many instructions), `flash` holds
the image as the board left it: Pico(flash=...) boots from it again, read_files() reads it.
"""
import hashlib
import json
import os
import pathlib
import queue
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import tty

from tools.pico.i2c_bus import HOLD, Bus

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BUILD = ROOT / "build" / "mp"
FIRMWARE = BUILD / "1.28.0-rp2" / "firmware.bin"
FIRMWARE_FROZEN = BUILD / "1.28.0-rp2-frozen" / "firmware.bin"
MPY_CROSS = BUILD / "src-rp2" / "micropython-1.28.0" / "mpy-cross" / "build" / "mpy-cross"
MPY_CACHE = ROOT / "build" / "pico" / "mpy"
# The RP2040's boot ROM (B1), which the npm package does not ship: `make runtimes` copies it
# from the project's shared folder (../shared/rp2040/) beside the firmware it builds.
BOOTROM = BUILD / "bootrom-b1.bin"
EMULATOR = HERE / "emulator.mjs"

FLASH_SIZE = 2 * 1024 * 1024
FS_OFFSET = 0xA0000
FS_BLOCK = 4096
FS_BLOCKS = 352


class PicoError(Exception):
    """The emulated board did not do what was asked in time, or its emulator failed."""


# --- the filesystem --------------------------------------------------------------------------

def _lfs(context=None, mount=False):
    import littlefs
    # MicroPython's rp2 port: VfsLfs2(rp2.Flash(), progsize=256), readsize and lookahead 32,
    # and the cache extmod/vfs_lfsx.c gives it, min(block, 4 * max(read, prog)): its files of
    # up to 512 bytes are inline (in their folder's metadata), which a smaller cache than the
    # writer's cannot read back (LFS_ERR_CORRUPT)
    return littlefs.LittleFS(context=context, mount=mount, block_size=FS_BLOCK,
                             block_count=FS_BLOCKS, read_size=32, prog_size=256,
                             cache_size=min(FS_BLOCK, 4 * 256), lookahead_size=32)


def filesystem(files):
    """The littlefs image holding `files` ({path: bytes}; a path ending in "/" is an empty
    folder; folders are made as needed)."""
    fs = _lfs()
    fs.format()
    fs.mount()
    for path in sorted(files):
        name = path.strip("/")
        parent = name if path.endswith("/") else os.path.dirname(name)
        if parent:
            fs.makedirs(parent, exist_ok=True)
        if not path.endswith("/"):
            with fs.open(name, "wb") as f:
                f.write(files[path])
    fs.unmount()
    return bytes(fs.context.buffer)


def flash_image(files=None, firmware=FIRMWARE):
    """A 2 MB flash: the firmware, then the filesystem with `files` (None: erased, which the
    firmware formats at boot)."""
    fw = pathlib.Path(firmware).read_bytes()
    if len(fw) > FS_OFFSET:
        raise PicoError("%s is %d bytes: it runs into the filesystem at 0x%x"
                        % (firmware, len(fw), FS_OFFSET))
    image = bytearray(b"\xff" * FLASH_SIZE)
    image[:len(fw)] = fw
    if files is not None:
        image[FS_OFFSET:FS_OFFSET + FS_BLOCK * FS_BLOCKS] = filesystem(files)
    return bytes(image)


def _mounted(flash):
    """The filesystem of a flash image, mounted from a copy (the image is left as it is)."""
    import littlefs
    ctx = littlefs.UserContext(FS_BLOCK * FS_BLOCKS)
    ctx.buffer[:] = flash[FS_OFFSET:FS_OFFSET + FS_BLOCK * FS_BLOCKS]
    return _lfs(ctx, mount=True)


def free_blocks(flash):
    """The filesystem blocks of a flash image that littlefs has not allocated."""
    return FS_BLOCKS - _mounted(flash).used_block_count


def read_files(flash):
    """{path: bytes} of every file on the filesystem of a flash image."""
    fs = _mounted(flash)
    out = {}
    for top, _, names in fs.walk("/"):
        for name in names:
            path = (top.rstrip("/") + "/" + name).lstrip("/")
            with fs.open(path, "rb") as f:
                out[path] = f.read()
    return out


def mpy(source, name="<module>"):
    """Python source compiled to .mpy by the rp2 port's own mpy-cross, cached by content in
    build/pico/mpy/."""
    key = hashlib.sha1(source + name.encode() + str(MPY_CROSS.stat().st_mtime).encode())
    hit = MPY_CACHE / (key.hexdigest() + ".mpy")
    if hit.is_file():
        return hit.read_bytes()
    with tempfile.TemporaryDirectory(prefix="pico-mpy-") as tmp:
        src = pathlib.Path(tmp) / (pathlib.Path(name).stem + ".py")
        src.write_bytes(source)
        out = src.with_suffix(".mpy")
        r = subprocess.run([str(MPY_CROSS), "-s", name, "-o", str(out), str(src)],
                           capture_output=True, text=True)
        if r.returncode:
            raise PicoError("mpy-cross %s: %s" % (name, r.stderr.strip()))
        MPY_CACHE.mkdir(parents=True, exist_ok=True)
        out.replace(hit)  # whole or not at all: a rename
        return hit.read_bytes()


def package(folder, prefix, compiled=True):
    """{path on the board: bytes} of the .py files under `folder`, as .mpy if compiled."""
    out = {}
    folder = pathlib.Path(folder)
    for src in sorted(folder.rglob("*.py")):
        if "__pycache__" in src.parts:
            continue
        rel = prefix + src.relative_to(folder).as_posix()
        if compiled:
            out[rel[:-3] + ".mpy"] = mpy(src.read_bytes(), rel)
        else:
            out[rel] = src.read_bytes()
    return out


def ei_files(compiled=True):
    """The ei package as `make deploy` copies it: as .mpy (MPY=1) or as .py."""
    return package(ROOT / "firmware" / "ei", "ei/", compiled)


# --- the board -------------------------------------------------------------------------------

class Pico:
    """One emulated Pico (see the module's docstring): start() boots it, stop() powers it
    off. files: {path: bytes} for a new filesystem, or flash: a whole image to boot from;
    chips: models on I2C0 (i2c[0] is their Bus); cut_at: the instruction to cut the power
    at (counted from the cut_after_writes-th flash write when given: a point the firmware
    reaches whenever the host's bytes come in, where a count from power-on shifts with
    them); paced: idle time follows the wall clock; pty: a pseudo-terminal at `port`; pins:
    {gpio: level} held by the wiring; trace_flash: each flash write in `flash_ops`."""

    def __init__(self, files=None, chips=(), firmware=FIRMWARE, flash=None, cut_at=None,
                 paced=False, pty=False, pins=None, trace_flash=False, cut_after_writes=None):
        for path, what in ((firmware, "the rp2 firmware: `make runtimes` builds it"),
                           (BOOTROM, "the RP2040 boot ROM: `make runtimes` copies it")):
            if not pathlib.Path(path).is_file():
                raise PicoError("%s is missing: %s" % (path, what))
        self.flash = flash if flash is not None else flash_image(files, firmware)
        self.i2c = [Bus(*chips), Bus()]
        self.cut_at = cut_at
        self.cut_after_writes = cut_after_writes
        self.paced = paced
        self.pins = dict(pins or {})     # input pins the wiring holds: {15: 1}
        self.trace_flash = trace_flash
        self.flash_ops = []              # with trace_flash: each erase and program, in order
        self.output = bytearray()   # all the board wrote to its USB serial port
        self.stats = None           # the emulator's last report (nanos, instructions, flash)
        self.ended = None           # its final report, once it stopped
        self.errors = []
        self.port = None
        self._want_pty = pty
        self._cond = threading.Condition()
        self._connected = False
        self._proc = None
        self._tmp = None
        self._pty_out = queue.Queue()

    # --- running -------------------------------------------------------------------------
    def start(self):
        self._tmp = tempfile.mkdtemp(prefix="pico-")
        image = os.path.join(self._tmp, "flash.bin")
        with open(image, "wb") as f:
            f.write(self.flash)
        cmd = ["node", str(EMULATOR), "--bootrom", str(BOOTROM), "--flash", image,
               "--flash-out", os.path.join(self._tmp, "flash-out.bin")]
        if self.cut_at is not None:
            cmd += ["--cut-at", str(int(self.cut_at))]
            if self.cut_after_writes:
                cmd += ["--cut-after-writes", str(int(self.cut_after_writes))]
        if self.paced:
            cmd.append("--paced")
        if self.trace_flash:
            cmd.append("--trace-flash")
        for pin, value in sorted(self.pins.items()):
            cmd += ["--gpio-in", "%d=%d" % (pin, 1 if value else 0)]
        # a session of its own: Ctrl-C at a terminal reaches this process, which then stops
        # the emulator in order (its flash written out), not the emulator directly
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, start_new_session=True)
        self._send_lock = threading.Lock()
        threading.Thread(target=self._reader, daemon=True).start()
        if self._want_pty:
            self._open_pty()
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _send(self, kind, payload=b""):
        with self._send_lock:
            try:
                self._proc.stdin.write(kind.encode() + struct.pack("<I", len(payload)) + payload)
                self._proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass  # it has stopped: what it said last is in `ended`

    def _reader(self):
        proc = self._proc  # _finish() lets go of self._proc, maybe before this thread ends
        out = proc.stdout
        while True:
            head = out.read(5)
            if len(head) < 5:
                break
            kind = chr(head[0])
            payload = out.read(struct.unpack("<I", head[1:])[0])
            if kind == "O":
                with self._cond:
                    self.output += payload
                    self._cond.notify_all()
                if self.port:
                    self._pty_out.put(payload)
            elif kind in "CWRP":
                self._i2c(kind, payload)
            elif kind == "U":
                with self._cond:
                    self._connected = True
                    self._cond.notify_all()
            elif kind in "TX":
                with self._cond:
                    self.stats = json.loads(payload)
                    if kind == "X":
                        self.ended = self.stats
                    self._cond.notify_all()
            elif kind == "F":
                self.flash_ops.append(json.loads(payload))
            elif kind == "E":
                self.errors.append(payload.decode(errors="replace"))
        proc.wait()
        with self._cond:
            if self.ended is None:
                self.ended = {"reason": "the emulator exited (%s): %s" % (
                    proc.returncode, proc.stderr.read().decode(errors="replace"))}
            self._cond.notify_all()

    def _i2c(self, kind, payload):
        now, bus = struct.unpack_from("<dB", payload)
        bus = self.i2c[bus]
        if kind == "C":
            ack = bus.connect(now, payload[9], payload[10])
            self._send("A", bytes((2 if ack is HOLD else int(ack),)))
        elif kind == "W":
            bus.write(now, payload[9])
        elif kind == "R":
            v = bus.read(now)
            self._send("B", struct.pack("<H", 256 if v is HOLD else v))
        else:
            bus.stop(now)

    def _wait(self, done, timeout, what):
        end = time.monotonic() + timeout
        with self._cond:
            while not done():
                left = end - time.monotonic()
                if self.ended is not None and not done():
                    raise PicoError("the emulated Pico stopped (%s) while waiting for %s; its "
                                    "output:\n%s" % (self.ended.get("reason"), what,
                                                    self.text()))
                if left <= 0:
                    raise PicoError("no %s within %g s; the emulated Pico's output:\n%s"
                                    % (what, timeout, self.text()))
                self._cond.wait(min(left, 1.0))

    def text(self):
        return self.output.decode(errors="replace")

    def wait_connected(self, timeout=30):
        """Until the USB serial port is enumerated and open (DTR set) on the host side."""
        self._wait(lambda: self._connected, timeout, "USB serial port")

    def read_until(self, token, timeout=60, start=0):
        """The output up to and including the first `token` at or after `start`."""
        found = []

        def done():
            i = self.output.find(token, start)
            if i >= 0:
                found.append(i + len(token))
            return bool(found)

        self._wait(done, timeout, repr(token))
        return bytes(self.output[start:found[0]])

    def write(self, data):
        """Bytes to the board's USB serial port, as a host sends them."""
        self._send("I", bytes(data))

    def report(self, timeout=10):
        """The emulator's counters now: emulated nanos, instructions, flash writes, wall ns."""
        self.stats = None
        self._send("S")
        self._wait(lambda: self.stats is not None, timeout, "emulator stats")
        return self.stats

    def wait_stopped(self, timeout=120):
        """Until the chip stops by itself (a cut_at power cut); its final report."""
        self._wait(lambda: self.ended is not None, timeout, "the cut")
        self._finish()
        return self.ended

    def stop(self, timeout=30):
        """Power off: the flash as left is in `flash`; the final report is returned."""
        if self._proc is None:
            return self.ended
        if self.ended is None:
            self._send("Q")
            try:
                self._wait(lambda: self.ended is not None, timeout, "the emulator to stop")
            except PicoError:
                self._proc.kill()
        self._finish()
        return self.ended

    def _finish(self):
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        out = os.path.join(self._tmp, "flash-out.bin")
        if os.path.exists(out):
            with open(out, "rb") as f:
                self.flash = f.read()
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._close_pty()
        self._proc = None

    def files(self):
        return read_files(self.flash)

    # --- the pseudo-terminal -------------------------------------------------------------
    def _open_pty(self):
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # bytes as sent: no echo, no newline translation
        self.port = os.ttyname(self._slave)
        threading.Thread(target=self._pty_in, daemon=True).start()
        threading.Thread(target=self._pty_writer, daemon=True).start()

    def _pty_in(self):
        while True:
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            if not data:
                return
            self.write(data)

    def _pty_writer(self):
        while True:
            data = self._pty_out.get()
            if data is None:
                return
            try:
                os.write(self._master, data)
            except OSError:
                return

    def _close_pty(self):
        if self.port:
            self._pty_out.put(None)
            for fd in (self._master, self._slave):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.port = None
