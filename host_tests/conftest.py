"""pytest set-up: servers on loopback, and every firmware test run on every runtime.

Firmware tests live in host_tests/fw/test_*.py as plain `test_*()` functions that use only
what CPython and MicroPython share. Each one becomes one item per runtime:

    test_x[cpython]     in pytest's own process
    test_x[unix64]      the unix port from PyPI (.venv/bin/micropython): 64-bit objects, doubles
    test_x[f32]         MicroPython 1.28.0 as an ESP32 or a Pico W runs it: 32-bit objects,
                        single-precision floats, ticks that wrap every 2**30 us, socket and TLS
    test_x[f32-frozen]  the same with ei frozen in, as a custom board firmware holds it (its
                        MICROPYPATH has no firmware/: the frozen ei is what runs)
    test_x[f32-nonet]   the same without socket, ssl and tls: what an nRF52840 runs
    test_x[f32-1.23]    f32 of MicroPython 1.23.0, the oldest release README supports (its TLS
                        socket has no recv)
    test_x[rp2]         MicroPython 1.28.0's own rp2 firmware on an emulated Raspberry Pi Pico
                        (tools/pico): littlefs on flash, the port's stdin, its own clock and
                        heap, ei as .mpy from the port's mpy-cross; no network

The f32 runtimes are built by `make runtimes` (`make test` builds them first) into build/mp/;
an item whose runtime is not built fails saying so. `-k f32-nonet` picks one runtime,
`-k micropython` every MicroPython one, `-k cpython` pytest's own.

A module's items for one MicroPython runtime run in one process (fw/mprun.py), in a folder
of its own: the first of them runs all of the module's selected items for that runtime, in
file order, and each item then reports its own result and output. If the process dies, the
test it was running fails with its output and the tests after it fail saying they did not
run. A test that checks what a first import does says so: `OWN_PROCESS = ("test_name",)` runs
it in a process of its own. `make test` runs pytest on several workers (pytest-xdist), each
given whole units (below: such a batch, a module's CPython items, a host test module), so
runs at once share no process and no working folder; a file a test writes in /tmp is named
by fwtest.scratch(), its process's own. `-n 0` runs all in pytest's own process.

The emulated Pico runs Python about 2.7 times slower than a Pico (docs/tests.md), so [rp2]
runs a selection: the tests a module names in `RP2 = ("test_name", ...)` (or RP2 = "all"),
chosen for what only the real port shows (littlefs, its clock, its heap, bytes on its
stdin); the others are skipped there, saying so. Each module's batch boots the board once.

A module says where a test cannot run, and why, in its `ONLY` table:
    ONLY = {"test_name": ("cpython", "why it cannot run on MicroPython"),
            "test_other": [("micropython", "why"), ("socket", "why it needs a socket")]}
and for all its tests at once in `ONLY_MODULE = ("socket", "why")`. An entry is a pair, or a
list of pairs that all apply: (where it runs, why). Where it runs is a runtime, a group or a
tuple of them; pytest shows the reason as the skip on the other runtimes. Groups:
"micropython" (every runtime but cpython) and "socket" (every runtime with socket and TLS,
all but f32-nonet and rp2: an nRF52840 has no network, the emulated Pico has no Wi-Fi).
`MP_HEAPSIZE = "64k"` sets the heap of the module's MicroPython processes (default below).
A test knows its runtime from fwtest.RUNTIME (EI_RUNTIME in the unix ports' environment, in
fwenv.py on the emulated Pico).
"""
import fnmatch
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
FW_TESTS = HERE / "fw"
CHIPS = ROOT / "tools" / "chips"  # the accelerometer models (fake_i2c), shared with tools/pico
FIRMWARE = ROOT / "firmware"
VECTORS = HERE / "vectors"  # reference vectors from the documentation (vectors/README.md)
MICROPYTHON = pathlib.Path(sys.executable).parent / "micropython"
DEFAULT_HEAPSIZE = "256k"  # a mid-sized board (ESP32 without PSRAM has ~110-160 KB free)
MP_BUILD = ROOT / "build" / "mp"  # the Makefile's MP_BUILD

