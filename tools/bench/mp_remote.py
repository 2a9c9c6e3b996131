# ei.Remote serving Studio's sample requests at a small heap, from .mpy (test_board_heap.py):
#   micropython -X heapsize=N -m mp_remote HOST MOCK_PORT PEER_URL COUNT CAPTURE_PATH
# Serves COUNT sample requests of the peer's script (host_tests/peer_scenarios.py), uploading
# to the mock service at HOST:MOCK_PORT (a sample that does not fit in the heap goes through
# the capture file CAPTURE_PATH), and prints "OK handled=N connections=N".
import sys

import ei
from ei.remote_mgmt import Remote
from ei.sim import Accelerometer

host, port, url, count, capture = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), \
    sys.argv[5]
c = ei.Client("ei_6040df080906d06f090e05013b7090580b707a0b050eb04d00350504070a2040",
              host=host, port=port, tls=False, retries=0, timeout=5)
r = Remote(c, Accelerometer("wave"), url=url, device_id="heap", device_type="BENCH",
           max_sample_s=5, timeout=5, start_delay_ms=10, backoff_ms=10, capture_path=capture)
print("OK handled=%d connections=%d" % (r.serve(count), r.connections))
