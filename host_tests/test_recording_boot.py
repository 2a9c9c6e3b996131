"""A recording from boot: the unix board's main.py with "record_label" in its config records
its simulated accelerometer without a break, in windows of "record_window_ms" sent while the
next is read, until Ctrl-C (SIGINT, as the unix port takes it); the window being read then is
handed off too, shorter. What the service stored is the judge: contiguous windows, each with
its place in x-metadata."""
import signal
import time

from service import API_KEY
from unix_devices import start_main


def test_main_py_with_record_label_records_windows_until_ctrl_c(tmp_path, servers):
    mock = servers["mock"]
    # 256k: the 64-bit unix port's objects are twice a board's (as conftest's default)
    p = start_main({"board": "unix", "api_key": API_KEY, "host": mock.host, "port": mock.port,
                    "tls": False, "record_label": "boot-rec", "record_window_ms": 500,
                    "device_name": "boot-recorder", "queue_path": str(tmp_path / "queue")},
                   tmp_path, heapsize="256k")
    lines = []
    try:
        end = time.monotonic() + 30
        while not any(line.startswith("window 3: stored as") for line in lines):
            line = p.stdout.readline()
            assert line and time.monotonic() < end, "".join(lines)
            lines.append(line)
        time.sleep(0.2)  # into window 4
        p.send_signal(signal.SIGINT)
        out = "".join(lines) + p.communicate(timeout=30)[0]
    finally:
        p.kill()
    assert p.returncode == 0 and "interrupted>" in out, out
    windows = sorted((e for e in mock.store.listing()
                      if e["label"] == "boot-rec" and e["device_name"] == "boot-recorder"),
                     key=lambda e: int(e["metadata"]["window"]))
    (rec,) = {e["metadata"]["recording"] for e in windows}
    assert [e["metadata"]["window"] for e in windows] == [str(n) for n in range(len(windows))]
    assert len(windows) >= 5, out
    for n, e in enumerate(windows[:-1]):
        assert (e["rows"], e["interval_ms"], e["metadata"]["first_row"]) == (50, 10, str(n * 50))
    last = windows[-1]
    # the window being read at Ctrl-C, handed off with the rows it had (fewer, but for a
    # machine so busy that the signal came at a window's end)
    assert last["metadata"]["first_row"] == str(50 * (len(windows) - 1))
    assert 0 < last["rows"] <= 50
    assert "Recording %s" % rec in out
