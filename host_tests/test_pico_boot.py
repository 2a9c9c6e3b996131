"""The emulated Pico as a user meets a Pico: `make deploy BOARD=rp2_pico` over its USB serial
port (a pseudo-terminal), boot into main.py and the daemon, and what `import ei` costs of its
heap from .py, from .mpy and frozen into the firmware.
"""
import json
import pathlib
import re
import subprocess

import pytest

from fake_i2c import FakeMPU6050
from pico_board import END, booted, board_files, ei_files, script

ROOT = pathlib.Path(__file__).resolve().parent.parent
HEAP = ("import gc\n"
        "gc.collect()\n"
        "a = gc.mem_free()\n"
        "import ei\n"
        "gc.collect()\n"
        "b = gc.mem_free()\n"
        "import os\n"
        "try:\n"
        "    os.stat(ei.__file__)\n"
        "    where = ei.__file__\n"
        "except OSError:\n"
        "    where = 'frozen'  # in the firmware, no file on flash\n"
        "print('HEAP', a, b, where)\n")


@pytest.mark.parametrize("form", ["mpy", "py", "frozen"])
def test_import_ei_costs_little_of_the_picos_heap(form):
    files = {} if form == "frozen" else ei_files(compiled=form == "mpy")
    files["main.py"] = script(HEAP)
    with booted(files, frozen=form == "frozen") as pico:
        pico.write(b"g")
        text = pico.read_until(END).decode()
    m = re.search(r"HEAP (\d+) (\d+) (\S+)", text)
    assert m, text
    before, after, where = int(m.group(1)), int(m.group(2)), m.group(3)
    assert where == {"mpy": "ei/__init__.mpy", "py": "ei/__init__.py",
                     "frozen": "frozen"}[form], where
    assert before > 200000, before  # the RPI_PICO firmware leaves ~236 KB to Python
    # `import ei` loads the errors only (test_package.py); what it keeps of the heap, in
    # bytes (docs/boards.md has the figures)
    # (measured 2026-12-07: 3.5 to 3.8 KB from .mpy or .py, 2.0 KB frozen)
    assert before - after < {"mpy": 4500, "py": 4500, "frozen": 2500}[form], (form, before,
                                                                               after)


def test_make_deploy_to_the_pico_then_it_boots_into_the_daemon(tmp_path):
    cfg = json.loads((ROOT / "boards" / "rp2_pico" / "config.example.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with booted(paced=True, pty=True) as pico:  # erased: the firmware makes its filesystem
        r = subprocess.run(["make", "--no-print-directory", "deploy", "BOARD=rp2_pico",
                            "PORT=" + pico.port, "CONFIG=%s" % (tmp_path / "config.json"),
                            "MPY=1"], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "deployed to the rp2_pico board on " + pico.port in r.stdout
    flash = pico.flash
    with booted(flash=flash, chips=[FakeMPU6050()], paced=True) as pico:
        # main.py: ei.setup() opens the MPU6050 on I2C0, then the daemon prompts
        pico.read_until(b"> ", timeout=120)
    assert "ei: ready" in pico.text(), pico.text()
    assert pico.i2c[0].transactions > 5  # the driver reset and configured the chip


def test_the_daemon_at_boot_answers_at_config_over_usb():
    files = board_files("rp2_pico", {"daemon": True})
    with booted(files, chips=[FakeMPU6050()], paced=True) as pico:
        pico.read_until(b"> ", timeout=120)
        pico.write(b"AT+CONFIG?\r")
        pico.read_until(b"===== Device info =====", timeout=5)  # a board answers in ms
