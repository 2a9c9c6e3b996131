# ei.daemon() (ei/at_server.py) against what a careless user at the serial port, a hostile
# peer or a broken config file gives it: every line and byte ends in the protocol's answer
# (an "ERR: ..." line, then the prompt), never an exception out of daemon(); numbers are
# checked as the service checks them (finite, in range, of the right type, against the
# advertised 300 s and the sensor's rate) before anything is written; config.json is only
# ever replaced by a file that loads, and a board whose file does not load is still served.
import io
import json
import os
from binascii import a2b_base64

import daemon_checks
from daemon_checks import answers, run
from fwtest import API_KEY, remove_tree

from ei.stream import decode

HOME = "ei-test-hostile-daemon"
CONFIG = HOME + "/config.json"


def fresh(text=None, **kw):
    """A board whose config file in HOME holds `text` (default: a good config, with kw)."""
    cfg = {"board": "unix", "api_key": API_KEY}
    cfg.update(kw)
    daemon_checks.fresh(HOME, cfg if text is None else text)


class Typed:
    """A serial port's input made as it is read (so that no test holds 100 KB): `head`,
    then `n` bytes from next_byte(), then `tail`."""

    def __init__(self, head, n, next_byte, tail):
        self.parts = [head, None, tail]
        self.n = n
        self.next_byte = next_byte

    def read(self, size=1):
        while self.parts:
            part = self.parts[0]
            if part is None:
                if self.n:
                    self.n -= 1
                    return self.next_byte()
            elif part:
                self.parts[0] = part[1:]
                return part[:1]
            self.parts.pop(0)
        return b""


def config_text():
    with open(CONFIG) as f:
        return f.read()


def test_a_byte_that_is_not_utf8_gets_an_err_line_and_the_next_command_its_answer():
    fresh()
    got = answers(b"AT+DEVICEID=\xff\xfe\rAT+SAMPLESETTINGS=\xc3(,10,100\r\xe9\rAT+DEVICEID=ok\r")
    assert len(got) == 4, got
    for answer in got[:3]:
        assert answer.startswith("ERR: the line is not UTF-8 text"), got
    assert got[3] == "OK", got
    assert json.loads(config_text())["device_id"] == "ok"


def test_backspace_after_a_two_byte_character_removes_all_of_it():
    fresh()
    out = run(b"AT+DEVICEID=x\xc3\xa9\x08\r")
    assert "AT+DEVICEID=x\u00e9\x08 \x08\r\nOK\r\n" in out, repr(out)
    assert json.loads(config_text())["device_id"] == "x"  # no half of the é is left
    # on an empty line backspace removes nothing; a three-byte character goes whole too
    assert answers(b"\x08\x7fAT+DEVICEID=\xe2\x82\xac\x08z\x7fy\r") == ["OK"]
    assert json.loads(config_text())["device_id"] == "y"


def test_a_100_kb_line_is_dropped_with_an_err_in_fixed_memory_and_the_next_answers():
    fresh()
    out = run(Typed(b"AT+DEVICEID=", 100000, lambda: b"x", b"\rAT+DEVICEID=after\r"))
    assert "ERR: a command line is at most 256 bytes; the rest was dropped" in out, out[-300:]
    assert len(out) < 1000, len(out)  # what is over the line is not echoed either
    assert out.endswith("AT+DEVICEID=after\r\nOK\r\n> "), out[-200:]
    assert json.loads(config_text())["device_id"] == "after"


def test_nul_and_control_characters_get_an_err_line_and_are_not_echoed():
    fresh()
    bad = [b"AT+DEVICEID=a\x00b", b"\x00", b"\x1b[A", b"AT+HELP\x07", b"AT+DEVICEID=\tx",
           b"\x01\x02\x04\x05\x06\x0e\x1f"]
    got = answers(b"\r".join(bad) + b"\rAT+DEVICEID=clean\r")
    assert len(got) == len(bad) + 1, got
    for line, answer in zip(bad, got):
        assert answer.startswith("ERR: the line holds a control character (code "), (line, got)
    assert got[-1] == "OK"
    assert "\x1b" not in run(b"\x1b[2J\r") and "\x00" not in run(b"a\x00\r")


