"""Edge Impulse remote management, Studio's side of the protocol (protocol notes, section 1), as
plain functions and one class, no I/O: check_hello() (a device's hello v2/v3/v4, its API key,
every field bounded), hello_response(), sample_request() (the message Studio's "Start sampling"
makes the server push), SampleProgress (one sample request, followed through the device's
status messages in the order the official clients send them), and the two encodings a session
speaks: JSON in text frames (Edge Impulse's CLI, Linux client, mobile client) or CBOR in binary
frames (its firmware-sdk: ESP32, ST, Nordic), chosen by the device's hello (decode(), encode()).
device_link.py carries them over a WebSocket.
"""
import io
import json
import math
import time

import cbor2

from service.cbor_stream import CBORError, Reader
from service.web import depth_ok, loads

HELLO_VERSIONS = (2, 3, 4)
MAX_ID = 128          # characters of a deviceId, a deviceType, a sensor's name
MAX_SENSORS = 32      # sensors in a hello
MAX_FREQUENCIES = 32  # frequencies of one sensor
MAX_EVENTS = 64       # status messages kept for one sample request (a device may send more)
JSON, CBOR = "json", "cbor"
CONNECTIONS = ("ip", "daemon")
# the device's status messages for one sample request, in the order it sends them
STATUSES = ("sampleStarted", "sampleProcessing", "sampleReading", "sampleUploading",
            "sampleFinished")


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def positive(v):
    """A finite number above 0 (what a hello's lengths and frequencies are)."""
    return is_number(v) and math.isfinite(v) and 0 < v <= 2 ** 53


def _name(v):
    """A deviceId, deviceType or sensor name: 1 to MAX_ID characters, none of them a control."""
    return isinstance(v, str) and 0 < len(v) <= MAX_ID and v.isprintable()


def decode(data):
    """A device's message: a text frame's JSON (strict: web.loads), a binary frame's CBOR (no
    tags, one item); what is neither is returned as it came (a hello check names it)."""
    if isinstance(data, str):
        try:
            value = loads(data)
        except (ValueError, RecursionError):
            return data
        return value if not isinstance(value, (list, dict)) or depth_ok(value) else data
    try:
        r = Reader(io.BytesIO(data), len(data))
        value = r.value()
        if r.left():
            raise CBORError("%d bytes after the item" % r.left())
        return value
    except (CBORError, RecursionError):
        return bytes(data)


def encode(obj, encoding):
    """What the service sends in a session: JSON text, or CBOR bytes for a CBOR device."""
    return cbor2.dumps(obj) if encoding == CBOR else json.dumps(obj, allow_nan=False)


def check_hello(msg, api_keys=None):
    """(device, None) for a good hello, device being {version, device_id, device_type,
    connection, sensors, supports_snapshot_streaming} (and `project`: the value api_keys maps
    the key to, when it is a mapping); (None, err) otherwise. api_keys: the keys accepted (None:
    any key of the right form). err never holds a key."""
    hello = msg.get("hello") if isinstance(msg, dict) else None
    if not isinstance(hello, dict):
        return None, "Expected a hello message"
    version = hello.get("version")
    if version not in HELLO_VERSIONS:
        return None, "Unsupported hello version %r" % (version,)
    key = hello.get("apiKey")
    if not isinstance(key, str) or not key.startswith("ei_"):
        return None, "Missing or malformed apiKey"
    if api_keys is not None and key not in api_keys:
        return None, "Invalid API key"
    for field in ("deviceId", "deviceType"):
        if not isinstance(hello.get(field), str) or not hello[field]:
            return None, "Missing or empty %s" % field
        if not _name(hello[field]):
            return None, "%s must be at most %d characters, none of them a control character" % (
                field, MAX_ID)
    connection = hello.get("connection", "ip" if version == 2 else None)
    if connection not in CONNECTIONS:
        return None, "connection must be one of %s, not %r" % (", ".join(CONNECTIONS),
                                                               connection)
    sensors = hello.get("sensors")
    if not isinstance(sensors, list) or len(sensors) > MAX_SENSORS:
        return None, "sensors must be a list of at most %d sensors" % MAX_SENSORS
    for i, s in enumerate(sensors):
        if not (isinstance(s, dict) and _name(s.get("name"))
                and positive(s.get("maxSampleLengthS"))
                and isinstance(s.get("frequencies"), list)
                and len(s["frequencies"]) <= MAX_FREQUENCIES
                and all(positive(f) for f in s["frequencies"])):
            return None, ("sensors[%d] needs a name (at most %d characters), maxSampleLengthS (> 0) "
                          "and at most %d frequencies (each > 0)" % (i, MAX_ID, MAX_FREQUENCIES))
    snapshot = hello.get("supportsSnapshotStreaming", False)
    if version >= 3 and not isinstance(snapshot, bool):
        return None, "supportsSnapshotStreaming must be true or false"
    device = {"version": version, "device_id": hello["deviceId"], "device_type": hello["deviceType"],
              "connection": connection, "supports_snapshot_streaming": snapshot,
              "sensors": [{"name": s["name"], "maxSampleLengthS": s["maxSampleLengthS"],
                           "frequencies": list(s["frequencies"])} for s in sensors]}
    if hasattr(api_keys, "get"):
        device["project"] = api_keys.get(key)
    return device, None


