# ei: turn a MicroPython board into an Edge Impulse data-collection device.
# sensor -> sampler -> Sample -> encoder (CBOR/JSON, HS256) -> wire -> transport -> ingestion.
#
# `import ei` loads only the errors: every other name loads its module when first used
# (module __getattr__), so the heap goes to samples and an upload loads only what it needs.
from ei.errors import TransportError, Timeout, CertificateError

__version__ = "0.1.0"

def __getattr__(name):
    # A module is loaded here the first time it is named (ei.Client, `from ei import wire`):
    # collect first, so that its code fills the holes the last one left, not new room
    # (measured on f32 from .mpy: an upload's modules then leave 3 KB of holes, not 7.7)
    import gc
    gc.collect()
    mod = {  # name: the module that defines it (made per call: no heap kept for it)
        "Sample": "acquisition",
        "Client": "client",
        "sample": "sampler",
        "record": "recording",    # continuous: windows sent while the next is read
        "Queue": "queue",
        "collect": "collecting",  # the REPL's one call
        "setup": "collector",
        "use": "collector",
        "boot": "startup",        # a board's main.py: the config's job at power-on
        "forward": "forwarder",   # Edge Impulse's data forwarder protocol
        # Driven from Edge Impulse Studio. The modules are not named boot, remote and daemon:
        # importing a submodule sets the package's attribute of its name, and would hide these
        # functions.
        "Remote": "remote_mgmt",  # remote management over WebSocket, as the Wi-Fi dev kits
        "remote": "remote_mgmt",
        "daemon": "at_server",    # edge-impulse-daemon's serial AT protocol, on the REPL's port
        "WebSocket": "websocket",
        # the errors only some paths raise: made when first named (ei/errors.py)
        "IngestionError": "errors",
        "BadRequest": "errors",
        "Duplicate": "errors",
        "Unauthorized": "errors",
        "MissingHeader": "errors",
        "ServerError": "errors",
        "NotDelivered": "errors",
        "QueueFull": "errors",
        "CaptureStopped": "errors",
    }.get(name)
    if mod is None:
        # `from ei import wire` on MicroPython asks here before it imports the submodule
        try:
            return __import__("ei." + name, None, None, ("_",))
        except ImportError as e:
            if ("ei." + name) not in str(e):
                raise  # the submodule exists and failed: say why, not "no attribute"
            raise AttributeError("module 'ei' has no attribute '%s'" % name)
    value = getattr(__import__("ei." + mod, None, None, (name,)), name)
    globals()[name] = value  # found directly next time
    return value
