"""A virtual board (tools/virtual_board.py: the unix port's REPL on a pseudo-terminal)
deployed to with `make deploy BOARD=unix PORT=<pty>`, the path a real board takes, then driven
from its REPL through mpremote: ei.collect() stores the labelled sample on the mock service,
ei.forward() feeds a serial reader lines in the data forwarder's format at its rate, and a
bad config is named at start-up. Also: the package installs with `mpremote mip install`."""
import json
import pathlib
import re
import subprocess
import sys
import time

import pytest
import serial

from service import API_KEY
from tools.virtual_board import VirtualBoard

ROOT = pathlib.Path(__file__).resolve().parent.parent


def make(*args, timeout=180):
    return subprocess.run(["make", "--no-print-directory"] + list(args), cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def write_config(path, server, **kw):
    cfg = {"board": "unix", "api_key": API_KEY, "host": server.host, "port": server.port,
           "tls": False, "motion": "wave", "device_name": "virtual-board-1"}
    cfg.update(kw)
    path.write_text(json.dumps(cfg))
    return path


def deploy(board, cfg, *extra):
    r = make("deploy", "BOARD=unix", "PORT=" + board.port, "CONFIG=%s" % cfg, *extra)
    assert r.returncode == 0, r.stdout + r.stderr + "\n--- board ---\n" + board.log()
    return r


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, servers):
    tmp = tmp_path_factory.mktemp("virtual-board")
    cfg = write_config(tmp / "config.json", servers["mock"])
    with VirtualBoard(tmp / "flash") as board:
        r = deploy(board, cfg)
        yield board, cfg, r


def repl(board, code, timeout=120):
    """Run code at the board's REPL through `mpremote exec` (raw REPL); its output."""
    return board.mpremote("exec", code, timeout=timeout).stdout


def stored(server, name):
    for e in server.store.listing():
        if e["name"] == name:
            return e
    raise AssertionError("the mock service has no sample %r" % name)


def test_make_deploy_copies_the_firmware_the_board_files_and_the_config(deployed):
    board, cfg, r = deployed
    flash = pathlib.Path(board.flash)
    on_board = sorted(p.relative_to(flash).as_posix() for p in (flash / "ei").rglob("*.py"))
    assert on_board == sorted(p.relative_to(ROOT / "firmware").as_posix()
                              for p in (ROOT / "firmware" / "ei").rglob("*.py"))
    assert not list(flash.rglob("__pycache__"))
    for f in ("board.py", "main.py"):
        assert (flash / f).read_text() == (ROOT / "boards" / "unix" / f).read_text()
    assert json.loads((flash / "config.json").read_text()) == json.loads(cfg.read_text())
    assert "deployed to the unix board on %s" % board.port in r.stdout


def test_repl_collect_stores_the_labelled_sample_and_prints_its_name(deployed, servers):
    board, _, _ = deployed
    out = board.mpremote("exec", "import ei; ei.collect('wave', seconds=1)",
                         text=False).stdout.decode()  # as the terminal gets it, \r and all
    name = re.search(r"stored as (\S+)", out).group(1)
    e = stored(servers["mock"], name)
    assert (e["category"], e["label"], e["rows"]) == ("training", "wave", 100), e
    assert e["device_type"] == "MICROPYTHON_UNIX" and e["device_name"] == "virtual-board-1"
    assert abs(e["interval_ms"] - 10) < 0.5
    # progress on one line: each update returns to its start; one newline ends it
    progress = [line for line in out.split("\n") if "sampling" in line]
    assert len(progress) == 1 and progress[0].rstrip().endswith("sampling 100/100 rows")
    assert "\rsampling 25/100 rows\rsampling 50/100 rows" in progress[0]


def test_repl_collect_uploads_to_testing_with_category(deployed, servers):
    board, _, _ = deployed
    out = repl(board, "import ei; ei.collect('idle', seconds=0.3, category='testing')")
    e = stored(servers["mock"], re.search(r"stored as (\S+)", out).group(1))
    assert (e["category"], e["label"], e["rows"]) == ("testing", "idle", 30)


def test_repl_collect_with_queue_true_keeps_it_on_the_board_s_flash(deployed, servers):
    board, _, _ = deployed
    before = len(servers["mock"].store.listing())
    out = repl(board, "import ei; ei.collect('idle', seconds=0.2, queue=True)")
    entry = re.search(r"queued as (\S+)", out).group(1)
    assert (pathlib.Path(board.flash) / "queue" / entry).is_file()
    assert len(servers["mock"].store.listing()) == before
    repl(board, "import os; os.remove('queue/%s')" % entry)  # leave the board as it was


