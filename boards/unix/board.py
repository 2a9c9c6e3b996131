# The unix board: the MicroPython unix port, with the simulated accelerometer (ei.sim).
# Deployed as board.py beside the ei package; ei.collect() uses it.
DEVICE_TYPE = "MICROPYTHON_UNIX"
INTERVAL_MS = 10  # 100 Hz
CONFIG = "config.json"


def setup(cfg):
    """Bring the network up: the host's own network is already up on the unix port."""


def sensor(cfg):
    from ei.sim import Accelerometer
    return Accelerometer(motion=cfg.get("motion", "idle"), rate_hz=1000 / INTERVAL_MS)


def device_name():
    try:
        with open("/etc/hostname") as f:
            return f.read().strip() or None
    except OSError:
        return None
