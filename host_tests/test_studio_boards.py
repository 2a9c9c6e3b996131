"""Driven from Edge Impulse Studio, on boards: ei.daemon() on the virtual board's serial port
(tools/virtual_board.py, deployed with `make deploy`) driven by host_tests/at_driver.py
with edge-impulse-daemon's own rules (its framing, its AT+CONFIG? parsing, base64, the
signature checked with CPython's hmac, the upload it makes); and the unix board's main.py
with "remote_mgmt" in its config serving a sample request from Studio's side
(host_tests/peer_scenarios.py)."""
import contextlib
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest
import serial

from at_driver import DaemonError, Driver, signature_valid, upload
from service import API_KEY
from tools.virtual_board import VirtualBoard

ROOT = pathlib.Path(__file__).resolve().parent.parent
HMAC_KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


def make(*args, timeout=180):
    return subprocess.run(["make", "--no-print-directory"] + list(args), cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def stored(server, name):
    for e in server.store.listing():
        if e["name"] == name:
            return e
    raise AssertionError("the mock service has no sample %r" % name)


@pytest.fixture(scope="module")
def board(tmp_path_factory, servers):
    tmp = tmp_path_factory.mktemp("studio-board")
    mock = servers["mock"]
    cfg = tmp / "config.json"
    cfg.write_text(json.dumps({"board": "unix", "api_key": API_KEY, "host": mock.host,
                               "port": mock.port, "tls": False, "motion": "wave",
                               "device_name": "studio-board-1"}))
    with VirtualBoard(tmp / "flash") as b:
        r = make("deploy", "BOARD=unix", "PORT=" + b.port, "CONFIG=%s" % cfg)
        assert r.returncode == 0, r.stdout + r.stderr + b.log()
        yield b


@pytest.fixture
def daemon(board):
    """The board's REPL runs ei.daemon(); the driver has connected as the daemon does."""
    port = serial.Serial(board.port, 115200, timeout=0.05)
    try:
        port.write(b"\r\x03\x03\x02")  # stop what runs, leave the raw REPL
        time.sleep(0.3)
        port.reset_input_buffer()
        port.write(b"import ei; ei.daemon()\r")
        got = b""
        end = time.monotonic() + 10
        while not got.endswith(b"ei.daemon()\r\n> "):
            assert time.monotonic() < end, got + board.log().encode()
            got += port.read(4096)
        d = Driver(port)
        d.connect()
        yield d
        port.write(b"\x03")  # Ctrl-C: the REPL again
        got = b""
        end = time.monotonic() + 10
        while b">>> " not in got:
            assert time.monotonic() < end, got
            got += port.read(4096)
    finally:
        port.close()


def test_the_daemon_reads_the_board_s_config_with_its_own_parser(daemon):
    c = daemon.get_config()
    assert c["info"]["id"] == "studio-board-1" and c["info"]["type"] == "MICROPYTHON_UNIX"
    assert c["info"]["at_version"] == (1, 8, 0) and c["info"]["data transfer baudrate"] == "115200"
    assert c["sensors"] == [{"name": "Accelerometer", "max_sample_length_s": 300,
                             "frequencies": [100.0]}]
    assert c["upload"]["api key"] == API_KEY  # the daemon uploads with it
    assert c["management"]["connected"] == "0"  # so the daemon stays
    assert c["wifi"]["present"] == "0" and c["snapshot"]["has snapshot"] == "0"


def test_a_sample_as_the_daemon_takes_it_is_signed_read_back_uploaded_and_stored(
        daemon, servers, board):
    # what the daemon sends before each Studio sample, then the sample
    daemon.expect_ok("AT+UPLOADSETTINGS=%s,/api/training/data" % API_KEY)
    daemon.expect_ok("AT+SAMPLESETTINGS=pty-wave,10,500,%s" % HMAC_KEY)
    seen, name, case, span, answer = daemon.sample("Accelerometer", 500)
    assert seen == ["Sampling...", "Processing..."], answer
    assert case == "buffer" and name == "daemon/pty-wave", answer
    assert HMAC_KEY not in answer and API_KEY not in answer
    body = daemon.read_buffer(span[0], span[1], 500)
    assert span[0] == 0 and len(body) == span[1]
    assert daemon.read_file(name, 500) == body
    assert body == (pathlib.Path(board.flash) / name).read_bytes()
    assert signature_valid(body, HMAC_KEY) and not signature_valid(body, "another-key")
    c = daemon.get_config()
    status, text = upload(c, name, body)
    assert status == 200, text
    e = stored(servers["mock"], text.strip())
    assert (e["label"], e["category"], e["rows"]) == ("pty-wave", "training", 50), e
    assert e["device_type"] == "MICROPYTHON_UNIX" and abs(e["interval_ms"] - 10) < 0.5
    daemon.unlink(name)  # the daemon wants an empty answer
    assert not (pathlib.Path(board.flash) / name).exists()


def test_the_settings_the_daemon_sets_are_kept_in_config_json(daemon, board):
    daemon.expect_ok("AT+DEVICEID=studio-board-renamed")
    daemon.expect_ok("AT+MGMTSETTINGS=ws://remote-mgmt.edgeimpulse.com")
    try:
        cfg = json.loads((pathlib.Path(board.flash) / "config.json").read_text())
        assert cfg["device_id"] == "studio-board-renamed"
        assert daemon.get_config()["info"]["id"] == "studio-board-renamed"
    finally:
        daemon.expect_ok("AT+CLEARCONFIG", 10)
    assert daemon.get_config()["info"]["id"] == "studio-board-1"


def test_bad_commands_get_an_err_line_and_the_link_goes_on(daemon):
    for command in ("AT+NOPE", "AT+SAMPLESETTINGS=a", "AT+READFILE=config.json",
                    "AT+SAMPLESTART=Microphone", "AT+UPLOADSETTINGS=ei_zz,/api/training/data"):
        answer = daemon.execute(command)
        assert answer.startswith("ERR: ") and "\r\n" not in answer, (command, answer)
        assert API_KEY not in answer
    with pytest.raises(DaemonError, match="Not a valid AT command"):
        daemon.execute("hello")
    assert daemon.get_config()["info"]["type"] == "MICROPYTHON_UNIX"


def test_the_unix_board_with_remote_mgmt_serves_studio_from_boot(tmp_path, servers):
    """boards/unix/main.py with "remote_mgmt": true connects, says hello and records, as a
    Wi-Fi board's main.py does at boot."""
    peer, mock = servers["peer"], servers["mock"]
    steps = [{"sample": {"label": "boot-remote", "length": 300, "path": "/api/training/data",
                         "hmacKey": HMAC_KEY, "interval": 10, "sensor": "Accelerometer"}}]
    with peer.lock:
        peer.scripts["boot1"] = {"steps": steps, "next": 0}
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"board": "unix", "api_key": API_KEY, "host": mock.host,
                               "port": mock.port, "tls": False, "remote_mgmt": True,
                               "remote_mgmt_url": "ws://127.0.0.1:%d/studio/boot1" % peer.port,
                               "device_id": "boot-board", "capture_path": str(
                                   tmp_path / "capture.eic")}))
    env = dict(os.environ, MICROPYPATH=os.pathsep.join(
        [str(ROOT / "boards" / "unix"), str(ROOT / "firmware"), ".frozen"]))
    micropython = pathlib.Path(sys.executable).parent / "micropython"
    # 256k: the 64-bit unix port's objects are twice a board's (as conftest's default)
    p = subprocess.Popen([str(micropython), "-X", "heapsize=256k",
                          str(ROOT / "boards" / "unix" / "main.py"), "x", str(cfg)],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        end = time.monotonic() + 30
        while not peer.log("boot1")["samples"]:
            if time.monotonic() > end or p.poll() is not None:
                p.kill()
                raise AssertionError("%s\n%s" % (p.communicate()[0].decode(), peer.log("boot1")))
            time.sleep(0.1)
    finally:
        p.kill()
        out = p.communicate()[0].decode()
    log = peer.log("boot1")
    assert log["hellos"][0]["device_id"] == "boot-board", out
    assert log["hellos"][0]["device_type"] == "MICROPYTHON_UNIX"
    entry = log["samples"][0]
    assert entry["state"] == "finished" and entry["signature_valid"] is True, (entry, out)
    assert stored(mock, entry["stored"])["rows"] == 30


@contextlib.contextmanager
def booted_daemon(board, tmp_path, config_text):
    """config_text as the board's config.json and the nRF52840's main.py (the board the
    daemon is for) run as a reset runs it, until the daemon's prompt: (the port, what main.py
    printed). After: Ctrl-C gives the REPL back, and the board's files are as they were."""
    flash = pathlib.Path(board.flash)
    before = (flash / "config.json").read_text()
    new = tmp_path / "config.json"
    new.write_text(config_text)
    board.mpremote("fs", "cp", str(new), ":config.json")
    board.mpremote("fs", "cp", str(ROOT / "boards" / "nrf52840" / "main.py"), ":boot_main.py")
    port = serial.Serial(board.port, 115200, timeout=0.05)
    try:
        port.write(b"\r\x03\x03\x02")
        time.sleep(0.3)
        port.reset_input_buffer()
        port.write(b"exec(open('boot_main.py').read())\r")  # what a reset runs
        got = b""
        end = time.monotonic() + 10
        while not got.endswith(b"\r\n> "):
            assert time.monotonic() < end, got
            got += port.read(4096)
        yield port, got
        port.write(b"\x03")
        got = b""
        while b">>> " not in got:
            assert time.monotonic() < end + 10, got
            got += port.read(4096)
    finally:
        port.close()
        board.mpremote("rm", ":boot_main.py")
        if (flash / "config.json.bad").exists():
            board.mpremote("rm", ":config.json.bad")
        new.write_text(before)
        board.mpremote("fs", "cp", str(new), ":config.json")


def _config_with(board, **kw):
    cfg = json.loads((pathlib.Path(board.flash) / "config.json").read_text())
    cfg.update(kw)
    return json.dumps(cfg)


def test_main_py_with_daemon_true_serves_the_daemon_from_boot(board, tmp_path):
    """With "daemon": true the serial port answers the daemon as soon as main.py has run."""
    with booted_daemon(board, tmp_path, _config_with(board, daemon=True)) as (port, got):
        assert b"ei: ready" in got
        d = Driver(port)
        d.connect()
        assert d.get_config()["info"]["type"] == "MICROPYTHON_UNIX"


def test_a_board_whose_config_does_not_load_still_serves_the_daemon_which_repairs_it(
        board, tmp_path):
    """config.json with "daemon": true and a value that does not load (the inf an older
    daemon could write): main.py says why, serves the daemon with what it could read, and
    the daemon's own settings commands make the file load again (the old one kept)."""
    flash = pathlib.Path(board.flash)
    text = _config_with(board, daemon=True).replace(
        '"daemon": true', '"daemon": true, "sample_interval_ms": inf')
    with booted_daemon(board, tmp_path, text) as (port, got):
        assert b"ei: not ready: ConfigError: config.json is not valid JSON" in got, got
        assert (b"ERR: the config file does not load: config.json is not valid JSON; the keys "
                b"left out: sample_interval_ms" in got), got
        d = Driver(port)
        d.connect()
        c = d.get_config()
        assert c["info"]["type"] == "MICROPYTHON_UNIX" and c["info"]["id"] == "studio-board-1"
        assert c["upload"]["api key"] == API_KEY  # what could be read: all but the inf
        d.expect_ok("AT+SAMPLESETTINGS=repaired,10,1000,%s" % HMAC_KEY)
        repaired = json.loads((flash / "config.json").read_text())  # it loads again
        assert repaired["sample_label"] == "repaired" and repaired["daemon"] is True
        assert "inf" in (flash / "config.json.bad").read_text()
