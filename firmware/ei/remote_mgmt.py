# Remote management: the board connects to Edge Impulse's remote management service as the
# official Wi-Fi firmwares do, shows in Studio's Devices list, and records and uploads a sample
# when Studio's "Start sampling" asks (protocol notes 1.4): hello v3 in JSON, then per sample
# request {"sample":true}, the 2 s start delay, sampleStarted, sampling, sampleProcessing,
# sampleUploading, the upload (signed with the request's hmacKey), sampleFinished. What cannot
# be done is {"sample":false,"error":...} and the connection stays up. A dropped connection is
# reopened with backoff; a ping every 30 s, and no pong in 6 s is a dropped connection.
import gc
import json

from ei import wire
from ei.compat import FLOAT32, sleep_ms, ticks_ms, ticks_add, ticks_diff, random_below, const
from ei.errors import Msg, TransportError

URL = "ws://remote-mgmt.edgeimpulse.com"  # what the CLI gives devices (protocol notes 1.1)
_START_DELAY_MS = const(2000)  # every official firmware waits this long before sampling
_PING_MS = const(30000)        # the CLI's keep-alive
_PONG_MS = const(6000)         # ... and how long it waits for the pong
_MAX_BACKOFF_MS = const(30000)
_TOLERANCE = 0.01              # an interval this close to the sensor's is the sensor's
_STARTED = '{"sampleStarted":true}'
_MAX_MESSAGE = const(2048)     # a sample request is a few hundred bytes
_WS_ROOM = const(1024)         # a WebSocket's input, output and frame head (782 bytes) past it
# A sample request nests 2 deep and holds about 10 values; a message past these bounds is
# refused before json.loads makes an object of each value (ei/peer_json.py).
_MAX_DEPTH = const(4)
_MAX_VALUES = const(32)
_INF = float("inf")
# error texts (ei/messages.py)
_M_POSITIVE = const(94)
_M_PATH = const(95)
_M_FREQUENCIES = const(96)
_M_MAX_SAMPLE_S = const(97)
_M_NO_HELLO = const(98)
_M_HELLO_REFUSED = const(99)
_M_NO_PONG = const(100)
_M_NOT_JSON = const(101)
_M_SAMPLE_OBJECT = const(102)
_M_EMPTY = const(5)
_M_LENGTH_OVER = const(103)
_M_INTERVAL_LONGER = const(104)
_M_FIFO_INTERVAL = const(105)
_M_INTERVAL_FASTER = const(106)
_M_HMAC_KEY_TEXT = const(107)
_M_UNKNOWN_SENSOR = const(108)
_M_SAMPLING_FAILED = const(109)
_M_UPLOAD_FAILED = const(110)
_M_NO_NETWORK = const(111)


class HelloRefused(Exception):
    """The service refused the hello (its `err`: a wrong API key, most often). Not retried:
    the same hello would be refused again."""


def log(text):
    from ei.log import log as say, INFO
    try:
        say(INFO, "remote: " + text)
    except MemoryError:  # a line is not worth the board: on a heap that full, it is dropped
        pass


def _num(v):
    """A finite number as JSON writes it: 100 for 100.0."""
    return int(v) if v == int(v) else v


def _short(v):
    """A peer's value in an error message: its repr, at most 40 characters."""
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _positive(req, name):
    """The request's field `name`: milliseconds, a finite number > 0. 1e309 is inf on every
    runtime, and so is anything over 3.4e38 where floats are single precision."""
    v = req.get(name)
    if not _is_number(v) or not 0 < v < _INF:
        raise ValueError(Msg(_M_POSITIVE, name, _short(v)))
    return v


def failed(error):
    """{"sample":false,"error":...} with the key order of the official clients."""
    return '{"sample":false,"error":%s}' % json.dumps(error)