def raw_repl_lines(port, code, timeout=30):
    """Run code in the board's raw REPL over the serial port, as mpremote would, and return
    (arrival time, line) for each line it prints: what a reader of the port, like Edge
    Impulse's data forwarder, sees."""
    s = serial.Serial(port, 115200, timeout=0.002)
    try:
        s.write(b"\r\x03\x03")
        time.sleep(0.2)
        s.reset_input_buffer()
        s.write(b"\r\x01")
        got = b""
        end = time.monotonic() + 10
        while not got.endswith(b"raw REPL; CTRL-B to exit\r\n>"):
            assert time.monotonic() < end, got
            got += s.read(100)
        s.write(code.encode() + b"\x04")
        while not got.endswith(b"OK"):  # the board took the code; its output follows
            assert time.monotonic() < end, got
            got += s.read(1)
        buf = b""
        lines = []
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            chunk = s.read(s.in_waiting or 1)
            now = time.monotonic()
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                lines.append((now, line.decode()))
            if b"\x04" in buf:  # the end of its output
                break
        s.write(b"\x02")  # back to the friendly REPL
        return lines
    finally:
        s.close()


def detected_frequency(stamps, start, window=1.0):
    """The data forwarder's rate detection: the lines that arrive in a window, per second
    (edge-impulse-cli cli/data-forwarder.ts, getSensorInfo)."""
    return sum(1 for t in stamps if start <= t < start + window) / window


def test_forwarder_lines_read_from_the_serial_port_have_its_format_and_rate(deployed):
    board, _, _ = deployed
    lines = raw_repl_lines(board.port, "import ei\nei.forward(None, 20, seconds=3)")
    data = [(t, l.rstrip("\r")) for t, l in lines]
    pattern = re.compile(r"^-?\d+\.\d{4},-?\d+\.\d{4},-?\d+\.\d{4}$")
    bad = [l for _, l in data if not pattern.match(l)]
    assert not bad, bad[:5]
    assert len(data) == 150, len(data)  # 3 s at 20 ms: one line per interval
    # the values are the board's sensor: the unix board's simulated accelerometer at rest
    # on z, 9.8 m/s2
    assert all(abs(float(l.split(",")[2]) - 9.8) < 0.5 for _, l in data)
    stamps = [t for t, _ in data]
    for second in (0.5, 1.5):  # two windows, as the forwarder might open them
        f = detected_frequency(stamps, stamps[0] + second)
        assert abs(f - 50) <= 5, (second, f)


def test_ctrl_c_from_mpremote_stops_a_forwarder_left_running(deployed):
    board, _, _ = deployed
    s = serial.Serial(board.port, 115200, timeout=0.1)
    # Ctrl-B: out of the raw REPL that a soft reset or mpremote may have left behind
    s.write(b"\r\x03\x03\x02import ei; ei.forward(None, 50)\r")  # no seconds: until Ctrl-C
    got = b""
    end = time.monotonic() + 10
    while not re.search(rb"-?\d+\.\d{4},", got):
        assert time.monotonic() < end, got
        got += s.read(4096)
    s.close()
    assert repl(board, "print('after', 6 * 7)").strip().endswith("after 42")


def test_a_soft_reset_restarts_the_board_as_mpremote_expects(deployed):
    board, _, _ = deployed
    boots = board.boots
    assert repl(board, "print(1)").strip() == "1"  # mpremote soft-resets first (no resume)
    assert board.boots == boots + 1
    assert board.mpremote("resume", "exec", "print(2)").stdout.strip() == "2"
    assert board.boots == boots + 1


def test_mpremote_talks_raw_paste_mode_to_the_board(deployed):
    # Ctrl-E A Ctrl-A asks for raw-paste; "R\x01" is the unix port's yes (flow-controlled
    # windows follow), as a board's pyexec answers: mpremote's fast path works here too.
    board, _, _ = deployed
    repl(board, "x = 1")
    assert "raw REPL; CTRL-B to exit\r\n>R\x01" in board.log()


def test_a_config_error_is_named_at_start_up_on_the_board(deployed, tmp_path):
    board, cfg, _ = deployed
    bad = tmp_path / "config.json"
    bad.write_text(json.dumps({"board": "unix", "host": "127.0.0.1"}))
    board.mpremote("fs", "cp", str(bad), ":config.json")  # past make deploy's own check
    board.mpremote("fs", "cp", str(ROOT / "boards" / "esp32" / "main.py"), ":boot_main.py")
    try:
        # what the real boards' main.py runs at boot (the unix board's main.py is make run's
        # job), run as a reset runs it: ei.boot() then serves the daemon to repair the config
        # until Ctrl-C gives the REPL back
        out = at_reset(board, "boot_main.py")
        assert "ei: not ready: ConfigError: config.json is missing the key 'api_key'" in out
        assert "ERR: the config file does not load: config.json is missing the key" in out
        out = board.mpremote("exec", "import ei; ei.collect('x')", check=False)
        assert "missing the key 'api_key'" in out.stdout + out.stderr
    finally:
        board.mpremote("fs", "cp", str(cfg), ":config.json")
        board.mpremote("rm", ":boot_main.py")


