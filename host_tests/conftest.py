"""pytest set-up: servers on loopback, and every firmware test run on both runtimes.

Firmware tests live in host_tests/fw/test_*.py as plain `test_*()` functions that use only
what CPython and MicroPython share. Each one becomes two items, `name[cpython]` (run here)
and `name[micropython]` (run by the real unix port in a subprocess, through fw/mprun.py).
A module can say that a test cannot run on one runtime, and why:
    ONLY = {"test_name": ("cpython", "reason it cannot run on the unix port")}
and can set the unix port's heap with MP_HEAPSIZE = "64k" (default below).
"""
import os
import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
FW_TESTS = HERE / "fw"
FIRMWARE = ROOT / "firmware"
VECTORS = HERE / "vectors"  # reference vectors from the documentation (vectors/README.md)
MICROPYTHON = pathlib.Path(sys.executable).parent / "micropython"
DEFAULT_HEAPSIZE = "256k"  # a mid-sized board (ESP32 without PSRAM has ~110-160 KB free)

# ROOT: the service package (service/) and the tools (tools/) are imported by their names.
for p in (str(FIRMWARE), str(FW_TESTS), str(HERE), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)
os.environ["EI_VECTORS"] = str(VECTORS)  # for fwtest.vector() on both runtimes


def micropython_env():
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join([str(FW_TESTS), str(FIRMWARE), ".frozen"])
    return env


def run_micropython(args, heapsize=DEFAULT_HEAPSIZE, timeout=300, **kw):
    """Run the unix port with the firmware and fw tests on its path."""
    cmd = [str(MICROPYTHON), "-X", "heapsize=" + heapsize] + list(args)
    return subprocess.run(cmd, env=micropython_env(), capture_output=True, text=True,
                          timeout=timeout, **kw)


class MicroPythonItem(pytest.Item):
    def __init__(self, *, funcname, heapsize, skip_reason, **kw):
        super().__init__(**kw)
        self.funcname = funcname
        self.heapsize = heapsize
        if skip_reason:
            self.add_marker(pytest.mark.skip(reason=skip_reason))

    def runtest(self):
        module = self.path.stem
        r = run_micropython([str(FW_TESTS / "mprun.py"), module, self.funcname], self.heapsize)
        if r.returncode != 0 or ("PASS " + self.funcname) not in r.stdout:
            raise MicroPythonFailure(r.stdout + r.stderr)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, MicroPythonFailure):
            return "unix port:\n" + str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        # a line number, not None: pytest 9 asserts one when it reports a skip at the item
        return self.path, 0, "%s[micropython]" % self.funcname


class MicroPythonFailure(Exception):
    pass


def pytest_pycollect_makeitem(collector, name, obj):
    if not (isinstance(collector, pytest.Module) and collector.path.parent == FW_TESTS):
        return None
    if not (name.startswith("test_") and callable(obj)):
        return None
    only = getattr(collector.obj, "ONLY", {}).get(name)
    heapsize = getattr(collector.obj, "MP_HEAPSIZE", DEFAULT_HEAPSIZE)
    cp = pytest.Function.from_parent(collector, name=name + "[cpython]", callobj=obj)
    mp = MicroPythonItem.from_parent(collector, name=name + "[micropython]", funcname=name,
                                     heapsize=heapsize, skip_reason=None)
    if only:
        runtime, why = only
        skipped = mp if runtime == "cpython" else cp
        skipped.add_marker(pytest.mark.skip(reason="%s only: %s" % (runtime, why)))
    return [cp, mp]


@pytest.fixture(scope="session", autouse=True)
def servers(tmp_path_factory):
    """The mock ingestion server and the echo server, on loopback, for the whole session."""
    from echo_server import EchoServer
    from service import MockServer
    echo = EchoServer().start()
    # allow_hosts: the name test_timeouts.py gives as Host while it connects to the address
    mock = MockServer(data_dir=tmp_path_factory.mktemp("mock-store"),
                      allow_hosts=("never-resolved.invalid",)).start()
    os.environ["EI_MOCK_HOST"] = "127.0.0.1"
    os.environ["EI_MOCK_PORT"] = str(mock.port)
    os.environ["EI_ECHO_PORT"] = str(echo.port)
    yield {"mock": mock, "echo": echo}
    mock.stop()
    echo.stop()
