# Hostile answers at a small heap, from .mpy (test_hostile_memory.py):
#   micropython -X heapsize=64k -m mp_hostile HOST PORT SCENARIO [SCENARIO ...]
# Uploads a small sample once per scenario (the hostile server's X-Label; a scenario named
# files-* uploads one file to /files instead) and prints "OK scenario=ErrorName ...": what
# each answer ended in, "ok" when delivered (a MemoryError is a failure).
import sys

import ei

host, port = sys.argv[1], int(sys.argv[2])
c = ei.Client("ei_6040df080906d06f090e05013b7090580b707a0b050eb04d00350504070a2040",
              host=host, port=port, tls=False, retries=0, timeout=5)
s = ei.Sample(device_type="TEST", interval_ms=10, sensors=(("x", "u"),), values=[[1], [2]])
out = []
for scenario in sys.argv[3:]:
    try:
        if scenario.startswith("files-"):
            c.upload_files([("a.csv", b"t,x\n0,1\n")], label=scenario + ".mem")
        else:
            c.upload(s, label=scenario)
        out.append(scenario + "=ok")
    except MemoryError:
        raise
    except Exception as e:
        out.append("%s=%s" % (scenario, type(e).__name__))
print("OK " + " ".join(out))
