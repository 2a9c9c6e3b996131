# ei.boot(): a board's start-up, the whole of it, run by its main.py. The config is checked,
# the sensor opened and the network brought up now (ei.setup()), so that a mistake shows at
# power-on rather than at the first capture; then the board does what its config says, until
# Ctrl-C gives the REPL back: remote management ("remote_mgmt": true), edge-impulse-daemon's
# AT commands on the serial port ("daemon": true) or a recording ("record_label"). A config
# that does not load starts the daemon, which says why and whose settings commands repair it.
# Errors are printed, never raised: the REPL (and mpremote) must still start to let you fix
# them. Not named boot.py: a board runs its own /boot.py at reset, and a submodule ei.boot
# would become the package's attribute `boot`, hiding this function.
from ei import collector


def job(cfg, loads=True):
    """What a board runs at boot with config cfg: "remote", "daemon", "record", or None
    (the REPL). A config that does not load (loads=False) runs the daemon: it can repair it."""
    if not loads:
        return "daemon"
    if cfg.get("remote_mgmt"):
        return "remote"
    if cfg.get("daemon"):
        return "daemon"
    if cfg.get("record_label"):
        return "record"
    return None


def boot(inp=None, out=None):
    """Start the board as its config says (see above); returns the job run ("remote",
    "daemon", "record") once it ends, or None when the config names none. inp, out: the
    daemon's streams (default the REPL's serial port)."""
    try:
        b, cfg = collector.setup()
        print('ei: ready: ei.collect("idle", seconds=2)%s or ei.daemon()' % (
            ", ei.remote()" if getattr(b, "NETWORK", None) is not None else ""))
    except Exception as e:
        print("ei: not ready: %s: %s" % (type(e).__name__, e))
        # the config if it loads, else what could be read of it (the daemon then starts and
        # says why), else {} (no board.py). Here, not in the collector: the daemon and Remote
        # load the collector, and only the boot needs this.
        try:
            cfg = collector.board(True)[1]
        except Exception:
            cfg = {}
    run = job(cfg, collector.broken() is None)
    if run is None:
        return None
    try:
        if run == "daemon":
            from ei.at_server import daemon
            daemon(inp, out)  # until Ctrl-C
        elif run == "remote":
            from ei.remote_mgmt import remote
            remote()
        else:
            from ei.collecting import collect
            collect()  # the config's recording (docs/recording.md)
    except KeyboardInterrupt:
        print("ei: %s stopped; ei.boot() starts it again" % run)
    except Exception as e:
        print("ei: %s stopped: %s: %s" % (run, type(e).__name__, e))
    return run