def test_cr_lf_and_crlf_each_end_one_command():
    fresh()
    for data in (b"AT+DEVICEID=a\rAT+DEVICEID=b\r", b"AT+DEVICEID=a\nAT+DEVICEID=b\n",
                 b"AT+DEVICEID=a\r\nAT+DEVICEID=b\r\n", b"AT+DEVICEID=a\r\nAT+DEVICEID=b\n"):
        out = run(data)
        assert out.count("> ") == 3 and out.count("OK\r\n") == 2, (data, out)
    # a line of its own still gets the prompt again
    assert run(b"\n\r\n\r").count("> ") == 4


def test_a_port_whose_stdin_turns_cr_into_lf_is_read_through_its_buffer():
    import ei
    fresh()

    class BareMetalStdin:  # sys.stdin on the esp32, rp2 and nrf ports
        def __init__(self, data):
            self.buffer = io.BytesIO(data)

        def read(self, n):
            raise AssertionError("read the bytes of sys.stdin.buffer, not sys.stdin")

    out = io.BytesIO()
    ei.daemon(BareMetalStdin(b"AT+DEVICEID=bare\r\n"), out, start_delay_ms=0)
    assert decode(out.getvalue()) == "> AT+DEVICEID=bare\r\nOK\r\n> "


def test_numbers_that_are_not_finite_or_too_big_are_refused_and_nothing_is_written():
    fresh()
    before = config_text()
    bad = ["x,inf,1000", "x,nan,1000", "x,-inf,1000", "x,1e309,1000", "x,10,inf",
           "x,10,nan", "x,10,1e400", "x,10,99999999999", "x,0.001,100000", "x,10,300001",
           "x,10," + "9" * 40, "x,0,1000", "x,-10,1000", "x,10,0", "x,2000,1000",
           "x,ten,1000", "x,10,1000ms", "x,0x10,1000", "x,,1000"]
    got = answers("".join("AT+SAMPLESETTINGS=%s\r" % b for b in bad).encode())
    assert len(got) == len(bad), got
    for args, answer in zip(bad, got):
        assert answer.startswith("ERR: "), (args, answer)
    assert config_text() == before  # refused before anything was written
    # the limits themselves are taken: 300 s at the sensor's 100 Hz, and slower
    assert answers(b"AT+SAMPLESETTINGS=x,10,300000\rAT+SAMPLESETTINGS=y,12.5,1000\r") == [
        "OK", "OK"]
    cfg = json.loads(config_text())
    assert (cfg["sample_label"], cfg["sample_interval_ms"], cfg["sample_length_ms"]) == (
        "y", 12.5, 1000)


def test_the_errors_name_what_is_wrong():
    fresh()
    got = answers(b"AT+SAMPLESETTINGS=x,inf,1000\rAT+SAMPLESETTINGS=x,10,99999999999\r"
                  b"AT+SAMPLESETTINGS=x,0.001,100000\rAT+READBUFFER=0,10\r")
    assert "the interval (ms) must be more than 0 and at most 1000" in got[0], got
    assert "the length (ms) must be more than 0 and at most 300000" in got[1], got
    assert got[2] == "ERR: the interval 0.001 ms is faster than the sensor's 100.00 Hz", got
    assert got[3] == "ERR: no sample yet: AT+SAMPLESTART first", got


def test_every_other_number_from_the_peer_is_checked():
    fresh(sample_label="n", sample_length_ms=100)
    before = config_text()
    bad = [b"AT+READBUFFER=-1,5", b"AT+READBUFFER=0,99999999999999999999",
           b"AT+READBUFFER=1e3,5", b"AT+READBUFFER=inf,5", b"AT+READBUFFER=5,4",
           b"AT+READBUFFER=0,5,x", b"AT+READFILE=" + HOME.encode() + b"/daemon/n,9600",
           b"AT+UPLOADHOST=http://h:99999999999999999999", b"AT+UPLOADHOST=http://h:0",
           b"AT+UPLOADHOST=http://h:-80", b"AT+UPLOADHOST=http://h:65536",
           b"AT+UPLOADHOST=http://h:1e3"]
    got = answers(b"AT+SAMPLESTART\r" + b"\r".join(bad) + b"\rAT+READBUFFER=0,3,n\r")
    assert got[0].endswith("OK"), got
    got = got[1:]
    assert len(got) == len(bad) + 1, got
    for line, answer in zip(bad, got):
        assert answer.startswith("ERR: "), (line, answer)
    assert config_text() == before
    with open(HOME + "/daemon/n", "rb") as f:
        first = f.read(3)
    assert a2b_base64(got[-1]) == first, got


