"""The devices connected over remote management, as remote-mgmt.edgeimpulse.com keeps them: a
WebSocket upgrade at / (connect(), the view: one device's session in its connection's thread)
and the registry of devices (Devices), which the dashboard lists and sends sample requests
through (record.py).

A session: the hello within `timeout` s, checked against the accepted API keys and answered
{"hello":true} or {"hello":false,"err":...} (never the key); then the device's messages, its
status messages followed (SampleProgress), anything else ignored. A second connection with the
same device id replaces the first (closed 1000, "replaced"). A device silent for
`device_timeout` s (plus the length of the sample it is recording) is closed 1001; one that
goes away stays listed as disconnected, since when and why. At most `max_devices` at once
(beyond: 503); each is also one of the server's open connections.
"""
import datetime
import socket
import threading
import time

from werkzeug.wrappers import Response
from wsproto.utilities import RemoteProtocolError

from service.device_link import DeviceGone, DeviceLink, HelloRefused
from service.remote import STATUSES
from service.web import text

_POLL = 0.5  # s between looks at the session's timeouts and the service's closing


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def _status(msg):
    """The name of a status message: sample (acknowledged), failed, or sampleStarted etc."""
    if "sample" in msg:
        return "sample" if msg["sample"] is True else "failed"
    return next((k for k in STATUSES if msg.get(k) is True), "?")


class Entry:
    """One device id: its hello, its link while connected, its last sample request."""

    def __init__(self, device, link):
        self.device, self.link = device, link
        self.connected_at, self.disconnected_at = now_iso(), None
        self.progress = None     # the last sample request's SampleProgress
        self.requested_at = None
        self.last_error = None

    def sensor(self, name):
        for s in self.device["sensors"]:
            if s["name"] == name:
                return s
        return None

    def busy(self):
        return self.progress is not None and not self.progress.done

    def state(self):
        if self.link is None:
            return "disconnected"
        return self.progress.state if self.busy() else "idle"

    def describe(self):
        d = self.device
        out = {"id": d["device_id"], "type": d["device_type"], "connection": d["connection"],
               "sensors": [{"name": s["name"], "frequencies": s["frequencies"],
                            "maxSampleLengthS": s["maxSampleLengthS"]} for s in d["sensors"]],
               "connected_at": self.connected_at, "disconnected_at": self.disconnected_at,
               "state": self.state(), "last_error": self.last_error, "sample": None}
        p = self.progress
        if p is not None:
            s = p.request["sample"]
            out["sample"] = {"label": s["label"], "length_ms": s["length"],
                             "interval_ms": s["interval"], "sensor": s.get("sensor"),
                             "path": s["path"], "requested_at": self.requested_at,
                             "state": p.state, "error": p.error,
                             "statuses": [_status(m) for _, m in p.events]}
        return out


class Devices:
    """Every device id seen since the service started. `changed` (the store's condition, so
    /events waits on one) is notified, and `version` grows, on every change."""

    def __init__(self, changed, max_devices):
        self.changed = changed
        self.version = 0
        self.max_devices = max_devices
        self._lock = threading.Lock()
        self._entries = {}
        self._open = 0

    def _bump(self):
        with self.changed:
            self.version += 1
            self.changed.notify_all()

    def admit(self):
        """Take a connection slot; False when max_devices are connected."""
        with self._lock:
            if self._open >= self.max_devices:
                return False
            self._open += 1
            return True

    def release(self):
        with self._lock:
            self._open -= 1

    def attach(self, link, device):
        """The device is connected on `link`; an earlier link for its id is closed."""
        with self._lock:
            old = self._entries.get(device["device_id"])
            entry = self._entries[device["device_id"]] = Entry(device, link)
        if old is not None and old.link is not None:
            old.link.close(1000, "replaced by a new connection with the same device id")
        self._bump()
        return entry

    def detach(self, entry, why, error=True):
        """The entry's link is gone (unless a new connection has replaced it meanwhile);
        `why` is its last error unless the device closed cleanly (error=False) while idle."""
        with self._lock:
            if self._entries.get(entry.device["device_id"]) is not entry:
                return
            entry.link = None
            entry.disconnected_at = now_iso()
            if entry.busy():
                entry.progress.state, entry.progress.error = "failed", "disconnected: " + why
                error = True
            if error:
                entry.last_error = "disconnected: " + why
        self._bump()

    def progressed(self, entry):
        with self._lock:
            if entry.progress is not None and entry.progress.state == "failed":
                entry.last_error = entry.progress.error
        self._bump()

    def get(self, device_id):
        with self._lock:
            return self._entries.get(device_id)

    def listing(self):
        with self._lock:
            return [e.describe() for e in sorted(self._entries.values(),
                                                 key=lambda e: e.device["device_id"])]

    def start_sample(self, entry, request):
        """Push a sample request to a connected, idle device; RuntimeError if it is not."""
        with self._lock:
            link = entry.link
            if link is None:
                raise RuntimeError("device %s is disconnected" % entry.device["device_id"])
            if entry.busy():
                raise RuntimeError("device %s is busy with a sample (%s)"
                                   % (entry.device["device_id"], entry.progress.state))
            try:
                entry.progress = link.start_sample(request)  # RuntimeError when it is busy
            except DeviceGone as e:
                raise RuntimeError("device %s went away (%s)" % (entry.device["device_id"], e))
            entry.requested_at = now_iso()
        self._bump()
        return entry

    def close_all(self):
        with self._lock:
            links = [e.link for e in self._entries.values() if e.link is not None]
        for link in links:
            link.close(1001, "the service is stopping")


