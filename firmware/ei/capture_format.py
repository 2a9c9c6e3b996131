# The capture file's format constants (the format is described in ei/capture.py), shared by
# its writer (ei/capture_writer.py) and its reader (ei/capture.py): a module of its own so
# that sampling to flash loads the writer alone, not the reader's 4 KB with it.
from ei.compat import const
from ei.stream import cbor_head

MAGIC = b"EIcp"
VERSION = const(1)
FIXED = const(20)  # bytes before the description
ROWS_AT = const(8)
UNFINISHED = const(0xFFFFFFFF)


def layout(width, float32):
    """(row head, bytes per value, bytes per row) of a capture's rows."""
    head = cbor_head(4, width)
    step = 5 if float32 else 9
    return head, step, len(head) + width * step
