# Jobs that test_memory.py and bench.py run on the MicroPython unix port, compiled to .mpy
# with the firmware (as a board runs it, so that no heap goes to compiling source). The
# uploads whose heap is measured are mp_upload.py and mp_requests.py, kept small.
#   micropython -X heapsize=N -m mp_jobs JOB ARG...
#   capture PATH ROWS [f32]            write a capture file of ROWS rows
#   timing ROWS HOST PORT REPEAT       upload times of each way, in this one process
#   write_ratio ROWS HOST PORT REPEAT [CHUNK] [SOURCE] [PATH]
#                                      upload time at default settings vs writing the same
#                                      request, encoded beforehand, in one write, of each
#                                      row source (row_source: appended, list, iterable,
#                                      capture, capture-other; a capture file at PATH)
#   encode ROWS                        values/s: ei's CBOR vs the port's json.dumps
#   sampler HZ ROWS [PATH]             period error, jitter and drift of ei.sample
#   footprint                          heap kept by `import ei`
#   modules NAME...                    heap each module keeps once loaded, in that order
# Each job prints one line, "OK key=value ...", and exits with status 0; or it fails.
import gc
import sys

KEY = "ei_6040df080906d06f090e05013b7090580b707a0b050eb04d00350504070a2040"
AXES = (("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2"))


def row(i):
    # the host computes the same numbers to check what the server stored
    return (i * 0.001, -1.0 - i % 7, 9.81 + i % 13)


def ram_body(s, enc=None):
    """The sample's CBOR body in one bytearray of exactly its length (as mp_requests.py)."""
    from ei import encoder
    enc = enc or encoder.Encoding()
    body = bytearray(encoder.encoded_len(s, enc))
    mv = memoryview(body)
    p = 0
    for b in encoder.chunks(s, enc):
        mv[p:p + len(b)] = b
        p += len(b)
    return body


def client(host, port, transport="socket", chunk=512):
    import ei
    return ei.Client(KEY, host=host, port=int(port), tls=False, transport=transport,
                     retries=0, chunk=chunk)


def capture(path, n, f32=None):
    import ei
    from ei.capture_writer import Writer
    meta = ei.Sample(device_type="BENCH", interval_ms=10, sensors=AXES)
    w = Writer(path, meta, float32=f32 == "f32")
    for i in range(int(n)):
        w.append(row(i))
    w.finish()
    print("OK rows=%d" % w.rows)


def _median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def timing(n, host, port, repeat):
    from time import ticks_ms, ticks_diff
    import ei
    import requests
    n = int(n)
    s = ei.Sample(device_type="BENCH", interval_ms=10, sensors=AXES)
    for i in range(n):
        s.append(row(i))
    url = "http://%s:%s/api/training/data" % (host, port)
    ways = {"socket": client(host, port), "urequests": client(host, port, "urequests"),
            "socket_4k": client(host, port, chunk=4096)}

    def post(way):
        if way in ways:
            ways[way].upload(s, file_name="t.cbor")
            return
        # requests' users: the body built whole in RAM first, then posted
        r = requests.post(url, data=ram_body(s), headers={
            "X-Api-Key": KEY, "X-File-Name": "t.cbor", "Content-Type": "application/cbor"})
        if r.status_code != 200:
            raise OSError("requests.post: %d %s" % (r.status_code, r.text))
        r.close()

    order = ["socket", "urequests", "socket_4k", "requests"]
    t = {w: [] for w in order}
    for k in range(int(repeat)):
        for w in order[k % 4:] + order[:k % 4]:  # each way goes first in turn
            gc.collect()
            a = ticks_ms()
            post(w)
            t[w].append(ticks_diff(ticks_ms(), a))
    print("OK " + " ".join("%s_ms=%d" % (w, _median(t[w])) for w in order))


def row_source(source, n, path=None):
    """The sample of n rows of one row source (write_ratio's):
    appended   kept as their CBOR as they are appended (ei/rows.py): passed as they are
    list       a list of rows, packed as the body streams
    iterable   a one-pass iterable (a generator over rows made beforehand), checked and
               packed as the body streams; made again for each upload
    capture    a capture file in the board's float size: copied from flash as it is stored
    capture-other   a capture file in the other float size: converted as it streams"""
    import ei
    from ei.compat import FLOAT32
    if source == "list":
        return ei.Sample(device_type="BENCH", interval_ms=10, sensors=AXES,
                         values=[row(i) for i in range(n)])
    if source == "iterable":
        rows = [row(i) for i in range(n)]
        return lambda: ei.Sample(device_type="BENCH", interval_ms=10, sensors=AXES,
                                 values=(r for r in rows), rows=n)
    if source.startswith("capture"):
        from ei.capture_writer import Writer
        meta = ei.Sample(device_type="BENCH", interval_ms=10, sensors=AXES)
        w = Writer(path, meta, float32=FLOAT32 != (source == "capture-other"))
        for i in range(n):
            w.append(row(i))
        w.finish()
        return ei.Sample.from_capture(path)
    s = ei.Sample(device_type="BENCH", interval_ms=10, sensors=AXES)
    for i in range(n):
        s.append(row(i))
    return s


