# Jobs that test_memory.py and bench.py run on the MicroPython unix port, compiled to .mpy
# with the firmware (as a board runs it, so that no heap goes to compiling source):
#   micropython -X heapsize=N -m mp_jobs JOB ARG...
#   upload SOURCE ROWS HOST PORT [TRANSPORT [PATH]]  ei.Client.upload of an iterable (SOURCE
#                                       iterable) or a capture file (SOURCE capture, at PATH)
#   requests ROWS HOST PORT            the same CBOR body built whole in RAM, then posted
#                                       with micropython-lib requests.post, as users do today
#   capture PATH ROWS [f32]            write a capture file of ROWS rows
#   timing ROWS HOST PORT REPEAT       upload times of the three ways, in this one process
#   encode ROWS                        values/s: ei's CBOR vs the port's json.dumps
#   sampler HZ ROWS [PATH]             period error, jitter and drift of ei.sample
#   footprint                          heap kept by `import ei`
# Each job prints one line, "OK key=value ...", and exits with status 0; or it fails.
import gc
import sys

KEY = "ei_6040df080906d06f090e05013b7090580b707a0b050eb04d00350504070a2040"
AXES = (("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2"))


def row(i):
    # the host computes the same numbers to check what the server stored
    return (i * 0.001, -1.0 - i % 7, 9.81 + i % 13)


def rows(n):
    for i in range(n):
        yield row(i)


def iterable_sample(n):
    import ei
    return ei.Sample(device_type="BENCH", interval_ms=10, sensors=AXES, values=rows(n), rows=n)


def client(host, port, transport="socket"):
    import ei
    return ei.Client(KEY, host=host, port=int(port), tls=False, transport=transport,
                     retries=0)


def upload(source, n, host, port, transport="socket", path=None):
    import ei
    s = iterable_sample(int(n)) if source == "iterable" else ei.Sample.from_capture(path)
    name = client(host, port, transport).upload(s, label="bench")
    gc.collect()
    print("OK name=%s free=%d" % (name, gc.mem_free()))


def ram_body(n):
    """The sample's CBOR body in one bytearray of exactly its length: the least RAM a body
    built whole can take."""
    from ei import encoder
    s = iterable_sample(n)
    enc = encoder.Encoding()
    body = bytearray(encoder.encoded_len(s, enc))
    mv = memoryview(body)
    p = 0
    for b in encoder.chunks(s, enc):
        mv[p:p + len(b)] = b
        p += len(b)
    return body


def requests_post(n, host, port):
    import requests
    body = ram_body(int(n))
    r = requests.post("http://%s:%s/api/training/data" % (host, port), data=body,
                      headers={"X-Api-Key": KEY, "X-File-Name": "bench.cbor",
                               "Content-Type": "application/cbor"})
    status, text = r.status_code, r.text
    if status != 200:
        raise OSError("requests.post: %d %s" % (status, text))
    print("OK name=%s" % text)


def capture(path, n, f32=None):
    import ei
    from ei.capture import Writer
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
    n = int(n)
    s = ei.Sample(device_type="BENCH", interval_ms=10, sensors=AXES)
    for i in range(n):
        s.append(row(i))
    import requests
    from ei import encoder
    ours = client(host, port)
    via = client(host, port, "urequests")
    url = "http://%s:%s/api/training/data" % (host, port)
    t = {"socket": [], "urequests": [], "requests": []}
    for k in range(int(repeat)):
        a = ticks_ms()
        ours.upload(s, file_name="t.cbor")
        b = ticks_ms()
        via.upload(s, file_name="t.cbor")
        c = ticks_ms()
        # requests' users: the body built whole in RAM first, then posted
        body = encoder.dumps(s)
        r = requests.post(url, data=body, headers={
            "X-Api-Key": KEY, "X-File-Name": "t.cbor", "Content-Type": "application/cbor"})
        if r.status_code != 200:
            raise OSError("requests.post: %d %s" % (r.status_code, r.text))
        r.close()
        body = None
        d = ticks_ms()
        t["socket"].append(ticks_diff(b, a))
        t["urequests"].append(ticks_diff(c, b))
        t["requests"].append(ticks_diff(d, c))
        gc.collect()
    print("OK socket_ms=%d urequests_ms=%d requests_ms=%d" % (
        _median(t["socket"]), _median(t["urequests"]), _median(t["requests"])))


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
    from array import array
    import ei
    from ei.compat import ticks_us, ticks_diff
    hz = int(hz)
    n = int(n)
    times = array("i", bytes(4 * n))

    class Clocked:
        axes = AXES
        i = 0

        def read(self):
            times[self.i] = ticks_us()
            self.i += 1
            return (1.0, 2.0, 3.0)

    period = 1000000 // hz
    s = ei.sample(Clocked(), 1000 / hz, n, device_type="BENCH", path=path)
    d = [ticks_diff(times[i + 1], times[i]) for i in range(n - 1)]
    err = sum(d) / len(d) - period
    jit = sorted(abs(x - period) for x in d)
    p99 = jit[min(len(jit) - 1, int(0.99 * len(jit)))]
    drift = ticks_diff(times[n - 1], times[0]) - (n - 1) * period
    print("OK period_us=%d mean_err_us=%.2f p99_jitter_us=%d end_drift_us=%d late_rows=%d "
          "interval_ms=%s" % (period, err, p99, drift, s.timing.late_rows, s.interval_ms))


def footprint():
    gc.collect()
    a = gc.mem_alloc()
    import ei  # noqa: F401
    gc.collect()
    print("OK import_ei_bytes=%d" % (gc.mem_alloc() - a))


JOBS = {"upload": upload, "requests": requests_post, "capture": capture, "timing": timing,
        "encode": encode, "sampler": sampler, "footprint": footprint}

JOBS[sys.argv[1]](*sys.argv[2:])
