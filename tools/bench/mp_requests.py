# The baseline of bench.py: the same sample's CBOR body built whole in RAM (one bytearray of
# exactly its length, the least a body in RAM can take), then posted with micropython-lib
# requests.post, as its users do today. Kept as small as mp_upload.py, so that both measure
# the upload and not the harness:
#   micropython -X heapsize=N -m mp_requests ROWS HOST PORT
import sys

import requests

import ei
from ei import encoder


def rows(n):
    for i in range(n):
        yield (i * 0.001, -1.0 - i % 7, 9.81 + i % 13)


n, host, port = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = ei.Sample(device_type="BENCH", interval_ms=10,
              sensors=(("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2")),
              values=rows(n), rows=n)
enc = encoder.Encoding()
body = bytearray(encoder.encoded_len(s, enc))
mv = memoryview(body)
p = 0
for b in encoder.chunks(s, enc):
    mv[p:p + len(b)] = b
    p += len(b)
r = requests.post("http://%s:%s/api/training/data" % (host, port), data=body,
                  headers={"X-Api-Key": "ei_6040df080906d06f090e05013b7090580b707a0b050eb04d"
                           "00350504070a2040", "X-File-Name": "bench.cbor",
                           "Content-Type": "application/cbor"})
if r.status_code != 200:
    raise OSError("requests.post: %d %s" % (r.status_code, r.text))
print("OK name=%s" % r.text)
