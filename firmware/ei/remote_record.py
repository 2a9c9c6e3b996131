# A sample request's recording, for ei.Remote (ei/remote_mgmt.py): the sampler run into RAM,
# or into the capture file when the rows would take more than ram_bytes or find no room.
# Loaded for the recording and forgotten after (ei.compat.forget), as the sampler is: while
# the sample uploads, none of this code is in the heap.
import gc

from ei.compat import FLOAT32, forget, unloaded


def record(r, ws, interval, rows):
    """The Sample of `rows` rows at `interval` ms from Remote r's sensor; r's messages' room
    (ws's buffer) is given up for it."""
    new = unloaded("sampler", "deadlines", "sample_check")
    from ei.sampler import sample
    # The messages' room is given up once the sampler's code is loaded (into the holes the
    # session's code left): in one piece, it then takes the rows (1.6 KB for 1 s at 100 Hz),
    # which at 47 KB found no room after that code when it was given up first (f32, .mpy)
    ws.buf = r._buf = None
    gc.collect()
    itemsize = 4 if FLOAT32 else 8  # the board's float, in RAM
    path = r.capture_path if rows * len(r.axes) * itemsize > r.ram_bytes else None
    try:
        while True:
            try:
                s = sample(r.sensor, interval, rows, device_type=r.device_type,
                           device_name=r.device_name or r.device_id, path=path)
                s.timing = None  # (its class is the deadlines': not kept while it uploads)
                return s
            except MemoryError:
                if path is not None:
                    raise
                # the rows' room, made before the first read, is not in this heap: flash
                gc.collect()
                path = r.capture_path
    finally:
        # the sampler, its deadlines and a Sample's checks, if this request loaded them, are
        # not run again before the next: their room goes to the upload's code (the sample's
        # class, ei.acquisition's, stays loaded with the sample)
        sample = None
        forget(*new)