def category_of(path):
    """The category of an ingestion path /api/<category>/data, or ValueError."""
    parts = path.split("/") if isinstance(path, str) else ()
    if len(parts) != 4 or parts[0] or parts[1] != "api" or parts[3] != "data" \
            or parts[2] not in wire.CATEGORIES:
        raise ValueError(Msg(_M_PATH, _short(path)))
    return parts[2]


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


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
        # one buffer for every connection (ei.websocket.buffer's), made first, while the
        # heap is in one piece: a reconnection on a fragmented heap needs no new block
        self._buf = bytearray(_MAX_MESSAGE + _WS_ROOM)
        from ei.deadlines import check_sensor
        from ei.websocket import parse_url  # here: the daemon imports this module's names
        parse_url(url)  # a wrong URL is named now, not at the first connection
        self.axes = check_sensor(sensor)
        self.client = client
        self.sensor = sensor
        self.url = url
        self.fifo = getattr(sensor, "fifo", False) and hasattr(sensor, "read_fifo")
        if frequencies is None:
            frequencies = [sensor.rate_hz] if self.fifo else [62.5, 100]
        if not frequencies or not all(_is_number(f) and 0 < f < _INF for f in frequencies):
            raise ValueError(Msg(_M_FREQUENCIES, frequencies))
        self.frequencies = frequencies
        self.sensor_name = wire.check_header(sensor_name, "sensor_name")
        if not _is_number(max_sample_s) or not 0 < max_sample_s < _INF:
            raise ValueError(Msg(_M_MAX_SAMPLE_S, max_sample_s))
        self.max_sample_s = max_sample_s
        self.device_type = wire.check_header(device_type or "MICROPYTHON", "device_type")
        self.device_name = device_name
        self.device_id = wire.check_header(device_id or device_name or _board_id(), "device_id")
        self.ca = ca
        self.addr = addr
        self.timeout = timeout
        self.start_delay_ms = start_delay_ms
        self.ping_ms = ping_ms
        self.pong_ms = pong_ms
        self.backoff_ms = backoff_ms
        self.capture_path = capture_path
        self.ram_bytes = ram_bytes
        self.connected = False
        self.connections = 0  # WebSockets opened that got {"hello":true}
        self._handled = 0     # sample requests answered by serve()
        self._hello = None

    def __repr__(self):  # no key
        return "<Remote %s as %s>" % (self.url, self.device_id)

    # --- the session ---------------------------------------------------------------------

    def hello(self):
        """The hello v3 message (JSON, keys in the documented order)."""
        return ('{"hello":{"version":3,"apiKey":%s,"deviceId":%s,"deviceType":%s,'
                '"connection":"ip","sensors":[{"name":%s,"maxSampleLengthS":%s,'
                '"frequencies":[%s]}],"supportsSnapshotStreaming":false}}') % (
            json.dumps(self.client.api_key()), json.dumps(self.device_id),
            json.dumps(self.device_type), json.dumps(self.sensor_name),
            json.dumps(_num(self.max_sample_s)),
            ",".join(json.dumps(_num(f)) for f in self.frequencies))

    def connect(self):
        """Open the WebSocket and say hello; the open WebSocket once {"hello":true} came."""
        from ei.websocket import WebSocket
        ws = WebSocket(self.url, self.timeout, self.ca, self.addr, _MAX_MESSAGE, self._buf)
        try:
            if self._hello is None:  # made once: a reconnection on a fragmented heap reuses it
                self._hello = self.hello()
            ws.send(self._hello)
            end = ticks_add(ticks_ms(), int(self.timeout * 1000))
            while True:
                left = ticks_diff(end, ticks_ms())
                got = ws.recv_view(left / 1000) if left > 0 else None
                if got is None:
                    raise TransportError(Msg(_M_NO_HELLO, self.url))
                try:
                    msg = self._decode(got)
                except ValueError:
                    continue
                if isinstance(msg, dict) and "hello" in msg:
                    break
            if msg["hello"] is not True:
                raise HelloRefused(Msg(_M_HELLO_REFUSED, self.url, _short(msg.get("err"))))
        except BaseException:
            ws.close()
            raise
        self.connections += 1
        return ws

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
                self._session(ws, count)
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

    def _session(self, ws, count):
        next_ping = ticks_add(ticks_ms(), self.ping_ms)
        ping_at = None
        while count is None or self._handled < count:
            now = ticks_ms()
            if ping_at is not None:
                if ws.last_pong is not None and ticks_diff(ws.last_pong, ping_at) >= 0:
                    ping_at = None
                elif ticks_diff(now, ping_at) >= self.pong_ms:
                    raise TransportError(Msg(_M_NO_PONG, self.pong_ms))
            if ping_at is None and ticks_diff(next_ping, now) <= 0:
                ws.ping(b"")
                ping_at = now
                next_ping = ticks_add(now, self.ping_ms)
            if ping_at is None:
                wait = ticks_diff(next_ping, now)
            else:  # one ping at a time: its pong is due pong_ms after it
                wait = self.pong_ms - ticks_diff(now, ping_at)
            got = ws.recv_view(max(wait, 1) / 1000)
            if got is not None and self._message(ws, got):
                self._handled += 1

    def _decode(self, got):
        """A message's JSON, decoded where it lies (the start of the connection's buffer),
        within bounds; ValueError if it is binary, not JSON or past them."""
        if not got[0]:
            raise ValueError("binary")  # this session is JSON (its hello was)
        from ei.peer_json import loads
        return loads(self._buf, _MAX_DEPTH, _MAX_VALUES, 0, len(got[1]))

    def _message(self, ws, got):
        """Answer one message from the service; True if it was a sample request."""
        try:
            msg = self._decode(got)
        except (ValueError, MemoryError) as e:
            if got[0] and self._buf.find(b'"sample"', 0, len(got[1])) >= 0:
                # a sample request, it seems: Studio waits for its answer
                if isinstance(e, MemoryError):  # its strings, on a fragmented heap: no room
                    why = "the request does not fit in this device's heap"  # for messages
                else:
                    why = str(Msg(_M_NOT_JSON, e))
                log("sample request refused: %s" % why)
                ws.send(failed(why))
                return True
            msg = None
        if not isinstance(msg, dict):
            log("ignored a message that is not a JSON object")
            return False
        if "sample" in msg:
            self._sample(ws, msg["sample"])
            return True
        if "startSnapshot" in msg:
            ws.send('{"snapshotFailed":true,"error":"Device does not support snapshot '
                    'streaming"}')
        elif "err" in msg:
            log("the service says: %s" % (msg["err"],))
        elif "hello" not in msg and "stopSnapshot" not in msg:
            log("ignored an unknown message (%s)" % ", ".join(sorted(msg)))
        return False

    # --- one sample request --------------------------------------------------------------

    def check(self, req):
        """(label, category, interval_ms, rows, hmac key) of a sample request, or
        ValueError naming the field. Unknown fields are ignored."""
        if not isinstance(req, dict):
            raise ValueError(Msg(_M_SAMPLE_OBJECT))
        label = req.get("label")
        if not isinstance(label, str) or not label:
            raise ValueError(Msg(_M_EMPTY, "label"))
        wire.check_header(label, "label")
        # numbers as the service checks them: finite, > 0, within the device's limits
        length = _positive(req, "length")
        if length > self.max_sample_s * 1000:
            raise ValueError(Msg(_M_LENGTH_OVER, _short(length), _num(self.max_sample_s)))
        interval = _positive(req, "interval")
        if interval > length:
            raise ValueError(Msg(_M_INTERVAL_LONGER, _short(interval), _num(length)))
        if self.fifo:
            chip = 1000 / self.sensor.rate_hz
            if abs(interval - chip) > _TOLERANCE * chip:
                raise ValueError(Msg(_M_FIFO_INTERVAL, _short(interval), chip))
        elif 1000 / interval > max(self.frequencies) * (1 + _TOLERANCE):
            raise ValueError(Msg(_M_INTERVAL_FASTER, _short(interval),
                                 _num(max(self.frequencies))))
        category = category_of(req.get("path"))
        key = req.get("hmacKey")
        if not isinstance(key, str):
            raise ValueError(Msg(_M_HMAC_KEY_TEXT))  # never its value
        sensor = req.get("sensor", self.sensor_name)
        if sensor != self.sensor_name:
            raise ValueError(Msg(_M_UNKNOWN_SENSOR, _short(sensor), self.sensor_name))
        return label, category, interval, int(length / interval + 0.5), key or None

    def _sample(self, ws, req):
        try:
            label, category, interval, rows, key = self.check(req)
        except ValueError as e:
            log("sample request refused: %s" % e)
            ws.send(failed(str(e)))
            return
        ws.send('{"sample":true}')
        log("sampling %s: %d rows at %s ms, in %d ms" % (_short(label), rows, _num(interval),
                                                         self.start_delay_ms))
        sleep_ms(self.start_delay_ms)
        ws.send(_STARTED)
        error = name = None
        try:
            s = self._record(interval, rows)
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

    def _record(self, interval, rows):
        from ei.sampler import sample
        itemsize = 4 if FLOAT32 else 8  # the board's float, in RAM
        path = self.capture_path if rows * len(self.axes) * itemsize > self.ram_bytes else None
        while True:
            try:
                return sample(self.sensor, interval, rows, device_type=self.device_type,
                              device_name=self.device_name or self.device_id, path=path)
            except MemoryError:
                if path is not None:
                    raise
                # the rows' room, made before the first read, is not in this heap: flash
                gc.collect()
                path = self.capture_path

    def _upload(self, s, category, label, key):
        # The request's hmacKey signs this sample (Studio sends the project's).
        return self.client.upload(s, category=category, label=label, add_date_id=True,
                                  hmac_key=key)


