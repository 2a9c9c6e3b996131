# What the daemon tests (test_daemon.py, test_hostile_daemon.py) share: a board with the
# simulated accelerometer, its config file in a folder of its own, and ei.daemon() run on
# in-memory streams, its answers cut as edge-impulse-daemon cuts them. Not a test module.
import io
import json
import os

from fwtest import remove_tree

from ei.sim import Accelerometer
from ei.stream import decode


class Board:
    NAME = "unix"
    DEVICE_TYPE = "MICROPYTHON_TEST"
    INTERVAL_MS = 10

    def __init__(self, network):
        self.NETWORK = network

    def setup(self, cfg):
        pass

    def sensor(self, cfg):
        return Accelerometer("wave")

    def device_name(self):
        return "aa:bb:cc:dd:ee:ff"


def fresh(home, cfg_or_text, network=None):
    """A board (NETWORK `network`) whose config file in the new folder `home` holds the dict
    cfg_or_text as JSON, or that text as it is (then taken as far as it loads, as the daemon
    takes it); returns the config file's path."""
    from ei import collector
    remove_tree(home)
    os.mkdir(home)
    path = home + "/config.json"
    text = cfg_or_text if isinstance(cfg_or_text, str) else json.dumps(cfg_or_text)
    with open(path, "w") as f:
        f.write(text)
    collector.use_file(Board(network), path, unchecked=True)
    return path


def run(data, read_back="buffer"):
    """What the daemon writes for `data` (str, bytes as a serial port sends them, or a stream
    of them); it must return, never raise."""
    import ei
    out = io.BytesIO()
    if isinstance(data, str):
        data = data.encode()
    ei.daemon(io.BytesIO(data) if isinstance(data, bytes) else data, out, start_delay_ms=0,
              read_back=read_back)
    return decode(out.getvalue())


def answers(data, read_back="buffer"):
    """The answer to each command line, as the daemon cuts them: between the echo's CRLF
    and the last CRLF before the next prompt."""
    out = run(data, read_back)
    assert out.startswith("> ") and out.endswith("> "), out
    got = []
    for block in out[2:-2].split("\r\n> "):
        _, _, rest = block.partition("\r\n")  # the echoed command
        got.append(rest[:-2] if rest.endswith("\r\n") else rest)
    return got
