"""A daemon command cut by a reset, on the emulated Pico: boards/rp2_pico with the daemon at
boot is sent what edge-impulse-daemon sends for a Studio sample (AT+SAMPLESETTINGS and
AT+UPLOADSETTINGS, each a config.json write, then AT+SAMPLESTART: a capture file, then the
signed sample file), the chip is stopped at chosen instructions through them (each counted
from a flash write, which every run reaches, not from power-on), and the board boots again
from its flash as the cut left it. It must boot (ei.setup() loads config.json), its daemon
answer, the config hold the settings of before or after each command, whole, and
nothing half-written be taken for a sample: AT+READFILE gives a whole signed sample or none.

The commands are typed ahead, before the board's USB serial port opens: the board reads them
when its daemon starts, so that each run executes the same instructions up to its cut
(test_pico_power.py does its work at boot for the same reason). A cut between two flash
writes leaves the flash as the first left it (the emulator's writes are whole: a real
chip's page program or sector erase cut half-way is not modelled), so cuts between the
writes reach every state the flash can be left in.
"""
import base64
import json

import cbor2

from at_driver import parse_config, signature_valid
from fake_i2c import G, FakeMPU6050
from pico_board import Pico, board_files, booted, read_files

HMAC_KEY = "cut-daemon-hmac-key"
API_KEY = "ei_" + "6a" * 32
LABEL = "cut"
COMMANDS = ("g"  # main.py's go (board_files(go=True)): nothing it prints is lost
            "AT+SAMPLESETTINGS=%s,10,1000,%s\r"
            "AT+UPLOADSETTINGS=%s,/api/testing/data\r"
            "AT+SAMPLESTART\r" % (LABEL, HMAC_KEY, API_KEY)).encode()


def chip():
    c = FakeMPU6050()
    c.motion = lambda t: (1.0, -2.0, G)
    return c


def daemon_answers(pico, commands):
    """Type the commands (CR-ended) once the daemon prompts; each answer as the daemon cuts
    it (from the echo's CRLF to the prompt's)."""
    start = len(pico.read_until(b"\r\n> ", 60))
    answers = []
    for command in commands:
        pico.write(command.encode() + b"\r")
        said = pico.read_until(b"\r\n> ", 60, start)
        start += len(said)
        answers.append(said[said.find(b"\r\n") + 2:-4].decode(errors="replace"))
    return answers


def test_a_daemon_command_cut_by_a_reset_leaves_a_board_that_boots_and_no_half_sample():
    files = board_files("rp2_pico", {"daemon": True}, go=True)
    old = json.loads(files["config.json"])
    image = Pico(files=files).flash
    # the trace run types ahead as the cut runs do, so that the board reads the same bytes at
    # the same instruction in every run
    with Pico(flash=image, chips=[chip()], trace_flash=True) as pico:
        pico.write(COMMANDS)
        pico.read_until(b"Not uploading file", 120)
        pico.read_until(b"OK\r\n> ", 60, pico.output.find(b"Not uploading file"))
    ops = pico.flash_ops
    assert len(ops) > 12, ops
    # cuts, each (flash writes done, instructions after the last of them): a point every run
    # reaches, wherever the host's bytes came in. In AT+SAMPLESETTINGS before its first write,
    # after every third flash write (half-way to the next: about 25 writes, two config saves,
    # a capture and the sample file), and after the last
    cuts = [(0, int(ops[0]["instructions"] * 0.95))]
    cuts += [(i + 1, (ops[i + 1]["instructions"] - ops[i]["instructions"]) // 2)
             for i in range(0, len(ops) - 1, 3)]
    cuts.append((len(ops), 10000))
    seen = set()
    for writes, cut in cuts:
        with Pico(flash=image, chips=[chip()], cut_at=cut, cut_after_writes=writes) as cutting:
            cutting.write(COMMANDS)
            end = cutting.wait_stopped()
        done = end.get("flash", {})
        assert end["reason"] == "cut" and done.get("erases", 0) + done.get("programs", 0) \
            == writes, (writes, cut, end)
        with booted(flash=cutting.flash, chips=[chip()]) as pico:
            pico.write(b"g")
            config, sample = daemon_answers(pico, ["AT+CONFIG?",
                                                   "AT+READFILE=daemon/" + LABEL])
            booting = pico.text()
        where = "cut %d instructions after flash write %d of %s" % (
            cut, writes, [o["instructions"] for o in ops])
        # main.py's ei.setup() checked config.json whole, then the daemon started
        assert "ei: ready" in booting and "Traceback" not in booting, (where, booting)
        c = parse_config(config)
        # each command's settings are all there or none: a save is one rename
        sampling = (c["sampling"]["label"], c["sampling"]["hmac key"],
                    c["sampling"]["length"])
        assert sampling in ((LABEL, HMAC_KEY, "1000"),
                            ("idle", old["hmac_key"], "10000")), (where, sampling)
        upload = (c["upload"]["api key"], c["upload"]["path"])
        assert upload in ((API_KEY, "/api/testing/data"),
                          (old["api_key"], "/api/training/data")), (where, upload)
        assert sampling[0] == LABEL or upload[0] == old["api_key"], where  # in their order
        seen.add("settings " + ("none" if sampling[0] != LABEL else
                                "sample" if upload[0] != API_KEY else "both"))
        # the sample: whole and signed, or none under its name
        left = read_files(pico.flash)
        if sample.startswith("ERR: "):
            assert sample == "ERR: no file 'daemon/%s'" % LABEL, (where, sample)
            assert "daemon/" + LABEL not in left, where
            seen.add("sample none" + (", a part written" if "daemon/.part" in left else ""))
        else:
            assert sample, (where, "AT+READFILE served an empty file as the sample")
            body = base64.b64decode(sample)
            assert signature_valid(body, HMAC_KEY), where
            values = cbor2.loads(body)["payload"]["values"]
            assert len(values) == 100, (where, len(values))
            assert all(abs(v[0] - 1.0) < 0.01 and abs(v[2] - G) < 0.01 for v in values)
            seen.add("sample whole")
    assert seen >= {"settings none", "settings sample", "settings both", "sample none",
                    "sample none, a part written", "sample whole"}, (seen, cuts)