def hello_response(err=None):
    return {"hello": True} if err is None else {"hello": False, "err": err}


def sample_path(category):
    """The ingestion path a sample request names for a category (the CLI's for training)."""
    return "/api/%s/data" % category


def sample_request(label, length_ms, interval_ms, hmac_key, category="training", sensor=None,
                   path=None, **extra):
    """{"sample": {...}}: what the server pushes when Studio starts sampling. extra: the
    optional fields (labelColor, collectedSampleCount, targetSampleCount) or any others."""
    s = {"label": label, "length": length_ms, "path": path or sample_path(category),
         "hmacKey": hmac_key, "interval": interval_ms}
    if sensor is not None:
        s["sensor"] = sensor
    s.update(extra)
    return {"sample": s}


_KEPT = ("sample", "error", "err", "progressPercentage") + STATUSES


def _bounded(value):
    """A value from a device as it is kept: a short text, a number or a flag."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return (value if isinstance(value, str) else repr(value))[:1000]


class SampleProgress:
    """One sample request followed through the device's answers. state: requested ->
    acknowledged -> sampleStarted -> ... -> finished, or failed (error says why). Every
    message is kept in events as (seconds since the request, message); a status out of the
    official order is noted in problems (the request still follows the device)."""

    def __init__(self, request):
        self.request = request
        self.t0 = time.monotonic()
        self.state = "requested"
        self.error = None
        self.events = []
        self.problems = []
        self._last = -1

    @property
    def done(self):
        return self.state in ("finished", "failed")

    def at(self, status):
        """Seconds from the request to the first message with key `status`, or None."""
        for t, msg in self.events:
            if isinstance(msg, dict) and status in msg:
                return t
        return None

    def _event(self, msg):
        # what is kept of a message: its status and reason, bounded (a device may repeat itself,
        # and pad its messages: the first MAX_EVENTS are kept, of the keys the protocol names)
        if len(self.events) < MAX_EVENTS:
            kept = {k: _bounded(msg[k]) for k in _KEPT if k in msg}
            self.events.append((time.monotonic() - self.t0, kept))

    def _problem(self, text):
        if len(self.problems) < MAX_EVENTS:
            self.problems.append(text[:300])

    def on_message(self, msg):
        """Take one message from the device; True if it was about this sample."""
        if not isinstance(msg, dict):
            return False
        if "sample" in msg:
            self._event(msg)
            if msg["sample"] is True and self.state == "requested":
                self.state = "acknowledged"
            elif msg["sample"] is False:
                self.state = "failed"
                self.error = _bounded(msg.get("error", msg.get("err")))
                if "error" not in msg:
                    self._problem("sample failure without 'error': %r" % (msg,))
            else:
                self._problem("unexpected %r in state %s" % (msg, self.state))
            return True
        for i, status in enumerate(STATUSES):
            if msg.get(status) is True:
                self._event(msg)
                if self.state == "requested":
                    self._problem("%s before the sample was acknowledged" % status)
                if i < self._last or (i == self._last and status != "sampleReading"):
                    self._problem("%s after %s" % (status, STATUSES[self._last]))
                self._last = i
                self.state = "finished" if status == "sampleFinished" else status
                return True
        return False