def _board_id():
    """The board's unique id as aa:bb:..., or "micropython" where there is none."""
    try:
        import machine
        from binascii import hexlify
        return hexlify(machine.unique_id(), ":").decode()
    except (ImportError, AttributeError):
        return "micropython"


def remote(count=None):
    """ei.remote(): serve Studio with the board's sensor, client and config until
    interrupted (or `count` sample requests). config.json: remote_mgmt_url (default
    ws://remote-mgmt.edgeimpulse.com), device_id (default: the device name), sensor_name."""
    from ei import collector
    b, cfg = collector.board()
    if getattr(b, "NETWORK", None) is None:
        raise OSError(Msg(_M_NO_NETWORK, getattr(b, "NAME", "this")))
    collector.network()
    return from_config(b, cfg, collector.client(), collector.sensor(),
                       collector.file_path(cfg, "capture_path", "capture.eic")).serve(count)


def from_config(b, cfg, client, sensor, capture_path):
    """The Remote a board (board.py's names) and its config describe."""
    freq = 1000 / (cfg.get("interval_ms") or b.INTERVAL_MS)
    ca = None
    if "ca" in cfg and cfg.get("remote_mgmt_url", URL).startswith("wss:"):
        with open(cfg["ca"], "rb") as f:
            ca = f.read()
    name = cfg.get("device_name") or b.device_name()
    return Remote(client, sensor, url=cfg.get("remote_mgmt_url", URL),
                  device_id=cfg.get("device_id") or name, device_type=b.DEVICE_TYPE,
                  sensor_name=cfg.get("sensor_name", "Accelerometer"),
                  # Studio offers these rates; a polling sensor keeps any up to the board's
                  frequencies=None if getattr(sensor, "fifo", False) else (
                      [62.5, _num(freq)] if freq > 62.5 else [_num(freq)]),
                  device_name=name, ca=ca, timeout=cfg.get("timeout", 10),
                  capture_path=capture_path)
