# ei.daemon() (ei/at_server.py) on in-memory streams: the framing edge-impulse-daemon relies on
# (echo, CRLF, "> "), AT+CONFIG? in its sections, the settings it sets persisting in the config
# file, AT+SAMPLESTART's status lines and signed CBOR file read back as base64, and bad input
# answered with an ERR line. Over a real pseudo-terminal, with the daemon's own rules:
# host_tests/test_studio_boards.py.
import json
import os
from binascii import a2b_base64

import daemon_checks
from fwtest import API_KEY, mock_addr, remove_tree, reset_mock, stored

HOME = "ei-test-daemon"
HMAC_KEY = "0123456789abcdef-daemon-key"
_SOCKET = "uploads over a socket: the no-network build has none"
ONLY = {"test_a_board_with_its_network_and_remote_management_up_uploads_itself":
         ("socket", _SOCKET),
        "test_a_command_s_modules_stay_for_the_next_of_its_kind_and_leave_before_another_s":
         ("micropython", "CPython's daemon forgets no module: its heap is the host's")}


def fresh(**kw):
    """A board with its config file in HOME; returns the config file's path."""
    host, port = mock_addr()
    cfg = {"board": "unix", "api_key": API_KEY, "host": host, "port": port, "tls": False}
    cfg.update(kw)
    return daemon_checks.fresh(HOME, cfg, "host")


def run(text, read_back="file"):
    return daemon_checks.run(text, read_back)


def answers(text, read_back="file"):
    return daemon_checks.answers(text, read_back)


def config_of(lines):
    """AT+CONFIG? as the daemon reads it: section -> {lower-cased key: value}."""
    out = {}
    section = None
    for line in lines.split("\r\n"):
        if line.startswith("====="):
            section = line.strip("= ")
            out[section] = {}
        elif ":" in line and section is not None:
            k, _, v = line.partition(":")
            out[section][k.strip().lower()] = v.strip()
    return out


def test_each_character_is_echoed_and_each_answer_ends_with_the_prompt():
    fresh()
    out = run("AT+HELP\r\r\nAT+DEVICEID=dev-9\r")
    assert out.startswith("> AT+HELP\r\n") and out.endswith("> "), out
    assert "\r\nAT+SAMPLESTART[=<sensor>]\r\n" in out
    # an empty line gets the prompt again; the LF of a CRLF is dropped
    assert "> \r\n> AT+DEVICEID=dev-9\r\nOK\r\n> " in out, out
    remove_tree(HOME)


def test_backspace_edits_the_line_being_typed():
    fresh()
    out = run("AT+HELQ\x08P\r")
    assert "AT+HELQ\x08 \x08P\r\n" in out and "AT+CONFIG?" in out
    remove_tree(HOME)


def test_config_prints_every_section_in_the_lines_the_daemon_parses():
    fresh(hmac_key=HMAC_KEY, sensor_name="Accelerometer")
    (text,) = answers("AT+CONFIG?\r")
    c = config_of(text)
    assert sorted(c) == ["Device info", "Inference", "Remote management", "Sampling parameters",
                         "Sensors", "Snapshot", "Upload settings", "WIFI"], sorted(c)
    info = c["Device info"]
    assert (info["id"], info["type"], info["at version"], info["data transfer baudrate"]) == (
        "aa:bb:cc:dd:ee:ff", "MICROPYTHON_TEST", "1.8.0", "115200")
    sensor = [line for line in text.split("\r\n") if line.startswith("Name:")]
    assert sensor == ["Name: Accelerometer, Max sample length: 300s, Frequencies: [100.00Hz]"]
    s = c["Sampling parameters"]
    assert (s["label"], s["interval"], s["length"], s["hmac key"]) == (
        "idle", "10.00 ms.", "10000 ms.", HMAC_KEY)
    host, port = mock_addr()
    u = c["Upload settings"]
    assert (u["api key"], u["host"], u["path"]) == (
        API_KEY, "http://%s:%d" % (host, port), "/api/training/data")
    assert c["Remote management"]["connected"] == "0"  # the daemon is needed
    assert c["Remote management"]["url"] == "ws://remote-mgmt.edgeimpulse.com"
    assert c["WIFI"]["present"] == "0" and c["WIFI"]["password"] == ""
    assert c["Snapshot"]["has snapshot"] == "0"
    remove_tree(HOME)