def _head(request):
    """The upgrade request's head as it came (werkzeug has parsed it; wsproto reads bytes)."""
    lines = ["GET %s HTTP/1.1" % (request.environ.get("RAW_URI") or request.full_path.rstrip("?"))]
    lines += ["%s: %s" % (k, v) for k, v in request.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def connect(app, request):
    """GET / with Upgrade: websocket: one device's remote-management session, to its end."""
    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        return text(400, "A WebSocket needs the server's socket; this server does not give it")
    devices, cfg = app.devices, app.config
    if not devices.admit():
        return text(503, "Service Unavailable: %d devices are connected, the most this service "
                         "takes (--max-devices)" % cfg.max_devices, **{"Retry-After": "5"})
    link = DeviceLink(sock, cfg.api_keys, timeout=cfg.timeout, max_message=cfg.max_device_message)
    try:
        link.accept(_head(request))
    except RemoteProtocolError as e:  # nothing was sent: an HTTP answer says why
        devices.release()
        status = getattr(e.event_hint, "status_code", 400)
        return text(status, "Invalid WebSocket handshake: %s" % e,
                    **({"Sec-WebSocket-Version": "13"} if status == 426 else {}))
    except (OSError, DeviceGone) as e:  # gone during the handshake: the answer goes nowhere
        devices.release()
        return text(400, "The client went during the WebSocket handshake: %s" % e)
    except BaseException:
        devices.release()
        raise
    entries, why, error = [], "closed", True
    try:
        link.receive_hello(cfg.timeout, lambda device: entries.append(devices.attach(link, device)))
        why = _session(app, entries[0], link)
    except HelloRefused as e:
        link.close(1008, "hello refused")
        why = str(e)
    except DeviceGone as e:
        why = "closed (%s%s)" % (e.code, ": " + e.reason if e.reason else "")
        error = e.code not in (1000, 1001)  # a clean close: going away is no error
    except OSError as e:
        why = "connection failed: %s" % e
    finally:
        for entry in entries:
            devices.detach(entry, why, error)
        devices.release()
        try:  # the session is over: werkzeug's answer after it goes nowhere
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    return Response(status=101)


def _session(app, entry, link):
    """Read the device's messages until it goes or stays silent too long; why it ended."""
    cfg = app.config
    while not app.closing:
        msg = link.recv(_POLL)
        if msg is not None and link.last_was_progress:
            app.devices.progressed(entry)
        p = entry.progress
        grace = cfg.device_timeout
        if p is not None and not p.done:
            grace += p.request["sample"]["length"] / 1000
            if time.monotonic() - p.t0 > grace + cfg.timeout:  # talking, but not finishing
                p.state, p.error = "failed", "no sampleFinished within %d s" % (grace + cfg.timeout)
                app.devices.progressed(entry)
        if time.monotonic() - link.heard > grace:
            link.close(1001, "silent for %d s" % grace)
            return "silent for %d s" % grace
    link.close(1001, "the service is stopping")
    return "the service stopped"
