# The unix board's main job: 2 s of the simulated accelerometer at 100 Hz, uploaded to
# training with a label.  micropython main.py [LABEL [CONFIG]]
import sys

import board
import ei

if len(sys.argv) > 2:
    board.CONFIG = sys.argv[2]
try:
    ei.collect(sys.argv[1] if len(sys.argv) > 1 else "idle", seconds=2)
except Exception as e:
    print("failed:", type(e).__name__, e)
    sys.exit(1)
