"""`make bench`: this project against micropython-lib `requests` on the MicroPython unix port,
as one table (Markdown, for README's "Streaming, memory and benchmarks").

- smallest -X heapsize that uploads a 100-row and an 18,000-row sample (bisection, 1 KB
  steps): ei over its raw socket and through requests (transport="urequests"), against
  requests.post with the same CBOR body built whole in RAM, as its users do today;
- upload time at default settings against writing the same request, encoded beforehand, in
  one write, on the unix port and on the 32-bit single-precision f32 build (below), of
  appended rows (kept as their CBOR: handed to the socket as they are) and of a list of rows
  (packed as the body streams);
- upload time of the same 18,000-row sample to the same local mock server, median of 8,
  the ways taking turns in one process, each going first in turn (a ratio measured in one
  run); ei also with chunk=4096 (the same for appended rows, which bypass the buffer);
- encode throughput, values/s: ei's CBOR against the port's built-in json.dumps of the rows;
- the sampler at 100 Hz and 1 kHz, to RAM and to a capture file: mean period error, p99
  jitter (|period - interval|) and end drift (the last 21 reads against their fixed
  deadlines, median);
- footprint: .mpy bytes of each firmware module, and the heap `import ei` keeps.
- Studio and the queue where boards are (a third table, issue 16's budgets, on f32 from .mpy
  and frozen): the smallest heap in which ei.Remote serves a sample request (1 s at 100 Hz,
  signed, uploaded), and in which it answers every hostile message of the issue and then
  serves one, against the issue's 48 KB; and the smallest heap that opens and flushes an
  offline queue of 10 and of 1,000 entries (the issue: within 2 KB of each other).

Everything above runs from .mpy files (tools/bench/harness.py) on the 64-bit unix port. Then, where
boards are (a second table): the smallest heap that uploads 100 and 18,000 rows on the
32-bit, single-precision build of MicroPython 1.28.0 (`make runtimes`: build/mp/), with ei
from .py, from .mpy and frozen in (the f32-frozen build), over plain HTTP and over TLS to a
local TLS server whose certificate is verified against its CA. The unix port's mbedtls
allocates with the C library's calloc, not from the MicroPython heap: its TLS figures hold
the upload's heap only. A build whose mbedtls allocates from the MicroPython heap, as the
Pico W's does (EI_MP_F32_TLS_HEAP, see README), adds that column's cost when given.
This is a benchmark, not a test.
"""
import datetime
import os
import pathlib
import platform
import sys
import tempfile

from service import MockServer
from tools.bench import harness

ROWS = 18000
SMALL = 100
# Upload against one write: both take ~50 ms here, and the service's own ~40 ms varies by
# several ms from request to request on a shared machine: 21 turns each keep the median's
# ratio within a few percent.
WRITE_REPEAT = 21
# The board-like builds, where `make runtimes` puts them (or another path in the variable).
MP_BUILD = harness.ROOT / "build" / "mp"
F32 = pathlib.Path(os.environ.get("EI_MP_F32", MP_BUILD / "1.28.0-f32" / "micropython"))
F32_FROZEN = pathlib.Path(os.environ.get("EI_MP_F32_FROZEN",
                                         MP_BUILD / "1.28.0-f32-frozen" / "micropython"))
# f32 with mbedtls on the MicroPython heap (built with -DMICROPY_MBEDTLS_CONFIG_BARE_METAL=1
# -DMICROPY_TRACKED_ALLOC=1, as the rp2 port builds it): optional
F32_TLS_HEAP = os.environ.get("EI_MP_F32_TLS_HEAP")
BOARD_HI_KB = 256  # the bisection's top for the f32 heaps


def kb(n):
    return "%d KB" % n if n is not None else "over the search's top"


def ratio(a, b):
    return "%.2f" % (a / b) if a and b else "-"


LOAD = os.getloadavg()[0]  # timings on a busy machine vary: the table says how busy


def main():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        sizes = harness.build_mpy(tmp / "mpy")
        mpy = tmp / "mpy"
        if "--f32-only" not in sys.argv:  # `bench.py --f32-only`: the second table alone
            server = MockServer(data_dir=tmp / "store").start()
            try:
                table(mpy, sizes, server, tmp)
            finally:
                server.stop()
        return board_table(tmp) or studio_table(tmp)


def smallest(mpy, server, module, args, hi_kb, after=()):
    """The smallest heap (KB) at which the job uploads: args, then the server, then after."""
    def ok(heap_kb):
        server.store.reset()
        return harness.Job(mpy, list(args) + [server.host, server.port] + list(after), heap_kb,
                           module=module).ok
    return harness.smallest_heap(ok, 32, hi_kb)


