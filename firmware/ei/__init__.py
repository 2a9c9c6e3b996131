# ei: turn a MicroPython board into an Edge Impulse data-collection device.
# sensor -> sampler -> Sample -> encoder (CBOR/JSON, HS256) -> wire -> transport -> ingestion.
from ei.acquisition import Sample
from ei.client import Client
from ei.errors import (IngestionError, BadRequest, Duplicate, Unauthorized, MissingHeader,
                       ServerError,
                       TransportError, Timeout, QueueFull)
from ei.sampler import sample

__version__ = "0.1.0"



def Queue(path, **kw):
    """The offline queue on flash under path (ei/queue.py): put(sample, ...), flush(client)."""
    from ei.queue import Queue as _Queue  # imported when used: saves RAM at import
    return _Queue(path, **kw)


class CaptureStopped(Exception):
    """A capture stopped before its end: the sensor failed (an I2C OSError, a driver's
    SensorError, a row that is not numbers) or flash did. `sample` holds the rows read
    before it, with their true length (None when no row was read); `rows` is how many were
    asked for; `error` is what was raised. Such a sample is queued (when queuing) or kept,
    never uploaded in place of the whole one. (Here, not in ei/collect.py, so that
    `except ei.CaptureStopped` does not load collect.)"""

    def __init__(self, message, sample, rows, error):
        super().__init__(message)
        self.sample = sample
        self.rows = rows
        self.error = error


# The REPL's calls load their modules when first used (ei/collect.py, ei/forward.py): RAM at
# `import ei` goes to samples. ei.collect is a function named like its module, and Python
# binds a submodule on its package when it is first imported, over the function: _load()
# puts the functions back after it imports one.

def collect(label, seconds=2, category="training", **kw):
    """Sample the board's sensor for `seconds` and upload it labelled, or queue it (see
    ei/collect.py: interval_ms=, fmt=, queue=)."""
    return _load("collect").collect(label, seconds, category, **kw)


def setup():
    """Check config.json, open the board's sensor, bring its network up; (board, config)."""
    return _load("collect").setup()


def use(board, cfg):
    """Drive collect() with `board` (board.py's names) and the config dict `cfg` instead of
    the deployed board.py and config.json: on a host, or in a test."""
    return _load("collect").use(board, cfg)


def forward(sensor=None, interval_ms=None, seconds=None, **kw):
    """Print a sensor's readings for Edge Impulse's data forwarder (see ei/forward.py)."""
    return _load("forward").forward(sensor, interval_ms, seconds, **kw)


_CALLS = {"collect": collect, "setup": setup, "use": use, "forward": forward}


def _load(name):
    import sys
    mod = sys.modules.get("ei." + name)
    if mod is None:
        __import__("ei." + name)
        mod = sys.modules["ei." + name]
        globals().update(_CALLS)  # over the modules the import bound (ei.forward loads both)
    return mod
