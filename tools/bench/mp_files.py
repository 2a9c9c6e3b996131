# The /files upload whose heap test_memory.py and bench.py bound (as mp_upload.py bounds
# /data's), apart so that each measures its own:
#   micropython -X heapsize=N -m mp_files FILES HOST PORT
# FILES small CSV files, f0000.csv ..., each "t,x\n0,<i>\n", in one upload_files() call. It
# prints the heap the caller's own list of files takes (list_bytes), which a bound on the
# upload's heap leaves aside.
import gc
import sys

import ei

n, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
gc.collect()
before = gc.mem_alloc()
files = [("f%04d.csv" % i, b"t,x\n0,%d\n" % i) for i in range(n)]
gc.collect()
list_bytes = gc.mem_alloc() - before
c = ei.Client("ei_6040df080906d06f090e05013b7090580b707a0b050eb04d00350504070a2040",
              host=host, port=port, tls=False, retries=0)
r = c.upload_files(files, label="bench")
print("OK files=%d delivered=%d list_bytes=%d" % (len(r), sum(1 for x in r if x[1]), list_bytes))
