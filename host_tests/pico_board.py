"""The emulated Raspberry Pi Pico for tests (tools/pico: MicroPython's own rp2 firmware in
rp2040js), booted with the files a test gives it.

    from fake_i2c import FakeMPU6050
    from pico_board import booted, board_files

    # boards/rp2_pico as make deploy puts it, the daemon at boot; its main.py's ei.setup()
    # opens the board's MPU6050, so the chip must be there (else: "ei: not ready", no daemon)
    files = board_files("rp2_pico", {"daemon": True})
    with booted(files, chips=[FakeMPU6050()], pty=True, paced=True) as pico:
        pico.port          # /dev/pts/N: its USB serial port, for mpremote, pyserial or a daemon
        pico.output        # every byte it wrote there so far; pico.read_until(b"> ") waits
        pico.write(b"AT+CONFIG?\r")  # or write to pico.port, as a daemon does
        pico.i2c[0]        # the chips on I2C0 (tools/pico/i2c_bus.Bus): motion, fail()...

booted() starts the board and waits until its USB serial port is open; leaving the block
powers it off (the flash as left is then in pico.flash, read_files(pico.flash) reads it).
paced=True keeps emulated time from running ahead of wall time while the board sleeps, as a
peer on the serial port expects; tests that only read output leave it off (idle time then
costs nothing). The board prints nothing before the port opens: board_files' main.py runs
at boot, as a Pico's does, so what it prints first may be lost, as on a Pico whose serial
port was not open yet; a test that needs it all waits with go=True (main.py then waits for
one byte from the host before it runs).

script(code) makes a main.py that runs `code` once the host writes a byte and ends its
output with END; step() lets such a script go on past a wait(). Also the [rp2] runtime's
batches of firmware tests (run_fw_batch, used by conftest.py).
"""
import contextlib
import json
import os
import pathlib

from tools.pico.board import (FIRMWARE, FIRMWARE_FROZEN, Pico, PicoError, ei_files,
                              free_blocks, mpy, read_files)

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
FW_TESTS = HERE / "fw"

__all__ = ["booted", "board_files", "ei_files", "read_files", "free_blocks", "script", "step",
           "END", "Pico", "PicoError", "FIRMWARE", "FIRMWARE_FROZEN"]


def board_files(board="rp2_pico", config=None, compiled=True, ei=True, go=False):
    """ei, boards/<board>/*.py and config.json (the board's example, updated with `config`):
    what `make deploy BOARD=<board>` puts on a board. go=True: main.py first waits for one
    byte from the host (board.write(b"g")), so that nothing it prints is lost."""
    folder = ROOT / "boards" / board
    files = ei_files(compiled) if ei else {}
    for src in sorted(folder.glob("*.py")):
        files[src.name] = src.read_bytes()
    cfg = json.loads((folder / "config.example.json").read_text())
    cfg.update(config or {})
    files["config.json"] = json.dumps(cfg).encode()
    if go:
        files["main.py"] = b"import sys\nsys.stdin.buffer.read(1)\n" + files["main.py"]
    return files


@contextlib.contextmanager
def booted(files=None, chips=(), frozen=False, timeout=60, **kw):
    """The emulated Pico booted with `files` on its filesystem and `chips` on I2C0
    (tools/chips/fake_i2c models), its USB serial port open; powered off on leaving.
    kw: Pico's (pty=True for a pseudo-terminal at .port, paced, flash, cut_at)."""
    pico = Pico(files=files, chips=chips, firmware=FIRMWARE_FROZEN if frozen else FIRMWARE,
                **kw)
    pico.start()
    try:
        pico.wait_connected(timeout)
        yield pico
    finally:
        pico.stop()


END = b"\x1eEND"


def script(code):
    """main.py bytes that run `code` once the host writes a byte (so nothing printed is lost),
    print any exception's traceback, then END: pico.read_until(END) returns what it printed.
    `code` may call wait() to stop until the host writes another byte."""
    return ("import sys\n"
            "def wait():\n    sys.stdin.buffer.read(1)\n"
            "wait()\n"
            "try:\n%s\nexcept Exception as e:\n    sys.print_exception(e)\n"
            "print(%r)\n" % ("".join("    " + line + "\n" for line in code.splitlines()),
                              END.decode())).encode()


def step(pico, token, start=0, timeout=60):
    """Wait for `token` in the output after `start`, then let a waiting script go on;
    returns where the output ended (the next start)."""
    pico.read_until(token, timeout, start)
    end = len(pico.output)
    pico.write(b"g")
    return end


# --- the [rp2] runtime of the firmware tests ---------------------------------------------------

_RUNNER = """import sys
sys.stdin.buffer.read(1)  # the host has the port open: nothing printed from here is lost
sys.argv[:] = %r
try:
    import mprun
except SystemExit:
    pass
print("\\x1eEND")
"""


def fw_files(module, funcs, env):
    """ei and the firmware tests' helpers as .mpy, the test module, the chip models, the
    reference vectors, fwenv.py (the environment fwtest.env reads where os has no getenv)
    and a main.py that runs `funcs` of `module` through mprun.py once the host says go."""
    files = ei_files()
    for src in sorted(FW_TESTS.glob("*.py")):
        if src.name.startswith("test_") and src.stem != module:
            continue
        files[src.stem + ".mpy"] = mpy(src.read_bytes(), src.name)
    files["fake_i2c.mpy"] = mpy((ROOT / "tools" / "chips" / "fake_i2c.py").read_bytes(),
                                "fake_i2c.py")
    for v in sorted((HERE / "vectors").glob("*.json")):
        files["vectors/" + v.name] = v.read_bytes()
    files["tmp/"] = None
    files["fwenv.py"] = ("ENV = %r\n" % (env,)).encode()
    files["main.py"] = (_RUNNER % (["mprun", module] + list(funcs),)).encode()
    return files


def run_fw_batch(module, funcs, parse, hang_s):
    """Run funcs of fw/<module>.py on the emulated Pico; `parse` is conftest's reader of
    mprun's marks: parse(lines, alive, kill) -> results."""
    env = {k: v for k, v in os.environ.items() if k.startswith("EI_")}  # conftest's
    env.update(EI_RUNTIME="rp2", EI_VECTORS="/vectors", TMPDIR="/tmp")
    pico = Pico(files=fw_files(module, funcs, env))
    pico.start()
    try:
        pico.wait_connected()
        pico.write(b"g")
        return parse(_lines(pico), lambda: pico.ended is None and b"\x1eEND" not in pico.output,
                     pico.stop)
    finally:
        pico.stop()


def _lines(pico):
    """The board's output, line by line as it comes ("\\r\\n" as "\\n"), for parse()."""
    seen = 0
    while True:
        with pico._cond:
            end = pico.output.rfind(b"\n", seen)
            if end < 0:
                if pico.ended is not None or b"\x1eEND" in pico.output[seen:]:
                    rest = pico.output[seen:]
                    if rest:
                        yield rest.decode(errors="replace")
                    return
                pico._cond.wait(0.05)
                yield None  # nothing new yet: the reader checks for a hang
                continue
            chunk = pico.output[seen:end + 1]
            seen = end + 1
        # split at "\n" only: splitlines() would split at mprun's mark, "\x1e", too
        for line in chunk.decode(errors="replace").replace("\r\n", "\n").split("\n")[:-1]:
            if line.startswith("\x1eEND"):
                return
            yield line + "\n"
