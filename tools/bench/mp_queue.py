# Opening and flushing the offline queue at a small heap, from .mpy:
#   micropython -X heapsize=N -m mp_queue PATH HOST PORT
# Opens the queue at PATH, flushes it to the mock service at HOST:PORT and prints
# "OK entries=N delivered=N".
import sys

import ei

q = ei.Queue(sys.argv[1])
n = len(q)
c = ei.Client("ei_6040df080906d06f090e05013b7090580b707a0b050eb04d00350504070a2040",
              host=sys.argv[2], port=int(sys.argv[3]), tls=False, retries=0, timeout=5)
print("OK entries=%d delivered=%d" % (n, q.flush(c)))