def at_reset(board, main, timeout=20):
    """Run the board's file `main` as a reset runs it, on its serial port, until it prompts
    (the daemon's "> ", or the REPL's); Ctrl-C then ends what it started. What it printed."""
    port = serial.Serial(board.port, 115200, timeout=0.05)
    try:
        port.write(b"\r\x03\x03\x02")
        time.sleep(0.3)
        port.reset_input_buffer()
        port.write(b"exec(open(%r).read())\r" % main.encode())
        got = b""
        end = time.monotonic() + timeout
        while not got.endswith(b"\r\n> ") and not got.endswith(b">>> "):
            assert time.monotonic() < end, got
            got += port.read(4096)
        port.write(b"\x03")
        while not got.endswith(b">>> "):
            assert time.monotonic() < end + 10, got
            got += port.read(4096)
        return got.decode()
    finally:
        port.close()


def test_make_deploy_refuses_a_bad_config_before_touching_the_board(deployed, tmp_path):
    board, _, _ = deployed
    flash = pathlib.Path(board.flash)
    before = (flash / "config.json").read_text()
    bad = write_config(tmp_path / "config.json", type("S", (), {"host": "h", "port": 1}),
                       port="8000", wifi_password="hunter22")
    r = make("deploy", "BOARD=unix", "PORT=" + board.port, "CONFIG=%s" % bad)
    assert r.returncode != 0
    assert "unknown key 'wifi_password'" in r.stderr or "'port' must be int" in r.stderr, r.stderr
    assert "hunter22" not in r.stdout + r.stderr
    assert (flash / "config.json").read_text() == before


def test_make_deploy_says_what_is_missing():
    r = make("deploy", "BOARD=esp32")
    assert r.returncode != 0 and "PORT is the board's serial port" in r.stderr
    r = make("deploy", "BOARD=esp32", "PORT=/dev/null", "CONFIG=/nonexistent/config.json")
    assert r.returncode != 0 and "boards/esp32/config.example.json" in r.stderr
    r = make("deploy", "BOARD=esp8266", "PORT=/dev/null")
    assert r.returncode != 0 and "no board 'esp8266'" in r.stderr and "rp2_pico_w" in r.stderr


def test_make_deploy_mpy_puts_compiled_modules_on_the_board(tmp_path, servers):
    cfg = write_config(tmp_path / "config.json", servers["mock"], device_name="virtual-mpy")
    with VirtualBoard(tmp_path / "flash") as board:
        deploy(board, cfg, "MPY=1")
        ei = pathlib.Path(board.flash) / "ei"
        assert list(ei.rglob("*.mpy")) and not list(ei.rglob("*.py"))
        out = repl(board, "import ei; ei.collect('mpy', seconds=0.2)")
        e = stored(servers["mock"], re.search(r"stored as (\S+)", out).group(1))
        assert (e["label"], e["rows"], e["device_name"]) == ("mpy", 20, "virtual-mpy")


def test_mip_install_from_package_json_gives_a_board_that_collects(tmp_path, servers):
    cfg = write_config(tmp_path / "config.json", servers["mock"], device_name="virtual-mip")
    with VirtualBoard(tmp_path / "flash") as board:
        # what `mpremote mip install github:<owner>/<repo>` does, from this checkout
        r = board.mpremote("mip", "install", str(ROOT / "package.json"))
        assert "Done" in r.stdout, r.stdout
        lib = pathlib.Path(board.flash) / "lib" / "ei"
        assert (lib / "__init__.py").is_file() and (lib / "sensors" / "mpu6050.py").is_file()
        board.mpremote("fs", "cp", str(ROOT / "boards" / "unix" / "board.py"), ":board.py",
                       "+", "fs", "cp", str(cfg), ":config.json")
        out = repl(board, "import ei; print(ei.__file__); ei.collect('mip', seconds=0.1)")
        assert "/lib/ei/__init__" in out
        e = stored(servers["mock"], re.search(r"stored as (\S+)", out).group(1))
        assert (e["label"], e["device_name"]) == ("mip", "virtual-mip")


def test_the_virtual_board_runs_as_a_command(tmp_path):
    p = subprocess.Popen([sys.executable, "-m", "tools.virtual_board",
                          "--flash", str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = p.stdout.readline()
        port = re.search(r"virtual board on (\S+)", line).group(1)
        r = subprocess.run([str(pathlib.Path(sys.executable).parent / "mpremote"), "connect",
                            port, "exec", "import os; print(os.getcwd())"],
                           capture_output=True, text=True, timeout=30)
        assert r.stdout.strip() == str(tmp_path.resolve()), r
    finally:
        p.terminate()
        assert p.wait(10) == 0