def test_an_unset_hmac_key_reads_please_set_me_as_the_official_firmwares():
    fresh()
    (text,) = answers("AT+CONFIG?\r")
    assert config_of(text)["Sampling parameters"]["hmac key"] == "please-set-me"
    remove_tree(HOME)


def test_the_settings_the_daemon_sets_persist_in_the_config_file():
    path = fresh()
    got = answers("AT+SAMPLESETTINGS=wave,16,2000,%s\rAT+UPLOADSETTINGS=%s,/api/testing/data\r"
                  "AT+DEVICEID=dev-1\rAT+UPLOADHOST=https://ingestion.example.com:8443\r"
                  "AT+MGMTSETTINGS=ws://mgmt.example.com\r" % (HMAC_KEY, API_KEY))
    assert got == ["OK"] * 5, got
    with open(path) as f:
        cfg = json.load(f)
    assert (cfg["sample_label"], cfg["sample_interval_ms"], cfg["sample_length_ms"],
            cfg["hmac_key"]) == ("wave", 16, 2000, HMAC_KEY)
    assert "interval_ms" not in cfg  # the board's own rate (ei.collect's) stays as it was
    assert (cfg["upload_path"], cfg["device_id"], cfg["remote_mgmt_url"]) == (
        "/api/testing/data", "dev-1", "ws://mgmt.example.com")
    assert (cfg["host"], cfg["port"], cfg["tls"]) == ("ingestion.example.com", 8443, True)
    (text,) = answers("AT+CONFIG?\r")
    c = config_of(text)
    assert c["Device info"]["id"] == "dev-1"
    assert c["Upload settings"]["host"] == "https://ingestion.example.com:8443"
    # AT+CLEARCONFIG forgets what the daemon set; the board's own keys stay
    assert answers("AT+CLEARCONFIG\r") == ["OK"]
    with open(path) as f:
        cfg = json.load(f)
    for k in ("sample_label", "sample_interval_ms", "sample_length_ms", "hmac_key",
              "upload_path", "device_id"):
        assert k not in cfg, k
    assert cfg["api_key"] == API_KEY and cfg["board"] == "unix"
    remove_tree(HOME)


def test_samplestart_writes_a_signed_cbor_file_read_back_as_base64_then_unlinked():
    fresh()
    name = HOME + "/daemon/at-wave"
    # READBUFFER reads the last sample of this session
    got = answers("AT+SAMPLESETTINGS=at-wave,10,300,%s\rAT+SAMPLESTART=Accelerometer\r"
                  "AT+READBUFFER=3,12,n\r" % HMAC_KEY)
    assert got[0] == "OK"
    lines = got[1].split("\r\n")
    assert "\tFile name: " + name in lines and "Samples req: 30" in lines, lines
    # the strings the daemon watches for, in order, and the case it then reads the file in
    for a, b in (("Sampling...", "Processing..."),
                 ("Processing...", "Not uploading file, not connected to WiFi.")):
        assert lines.index(a) < lines.index(b)
    assert lines[-1] == "OK" and not [line for line in lines if line.startswith("ERR")]
    assert HMAC_KEY not in got[1] and API_KEY not in got[1]  # no key shown while sampling
    with open(name, "rb") as f:
        body = f.read()
    (b64,) = answers("AT+READFILE=%s,n\r" % name)
    assert a2b_base64(b64) == body and len(b64) == (len(body) + 2) // 3 * 4
    assert b'"signature"' not in body and b"HS256" in body  # CBOR, signed
    assert b"accX" in body and b"MICROPYTHON_TEST" in body
    assert a2b_base64(got[2]) == body[3:12]
    assert answers("AT+UNLINKFILE=%s\r" % name) == [""]  # an empty answer, as the daemon wants
    assert "at-wave" not in os.listdir(HOME + "/daemon")
    remove_tree(HOME)


