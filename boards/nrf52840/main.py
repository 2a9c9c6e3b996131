# Runs at boot; then the REPL is yours:  import ei; ei.collect("idle", seconds=2)
# ei.setup() checks config.json, opens the sensor and brings the network up now, so that a
# mistake shows at start-up rather than at the first capture. Errors are printed, not raised:
# the REPL (and mpremote) must still start to let you fix them.
# From Edge Impulse Studio: ei.daemon() serves edge-impulse-daemon's AT commands on this serial
# port, at boot with "daemon": true in config.json, until Ctrl-C (README: From Edge Impulse
# Studio). With "record_label" in config.json it records without a break instead, in windows
# of "record_window_ms", to the queue until Ctrl-C.
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
