"""Edge Impulse's own daemon code as the peer of ei.daemon(): EiSerialProtocol from the npm
package edge-impulse-linux (pinned in tools/node), unmodified, driven by
tools/node/daemon-peer.js as `edge-impulse-daemon` drives a board (its set-up wizard, then a
Studio sample request: set the sample and upload settings, start sampling, read the file back
by AT+READBUFFER or AT+READFILE, upload it, unlink it) through our connector to the board's
pseudo-terminal (tools/node/pty-connector.js). The file read back must verify (HS256) and the
upload land in the local service (`python -m service`, in its own process), listed there.

The boards are pseudo-terminals with a MicroPython REPL, each deployed as a user deploys it:
the unix port on the virtual board, and the emulated Raspberry Pi Pico (tools/pico: MicroPython
1.28.0's own rp2 firmware; boards/rp2_pico with ei as .mpy, its MPU6050 on I2C0, the daemon at
boot). Any other board whose serial port is a pty is one more entry in BOARDS (a context
manager yielding a Board). The daemon is started at the board's REPL, as a user does. The
Pico is paced (its idle time follows the wall clock): the daemon's timeouts are wall time, and
the emulator runs Python at about 0.4 of a Pico's speed, so each answer comes later than a
Pico's would, within them (docs/boards.md has the figures).

Also here: host_tests/at_driver.py's parse_response cuts answers exactly as the daemon's own
parseSerialResponse does, checked against it by running it.
"""
import base64
import contextlib
import json
import pathlib
import subprocess
import time
import types

import cbor2
import pytest
import serial

from at_driver import parse_response, signature_valid
from fake_i2c import G, FakeMPU6050
from pico_board import board_files, booted
from service import API_KEY
from service_client import request
from service_process import cli
from tools.virtual_board import VirtualBoard

ROOT = pathlib.Path(__file__).resolve().parent.parent
NODE = ROOT / "tools" / "node"
HMAC_KEY = "ei-daemon-test-hmac-key-0123456789"
OTHER_KEY = "ei_" + "5a" * 32  # a key the daemon replaces with the project's (API_KEY)
PEER_TIMEOUT_S = 120


class Board:
    """A board on a pty: `port`; `float32`, whether its floats are single precision (its
    sample file's CBOR floats); `device_type`; `row`, a check of one row of its sensor's."""

    def __init__(self, port, float32, device_type, row):
        self.port = port
        self.float32 = float32
        self.device_type = device_type
        self.row = row


