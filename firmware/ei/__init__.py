# ei: turn a MicroPython board into an Edge Impulse data-collection device.
# sensor -> sampler -> Sample -> encoder (CBOR/JSON, HS256) -> wire -> transport -> ingestion.
from ei.acquisition import Sample
from ei.client import Client
from ei.errors import (IngestionError, BadRequest, Duplicate, Unauthorized, MissingHeader,
                       ServerError,
                       TransportError, Timeout)
from ei.sampler import sample
# ei.collect and ei.forward are functions named like their modules. Importing a submodule binds
# it as an attribute of the package, so a lazy `from ei.collect import collect` inside a
# wrapper rebinds ei.collect to the module at its first call. Imported here, the functions are
# bound last and stay. (Both modules are small; their heavy parts load when first used.)
from ei.collect import collect, setup, CaptureStopped
from ei.forward import forward

__version__ = "0.1.0"

