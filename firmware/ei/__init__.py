# ei: turn a MicroPython board into an Edge Impulse data-collection device.
# sensor -> sampler -> Sample -> encoder (CBOR/JSON, HS256) -> wire -> transport -> ingestion.
from ei.acquisition import Sample
from ei.client import Client
from ei.errors import (IngestionError, BadRequest, Duplicate, Unauthorized, MissingHeader,
                       ServerError,
                       TransportError, Timeout, QueueFull)
from ei.sampler import sample
# ei.collect and ei.forward are functions named like their modules. Importing a submodule binds
# it as an attribute of the package, so a lazy `from ei.collect import collect` inside a
# wrapper rebinds ei.collect to the module at its first call. Imported here, the functions are
# bound last and stay. (Both modules are small; their heavy parts load when first used.)
from ei.collect import collect, setup, CaptureStopped
from ei.forward import forward

__version__ = "0.1.0"



def Queue(path, **kw):
    """The offline queue on flash under path (ei/queue.py): put(sample, ...), flush(client)."""
    from ei.queue import Queue as _Queue  # imported when used: saves RAM at import
    return _Queue(path, **kw)
