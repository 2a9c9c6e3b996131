# Runs at boot; then the REPL is yours:  import ei; ei.collect("idle", seconds=2)
# ei.setup() checks config.json and opens the sensor now, so that a mistake shows at start-up
# rather than at the first capture. Errors are printed, not raised: the REPL (and mpremote)
# must still start to let you fix them.
# From Edge Impulse Studio: with "daemon": true in config.json (the example's), ei.daemon()
# serves edge-impulse-daemon's AT commands on this USB serial port until Ctrl-C (README: From
# Edge Impulse Studio).
import ei

cfg = {}
try:
    cfg = ei.setup()[1]
    print('ei: ready: ei.collect("idle", seconds=2) or ei.daemon()')
except Exception as e:
    print("ei: not ready: %s: %s" % (type(e).__name__, e))
    # what config.json holds that is right: with "daemon" there, the daemon still starts,
    # says why the file does not load, and edge-impulse-daemon can repair it
    from ei.collector import config_as_read
    cfg = config_as_read()
if cfg.get("daemon"):
    ei.daemon()  # until Ctrl-C
elif cfg.get("record_label"):
    ei.collect()  # the config's recording, until Ctrl-C (README: Continuous recording)
