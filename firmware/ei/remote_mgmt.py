# Remote management: the board connects to Edge Impulse's remote management service as the
# official Wi-Fi firmwares do, shows in Studio's Devices list, and records and uploads a sample
# when Studio's "Start sampling" asks (protocol notes 1.4): hello v3 in JSON, then per sample
# request {"sample":true}, the 2 s start delay, sampleStarted, sampling, sampleProcessing,
# sampleUploading, the upload (signed with the request's hmacKey), sampleFinished. What cannot
# be done is {"sample":false,"error":...} and the connection stays up. A dropped connection is
# reopened with backoff; a ping every 30 s, and no pong in 6 s is a dropped connection.
# Its steps' code is loaded for each step and forgotten after (ei.compat.forget): the checks
# (ei/remote_check.py), the session (ei/remote_session.py, with the WebSocket's reading),
# the sampler; while a sample uploads, the heap holds the upload's code and what sends the
# statuses, not the code that ran before it.
import gc
import json

from ei.compat import sleep_ms, random_below, forget, unloaded, const
from ei.errors import Msg, TransportError

URL = "ws://remote-mgmt.edgeimpulse.com"  # what the CLI gives devices (protocol notes 1.1)
_START_DELAY_MS = const(2000)  # every official firmware waits this long before sampling
_PING_MS = const(30000)        # the CLI's keep-alive
_PONG_MS = const(6000)         # ... and how long it waits for the pong
_MAX_BACKOFF_MS = const(30000)
_STARTED = '{"sampleStarted":true}'
_MAX_MESSAGE = const(2048)     # a sample request is a few hundred bytes
# error texts (ei/messages.py)
_M_SAMPLING_FAILED = const(109)
_M_UPLOAD_FAILED = const(110)


class HelloRefused(Exception):
    """The service refused the hello (its `err`: a wrong API key, most often). Not retried:
    the same hello would be refused again."""


def log(text):
    new = unloaded("log")  # loaded for the line, unless the program holds it (its threshold)
    try:
        from ei.log import log as say, INFO
        say(INFO, "remote: " + text)
    except MemoryError:  # a line is not worth the board: on a heap that full, it is dropped
        pass
    finally:  # (not kept while a sample uploads)
        say = None
        forget(*new)


def json_number(v):
    """A finite number as JSON writes it: 100 for 100.0."""
    return int(v) if v == int(v) else v


def shown(v):
    """A peer's value in an error message: its repr, at most 40 characters."""
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def failed(error):
    """{"sample":false,"error":...} with the key order of the official clients."""
    return '{"sample":false,"error":%s}' % json.dumps(error)


