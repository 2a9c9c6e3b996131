"""ei.daemon()'s heap on the board-like f32 build (host side of mp_daemon.py), for
host_tests/test_daemon_memory.py's bound and `make bench`'s figure: what edge-impulse-daemon
sends for one Studio sample (AT+SAMPLESETTINGS, AT+SAMPLESTART of 10 s at 100 Hz, AT+READFILE,
AT+UNLINKFILE), served with -X heapsize=<kb>k, its output written to a file as a serial port
takes it."""
import json
import pathlib
import shutil

from tools.bench import harness

SECONDS = 10          # at the board's 100 Hz: 1,000 rows
HMAC_KEY = "daemon-heap-hmac-key"
API_KEY = "ei_6040df080906d06f090e05013b7090580b707a0b050eb04d00350504070a2040"


def prepare(home):
    """A fresh board folder at home: its config.json, no sample, no output."""
    home = pathlib.Path(home)
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    (home / "config.json").write_text(json.dumps({"board": "unix", "api_key": API_KEY}))
    return home


def run(home, heap_kb, binary, path):
    """mp_daemon at heap_kb KB on `binary` with MICROPYPATH `path`: the harness.Job. It runs
    in home, the board's flash, with ei/ at its root as a board has it (a link to the first
    folder of path that holds ei/; frozen, none): the daemon's files are relative to it, and
    the harness finds modules in the job's working directory (their paths are heap qstrs)."""
    home = prepare(home)
    for folder in path.split(":"):
        ei = pathlib.Path(folder) / "ei"
        if folder != ".frozen" and ei.is_dir():
            (home / "ei").symlink_to(ei.resolve())
            break
    return harness.Job(None, [home, SECONDS, HMAC_KEY], heap_kb, module="mp_daemon",
                       binary=binary, path="%s:%s" % (home, path), timeout=300)


def served(job):
    """Every command answered, no ERR among the answers."""
    return job.ok and job.values.get("errors") == "0"


def smallest(home, binary, path, lo_kb=16, hi_kb=256):
    """The least heap (KB) at which the sample is served (bisection), or None."""
    return harness.smallest_heap(lambda kb: served(run(home, kb, binary, path)), lo_kb, hi_kb)


def table(tmp, f32, f32_frozen, say):
    """Markdown rows: the least heap from .py, from .mpy and frozen in."""
    tmp = pathlib.Path(tmp)
    mpy, jobs = tmp / "mpy", tmp / "jobs"
    ways = [("from .py", f32, "%s:%s:.frozen" % (jobs, harness.FIRMWARE)),
            ("from .mpy", f32, "%s:.frozen" % mpy),
            ("frozen (f32-frozen)", f32_frozen, "%s:.frozen" % jobs)]
    out = ["", "ei.daemon() on MicroPython 1.28.0 f32: smallest -X heapsize (1 KB steps) that "
           "serves AT+SAMPLESETTINGS, AT+SAMPLESTART of %d s at 100 Hz (1,000 rows, a signed "
           "CBOR file), AT+READFILE and AT+UNLINKFILE" % SECONDS, "", "| ei | heap |", "|---|---|"]
    for label, binary, path in ways:
        say("f32 daemon smallest heap, %s ..." % label)
        out.append("| %s | %s |" % (label, _kb(smallest(tmp / "daemon-home", binary, path))))
    return out


def _kb(n):
    return "%d KB" % n if n is not None else "over the search's top"