def test_random_bytes_never_stop_the_daemon():
    # 20,000 bytes of an xorshift32 stream (the same on every runtime), with "AT+" and line
    # ends mixed in; no Ctrl-C (0x03), which ends the daemon as it should
    import ei
    fresh()
    state = [2463534242]
    pending = []

    def next_byte():
        if pending:
            return pending.pop()
        x = state[0]
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        state[0] = x
        b = x & 0xFF
        if b < 8:
            pending.extend((b"+", b"T", b"A"))  # popped last first: "\rAT+"
            return b"\r"
        return bytes((4 if b == 3 else b,))

    class Tail:  # the serial port's host side: only the end of what came is kept
        def __init__(self):
            self.end = b""
            self.prompts = 0

        def write(self, b):
            self.prompts += bytes(b) == b"> "
            self.end = (self.end + bytes(b))[-200:]

    out = Tail()
    ei.daemon(Typed(b"", 20000, next_byte, b"\rAT+DEVICEID=alive\r"), out, start_delay_ms=0)
    assert out.end.endswith(b"AT+DEVICEID=alive\r\nOK\r\n> "), out.end
    assert out.prompts > 100, out.prompts  # it answered line after line


def test_a_config_that_does_not_load_is_served_said_why_and_repaired_by_the_daemon():
    from ei import collector, config
    # a value the old daemon wrote (MicroPython's json writes inf), and a wrong type
    fresh('{"board": "unix", "api_key": "%s", "sample_interval_ms": 1e999, '
          '"sample_length_ms": "long", "device_id": "kept"}' % API_KEY)
    assert collector.broken() is not None
    out = run(b"AT+CONFIG?\rAT+SAMPLESETTINGS=fixed,10,2000\r")
    first = out.split("\r\n")[0]
    assert first.startswith("ERR: the config file does not load: "), first
    assert "sample_interval_ms" in first and "sample_length_ms" in first, first
    assert "ID:         kept" in out and "Interval:  10.00 ms." in out, out  # what it could read
    assert "Length:    10000 ms." in out
    assert out.endswith("AT+SAMPLESETTINGS=fixed,10,2000\r\nOK\r\n> "), out[-200:]
    cfg = config.load(CONFIG, "unix")  # it loads again
    assert (cfg["sample_length_ms"], cfg["device_id"]) == (2000, "kept")
    with open(CONFIG + ".bad") as f:
        assert "1e999" in f.read()  # the file that did not load is kept
    assert collector.broken() is None
    remove_tree(HOME)


def test_a_config_that_is_not_json_is_served_from_nothing_until_the_daemon_sets_a_key():
    from ei import collector, config
    fresh('{"board": "unix", "api_key": "%s", ' % API_KEY)  # cut off
    # what the daemon sends when the Api Key it reads is not the project's
    out = run(b"AT+CONFIG?\rAT+UPLOADSETTINGS=" + API_KEY.encode() + b",/api/training/data\r")
    assert out.startswith("ERR: the config file does not load: %s is not valid JSON"
                          % CONFIG), out[:200]
    assert "Api Key:   \r\n" in out and "Type:       MICROPYTHON_TEST" in out, out
    assert out.endswith("/api/training/data\r\nOK\r\n> "), out[-200:]
    assert config.load(CONFIG, "unix")["api_key"] == API_KEY
    assert collector.broken() is None
    remove_tree(HOME)


def test_a_setting_that_would_not_load_again_is_refused_and_the_file_left_as_it_was():
    fresh(device_id="before")
    before = config_text()
    got = answers(b"AT+UPLOADSETTINGS=ei_zz,/api/training/data\rAT+DEVICEID=after\r")
    assert got[0].startswith("ERR: not saved: ") and "'api_key'" in got[0], got
    assert API_KEY not in got[0]
    assert got[1] == "OK", got
    cfg = json.loads(config_text())
    assert (cfg["api_key"], cfg["device_id"]) == (API_KEY, "after")  # the refused one undone
    assert sorted(os.listdir(HOME)) == ["config.json"]  # no temporary file left
    remove_tree(HOME)
