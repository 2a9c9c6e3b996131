# What remote management is given, checked: a Remote's arguments and a board's config, the
# hello that says what the board offers, and each of Studio's sample requests (numbers as the
# service checks them: finite, in range, of the right type). ei.remote_mgmt loads this module
# for each of these steps and forgets it after (ei.compat.forget): while a sample is recorded
# and uploaded, none of its code takes the heap.
import json

from ei import wire
from ei.compat import forget, unloaded, const
from ei.errors import Msg
from ei.remote_mgmt import URL, Remote, json_number, shown

_TOLERANCE = 0.01              # an interval this close to the sensor's is the sensor's
_INF = float("inf")
# error texts (ei/messages.py)
_M_POSITIVE = const(94)
_M_PATH = const(95)
_M_FREQUENCIES = const(96)
_M_MAX_SAMPLE_S = const(97)
_M_SAMPLE_OBJECT = const(102)
_M_EMPTY = const(5)
_M_LENGTH_OVER = const(103)
_M_INTERVAL_LONGER = const(104)
_M_FIFO_INTERVAL = const(105)
_M_INTERVAL_FASTER = const(106)
_M_HMAC_KEY_TEXT = const(107)
_M_UNKNOWN_SENSOR = const(108)
_M_NO_NETWORK = const(111)


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _positive(req, name):
    """The request's field `name`: milliseconds, a finite number > 0. 1e309 is inf on every
    runtime, and so is anything over 3.4e38 where floats are single precision."""
    v = req.get(name)
    if not _is_number(v) or not 0 < v < _INF:
        raise ValueError(Msg(_M_POSITIVE, name, shown(v)))
    return v


def category_of(path):
    """The category of an ingestion path /api/<category>/data, or ValueError."""
    parts = path.split("/") if isinstance(path, str) else ()
    if len(parts) != 4 or parts[0] or parts[1] != "api" or parts[3] != "data" \
            or parts[2] not in wire.CATEGORIES:
        raise ValueError(Msg(_M_PATH, shown(path)))
    return parts[2]


def setup(r, client, sensor, url, device_id, device_type, sensor_name, frequencies,
          max_sample_s, device_name, ca, addr, timeout, start_delay_ms, ping_ms, pong_ms,
          backoff_ms, capture_path, ram_bytes):
    """Check a Remote's arguments (ei.remote_mgmt.Remote's) and set what they make of r."""
    r.client = client
    r.sensor = sensor
    r.url = url
    new = unloaded("deadlines", "websocket_open")
    from ei import deadlines, websocket_open
    try:
        websocket_open.parse_url(url)  # a wrong URL is named now, not at the first connection
        r.axes = deadlines.check_sensor(sensor)
    finally:  # loaded again when they run: the WebSocket's opening, a sample request
        deadlines = websocket_open = None
        forget(*new)
    r.fifo = getattr(sensor, "fifo", False) and hasattr(sensor, "read_fifo")
    if frequencies is None:
        frequencies = [sensor.rate_hz] if r.fifo else [62.5, 100]
    if not frequencies or not all(_is_number(f) and 0 < f < _INF for f in frequencies):
        raise ValueError(Msg(_M_FREQUENCIES, frequencies))
    r.frequencies = frequencies
    r.sensor_name = wire.check_header(sensor_name, "sensor_name")
    if not _is_number(max_sample_s) or not 0 < max_sample_s < _INF:
        raise ValueError(Msg(_M_MAX_SAMPLE_S, max_sample_s))
    r.max_sample_s = max_sample_s
    r.device_type = wire.check_header(device_type or "MICROPYTHON", "device_type")
    r.device_id = wire.check_header(device_id or device_name or _board_id(), "device_id")
    r.device_name = device_name
    r.ca = ca
    r.addr = addr
    r.timeout = timeout
    r.start_delay_ms = start_delay_ms
    r.ping_ms = ping_ms
    r.pong_ms = pong_ms
    r.backoff_ms = backoff_ms
    r.capture_path = capture_path
    r.ram_bytes = ram_bytes
    r.connected = False
    r.connections = 0  # WebSockets opened that got {"hello":true}
    r._handled = 0     # sample requests answered by serve()


def hello(r):
    """The hello v3 message of Remote r (JSON, keys in the documented order)."""
    return ('{"hello":{"version":3,"apiKey":%s,"deviceId":%s,"deviceType":%s,'
            '"connection":"ip","sensors":[{"name":%s,"maxSampleLengthS":%s,'
            '"frequencies":[%s]}],"supportsSnapshotStreaming":false}}') % (
        json.dumps(r.client.api_key()), json.dumps(r.device_id),
        json.dumps(r.device_type), json.dumps(r.sensor_name),
        json.dumps(json_number(r.max_sample_s)),
        ",".join(json.dumps(json_number(f)) for f in r.frequencies))


def check(r, req):
    """(label, category, interval_ms, rows, hmac key) of a sample request to Remote r, or
    ValueError naming the field. Unknown fields are ignored."""
    if not isinstance(req, dict):
        raise ValueError(Msg(_M_SAMPLE_OBJECT))
    label = req.get("label")
    if not isinstance(label, str) or not label:
        raise ValueError(Msg(_M_EMPTY, "label"))
    wire.check_header(label, "label")
    # numbers as the service checks them: finite, > 0, within the device's limits
    length = _positive(req, "length")
    if length > r.max_sample_s * 1000:
        raise ValueError(Msg(_M_LENGTH_OVER, shown(length), json_number(r.max_sample_s)))
    interval = _positive(req, "interval")
    if interval > length:
        raise ValueError(Msg(_M_INTERVAL_LONGER, shown(interval), json_number(length)))
    if r.fifo:
        chip = 1000 / r.sensor.rate_hz
        if abs(interval - chip) > _TOLERANCE * chip:
            raise ValueError(Msg(_M_FIFO_INTERVAL, shown(interval), chip))
    elif 1000 / interval > max(r.frequencies) * (1 + _TOLERANCE):
        raise ValueError(Msg(_M_INTERVAL_FASTER, shown(interval), json_number(max(r.frequencies))))
    category = category_of(req.get("path"))
    key = req.get("hmacKey")
    if not isinstance(key, str):
        raise ValueError(Msg(_M_HMAC_KEY_TEXT))  # never its value
    sensor = req.get("sensor", r.sensor_name)
    if sensor != r.sensor_name:
        raise ValueError(Msg(_M_UNKNOWN_SENSOR, shown(sensor), r.sensor_name))
    return label, category, interval, int(length / interval + 0.5), key or None


def _board_id():
    """The board's unique id as aa:bb:..., or "micropython" where there is none."""
    try:
        import machine
        from binascii import hexlify
        return hexlify(machine.unique_id(), ":").decode()
    except (ImportError, AttributeError):
        return "micropython"


def from_board():
    """ei.remote()'s Remote: the board's sensor, client and config (its network brought
    up)."""
    from ei import collector
    b, cfg = collector.board()
    if getattr(b, "NETWORK", None) is None:
        raise OSError(Msg(_M_NO_NETWORK, getattr(b, "NAME", "this")))
    collector.network()
    return from_config(b, cfg, collector.client(), collector.sensor(),
                       collector.file_path(cfg, "capture_path", "capture.eic"))


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
                      [62.5, json_number(freq)] if freq > 62.5 else [json_number(freq)]),
                  device_name=name, ca=ca, timeout=cfg.get("timeout", 10),
                  capture_path=capture_path)