@contextlib.contextmanager
def unix_board(tmp):
    """The unix port on the virtual board, ei deployed with `make deploy` as to a board."""
    cfg = tmp / "config.json"
    cfg.write_text(json.dumps({"board": "unix", "api_key": OTHER_KEY, "motion": "wave",
                               "device_name": "ei-daemon-board"}))
    with VirtualBoard(tmp / "flash") as b:
        r = subprocess.run(["make", "--no-print-directory", "deploy", "BOARD=unix",
                            "PORT=" + b.port, "CONFIG=%s" % cfg], cwd=ROOT,
                           capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stdout + r.stderr + b.log()
        # the simulated accelerometer's "wave": three axes within +-2 g
        yield Board(b.port, False, "MICROPYTHON_UNIX",
                    lambda row: len(row) == 3 and all(abs(v) < 2 * G for v in row))


def tilted(t):
    """The Pico's MPU6050 at rest, tilted: x and z from gravity, y from a slow sway."""
    return (3.0, (t % 1.0) - 0.5, 9.3)


@contextlib.contextmanager
def pico_board(tmp):
    """The emulated Raspberry Pi Pico as boards/rp2_pico deployed with MPY=1: ei as .mpy
    from the rp2 port's mpy-cross, board.py, main.py, and config.json with "daemon": true
    (the board's example, another project's key); its MPU6050 on I2C0 (GP4/GP5)."""
    files = board_files("rp2_pico", {"api_key": OTHER_KEY, "device_name": "ei-daemon-board"})
    chip = FakeMPU6050()
    chip.motion = tilted
    with booted(files, chips=[chip], pty=True, paced=True) as pico:
        # within the MPU6050's 16-bit steps at +-2 g (0.6 mm/s2)
        yield Board(pico.port, True, "RASPBERRY_PI_PICO",
                    lambda row: abs(row[0] - 3.0) < 0.01 and -0.51 < row[1] < 0.51
                    and abs(row[2] - 9.3) < 0.01)


BOARDS = {"unix": unix_board, "rp2_pico": pico_board}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """The local ingestion service as a user runs it, checking signatures with HMAC_KEY."""
    svc = cli(tmp_path_factory.mktemp("ei-daemon-service"), "--hmac-key", HMAC_KEY)
    try:
        yield svc
    finally:
        svc.stop()


@pytest.fixture(scope="module", params=sorted(BOARDS))
def board(request, tmp_path_factory):
    with BOARDS[request.param](tmp_path_factory.mktemp("ei-daemon-" + request.param)) as b:
        yield b


def _read_until(port, end, timeout=15, last=True, got=b""):
    """What the port says until `end` (after `got`, what it said before): the last thing it
    says (a prompt), or with last=False anywhere in it (a line that more output may follow in
    the same read)."""
    deadline = time.monotonic() + timeout
    while not (got.endswith(end) if last else end in got):
        assert time.monotonic() < deadline, got[-500:]
        got += port.read(4096)
    return got


# typed at the REPL before each run: the board's config.json as a new board's, set by no
# daemon yet (another project's API key, no HMAC key, the default host)
_NEW_BOARD = ("import json; c = json.load(open('config.json')); "
              "[c.pop(k, None) for k in ('host', 'port', 'tls', 'hmac_key', 'remote_mgmt_url', "
              "'upload_path', 'device_id', 'sample_label', 'sample_interval_ms', "
              "'sample_length_ms')]; c['api_key'] = %r; "
              "open('config.json', 'w').write(json.dumps(c))" % OTHER_KEY)


@contextlib.contextmanager
def daemon_on(board, read_back):
    """The board's config made a new board's, a soft reset, then ei.daemon(read_back=...)
    typed at its REPL, and the port closed for the daemon's peer to open it; Ctrl-C gives
    the REPL back after, and `files` is then what the board's daemon/ folder holds."""
    done = types.SimpleNamespace(files=None)
    with serial.Serial(board.port, 115200, timeout=0.05) as port:
        port.write(b"\r\x03\x03\x02")  # stop what runs, leave the raw REPL
        time.sleep(0.3)
        port.reset_input_buffer()
        port.write(_NEW_BOARD.encode() + b"\r")
        _read_until(port, b"\r\n>>> ")
        port.write(b"\x04")  # soft reset: ei loads the config again
        said = _read_until(port, b"soft reboot\r\n", last=False)
        # main.py's end: the REPL's prompt, or the daemon's where it starts at boot
        _read_until(port, b"> ", 60, got=said[said.index(b"soft reboot\r\n"):])
        port.write(b"\x03\x03\r")  # whatever main.py started
        _read_until(port, b">>> ")
        port.write(("import ei; ei.daemon(read_back=%r)\r" % read_back).encode())
        _read_until(port, b")\r\n> ")
    try:
        yield done
    finally:
        with serial.Serial(board.port, 115200, timeout=0.05) as port:
            port.write(b"\x03")
            _read_until(port, b">>> ")
            port.write(b"import os; print('DAEMON', os.listdir('daemon'))\r")
            said = _read_until(port, b"]\r\n>>> ").decode()
            done.files = said[said.rindex("DAEMON") + 7:].split("\r\n")[0]


def run_peer(board, service, label, length_ms, extra=()):
    """tools/node/daemon-peer.js against the board: (its steps, its result)."""
    url = "http://%s:%d" % (service.host, service.port)
    r = subprocess.run(
        ["node", str(NODE / "daemon-peer.js"), "--port", board.port, "--ingestion", url,
         "--api-key", API_KEY, "--hmac-key", HMAC_KEY, "--mgmt-url", "ws://%s:%d/" % (
             service.host, service.port), "--label", label, "--length-ms", str(length_ms),
         "--interval-ms", "10"] + list(extra),
        capture_output=True, text=True, timeout=PEER_TIMEOUT_S)
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    errors = [x["error"] for x in lines if "error" in x]
    assert r.returncode == 0 and not errors, (errors, r.stdout[-3000:], r.stderr[-2000:])
    return [x["step"] for x in lines if "step" in x], lines, lines[-1]["result"]


@pytest.mark.parametrize("read_back", ["buffer", "file"])
def test_edge_impulse_s_daemon_sets_up_samples_reads_back_uploads_and_unlinks(
        board, service, read_back):
    label = "pty-" + read_back
    with daemon_on(board, read_back) as after:
        steps, lines, result = run_peer(board, service, label, 1000)
    # every call the daemon makes, in its order: connect, config, its set-up wizard (the
    # board had another API key and no HMAC key), config again, then the sample request
    calls = [s for i, s in enumerate(steps) if i == 0 or steps[i - 1] != s]
    assert calls == ["onConnected", "getConfig", "setUploadHost", "setRemoteManagement",
                     "setUploadSettings", "setSampleSettings", "getConfig",
                     "setSampleSettings", "setUploadSettings", "startSampling", "upload",
                     "unlink"], steps
    config = [x for x in lines if x.get("step") == "getConfig"]
    assert config[0]["atVersion"] == [1, 8, 0] and config[0]["type"] == board.device_type
    assert config[0]["sensors"] == [{"name": "Accelerometer", "maxSampleLengthS": 300,
                                     "frequencies": [100]}], config[0]
    assert config[1]["host"] == "http://%s:%d" % (service.host, service.port), config[1]
    assert config[1]["apiKeySet"] and config[1]["hmacKeySet"] and not config[1]["connected"]
    events = [x["event"] for x in lines if x.get("step") == "startSampling"]
    assert events[:2] == ["samplingStarted", "processing"], events
    assert "readingFromDevice" in events and events[-1] == "done", events
    assert result["read"] == read_back and result["unlinked"] is True, result
    assert result["filename"] == label and result["onDeviceFileName"] == "daemon/" + label

    # the file read back is the board's signed sample, in the board's float size
    body = base64.b64decode(result["file"])
    assert signature_valid(body, HMAC_KEY) and not signature_valid(body, "another-key")
    payload = cbor2.loads(body)["payload"]
    assert payload["device_type"] == board.device_type
    assert [s["name"] for s in payload["sensors"]] == ["accX", "accY", "accZ"]
    assert len(payload["values"]) == 100 and abs(payload["interval_ms"] - 10) < 0.5
    assert all(board.row(row) for row in payload["values"]), payload["values"][:3]
    float_head = b"\xfa" if board.float32 else b"\xfb"
    assert body.count(b"\x83" + float_head) >= 100, "rows not in the board's float size"
    assert after.files == "[]", after.files  # unlinked: nothing left in daemon/

    # uploaded as the daemon uploads it, and listed by the service
    assert result["upload"]["status"] == 200, result["upload"]
    stored = result["upload"]["body"].strip()
    listed = request(service, "GET", "/samples").json()
    entry = [e for e in listed if e["name"] == stored]
    assert entry, (stored, listed)
    e = entry[0]
    assert (e["label"], e["category"], e["rows"]) == (label, "training", 100), e
    assert e["signature_valid"] is True, e


# --- the driver's parser, against the daemon's own ----------------------------------------

_JS_PARSE = """
const path = require('path');
const P = require(path.join(process.argv[1], 'node_modules', 'edge-impulse-linux', 'build',
                            'shared', 'daemon', 'ei-serial-protocol.js')).default;
const p = new P({});
const inputs = JSON.parse(require('fs').readFileSync(0, 'utf8'));
// execCommand: parseSerialResponse, then toString('ascii').trim()
console.log(JSON.stringify(inputs.map(h => p.parseSerialResponse(Buffer.from(h, 'hex'))
                                            .toString('ascii').trim())));
"""


def test_the_driver_cuts_answers_as_the_daemon_s_own_parser():
    raws = [b"AT+UNLINKFILE=daemon/x\r\n> ",              # the echo alone: ">" (an error)
            b"AT+UNLINKFILE=daemon/x\r\n\r\n> ",          # an empty line: "" (as EI's)
            b"AT+CONFIG?\r\n== a ==\r\nID: 1\r\n\r\n> ",
            b"AT+X\nERR: lone LF\n> ", b"\nfirst\r\nsecond\n> ", b"no line end> ",
            b"AT+H\r\n\xc3\xa9t\xe9\xff\r\nmore\x1c\r\n> ", b" \t\r\n  spaced  \r\n\r\n> "]
    r = subprocess.run(["node", "-e", _JS_PARSE, str(NODE)], capture_output=True, text=True,
                       input=json.dumps([x.hex() for x in raws]), timeout=60)
    assert r.returncode == 0, r.stderr
    theirs = json.loads(r.stdout)
    assert [parse_response(x) for x in raws] == theirs
    assert theirs[:2] == [">", ""]  # why AT+UNLINKFILE answers one empty line