def table(mpy, sizes, server, tmp):
    say = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    rows = []
    heap = {}
    for n in (SMALL, ROWS):
        say("smallest heaps, %d rows ..." % n)
        heap[("socket", n)] = smallest(mpy, server, "mp_upload", ["iterable", n], 256)
        heap[("urequests", n)] = smallest(mpy, server, "mp_upload", ["iterable", n], 256,
                                          ["urequests"])
        heap[("requests", n)] = smallest(mpy, server, "mp_requests", [n], 4096)
    for n in (SMALL, ROWS):
        what = "%d rows" % n if n == SMALL else "%d rows (504 KB of CBOR)" % n
        for t, label in (("socket", "raw socket"), ("urequests", 'transport="urequests"')):
            rows.append(("smallest -X heapsize, %s, ei %s" % (what, label), kb(heap[(t, n)]),
                         kb(heap[("requests", n)]), ratio(heap[(t, n)], heap[("requests", n)])))

    say("upload time ...")
    server.store.reset()
    j = harness.Job(mpy, ["timing", ROWS, server.host, server.port, 8], 8192, timeout=600)
    assert j.ok, j
    v = {k: int(x) for k, x in j.values.items()}
    for t, label in (("socket", "raw socket"), ("urequests", 'transport="urequests"'),
                     ("socket_4k", "raw socket, chunk=4096")):
        rows.append(("upload time, 18000 rows to the local mock server (median of 8), ei %s"
                     % label, "%d ms" % v[t + "_ms"], "%d ms" % v["requests_ms"],
                     ratio(v[t + "_ms"], v["requests_ms"])))
    server.store.reset()

    say("upload against one write ...")
    for name, binary in (("unix port", harness.MICROPYTHON), ("f32", F32)):
        for source in ("appended", "list"):
            label = ("upload time, 18000 %s at default settings, against writing the same "
                     "request encoded beforehand in one write (median of %d), %s" % (
                         "appended rows" if source == "appended" else "rows from a list",
                         WRITE_REPEAT, name))
            if not pathlib.Path(binary).is_file():
                rows.append((label, "not measured: no %s (make runtimes)" % binary, "", ""))
                continue
            j = harness.Job(mpy, ["write_ratio", ROWS, server.host, server.port, WRITE_REPEAT,
                                  0, source], 8192 * 2, timeout=600, binary=binary)
            assert j.ok, j
            v = {k: int(x) for k, x in j.values.items()}
            rows.append((label, "%d ms" % v["upload_ms"], "%d ms (one write)" % v["write_ms"],
                         ratio(v["upload_ms"], v["write_ms"])))
            server.store.reset()

    say("encode ...")
    j = harness.Job(mpy, ["encode", ROWS], 8192, timeout=600)
    assert j.ok, j
    v = {k: int(x) for k, x in j.values.items()}
    rows.append(("encode, values/s: ei CBOR (float64) vs json.dumps of the rows",
                 "{:,}".format(v["cbor"]), "{:,}".format(v["json_dumps"]),
                 ratio(v["cbor"], v["json_dumps"])))
    rows.append(("encode, values/s: ei CBOR (float32) vs json.dumps of the rows",
                 "{:,}".format(v["cbor_f32"]), "{:,}".format(v["json_dumps"]),
                 ratio(v["cbor_f32"], v["json_dumps"])))

    for hz, n in ((100, 500), (1000, 2000)):
        for where in ("RAM", "capture file"):
            say("sampler %d Hz to %s ..." % (hz, where))
            args = ["sampler", hz, n] + ([tmp / "bench-capture.cbor"] if where != "RAM" else [])
            j = harness.Job(mpy, args, 512, timeout=120)
            assert j.ok, j
            v = j.values
            rows.append(("sampler, %d Hz for %d rows to %s: mean period error / p99 jitter / "
                         "end drift" % (hz, n, where),
                         "%s us / %s us / %s us" % (v["mean_err_us"], v["p99_jitter_us"],
                                                    v["end_drift_us"]), "", ""))

    j = harness.Job(mpy, ["footprint"], 512)
    assert j.ok, j
    rows.append(("heap kept by `import ei` (unix port, 64-bit objects)",
                 "%s bytes" % j.values["import_ei_bytes"], "", ""))
    fw = {k[3:]: b for k, b in sizes.items() if k.startswith("ei/")}
    rows.append((".mpy bytes: %d modules, total" % len(fw), str(sum(fw.values())), "", ""))
    rows.append((".mpy bytes per module", ", ".join(
        "%s %d" % (m, b) for m, b in sorted(fw.items())), "", ""))

    out = ["%s, %s, %d CPUs, load average %.1f before the run (`make bench`)" % (
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"), platform.machine(),
        os.cpu_count(), LOAD), "",
        "| measure | this project | requests.post / json.dumps | ratio |",
        "|---|---|---|---|"]
    out += ["| %s | %s | %s | %s |" % r for r in rows]
    print("\n".join(out))
    return 0


