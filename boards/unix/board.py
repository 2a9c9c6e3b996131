# The unix board: the MicroPython unix port, with the simulated accelerometer (ei.sim). It is
# `make run`'s board, and the virtual board of the tests (tools/virtual_board.py: the
# unix port's REPL on a pseudo-terminal, deployed to with `make deploy BOARD=unix PORT=...`).
NAME = "unix"
DEVICE_TYPE = "MICROPYTHON_UNIX"
INTERVAL_MS = 10          # 100 Hz
CONFIG = "config.json"
NETWORK = "host"          # the host's own network, already up
SENSOR = "sim"


def setup(cfg):
    """Bring the network up: the host's own network is already up on the unix port."""


def sensor(cfg):
    from ei.sim import Accelerometer
    return Accelerometer(motion=cfg.get("motion", "idle"),
                         rate_hz=1000 / (cfg.get("interval_ms") or INTERVAL_MS))


def device_name():
    """The host's name: the unix port has no MAC of its own."""
    try:
        with open("/etc/hostname") as f:
            return f.read().strip() or None
    except OSError:
        return None