def write_ratio(n, host, port, repeat, chunk="0", source="appended", path="/tmp/ei-bench.eic"):
    import socket
    from time import ticks_ms, ticks_diff
    import ei
    from ei import wire
    n = int(n)
    made = row_source(source, n, path)
    s = made() if callable(made) else made
    c = ei.Client(KEY, host=host, port=int(port), tls=False, retries=0,
                  **({"chunk": int(chunk)} if int(chunk) else {}))
    body = ram_body(s, c.encoding())
    if callable(made):
        s = made()  # that one is read
    head = "".join(wire.head("/api/training/data", "%s:%s" % (host, port), KEY,
                             [("X-File-Name", "t.cbor")], "application/cbor", len(body)))
    request = head.encode() + bytes(body)
    body = None

    def one_write():
        sk = socket.socket()
        sk.connect(socket.getaddrinfo(host, int(port))[0][-1])
        sk.write(request)  # the whole request, encoded beforehand, in one write
        answer = sk.recv(512)
        sk.close()
        if b" 200 " not in answer:
            raise OSError("one write: %r" % answer[:80])

    t = {"upload": [], "write": []}
    for k in range(int(repeat)):
        for w in (("upload", "write") if k % 2 else ("write", "upload")):
            gc.collect()
            a = ticks_ms()
            if w == "upload":
                c.upload(s, file_name="t.cbor")
            else:
                one_write()
            t[w].append(ticks_diff(ticks_ms(), a))
            if w == "upload" and callable(made):
                s = None
                gc.collect()
                s = made()  # a one-pass iterable is made again, outside the clock
    print("OK upload_ms=%d write_ms=%d bytes=%d" % (_median(t["upload"]), _median(t["write"]),
                                                   len(request)))


def encode(n):
    import json
    from time import ticks_us, ticks_diff
    import ei
    from ei import encoder
    n = int(n)
    values = [list(row(i)) for i in range(n)]
    s = ei.Sample(device_type="BENCH", interval_ms=10, sensors=AXES, values=values)

    def skip(b):
        pass

    out = []
    for enc in (encoder.Encoding(), encoder.Encoding(float32=True)):
        gc.collect()
        a = ticks_us()
        encoder.write(s, enc, skip)
        out.append(ticks_diff(ticks_us(), a))
    gc.collect()
    a = ticks_us()
    text = json.dumps(values)
    out.append(ticks_diff(ticks_us(), a))
    text = None
    v = 3 * n
    print("OK cbor=%d cbor_f32=%d json_dumps=%d" % tuple(int(v * 1e6 / t) for t in out))


def sampler(hz, n, path=None):
    import timing
    import ei
    hz = int(hz)
    n = int(n)
    sensor = timing.Clocked(n, lambda: (1.0, 2.0, 3.0))
    s = ei.sample(sensor, 1000 / hz, n, device_type="BENCH", path=path)
    print("OK " + timing.report(sensor.times, 1000000 // hz, s))


def modules(*names):
    """The heap each module keeps once it is loaded (after a collect), in the order given
    (each after the ones before it: its imports that are loaded already cost it nothing)."""
    gc.collect()
    a = gc.mem_alloc()
    out = []
    for name in names:
        __import__(name)
        gc.collect()
        b = gc.mem_alloc()
        out.append("%s=%d" % (name, b - a))
        a = b
    print("OK " + " ".join(out))


def footprint():
    gc.collect()
    a = gc.mem_alloc()
    import ei  # noqa: F401
    gc.collect()
    print("OK import_ei_bytes=%d" % (gc.mem_alloc() - a))


JOBS = {"capture": capture, "timing": timing, "encode": encode, "sampler": sampler,
        "footprint": footprint, "write_ratio": write_ratio, "modules": modules}

JOBS[sys.argv[1]](*sys.argv[2:])
