"""Virtual devices for the service tests: the unix board's main job (boards/unix/main.py) on the
MicroPython unix port, configured for a local service, as `make run` starts it. Not a test module.
"""
import json
import os
import pathlib
import subprocess
import sys

from service import API_KEY

ROOT = pathlib.Path(__file__).resolve().parent.parent
MICROPYTHON = pathlib.Path(sys.executable).parent / "micropython"


def start_main(config, home, label="x", heapsize="128k"):
    """Start boards/unix/main.py on the unix port with `config` (a dict) as its config.json in
    the folder `home` (its flash); returns the Popen, its output (text) the board's log."""
    home = pathlib.Path(home)
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "config.json"
    cfg.write_text(json.dumps(config))
    env = dict(os.environ, MICROPYPATH=os.pathsep.join(
        [str(ROOT / "boards" / "unix"), str(ROOT / "firmware"), ".frozen"]))
    return subprocess.Popen([str(MICROPYTHON), "-X", "heapsize=" + heapsize, str(ROOT / "boards" / "unix" / "main.py"),
                             label, str(cfg)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def start_board(server, folder, label, device_name, motion=None):
    """Start boards/unix/main.py on the unix port, configured for `server`; returns the Popen.
    Each device has its own folder under `folder`, as each board has its own flash: what the
    firmware keeps beside its config (a capture file, a queue) is its own."""
    return start_main({"board": "unix", "api_key": API_KEY, "host": server.host, "port": server.port,
                       "tls": False, "motion": motion or label, "device_name": device_name},
                      pathlib.Path(folder) / device_name, label)


def start_remote_board(host, port, folder, device_name, api_key=API_KEY, motion="wave", heapsize="256k"):
    """boards/unix/main.py with "remote_mgmt": true: the unix board serves the service at
    ws://host:port/ as it would Studio (ei.remote()), uploading to the same service, until
    SIGINT; returns the Popen (its output is its log). The heap is test_studio_boards.py's:
    this unix port's objects are 64-bit, twice a board's."""
    return start_main({"board": "unix", "api_key": api_key, "host": host, "port": port,
                       "tls": False, "motion": motion, "device_name": device_name,
                       "remote_mgmt": True, "remote_mgmt_url": "ws://%s:%d" % (host, port)},
                      pathlib.Path(folder) / device_name, heapsize=heapsize)


def finish(proc, timeout=120):
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out
    return out