def test_unlinkfile_answers_one_empty_line_as_edge_impulse_s_firmware():
    # the daemon's parser keeps from the first CRLF to the last: with the echo's CRLF alone
    # it would keep "\r\n> " and throw "Failed to unlink file" after an upload that worked
    fresh()
    out = run("AT+SAMPLESETTINGS=gone,10,100\rAT+SAMPLESTART\rAT+UNLINKFILE=%s/daemon/gone\r"
              % HOME)
    assert out.endswith("> AT+UNLINKFILE=%s/daemon/gone\r\n\r\n> " % HOME), out[-100:]
    remove_tree(HOME)


def test_the_sample_file_is_written_in_the_board_s_float_size():
    from ei.compat import FLOAT32
    fresh()
    answers("AT+SAMPLESETTINGS=floats,10,300\rAT+SAMPLESTART\r")
    with open(HOME + "/daemon/floats", "rb") as f:
        body = f.read()
    # each row is a CBOR array of 3 (0x83) of single (0xFA) or double (0xFB) floats
    rows, other = body.count(b"\x83\xfa"), body.count(b"\x83\xfb")
    if not FLOAT32:
        rows, other = other, rows
    assert rows >= 30 and other < 3, (rows, other)
    assert len(body) < 30 * (1 + 3 * (5 if FLOAT32 else 9)) + 400, len(body)
    remove_tree(HOME)


def test_by_default_the_daemon_is_told_the_buffer_to_read_and_reads_all_of_it():
    fresh()
    name = HOME + "/daemon/buffered"
    got = answers("AT+SAMPLESETTINGS=buffered,10,200\rAT+SAMPLESTART\r", read_back="buffer")
    line = [x for x in got[1].split("\r\n") if x.startswith("Not uploading file")]
    size = os.stat(name)[6]
    assert line == ["Not uploading file, not connected to WiFi. Used buffer, from=0, to=%d."
                    % size], got[1]
    # AT+READBUFFER reads the session's last sample: the daemon asks for it in the same run
    got = answers("AT+SAMPLESTART\rAT+READBUFFER=0,%d,n\rAT+UNLINKFILE=%s\r" % (size, name),
                  read_back="buffer")
    assert len(a2b_base64(got[1])) == size, got
    assert got[2] == "" and "buffered" not in os.listdir(HOME + "/daemon")
    remove_tree(HOME)


class Probe:
    """The daemon's input, one byte a read, that notes which of the commands' modules are
    loaded as the daemon reads the first byte of each line after the first."""

    MODULES = ("ei.at_settings", "ei.config", "ei.at_sample", "ei.sampler", "ei.encoder",
               "ei.at_encode", "ei.at_files")

    def __init__(self, lines):
        self.data = "".join(line + "\r" for line in lines).encode()
        self.starts = [i + 1 for i, c in enumerate(self.data) if c == 13][:-1]
        self.i = 0
        self.seen = []

    def read(self, n=1):
        import sys
        if self.i in self.starts:
            self.seen.append([m for m in self.MODULES if m in sys.modules])
        b = self.data[self.i:self.i + 1]
        self.i += len(b)
        return b


def test_a_command_s_modules_stay_for_the_next_of_its_kind_and_leave_before_another_s():
    # the daemon's set-up sends its settings in a row: on a Pico, reading at_settings and
    # config again for each would cost 45 ms of the daemon's 2 s; a sample's sampler and
    # encoder then get the heap without them, and the files' commands without those
    import sys
    from ei.at_server import forget
    forget([m for m in sys.modules if m not in Probe.MODULES])  # as a board starts
    fresh()
    name = HOME + "/daemon/kept"
    probe = Probe(["AT+CONFIG?", "AT+SAMPLESETTINGS=kept,10,100,%s" % HMAC_KEY,
                   "AT+UPLOADSETTINGS=%s,/api/training/data" % API_KEY, "AT+SAMPLESTART",
                   "AT+READFILE=%s" % name, "AT+UNLINKFILE=%s" % name])
    out = run(probe)
    assert "ERR" not in out and out.endswith("\r\n\r\n> "), out[-300:]
    assert probe.seen == [
        ["ei.at_settings"],                            # after AT+CONFIG?
        ["ei.at_settings", "ei.config"],               # the settings saved: config checked
        ["ei.at_settings", "ei.config"],
        ["ei.encoder", "ei.at_encode"],                # the settings' modules left first,
                                                       # the sampling step's before encoding
        ["ei.at_files"]], probe.seen                   # and the sample's
    # the daemon ended: the REPL gets the heap back
    assert [m for m in Probe.MODULES if m in sys.modules] == []
    remove_tree(HOME)


