# ei: turn a MicroPython board into an Edge Impulse data-collection device.
# sensor -> sampler -> Sample -> encoder (CBOR/JSON, HS256) -> wire -> transport -> ingestion.
from ei.acquisition import Sample
from ei.client import Client
from ei.errors import (IngestionError, BadRequest, Unauthorized, MissingHeader, ServerError,
                       TransportError, Timeout)
from ei.sampler import sample

__version__ = "0.1.0"
