# AT+SAMPLESTART's second step (ei/at_sample.py samples; ei/at_server.py runs the steps): the
# capture file encoded into a signed CBOR file in the board's float size, in pieces (no sample
# is ever whole in RAM), written beside the samples and renamed to the label's name once
# whole; then uploaded by the board itself when its own Wi-Fi and remote management are up.
# A module of its own so that the encoder's code comes once at_sample's and the sampler's
# have left the heap (on f32 from .mpy, the daemon's peak).
from ei import collector
from ei.at_common import PATH, host, remove, self_uploads


def encode(d, args):
    capture, part, file = args
    L = d.line
    cfg = collector.board(True)[1]
    try:
        _encode(capture, part, cfg.get("hmac_key"))
        import os
        os.rename(part, file)
    except BaseException:
        remove(part)  # nothing half-written is taken for a sample
        raise
    finally:
        remove(capture)
    d.last_file = file
    L("Done processing")
    if self_uploads():
        path = cfg.get("upload_path", PATH)
        label = file.rpartition("/")[2]
        L("Uploading... '%s' to %s%s..." % (file, host(cfg), path))
        d.flush()
        stored = collector.client().upload_encoded(
            file, label, category=path.split("/")[2], label=label,
            content_type="application/cbor", add_date_id=True)
        remove(file)
        L("File uploaded (%s)" % stored)
    elif d.read_back == "buffer":
        import os
        L("Not uploading file, not connected to WiFi. Used buffer, from=0, to=%d."
          % os.stat(file)[6])
    else:
        L("Not uploading file, not connected to WiFi.")
    L("OK")


def _encode(capture, file, key):
    """The capture file's sample, as the signed CBOR file `file`. In a function of its own:
    what it made is gone from the stack once it returns."""
    from ei import encoder
    from ei.compat import unix_time
    sample = _Capture(capture)
    # signed as an upload would be (iat once the clock is set), in the capture's float size,
    # the board's (a single-precision board loses nothing): its rows are copied as they are;
    # no client: a board without a network has no socket module
    enc = encoder.Encoding("cbor", sample.float32, key, unix_time() if key else None)
    with open(file, "wb") as f:
        encoder.write(sample, enc, f.write)


class _Capture:
    """What the encoder reads of a Sample (ei/acquisition.py) to copy a capture file's rows as
    they are: its description and cbor_rows(), from read_capture (ei/capture.py: its header
    checked, its length against its row count). Not a Sample: the daemon's own capture, just
    written, needs none of a Sample's checks, and acquisition's code (2.4 KB on f32 from
    .mpy) would take the heap beside the encoder's."""

    def __init__(self, path):
        from ei.capture import read_capture
        (self._rows, self.device_name, self.device_type, self.interval_ms,
         self.sensors) = read_capture(path)
        self.rows = self._rows.rows
        self.width = self._rows.width
        self.float32 = self._rows.float32

    def cbor_rows(self, float32):
        return self._rows.cbor_rows(float32)
