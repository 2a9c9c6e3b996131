# The unix board's main job: 2 s of the simulated accelerometer at 100 Hz, uploaded to
# training with a label.  micropython main.py [LABEL [CONFIG]]
# With "remote_mgmt": true in the config, it serves Edge Impulse Studio instead (remote
# management, README: From Edge Impulse Studio) until Ctrl-C; with "record_label" it records
# without a break, in windows of "record_window_ms" (README: Continuous recording).
import sys

import board
import ei

if len(sys.argv) > 2:
    board.CONFIG = sys.argv[2]
try:
    cfg = ei.setup()[1]
    if cfg.get("remote_mgmt"):
        ei.remote()
    elif cfg.get("record_label"):
        ei.collect()  # without a break, until Ctrl-C
    else:
        ei.collect(sys.argv[1] if len(sys.argv) > 1 else "idle", seconds=2)
except KeyboardInterrupt:
    pass
except Exception as e:
    print("failed:", type(e).__name__, e)
    sys.exit(1)