# id: (binary, whether firmware/ is on MICROPYPATH)
RUNTIMES = {
    "unix64": (MICROPYTHON, True),
    "f32": (MP_BUILD / "1.28.0-f32" / "micropython", True),
    "f32-frozen": (MP_BUILD / "1.28.0-f32-frozen" / "micropython", False),
    "f32-nonet": (MP_BUILD / "1.28.0-f32-nonet" / "micropython", True),
    "f32-1.23": (MP_BUILD / "1.23.0-f32" / "micropython", True),
    "rp2": (MP_BUILD / "1.28.0-rp2" / "firmware.bin", True),  # run by host_tests/pico_board.py
}
GROUPS = {
    "micropython": tuple(RUNTIMES),
    "socket": ("cpython", "unix64", "f32", "f32-frozen", "f32-1.23"),
}
HANG_S = 120  # one test without a result for this long is a hang: its process is killed

# ROOT: the service package (service/) and the tools (tools/) are imported by their names.
for p in (str(FIRMWARE), str(CHIPS), str(FW_TESTS), str(HERE), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)
os.environ["EI_VECTORS"] = str(VECTORS)  # for fwtest.vector() on both runtimes


def micropython_env(runtime="unix64"):
    env = dict(os.environ)
    path = [str(FW_TESTS), str(CHIPS), str(FIRMWARE), ".frozen"]
    if not RUNTIMES[runtime][1]:
        path.remove(str(FIRMWARE))
    env["MICROPYPATH"] = os.pathsep.join(path)
    env["EI_RUNTIME"] = runtime
    return env


def run_micropython(args, heapsize=DEFAULT_HEAPSIZE, timeout=300, **kw):
    """Run the unix port with the firmware and fw tests on its path."""
    cmd = [str(MICROPYTHON), "-X", "heapsize=" + heapsize] + list(args)
    return subprocess.run(cmd, env=micropython_env(), capture_output=True, text=True,
                          timeout=timeout, **kw)


# --- where a test runs ---------------------------------------------------------------------

def runtimes_of(names):
    """The runtimes an ONLY entry names: a runtime, a group, or a tuple of them."""
    out = set()
    for name in (names,) if isinstance(names, str) else names:
        if name in GROUPS:
            out.update(GROUPS[name])
        elif name == "cpython" or name in RUNTIMES:
            out.add(name)
        else:
            raise pytest.UsageError("ONLY names %r: not a runtime (cpython, %s) nor a group (%s)"
                                    % (name, ", ".join(RUNTIMES), ", ".join(GROUPS)))
    return out


def restrictions(module, name):
    """[(runtimes, label, why)]: the module's ONLY_MODULE and the test's ONLY entry."""
    out = []
    for entry in (getattr(module, "ONLY_MODULE", None), getattr(module, "ONLY", {}).get(name)):
        for names, why in [entry] if isinstance(entry, tuple) else entry or ():
            label = names if isinstance(names, str) else ", ".join(names)
            out.append((runtimes_of(names), label, why))
    return out


def pytest_pycollect_makeitem(collector, name, obj):
    if not (isinstance(collector, pytest.Module) and collector.path.parent == FW_TESTS):
        return None
    if not (name.startswith("test_") and callable(obj)):
        return None
    module = collector.obj
    heapsize = getattr(module, "MP_HEAPSIZE", DEFAULT_HEAPSIZE)
    own = name in getattr(module, "OWN_PROCESS", ())
    items = [pytest.Function.from_parent(collector, name=name + "[cpython]", callobj=obj)]
    for runtime in RUNTIMES:
        items.append(MicroPythonItem.from_parent(
            collector, name="%s[%s]" % (name, runtime), callobj=obj, runtime=runtime,
            funcname=name, heapsize=heapsize, own_process=own))
    rp2 = getattr(module, "RP2", ())
    if rp2 != "all" and name not in rp2:
        items[-1].add_marker(pytest.mark.skip(reason=(
            "rp2 runs a selection: %s's RP2 names what runs on the emulated Pico "
            "(docs/tests.md)" % collector.path.stem)))
    for runs_on, label, why in restrictions(module, name):
        for item in items:
            if getattr(item, "runtime", "cpython") not in runs_on \
                    and not item.get_closest_marker("skip"):
                item.add_marker(pytest.mark.skip(reason="%s only: %s" % (label, why)))
    return items


# --- firmware tests on the unix ports, one process per module and runtime -------------------

class MicroPythonItem(pytest.Function):
    """One firmware test on one MicroPython runtime. A pytest.Function, so that the session's
    autouse fixtures (the servers) are set up for it as for the CPython items."""

    def __init__(self, *, runtime, funcname, heapsize, own_process, **kw):
        super().__init__(**kw)
        self.runtime = runtime
        self.funcname = funcname
        self.heapsize = heapsize
        self.batch = (self.path, runtime, funcname if own_process else None)
        self.extra_keyword_matches.add("micropython")

    def runtest(self):
        passed, output = _batch_result(self)
        if not passed:
            raise MicroPythonFailure(output)
        sys.stdout.write(output)  # pytest captures it: shown with -rP

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, MicroPythonFailure):
            return "%s:\n%s" % (self.runtime, excinfo.value)
        return super().repr_failure(excinfo)


