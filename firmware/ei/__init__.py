# ei: turn a MicroPython board into an Edge Impulse data-collection device.
# sensor -> sampler -> Sample -> encoder (CBOR/JSON, HS256) -> wire -> transport -> ingestion.
from ei.acquisition import Sample
from ei.client import Client
from ei.errors import (IngestionError, BadRequest, Duplicate, Unauthorized, MissingHeader,
                       ServerError,
                       TransportError, Timeout)
from ei.sampler import sample

__version__ = "0.1.0"


def collect(label, seconds=2, category="training", **kw):
    """Sample the board's sensor for `seconds` and upload it labelled (see ei/collect.py)."""
    from ei.collect import collect as _collect  # imported when used: saves RAM at import
    return _collect(label, seconds, category, **kw)
