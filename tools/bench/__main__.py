"""`make bench`: this project against micropython-lib `requests` on the MicroPython unix port,
as one table (Markdown, for README's "Streaming, memory and benchmarks").

- smallest -X heapsize that uploads a 100-row and an 18,000-row sample (bisection, 1 KB
  steps): ei over its raw socket and through requests (transport="urequests"), against
  requests.post with the same CBOR body built whole in RAM, as its users do today;
- upload time at default settings against writing the same request, encoded beforehand, in
  one write, on the unix port and on the 32-bit single-precision f32 build (below), of every
  row source: appended rows (kept as their CBOR: handed to the socket as they are), a list
  and an iterable (packed as the body streams), a capture file in the board's float size
  (copied from flash) and in the other (converted as it streams);
- upload time of the same 18,000-row sample to the same local mock server, median of 8,
  the ways taking turns in one process, each going first in turn (a ratio measured in one
  run); ei also with chunk=4096 (the same for appended rows, which bypass the buffer);
- encode throughput, values/s: ei's CBOR against the port's built-in json.dumps of the rows;
- the sampler at 100 Hz and 1 kHz, to RAM and to a capture file: mean period error, p99
  jitter (|period - interval|) and end drift (the last 21 reads against their fixed
  deadlines, median);
- footprint: .mpy bytes of each firmware module, and the heap `import ei` keeps.

Everything above runs from .mpy files (tools/bench/harness.py) on the 64-bit unix port. Then, where
boards are (a second table): the smallest heap that uploads 100 and 18,000 rows on the
32-bit, single-precision build of MicroPython 1.28.0 (`make runtimes`: build/mp/), with ei
from .py, from .mpy and frozen in (the f32-frozen build), over plain HTTP and over TLS to a
local TLS server whose certificate is verified against its CA; /files of 12 and of 1,000
small files (the caller's own list of files measured apart); and the heap each module of the
upload path keeps once loaded, from .mpy and frozen. The unix port's mbedtls
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
# The row sources whose upload is timed against one write (mp_jobs.row_source)
SOURCES = {"appended": "appended (as ei.sample keeps them)", "list": "from a list",
           "iterable": "from an iterable", "capture": "from a capture in the board's float size",
           "capture-other": "from a capture in the other float size (converted)"}
# What an upload loads, in the order it loads them (mp_jobs.modules): /data's, then /files'
UPLOAD_MODULES = ("ei", "ei.acquisition", "ei.compat", "ei.stream", "ei.transport", "ei.wire",
                  "ei.api_key", "ei.client", "ei.cbor", "ei.encoder", "ei.encoded",
                  "ei.files_answer", "ei.files")
# Issue 18's figures before its work (2026-11-30's code, the same runs), beside this run's
BEFORE = {("data", "from .mpy"): "38-39 KB", ("data", "frozen (f32-frozen)"): "13-14 KB",
          ("tls", "from .mpy"): "42 KB", ("tls", "frozen (f32-frozen)"): "17 KB",
          ("files", "from .mpy"): "58 KB (64-bit port: 86 KB)",
          ("files1000", "from .mpy"): "over 512 KB"}


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
        return board_table(tmp)


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
        for source in SOURCES:
            label = ("upload time, 18000 rows %s at default settings, against writing the same "
                     "request encoded beforehand in one write (median of %d), %s" % (
                         SOURCES[source], WRITE_REPEAT, name))
            if not pathlib.Path(binary).is_file():
                rows.append((label, "not measured: no %s (make runtimes)" % binary, "", ""))
                continue
            j = harness.Job(mpy, ["write_ratio", ROWS, server.host, server.port, WRITE_REPEAT,
                                  0, source, tmp / "ratio.eic"], 8192 * 2, timeout=900,
                            binary=binary)
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
    files_rows = []
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
            if label == "from .py":
                continue
            cells = []
            for n in (12, 1000):
                say("f32 smallest heap, %s, /files of %d files ..." % (label, n))
                listed = {}

                def ok(heap_kb):
                    http.store.reset()
                    j = harness.Job(None, [n, http.host, http.port], heap_kb, module="mp_files",
                                    binary=binary, path=path, timeout=300)
                    listed.update(j.values)
                    return j.ok
                got = harness.smallest_heap(ok, 4, 1024)
                list_kb = int(listed.get("list_bytes", 0)) / 1024
                cells.append(kb(got) if n == 12 else "%s (%s less its list of %.0f KB)" % (
                    kb(got), kb(got - round(list_kb)) if got else "-", list_kb))
            files_rows.append((label,) + tuple(cells))
        say("64-bit port smallest heap, /files of 12 files ...")

        def ok64(heap_kb):
            http.store.reset()
            return harness.Job(mpy, [12, http.host, http.port], heap_kb, module="mp_files",
                               timeout=300).ok
        files_rows.append(("from .mpy, 64-bit unix port", kb(harness.smallest_heap(ok64, 16,
                                                                                     1024)),
                           ""))
        say("what each module keeps once loaded ...")
        costs = {}
        for label, binary, path in ways[1:3]:
            j = harness.Job(None, ["modules"] + list(UPLOAD_MODULES), 512, binary=binary,
                            path=path)
            assert j.ok, j
            costs[label] = j.values
    finally:
        http.stop()
        https.stop()
    out = ["", "MicroPython 1.28.0 f32 (32-bit objects, float32: CBOR rows of 16 bytes, 18,000 "
           "rows 288 KB): smallest -X heapsize (1 KB steps) that uploads",
           "", "| ei | HTTP, 100 rows | HTTP, 18,000 rows | TLS, 100 rows | TLS, 18,000 rows |",
           "|---|---|---|---|---|"]
    out += ["| %s | %s | %s | %s | %s |" % r for r in rows]
    out += ["", "/files of small CSV files (f32 unless said; issue 18's figures before it: 12 files "
            "%s, 1,000 files %s)" % (BEFORE[("files", "from .mpy")],
                                     BEFORE[("files1000", "from .mpy")]),
            "", "| ei | 12 files | 1,000 files |", "|---|---|---|"]
    out += ["| %s | %s | %s |" % r for r in files_rows]
    out += ["", "Heap each module keeps once loaded, in the order an upload loads them (bytes, "
            "f32)", "", "| module | from .mpy | frozen |", "|---|---|---|"]
    out += ["| %s | %s | %s |" % (m, costs["from .mpy"].get(m, "-"),
                                  costs["frozen (f32-frozen)"].get(m, "-"))
            for m in UPLOAD_MODULES]
    out += ["| total | %d | %d |" % tuple(sum(int(v) for v in costs[k].values())
                                          for k in ("from .mpy", "frozen (f32-frozen)"))]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
