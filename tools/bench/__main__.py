"""`make bench`: this project against micropython-lib `requests` on the MicroPython unix port,
as one table (Markdown, for docs/performance.md).

- smallest -X heapsize that uploads a 100-row and an 18,000-row sample (bisection, 1 KB
  steps): ei over its raw socket and through requests (transport="urequests"), against
  requests.post with the same CBOR body built whole in RAM, as its users do today;
- upload time at default settings against writing the same request, encoded beforehand, in
  one write, on the unix port and on the 32-bit single-precision f32 build (below), of every
  row source: appended rows (kept as their CBOR: handed to the socket as they are), a list
  and an iterable (packed as the body streams), a capture file in the board's float size
  (copied from flash) and in the other (converted as it streams) (`--speed-only` prints
  these rows alone);
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
local TLS server whose certificate is verified against its CA; /files of 12 and of 1,000
small files (the caller's own list of files measured apart); the heap each module of the
upload path keeps once loaded, from .mpy and frozen; and the smallest heap that serves
ei.daemon() through a 10 s sample, read back and unlinked (tools/bench/daemon_heap.py).
The unix port's mbedtls allocates with the C library's calloc, not from the MicroPython
heap: its TLS figures hold the upload's heap only. A build whose mbedtls allocates from the MicroPython heap, as the
Pico W's does (EI_MP_F32_TLS_HEAP, see docs/performance.md), adds that column's cost when given.
Then continuous recording (a fourth table, `--record-only` prints it alone): on the unix port
and on f32, from .mpy, in real time, the highest rate (Hz, a 1.25x ladder, bisected) at which
a recording of 3-axis rows in 1 s windows keeps up: every window uploaded while the next is
read, none falling behind into the offline queue; straight to the local mock server on
loopback, and through the fault proxy slowed to 20 KB/s (tools/fault_proxy.py, bytes_per_s).
The rows read a period or more late at that rate are the machine's jitter as much as the
recording's: ei.sample alone at the same rate is given beside them. And the heap a 100 Hz
recording in 2 s windows holds: gc.mem_alloc after the second and the last window, and the
smallest -X heapsize it runs in on f32 from .mpy, against the smallest heap a 100-row upload
needs there plus the recording's ring.

Then the emulated Raspberry Pi Pico's table, the fifth (tools/bench/pico.py): heap, sampler timing and
flash writes on MicroPython's own rp2 firmware, on the board's clock.
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
                  "ei.api_key", "ei.client", "ei.encoder", "ei.parts", "ei.files_answer",
                  "ei.files")
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
        if "--record-only" in sys.argv:  # the fourth table alone
            return recording_table(mpy, tmp)
        if "--speed-only" in sys.argv:  # the first table's rows against one write alone
            server = MockServer(data_dir=tmp / "store").start()
            try:
                return print_rows(against_one_write(mpy, server, tmp))
            finally:
                server.stop()
        if "--f32-only" not in sys.argv:  # `bench.py --f32-only`: the second table alone
            server = MockServer(data_dir=tmp / "store").start()
            try:
                table(mpy, sizes, server, tmp)
            finally:
                server.stop()
        status = board_table(tmp) or studio_table(tmp)
        if "--f32-only" not in sys.argv:
            status = recording_table(mpy, tmp) or status
    from tools.bench import pico  # the fifth table: the emulated Pico (tools/bench/pico.py)
    return pico.main() or status


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

    rows += against_one_write(mpy, server, tmp)

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

    return print_rows(rows)


def print_rows(rows):
    out = ["%s, %s, %d CPUs, load average %.1f before the run (`make bench`)" % (
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"), platform.machine(),
        os.cpu_count(), LOAD), "",
        "| measure | this project | requests.post / json.dumps | ratio |",
        "|---|---|---|---|"]
    out += ["| %s | %s | %s | %s |" % r for r in rows]
    print("\n".join(out))
    return 0


def against_one_write(mpy, server, tmp):
    """The rows of upload time against one write of the request encoded beforehand, every
    row source, on the unix port and on f32 (issue 18's measure)."""
    say = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    say("upload against one write ...")
    rows = []
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
    return rows


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
    from tools.bench import daemon_heap
    out += daemon_heap.table(tmp, F32, F32_FROZEN, say)
    print("\n".join(out))
    return 0



# A recording's rates: 100 Hz * 1.1**i, i = 0..RATE_STEPS - 1 (100 Hz to about 20 kHz).
RATE_STEPS = 57
RECORD_WINDOWS = 4


def _rate(i):
    return int(100 * 1.1 ** i + 0.5)


def _highest(test, say):
    """(rate index, values) of the highest ladder rate at which test(hz) gives values (None
    where it fails), by bisection; (-1, None) when even the lowest fails. Assumes what holds
    at a rate holds below it."""
    lo, hi, best = -1, RATE_STEPS, None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        v = test(_rate(mid))
        say("  %d Hz: %s" % (_rate(mid), "yes" if v else "no"))
        if v:
            lo, best = mid, v
        else:
            hi = mid
    return lo, best


def recording_table(mpy, tmp):
    """The fourth table: continuous recording (see the docstring)."""
    from tools.fault_proxy import FaultProxy
    say = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    server = MockServer(data_dir=tmp / "record-store").start()
    slow = FaultProxy((server.host, server.port), bytes_per_s=20000).start()
    runs = [0]

    def job(binary, args, heap_kb=32768):
        runs[0] += 1
        server.store.reset()
        j = harness.Job(mpy, args, heap_kb, module="mp_record", binary=binary, timeout=600)
        assert j.ok, j
        return {k: int(v) for k, v in j.values.items()}

    def late(v):
        return 100 * v["late_rows"] / v["rows"]

    def recording(binary, port, on_time, chunk=512):
        def test(hz):
            v = job(binary, [hz, RECORD_WINDOWS, 1000, server.host, port,
                             tmp / ("record-queue-%d" % runs[0]), chunk])
            ok = v["sent"] == RECORD_WINDOWS and (not on_time or late(v) < 1)
            return dict(v, hz=hz) if ok else None
        return test

    def alone(binary):
        def test(hz):
            v = job(binary, [hz, RECORD_WINDOWS * hz, "sample"])
            return dict(v, hz=hz) if late(v) < 1 else None
        return test

    def rate(found, what):
        i, v = found
        if v is None:
            return "below %d Hz" % _rate(0)
        return "%d Hz%s" % (v["hz"], " (every rate tried, to %d Hz)" % _rate(RATE_STEPS - 1)
                            if i == RATE_STEPS - 1 else "")

    rows = []
    try:
        for name, binary in (("unix port", harness.MICROPYTHON), ("f32", F32)):
            if not pathlib.Path(binary).is_file():
                rows.append(("%s: not measured, no %s (make runtimes)" % (name, binary),
                             "", "", ""))
                continue
            say("ei.sample alone, %s ..." % name)
            peer = _highest(alone(binary), say)
            for link, port in (("loopback", server.port), ("fault proxy at 20 KB/s",
                                                           slow.port)):
                say("recording, %s, %s: every window sent ..." % (name, link))
                sent = _highest(recording(binary, port, False), say)
                say("recording, %s, %s: and on time ..." % (name, link))
                timely = _highest(recording(binary, port, True), say)
                v = sent[1]
                cell = rate(sent, "")
                limit, r = "", ""
                if v is not None:
                    cell += ", %.0f%% of rows a period or more late, at most %.1f ms" % (
                        late(v), v["max_late_us"] / 1000)
                    if port == slow.port:
                        row_bytes = v["ring"] // (2 * v["hz"] + v["hz"] // 2)  # the ring's
                        link_hz = 20000 // row_bytes
                        limit = "the link: %d Hz of %d-byte rows" % (link_hz, row_bytes)
                        r = "%.2f" % (v["hz"] / link_hz)
                rows.append(("recording, %s, %s: highest rate with every window uploaded "
                             "while the next is read" % (name, link), cell, limit, r))
                rows.append(("recording, %s, %s: ... and under 1%% of rows a period or more "
                             "late, against ei.sample alone (no upload) under 1%%" % (
                                 name, link), rate(timely, ""), rate(peer, ""),
                             "%.2f" % (timely[1]["hz"] / peer[1]["hz"])
                             if timely[1] and peer[1] else "-"))
            say("recording, %s, fault proxy at 20 KB/s, chunk=128: on time ..." % name)
            small = _highest(recording(binary, slow.port, True, 128), say)
            rows.append(("recording, %s, fault proxy at 20 KB/s, Client(chunk=128): under 1%% "
                         "of rows a period or more late, against ei.sample alone" % name,
                         rate(small, ""), rate(peer, ""), "%.2f" % (small[1]["hz"] / peer[1]["hz"])
                         if small[1] and peer[1] else "-"))
            say("recording heap, %s ..." % name)
            v = job(binary, [100, 4, 2000, server.host, server.port, tmp / "record-heap-q"],
                    heap_kb=1024)
            rows.append(("heap held by a 100 Hz recording in 2 s windows, %s from .mpy: "
                         "gc.mem_alloc() after window 1 / the last (its ring: %d bytes)" % (
                             name, v["ring"]), "%d / %d bytes" % (v["heap_first"],
                                                                  v["heap_last"]), "", ""))
    finally:
        slow.stop()
        server.stop()
    rows += _recording_heap(mpy, tmp, say)
    out = ["", "Continuous recording (`make bench`, fourth table), %s, load average %.1f "
           "before the run:" % (datetime.datetime.now(datetime.timezone.utc).strftime(
               "%Y-%m-%d"), LOAD), "",
           "| measure | this project | limit or peer | ratio |", "|---|---|---|---|"]
    out += ["| %s | %s | %s | %s |" % r for r in rows]
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


def _recording_heap(mpy, tmp, say):
    """The smallest f32 heap a recording of 200-row windows runs in, from .mpy and frozen in
    (f32-frozen), against the smallest a 100-row upload needs plus the recording's ring. Run
    at 1 kHz in 200 ms windows: the rows a window are those of 100 Hz in 2 s, and each trial
    takes 2 s, not 20."""
    if not F32.is_file():
        return []
    jobs = tmp / "record-jobs"
    harness.build_mpy(jobs, firmware=False)  # the jobs alone, for the frozen ei
    server = MockServer(data_dir=tmp / "record-heap-store").start()
    trials = [0]
    ring = 2 * 200 + 100  # rows: two windows and the default slack of half a window
    ring_kb = ring * 16 / 1024  # 3-axis float32 rows, their CBOR: 16 bytes
    rows = []
    try:
        def ok(kb, module, args, binary, path):
            server.store.reset()
            trials[0] += 1
            return harness.Job(None, args, kb, module=module, binary=binary, path=path,
                               timeout=300).ok

        for label, binary, path in (("from .mpy", F32, "%s:.frozen" % mpy),
                                    ("frozen (f32-frozen)", F32_FROZEN, "%s:.frozen" % jobs)):
            if not pathlib.Path(binary).is_file():
                continue
            say("recording smallest heap, f32 %s ..." % label)
            record = harness.smallest_heap(lambda kb: ok(kb, "mp_record", [
                1000, 10, 200, server.host, server.port, tmp / ("heap-q%d" % trials[0])],
                binary, path), 4, 256)
            upload = harness.smallest_heap(lambda kb: ok(kb, "mp_upload", [
                "iterable", 100, server.host, server.port], binary, path), 4, 256)
            rows.append(("smallest -X heapsize, f32 %s, a recording of 200-row windows (100 "
                         "Hz, 2 s) to the mock server, against a 100-row upload plus the ring "
                         "(%d rows, %.1f KB)" % (label, ring, ring_kb), kb(record),
                         "%s + %.1f KB" % (kb(upload), ring_kb),
                         ratio(record, upload + ring_kb) if record and upload else "-"))
    finally:
        server.stop()
    return rows

if __name__ == "__main__":
    sys.exit(main())