def board_table(tmp):
    """The second table: the smallest heaps on the f32 builds (see the docstring)."""
    say = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    from tools import tls_certs
    missing = [str(b) for b in (F32, F32_FROZEN) if not b.is_file()]
    if missing:
        print("\n(no f32 rows: %s not built; `make runtimes` builds them)" % ", ".join(missing))
        return 1
    mpy, jobs = tmp / "mpy", tmp / "jobs"
    harness.build_mpy(jobs, firmware=False)  # the jobs alone: ei comes from elsewhere
    paths, ctx = tls_certs.make(tmp / "certs")
    http = MockServer(data_dir=tmp / "board-store").start()
    https = MockServer(data_dir=tmp / "board-store-tls", ssl_context=ctx).start()
    ways = [("from .py", F32, "%s:%s:.frozen" % (jobs, harness.FIRMWARE)),
            ("from .mpy", F32, "%s:.frozen" % mpy),
            ("frozen (f32-frozen)", F32_FROZEN, "%s:.frozen" % jobs)]
    if F32_TLS_HEAP:
        ways.append(("from .mpy, mbedtls on the MicroPython heap", F32_TLS_HEAP,
                     "%s:.frozen" % mpy))
    rows = []
    try:
        for label, binary, path in ways:
            cells = []
            for server, tls in ((http, False), (https, True)):
                for n in (SMALL, ROWS):
                    say("f32 smallest heap, %s, %s, %d rows ..." % (label, "TLS" if tls else
                                                                   "HTTP", n))

                    def ok(heap_kb):
                        server.store.reset()
                        args = ["iterable", n, server.host, server.port]
                        if tls:
                            args += ["socket", paths["ca.der"]]
                        return harness.Job(None, args, heap_kb, module="mp_upload",
                                           binary=binary, path=path, timeout=300).ok
                    cells.append(kb(harness.smallest_heap(ok, 4, BOARD_HI_KB)))
            rows.append((label,) + tuple(cells))
    finally:
        http.stop()
        https.stop()
    out = ["", "MicroPython 1.28.0 f32 (32-bit objects, float32: CBOR rows of 16 bytes, 18,000 "
           "rows 288 KB): smallest -X heapsize (1 KB steps) that uploads",
           "", "| ei | HTTP, 100 rows | HTTP, 18,000 rows | TLS, 100 rows | TLS, 18,000 rows |",
           "|---|---|---|---|---|"]
    out += ["| %s | %s | %s | %s | %s |" % r for r in rows]
    print("\n".join(out))
    return 0


def studio_table(tmp):
    """The third table: issue 16's heap budgets on the f32 builds (see the docstring)."""
    say = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    from tools.bench import studio_heap
    for folder in (harness.FIRMWARE, harness.ROOT / "host_tests"):  # ei, and Studio's side
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    from peer_scenarios import TestPeer
    from service import API_KEY
    mpy, jobs = tmp / "mpy", tmp / "jobs"
    ways = [("from .mpy", F32, "%s:.frozen" % mpy), ("frozen (f32-frozen)", F32_FROZEN,
                                                     "%s:.frozen" % jobs)]
    mock = MockServer(data_dir=tmp / "studio-store").start()
    peer = TestPeer([API_KEY], store=mock.store, timeout=5).start()
    queues = {n: studio_heap.make_queue(tmp / ("queue-%d" % n), n) for n in (10, 1000)}
    remote, queue = [], []
    try:
        for label, binary, path in ways:
            cells = []
            for script, timeout in ((studio_heap.PLAIN, 15), (studio_heap.HOSTILE, 60)):
                say("f32 smallest heap, ei.Remote %s, %s ..." % (
                    "plain" if script is studio_heap.PLAIN else "hostile", label))
                cells.append(studio_heap.smallest_serving(binary, path, tmp / "capture.eic",
                                                          mock, peer, script, timeout))
            remote.append((label, kb(cells[0]), kb(cells[1]), "%d KB" % studio_heap.BOUND_KB,
                           ratio(cells[0], studio_heap.BOUND_KB)))
            cells = []
            for n in (10, 1000):
                say("f32 smallest heap, a queue of %d entries, %s ..." % (n, label))
                cells.append(harness.smallest_heap(lambda heap_kb: studio_heap.flush(
                    binary, path, mock, queues[n], tmp / "queue-run", heap_kb).ok, 4,
                    BOARD_HI_KB))
            queue.append((label, kb(cells[0]), kb(cells[1]), "%+d KB" % (cells[1] - cells[0])
                          if None not in cells else "-"))
    finally:
        peer.stop()
        mock.stop()
    out = ["", "MicroPython 1.28.0 f32, issue 16's budgets: smallest -X heapsize (1 KB steps) in "
           "which ei.Remote serves a sample request (1 s at 100 Hz, signed, uploaded to the "
           "mock service), and in which it answers every hostile message of the issue and then "
           "serves one (tools/bench/studio_heap.py); ratio: the sample request's heap over the "
           "issue's bound", "",
           "| ei | ei.Remote, a sample request | hostile messages, then a sample request "
           "| issue 16's bound | ratio |", "|---|---|---|---|---|"]
    out += ["| %s | %s | %s | %s | %s |" % r for r in remote]
    out += ["", "Offline queue: smallest -X heapsize that opens and flushes a queue of 10 and of "
            "1,000 one-row entries (issue 16: within 2 KB of each other)", "",
            "| ei | 10 entries | 1,000 entries | difference |", "|---|---|---|---|"]
    out += ["| %s | %s | %s | %s |" % r for r in queue]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
