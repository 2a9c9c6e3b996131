"""Edge Impulse remote management, Studio's side of the protocol (protocol notes, section 1), as
plain functions and one class, no I/O: check_hello() (a device's hello v2/v3/v4, its API key),
hello_response(), sample_request() (the message Studio's "Start sampling" makes the server
push), and SampleProgress (one sample request, followed through the device's status messages
in the order the official clients send them). device_link.py carries them over a WebSocket.
"""
import time

HELLO_VERSIONS = (2, 3, 4)
CONNECTIONS = ("ip", "daemon")
# the device's status messages for one sample request, in the order it sends them
STATUSES = ("sampleStarted", "sampleProcessing", "sampleReading", "sampleUploading",
            "sampleFinished")


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_hello(msg, api_keys=None):
    """(device, None) for a good hello, device being {version, api_key_ok, device_id,
    device_type, connection, sensors, supports_snapshot_streaming}; (None, err) otherwise.
    api_keys: the keys accepted (None: any key of the right form). err never holds a key."""
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
    connection = hello.get("connection", "ip" if version == 2 else None)
    if connection not in CONNECTIONS:
        return None, "connection must be one of %s, not %r" % (", ".join(CONNECTIONS),
                                                               connection)
    sensors = hello.get("sensors")
    if not isinstance(sensors, list):
        return None, "sensors must be a list"
    for s in sensors:
        if not (isinstance(s, dict) and isinstance(s.get("name"), str) and s["name"]
                and is_number(s.get("maxSampleLengthS"))
                and isinstance(s.get("frequencies"), list)
                and all(is_number(f) for f in s["frequencies"])):
            return None, "Each sensor needs name, maxSampleLengthS and frequencies: %r" % (s,)
    snapshot = hello.get("supportsSnapshotStreaming", False)
    if version >= 3 and not isinstance(snapshot, bool):
        return None, "supportsSnapshotStreaming must be true or false"
    return {"version": version, "device_id": hello["deviceId"], "device_type": hello["deviceType"],
            "connection": connection, "sensors": sensors,
            "supports_snapshot_streaming": snapshot}, None


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

    def on_message(self, msg):
        """Take one message from the device; True if it was about this sample."""
        if not isinstance(msg, dict):
            return False
        if "sample" in msg:
            self.events.append((time.monotonic() - self.t0, msg))
            if msg["sample"] is True and self.state == "requested":
                self.state = "acknowledged"
            elif msg["sample"] is False:
                self.state = "failed"
                self.error = msg.get("error", msg.get("err"))
                if "error" not in msg:
                    self.problems.append("sample failure without 'error': %r" % (msg,))
            else:
                self.problems.append("unexpected %r in state %s" % (msg, self.state))
            return True
        for i, status in enumerate(STATUSES):
            if msg.get(status) is True:
                self.events.append((time.monotonic() - self.t0, msg))
                if self.state == "requested":
                    self.problems.append("%s before the sample was acknowledged" % status)
                if i < self._last or (i == self._last and status != "sampleReading"):
                    self.problems.append("%s after %s" % (status, STATUSES[self._last]))
                self._last = i
                self.state = "finished" if status == "sampleFinished" else status
                return True
        return False
