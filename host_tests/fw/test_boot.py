# ei.boot() (ei/startup.py), what each board's main.py runs at reset: the job its config names
# is the one run (remote management, the daemon, a recording, or none: the REPL), and a config
# that does not load starts the daemon, which says why and can repair it. A board of
# daemon_checks (the simulated accelerometer) with its config file in a folder of its own.
# Over a pseudo-terminal, as a reset runs main.py: test_studio_boards.py and test_deploy.py.
import io

import daemon_checks
from fwtest import API_KEY, mock_addr, peer_log, peer_script, peer_url, remove_tree

from ei import startup
from ei.queue import Queue
from ei.sim import Accelerometer
from ei.stream import decode

HOME = "ei-test-boot"
# on the emulated Pico too: its main.py's own path (bytes on its stdin, config.json on littlefs)
RP2 = ("test_daemon_true_serves_the_daemon_at_boot",
       "test_a_config_that_does_not_load_starts_the_daemon_which_says_why_and_repairs_it")
ONLY = {"test_remote_mgmt_true_serves_studio_at_boot":
        ("socket", "remote management opens a socket: the no-network build has none")}


def fresh(network="host", **kw):
    """A board with its config file in HOME (the mock service's host, `kw` added)."""
    host, port = mock_addr()
    cfg = {"board": "unix", "api_key": API_KEY, "host": host, "port": port, "tls": False}
    cfg.update(kw)
    return daemon_checks.fresh(HOME, cfg, network)


def boot(text=""):
    """ei.boot() with `text` typed at the daemon; (the job it ran, what the daemon wrote)."""
    out = io.BytesIO()
    run = startup.boot(io.BytesIO(text.encode()), out)
    return run, decode(out.getvalue())


def test_the_job_is_the_one_the_config_names():
    assert startup.job({}) is None
    assert startup.job({"remote_mgmt": True}) == "remote"
    assert startup.job({"daemon": True}) == "daemon"
    assert startup.job({"record_label": "idle"}) == "record"
    assert startup.job({"remote_mgmt": False, "daemon": False}) is None
    # remote management before the daemon (a board with both runs Studio over its network)
    assert startup.job({"remote_mgmt": True, "daemon": True, "record_label": "x"}) == "remote"
    assert startup.job({"daemon": True, "record_label": "x"}) == "daemon"


def test_a_config_that_does_not_load_runs_the_daemon_whatever_it_names():
    assert startup.job({}, loads=False) == "daemon"
    assert startup.job({"remote_mgmt": True}, loads=False) == "daemon"


def test_a_config_naming_no_job_gives_the_repl_back():
    fresh()
    assert boot("AT+CONFIG?\r") == (None, "")  # the daemon read nothing
    remove_tree(HOME)


def test_daemon_true_serves_the_daemon_at_boot():
    fresh(daemon=True, device_name="boot-board")
    run, out = boot("AT+CONFIG?\r")
    assert run == "daemon"
    assert out.startswith("> AT+CONFIG?\r\n") and "boot-board" in out, out
    remove_tree(HOME)


def test_a_config_that_does_not_load_starts_the_daemon_which_says_why_and_repairs_it():
    path = daemon_checks.fresh(HOME, '{"board": "unix", "sample_interval_ms": 5}', "host")
    run, out = boot("AT+UPLOADSETTINGS=%s,/api/training/data\r" % API_KEY)
    assert run == "daemon"
    assert out.startswith("ERR: the config file does not load: %s is missing the key "
                          "'api_key'" % path), out
    assert out.endswith("/api/training/data\r\nOK\r\n> "), out
    from ei import collector
    assert collector.broken() is None  # the daemon's command made the file load
    from ei.config import load
    assert load(path, "unix")["api_key"] == API_KEY
    remove_tree(HOME)


class FailingAccelerometer(Accelerometer):
    """The simulated chip, which stops answering after `rows` reads."""

    def __init__(self, rows):
        Accelerometer.__init__(self, "wave")
        self.left = rows

    def read(self):
        if not self.left:
            raise OSError(5)
        self.left -= 1
        return Accelerometer.read(self)


class RecordingBoard(daemon_checks.Board):
    def sensor(self, cfg):
        return FailingAccelerometer(35)


def test_record_label_records_at_boot_until_it_stops():
    from ei import collector
    fresh(None, record_label="boot-rec", record_window_ms=100, queue_path=HOME + "/queue")
    collector.use_file(RecordingBoard(None), HOME + "/config.json")
    assert boot()[0] == "record"  # ended by the sensor: CaptureStopped, printed
    got = [e["label"] for e in Queue(HOME + "/queue")]
    assert len(got) >= 3 and set(got) == {"boot-rec"}, got  # 100 ms windows of 35 rows
    remove_tree(HOME)


def test_remote_mgmt_true_serves_studio_at_boot():
    peer_script("boot1", [])
    # a key the peer refuses: the hello refused ends remote management, and boot() with it
    fresh(remote_mgmt=True, api_key="ei_" + "0" * 64, remote_mgmt_url=peer_url(
        "studio", "boot1"), device_id="boot-remote")
    assert boot()[0] == "remote"
    log = peer_log("boot1")
    assert log["connections"] == 1 and log["hello_errors"], log
    remove_tree(HOME)