class MicroPythonFailure(Exception):
    pass


_results = {}  # item.batch -> {funcname: (passed, output)}


def _batch_result(item):
    key = item.batch
    if key not in _results:
        binary = RUNTIMES[item.runtime][0]
        funcs = [i.funcname for i in item.session.items
                 if isinstance(i, MicroPythonItem) and i.batch == key
                 and not i.get_closest_marker("skip")]
        if not binary.is_file():
            why = "%s is not built: `make runtimes` builds it" % binary
            _results[key] = {f: (False, why) for f in funcs}
        else:
            _results[key] = run_batch(item.runtime, item.path.stem, funcs, item.heapsize)
    return _results[key].get(item.funcname, (False, "not run: not in its module's batch"))


def run_batch(runtime, module, funcs, heapsize=DEFAULT_HEAPSIZE):
    """Run `funcs` of fw/`module`.py in one process of `runtime`; {func: (passed, output)}."""
    if runtime == "rp2":
        from pico_board import run_fw_batch
        return run_fw_batch(module, funcs, lambda lines, alive, stop: parse_marks(
            lines, funcs, runtime, stop, lambda: "the emulated Pico stopped"), HANG_S)
    cmd = [str(RUNTIMES[runtime][0]), "-X", "heapsize=" + heapsize,
           str(FW_TESTS / "mprun.py"), module] + funcs
    # a folder of its own to work in, as a board's filesystem is its own: the files a test
    # names relatively (the daemon's) are not another batch's, run at once on another worker
    with tempfile.TemporaryDirectory(prefix="ei-%s-%s-" % (module, runtime)) as cwd:
        proc = subprocess.Popen(cmd, env=micropython_env(runtime), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace", cwd=cwd)
        try:
            return parse_marks(_process_lines(proc), funcs, runtime, proc.kill,
                               lambda: "exit status %d" % proc.wait())
        finally:
            proc.kill()  # ended already, unless pytest was interrupted
            proc.wait()


def _process_lines(proc):
    """A process's output lines as they come, and None while there is nothing new."""
    lines = []  # read by a thread, so that a hang is seen while it hangs
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    seen = 0
    while True:
        reader.join(0.05)
        while seen < len(lines):
            seen += 1
            yield lines[seen - 1]
        if not reader.is_alive() and seen == len(lines):
            return
        yield None


def parse_marks(lines, funcs, runtime, kill, ended):
    """{func: (passed, output)} from mprun.py's marks in `lines` (None: nothing new yet).
    A test without a result for HANG_S is a hang: kill() ends the runtime."""
    results, current, out, hung = {}, None, [], False
    started = time.monotonic()
    for line in lines:
        if line is None:
            if time.monotonic() - started > HANG_S:
                hung = True
                kill()
                break
            continue
        if line.startswith("\x1eRUN "):
            current, out, started = line[5:].strip(), [], time.monotonic()
        elif line.startswith(("\x1ePASS ", "\x1eFAIL ")) and current:
            if out and out[-1] == "\n":
                out.pop()  # mprun's newline before the mark
            results[current] = (line.startswith("\x1ePASS"), "".join(out))
            current, out, started = None, [], time.monotonic()
        else:
            out.append(line)
    if current or len(results) < len(funcs):
        ended = ("killed: no result in %d s" % HANG_S) if hung else ended()
        if current:
            results[current] = (False, "".join(out)
                                + "\n[%s %s during this test]" % (runtime, ended))
        elif out:  # before the first test: the module did not import
            for f in funcs:
                results.setdefault(f, (False, "".join(out) + "\n[%s %s]" % (runtime, ended)))
        for f in funcs:
            results.setdefault(f, (False, "not run: the %s process ended (%s) during %s"
                                   % (runtime, ended, current or "its start")))
    return results


# --- on several workers (make test: pytest-xdist, -n 2) -------------------------------------
# Each worker runs whole units: a fw module's batch for one MicroPython runtime (one process,
# as above), a fw module's CPython items, a host test module (its module-scoped fixtures set
# up once). The units longest first, so that the workers finish together: the estimates are
# seconds a unit took on 2 cores (2026-12-07), the first pattern that matches (fnmatch); a
# unit not named is taken for a short one.
SLOW_UNITS = {
    "test_pico_daemon_power": 90, "test_service_bounds": 42, "test_service_studio": 31,
    "fw:test_queue:rp2": 28, "fw:test_recording:*": 27, "test_pico_power": 27,
    "test_ei_daemon": 26, "test_service_store": 25, "test_pico_sensors": 23,
    "test_board_heap": 19, "test_soak": 18, "test_service_recordings": 18, "test_pico_boot": 17,
    "test_pico_recording": 17,
    "test_studio_boards": 16, "test_deploy": 15, "test_drain": 14,
    "fw:test_hostile_input:*": 12, "fw:test_remote:*": 11, "fw:test_timeouts:*": 11,
    "test_daemon_memory": 11, "test_sampling_accuracy": 11, "test_service_projects": 11,
    "fw:*:rp2": 3,
}


def _unit(nodeid):
    """What must run in one worker, from a test's id: "fw:<module>:<runtime>" for a firmware
    test (its runtime in the id's last brackets), else its module's name."""
    path, _, name = nodeid.partition("::")
    folder, _, module = path.rpartition("/")
    module = module[:-3] if module.endswith(".py") else module
    if folder.rpartition("/")[2] == "fw" and name.endswith("]"):
        return "fw:%s:%s" % (module, name[name.rfind("[") + 1:-1])
    return module


def _estimate(unit):
    return next((s for pattern, s in SLOW_UNITS.items() if fnmatch.fnmatchcase(unit, pattern)), 1)


def pytest_collection_modifyitems(config, items):
    if hasattr(config, "workerinput"):  # a worker's collection: longest units first
        units = {}
        for item in items:
            units.setdefault(_unit(item.nodeid), []).append(item)
        order = sorted(units, key=lambda u: -_estimate(u))  # stable: file order among equals
        items[:] = [item for unit in order for item in units[unit]]


def pytest_xdist_make_scheduler(config, log):
    """xdist's scheduling by scope, a unit (above) for a scope: the units in the order the
    workers collected them, each to the first worker free."""
    from xdist.scheduler import LoadScopeScheduling

    class UnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return _unit(nodeid)

    config.option.loadscopereorder = False  # keep the longest-first order
    return UnitScheduling(config, log)


@pytest.fixture(scope="session")
def mpy(tmp_path_factory):
    """The firmware and the memory jobs (tools/bench) compiled to .mpy once a session, as a
    board runs them: the memory tests' folder for MICROPYPATH."""
    from tools.bench import harness
    d = tmp_path_factory.mktemp("mpy")
    harness.build_mpy(d)
    return d


@pytest.fixture(scope="session", autouse=True)
def servers(tmp_path_factory):
    """The mock ingestion server, the echo server and the remote-management peer (Studio's
    side of the WebSocket, host_tests/peer_scenarios.py), on loopback, for the whole session."""
    from echo_server import EchoServer
    from service import API_KEY, MockServer
    from peer_scenarios import TestPeer
    echo = EchoServer().start()
    # allow_hosts: the name test_timeouts.py gives as Host while it connects to the address
    mock = MockServer(data_dir=tmp_path_factory.mktemp("mock-store"),
                      allow_hosts=("never-resolved.invalid",)).start()
    peer = TestPeer([API_KEY], store=mock.store).start()
    from tools import tls_certs
    certs, ctx = tls_certs.make(tmp_path_factory.mktemp("peer-certs"))
    tls_peer = TestPeer([API_KEY], store=mock.store, ssl_context=ctx).start()
    os.environ["EI_MOCK_HOST"] = "127.0.0.1"
    os.environ["EI_MOCK_PORT"] = str(mock.port)
    os.environ["EI_ECHO_PORT"] = str(echo.port)
    os.environ["EI_PEER_PORT"] = str(peer.port)
    os.environ["EI_PEER_TLS_PORT"] = str(tls_peer.port)
    os.environ["EI_PEER_CA_PEM"] = certs["ca.pem"]
    os.environ["EI_PEER_WRONG_CA_PEM"] = certs["wrong_ca.pem"]
    # make deploy's staging folder, the Makefile's STAGE: one of each session's own, so that
    # two workers deploying at once do not share build/deploy/<board>
    os.environ["STAGE"] = str(tmp_path_factory.mktemp("deploy-stage"))
    yield {"mock": mock, "echo": echo, "peer": peer, "tls_peer": tls_peer}
    tls_peer.stop()
    peer.stop()
    mock.stop()
    echo.stop()