class Remote:
    """Serve Studio's sample requests for one sensor, through `client` (an ei.Client: its API
    key says hello, its ingestion host takes the uploads).

    url: the remote management service (ws:// or wss://; ca= as for uploads).
    device_id: unique per device (default: the client's device name or the board's id);
    device_type: shown in Studio (default MICROPYTHON). frequencies: the rates offered in
    Studio, in Hz (default: the sensor's FIFO rate, or 62.5 and 100 as the daemon's built-in
    accelerometer); a polling sensor takes any interval down to the fastest of them.
    max_sample_s: the longest sample accepted. Samples over ram_bytes, or that do not fit in
    the heap, go to a capture file at capture_path on flash, not to RAM."""

    def __init__(self, client, sensor, url=URL, device_id=None, device_type=None,
                 sensor_name="Accelerometer", frequencies=None, max_sample_s=300,
                 device_name=None, ca=None, addr=None, timeout=10, start_delay_ms=_START_DELAY_MS,
                 ping_ms=_PING_MS, pong_ms=_PONG_MS, backoff_ms=1000,
                 capture_path="capture.eic", ram_bytes=16384):
        # Studio's messages' room, for every connection, made first, while the heap is in one
        # piece; given up while a sample is taken and uploaded (nothing is read then), and
        # made again after
        self._buf = bytearray(_MAX_MESSAGE)
        # every other argument checked and kept by ei/remote_check.py, loaded for it and
        # forgotten after: while a sample uploads, none of this code is kept (its names are)
        _step("remote_check").setup(self, client, sensor, url, device_id, device_type,
                                    sensor_name, frequencies, max_sample_s, device_name, ca,
                                    addr, timeout, start_delay_ms, ping_ms, pong_ms,
                                    backoff_ms, capture_path, ram_bytes)

    def __repr__(self):  # no key
        return "<Remote %s as %s>" % (self.url, self.device_id)

    # --- the session ---------------------------------------------------------------------

    def hello(self):
        """The hello v3 message (JSON, keys in the documented order)."""
        return _step("remote_check").hello(self)

    def connect(self):
        """Open the WebSocket and say hello; the open WebSocket once {"hello":true} came."""
        return _step("remote_session").connect(self, _MAX_MESSAGE)

    def serve(self, count=None):
        """Serve sample requests until `count` of them were answered (None: until
        interrupted); returns how many were. The connection is reopened when it drops,
        after 1 s, then doubling waits up to 30 s with jitter; HelloRefused ends it. A
        heap too fragmented for a step (MemoryError) is a dropped connection too: what
        the step held is freed, and the board serves on."""
        self._handled = 0
        failures = 0
        while count is None or self._handled < count:
            try:
                ws = self.connect()
            except (TransportError, MemoryError) as e:
                failures += 1
                gc.collect()
                log("cannot connect to %s: %s: %s" % (self.url, type(e).__name__, e))
                sleep_ms(self.retry_delay_ms(failures))
                continue
            failures = 0
            self.connected = True
            log("connected to %s as %s" % (self.url, self.device_id))
            try:
                while True:
                    req = _step("remote_session").session(self, ws, count)
                    if req is None:
                        break
                    # a sample request: the session's code, the WebSocket's reading and the
                    # request's JSON reader are not run again before it is done, and no
                    # message is read: their room goes to the sampler's code, the messages'
                    # to the rows (ei/remote_record.py)
                    forget("websocket_read")
                    forget("peer_json")
                    gc.collect()  # (the sampler's code then fills their room)
                    new = unloaded("rows")
                    self._sample(ws, req)
                    self._handled += 1
                    # the sample's rows' code, not run again before the next request (its
                    # Sample class stays: a Sample made before must stay one)
                    forget(*new)
                    gc.collect()  # what the upload left, before the messages' room is made
                    ws.buf = self._buf = bytearray(_MAX_MESSAGE)  # (MemoryError: dropped)
            except (TransportError, MemoryError) as e:
                gc.collect()
                log("connection lost: %s: %s" % (type(e).__name__, e))
            finally:
                self.connected = False
                gc.collect()  # what the session left, before the close frame needs room
                ws.close()
                ws = None  # freed before the next connection is made, not beside it
            if count is None or self._handled < count:
                sleep_ms(self.retry_delay_ms(1))
        return self._handled

    def retry_delay_ms(self, attempt):
        """The wait before reconnection `attempt` (1, 2, ...): backoff_ms doubled each time,
        at most 30 s, random over its upper half, so a fleet does not come back in step."""
        delay = min(self.backoff_ms << min(attempt - 1, 16), _MAX_BACKOFF_MS)
        return delay // 2 + random_below(delay // 2 + 1)

    # --- one sample request --------------------------------------------------------------

    def check(self, req):
        """(label, category, interval_ms, rows, hmac key) of a sample request, or
        ValueError naming the field. Unknown fields are ignored."""
        return _step("remote_check").check(self, req)

    def _sample(self, ws, req):
        label, category, interval, rows, key = req  # (checked: ei/remote_session.py)
        ws.send('{"sample":true}')
        log("sampling %s: %d rows at %s ms, in %d ms" % (shown(label), rows, json_number(interval),
                                                         self.start_delay_ms))
        sleep_ms(self.start_delay_ms)
        ws.send(_STARTED)
        error = name = None
        try:
            s = _step("remote_record").record(self, ws, interval, rows)
        except Exception as e:  # a sensor or flash error: said to Studio, the session goes on
            error = str(Msg(_M_SAMPLING_FAILED, type(e).__name__, e))
        if error is None:
            ws.send('{"sampleProcessing":true}')
            ws.send('{"sampleUploading":true}')
            try:
                name = self._upload(s, category, label, key)
            except Exception as e:  # IngestionError, TransportError: the service's words
                error = str(Msg(_M_UPLOAD_FAILED, type(e).__name__, e))
        if error is not None:
            log(error)
            ws.send(failed(error))
        else:
            log("stored as %s" % name)
            ws.send('{"sampleFinished":true}')

    def _upload(self, s, category, label, key):
        # The request's hmacKey signs this sample (Studio sends the project's).
        new = unloaded("encoder", "signing")
        try:
            return self.client.upload(s, category=category, label=label, add_date_id=True,
                                      hmac_key=key)
        finally:  # loaded again by the next upload: until then, their room is the session's
            forget(*new)


def remote(count=None):
    """ei.remote(): serve Studio with the board's sensor, client and config until
    interrupted (or `count` sample requests). config.json: remote_mgmt_url (default
    ws://remote-mgmt.edgeimpulse.com), device_id (default: the device name), sensor_name."""
    return _step("remote_check").from_board().serve(count)


def _step(name):
    """Module ei.<name>, loaded for one step and forgotten already: a collection frees its
    code once the step has run (ei/__init__ collects before it loads it: it fills holes)."""
    m = getattr(__import__("ei", None, None, (name,)), name)
    forget(name)
    return m