def test_bad_input_gets_one_err_line_and_the_daemon_goes_on():
    fresh()
    bad = ["AT+NOPE", "b", "AT+SAMPLESETTINGS=a", "AT+SAMPLESETTINGS=a,x,1",
           "AT+SAMPLESETTINGS=a/b,10,100", "AT+SAMPLESETTINGS=a,10,-5",
           "AT+UPLOADSETTINGS=ei_nothex,/api/training/data",
           "AT+UPLOADSETTINGS=%s,/api/elsewhere" % API_KEY, "AT+UPLOADSETTINGS=%s" % API_KEY,
           "AT+READFILE=%s/config.json" % HOME, "AT+READFILE=%s/daemon/../config.json" % HOME,
           "AT+READFILE=main.py", "AT+READFILE", "AT+READBUFFER=0,10,n",
           "AT+UNLINKFILE=main.py", "AT+SAMPLESTART=Microphone", "AT+UPLOADHOST=ftp://x",
           "AT+UPLOADHOST=http://h:port", "AT+MGMTSETTINGS=http://x", "AT+DEVICEID",
           "AT+DEVICEID=a\x01b", "AT+" + "X" * 300]
    got = answers("\r".join(bad) + "\rAT+DEVICEID=still-ok\r")
    assert len(got) == len(bad) + 1, got
    for cmd, answer in zip(bad, got):
        assert answer.startswith("ERR: ") and "\r\n" not in answer, (cmd, answer)
        assert API_KEY not in answer, cmd
    assert got[1] == "ERR: Not a valid AT command (b)"
    assert got[-1] == "OK"
    remove_tree(HOME)


def test_the_end_of_input_or_ctrl_c_ends_the_daemon():
    fresh()
    out = run("AT+DEVICEID=x\r\x03AT+CONFIG?\r")
    assert "OK" in out and "Device info" not in out
    assert run("") == "> "
    remove_tree(HOME)


def test_a_board_with_its_network_and_remote_management_up_uploads_itself():
    from ei import collector
    reset_mock()  # stored() reads all of it, on a small heap
    fresh(remote_mgmt=True)
    collector.network()
    (text,) = answers("AT+CONFIG?\r")
    assert config_of(text)["Remote management"]["connected"] == "1"  # the daemon steps aside
    got = answers("AT+SAMPLESETTINGS=at-self,10,200,%s\rAT+SAMPLESTART=Accelerometer\r"
                  % HMAC_KEY)
    lines = got[1].split("\r\n")
    assert lines[-1] == "OK", lines
    uploading = [line for line in lines if line.startswith("Uploading...")]
    assert len(uploading) == 1 and API_KEY not in uploading[0]
    done = [line for line in lines if line.startswith("File uploaded (")]
    assert done and not [line for line in lines if "Not uploading" in line], lines
    e = stored(done[0][len("File uploaded ("):-1])
    assert (e["label"], e["rows"], e["category"]) == ("at-self", 20, "training"), e
    assert "at-self" not in os.listdir(HOME + "/daemon")  # nothing left to read back
    remove_tree(HOME)


def test_ei_remote_and_ei_daemon_stay_functions_once_their_modules_are_imported():
    # the modules are not named remote and daemon: importing ei.remote would have set the
    # package's `remote` to the module, hiding the function
    import ei
    from ei import at_server, remote_mgmt, websocket
    assert ei.remote is remote_mgmt.remote and ei.daemon is at_server.daemon
    assert ei.Remote is remote_mgmt.Remote and ei.WebSocket is websocket.WebSocket
