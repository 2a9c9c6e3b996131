# The unix board's main job: 2 s of the simulated accelerometer at 100 Hz, uploaded to
# training with a label.  micropython main.py [LABEL [CONFIG]]
# With "remote_mgmt", "daemon" or "record_label" in the config, it starts as a board does
# instead (ei.boot(): docs/studio.md, docs/recording.md), until Ctrl-C.
import sys

import board
import ei

if len(sys.argv) > 2:
    board.CONFIG = sys.argv[2]
try:
    cfg = ei.setup()[1]  # a config that does not load ends the job, named (a board serves the daemon)
    if cfg.get("remote_mgmt") or cfg.get("daemon") or cfg.get("record_label"):
        ei.boot()  # the job the config names, as a board starts it
    else:  # the main job; ei.boot() (ei/startup.py) is not loaded for it: 128 KB of heap
        ei.collect(sys.argv[1] if len(sys.argv) > 1 else "idle", seconds=2)
except KeyboardInterrupt:
    pass
except Exception as e:
    print("failed:", type(e).__name__, e)
    sys.exit(1)
