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
SHARED = pathlib.Path(os.environ.get("EI_SHARED", ROOT.parent / "shared")).resolve()
MICROPYTHON = pathlib.Path(sys.executable).parent / "micropython"
DEFAULT_HEAPSIZE = "256k"  # a mid-sized board (ESP32 without PSRAM has ~110-160 KB free)

for p in (str(FIRMWARE), str(FW_TESTS), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)
os.environ["EI_SHARED"] = str(SHARED)


def pytest_configure(config):
    if not (SHARED / "vectors" / "seed_example.json").is_file():
        raise pytest.UsageError("the reference vectors are not at %s: put the project's shared/ "
                                "beside the repo, or set EI_SHARED to it" % SHARED)


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
    """The mock ingestion server, the echo server and the remote-management peer (Studio's
    side of the WebSocket, host_tests/peer_scenarios.py), on loopback, for the whole session."""
    from echo_server import EchoServer
    from mock_server import API_KEY, MockServer
    from peer_scenarios import TestPeer
    echo = EchoServer().start()
    mock = MockServer(data_dir=tmp_path_factory.mktemp("mock-store")).start()
    peer = TestPeer([API_KEY], store=mock.store).start()
    import tls_certs
    certs, ctx = tls_certs.make(tmp_path_factory.mktemp("peer-certs"))
    tls_peer = TestPeer([API_KEY], store=mock.store, ssl_context=ctx).start()
    os.environ["EI_MOCK_HOST"] = "127.0.0.1"
    os.environ["EI_MOCK_PORT"] = str(mock.port)
    os.environ["EI_ECHO_PORT"] = str(echo.port)
    os.environ["EI_PEER_PORT"] = str(peer.port)
    os.environ["EI_PEER_TLS_PORT"] = str(tls_peer.port)
    os.environ["EI_PEER_CA_PEM"] = certs["ca.pem"]
    os.environ["EI_PEER_WRONG_CA_PEM"] = certs["wrong_ca.pem"]
    yield {"mock": mock, "echo": echo, "peer": peer, "tls_peer": tls_peer}
    tls_peer.stop()
    peer.stop()
    mock.stop()
    echo.stop()
