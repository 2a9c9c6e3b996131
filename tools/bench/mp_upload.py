# The upload whose heap test_memory.py and bench.py bound, kept apart from mp_jobs.py so that
# the heap measured is the firmware's and not the harness's:
#   micropython -X heapsize=N -m mp_upload iterable|capture ROWS|PATH HOST PORT [TRANSPORT [CA]]
# An iterable yields row(i) of mp_jobs.py (the host checks what was stored). With CA (a DER
# file), the upload goes over TLS to https://localhost at HOST:PORT, verified against it.
import sys

import ei


def rows(n):
    for i in range(n):
        yield (i * 0.001, -1.0 - i % 7, 9.81 + i % 13)


source, arg, host, port = sys.argv[1:5]
transport = sys.argv[5] if len(sys.argv) > 5 else "socket"
ca = None
if len(sys.argv) > 6:
    with open(sys.argv[6], "rb") as f:
        ca = f.read()
if source == "iterable":
    s = ei.Sample(device_type="BENCH", interval_ms=10,
                  sensors=(("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2")),
                  values=rows(int(arg)), rows=int(arg))
else:
    s = ei.Sample.from_capture(arg)
if ca is None:
    c = ei.Client("ei_6040df080906d06f090e05013b7090580b707a0b050eb04d00350504070a2040",
                  host=host, port=int(port), tls=False, retries=0, transport=transport)
else:
    c = ei.Client("ei_6040df080906d06f090e05013b7090580b707a0b050eb04d00350504070a2040",
                  host="localhost", port=int(port), addr=(host, int(port)), tls=True, ca=ca,
                  retries=0, transport=transport)
print("OK name=%s" % c.upload(s, label="bench"))
