"""The devices connected over remote management, as remote-mgmt.edgeimpulse.com keeps them: a
WebSocket upgrade at / (connect(), the view: one device's session in its connection's thread)
and the registry of devices (Devices), which the dashboard lists and sends sample requests
through (record.py).

A session: the hello within `hello_timeout` s (a few), in JSON or CBOR, checked against the
projects' API keys and answered in its encoding {"hello":true} or {"hello":false,"err":...}
(never the key); then the device's messages, its status messages followed (SampleProgress),
anything else ignored. A device belongs to the project of its key: its id is unique within the
project, and a second connection with the same id in the same project replaces the first
(closed 1000, "replaced"); another project's device of that id is another device. A device
silent for `device_timeout` s (plus the length of the sample it is recording) is closed 1001;
one that goes away stays listed as disconnected, since when and why, for `forget_devices` s
(at most MAX_GONE_DEVICES a project).

Slots: a socket that has not said hello is one of `max_pending` (beyond, the oldest of them is
closed to make room: sockets without a key cannot keep a device out); a device is one of
`max_devices` once its hello is accepted (beyond, its hello is refused, "try again"); each is
also one of the server's open connections.
"""
import collections
import datetime
import socket
import threading
import time

from werkzeug.wrappers import Response
from wsproto.utilities import RemoteProtocolError

from service.config import MAX_GONE_DEVICES, PAGE
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
    """One device id of one project: its hello, its link while connected, its last sample
    request."""

    def __init__(self, project, device, link):
        self.project, self.device, self.link = project, device, link
        self.encoding = link.encoding  # the hello's: JSON or CBOR
        self.connected_at, self.disconnected_at = now_iso(), None
        self.gone_since = None   # time.monotonic() when it went away
        self.progress = None     # the last sample request's SampleProgress
        self.requested_at = None
        self.last_error = None

    @property
    def key(self):
        return self.project, self.device["device_id"]

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
               "encoding": self.encoding,
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
    """Every device seen, by (project, id), until forgotten. `changed` (the store's condition,
    so /events waits on one) is notified, and `version` (and `versions[project]`) grows, on
    every change."""

    def __init__(self, changed, config):
        self.changed = changed
        self.version = 0
        self.versions = collections.Counter()
        self.max_devices, self.max_pending = config.max_devices, config.max_pending
        self.forget_after = config.forget_devices
        self._lock = threading.Lock()
        self._entries = {}
        self._pending = collections.OrderedDict()  # links without a hello yet, oldest first

    def _bump(self, project):
        with self.changed:
            self.version += 1
            self.versions[project] += 1
            self.changed.notify_all()

    def pending(self, link):
        """A socket upgraded, its hello still to come: it takes a pending slot, closing the
        oldest pending socket when all are taken."""
        with self._lock:
            self._pending[id(link)] = link
            oldest = None
            if len(self._pending) > self.max_pending:
                _, oldest = self._pending.popitem(last=False)
        if oldest is not None:
            oldest.abort("no hello yet, and newer connections are waiting")

    def unpend(self, link):
        with self._lock:
            self._pending.pop(id(link), None)

    def attach(self, link, device):
        """The device said hello on `link`: it is connected (an earlier link of its id in its
        project is closed), or the reason there is no room for it."""
        project = device["project"].name
        key = (project, device["device_id"])
        with self._lock:
            self._pending.pop(id(link), None)
            old = self._entries.get(key)
            replacing = old is not None and old.link is not None
            connected = sum(1 for e in self._entries.values() if e.link is not None)
            if connected - replacing >= self.max_devices:
                return "Too many devices: %d are connected, the most this service takes (--max-devices); " \
                       "try again later" % self.max_devices
            entry = self._entries[key] = Entry(project, device, link)
            self._forget()
        if replacing:
            old.link.close(1000, "replaced by a new connection with the same device id")
        link.entry = entry
        self._bump(project)
        return None

    def detach(self, entry, why, error=True):
        """The entry's link is gone (unless a new connection has replaced it meanwhile);
        `why` is its last error unless the device closed cleanly (error=False) while idle."""
        with self._lock:
            if self._entries.get(entry.key) is not entry:
                return
            entry.link = None
            entry.disconnected_at = now_iso()
            entry.gone_since = time.monotonic()
            if entry.busy():
                entry.progress.state, entry.progress.error = "failed", "disconnected: " + why
                error = True
            if error:
                entry.last_error = "disconnected: " + why
        self._bump(entry.project)

    def _forget(self):
        """Drop devices gone for longer than forget_after, and beyond MAX_GONE_DEVICES a
        project the longest gone (holds _lock)."""
        now, gone = time.monotonic(), collections.defaultdict(list)
        for key, e in list(self._entries.items()):
            if e.link is None:
                if now - e.gone_since > self.forget_after:
                    del self._entries[key]
                else:
                    gone[e.project].append(e)
        for entries in gone.values():
            entries.sort(key=lambda e: e.gone_since)
            for e in entries[:max(0, len(entries) - MAX_GONE_DEVICES)]:
                del self._entries[e.key]

    def progressed(self, entry):
        with self._lock:
            if entry.progress is not None and entry.progress.state == "failed":
                entry.last_error = entry.progress.error
        self._bump(entry.project)

    def get(self, project, device_id):
        with self._lock:
            self._forget()
            return self._entries.get((project, device_id))

    def page(self, project, after="", limit=PAGE):
        """The project's devices by id, from the id after `after`: (entries described, the
        `after` of the next page or None)."""
        with self._lock:
            self._forget()
            ids = sorted(i for p, i in self._entries if p == project and i > after)
            out = [self._entries[(project, i)].describe() for i in ids[:limit]]
        return out, (ids[limit - 1] if len(ids) > limit else None)

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
        self._bump(entry.project)
        return entry

    def close_all(self):
        with self._lock:
            links = [e.link for e in self._entries.values() if e.link is not None]
            links += list(self._pending.values())
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
    link = DeviceLink(sock, app.projects.by_key, timeout=cfg.timeout, max_message=cfg.max_device_message,
                      before_hello=cfg.max_device_message + 1024)
    link.entry = None
    try:
        link.accept(_head(request))
    except RemoteProtocolError as e:  # nothing was sent: an HTTP answer says why
        status = getattr(e.event_hint, "status_code", 400)
        return text(status, "Invalid WebSocket handshake: %s" % e,
                    **({"Sec-WebSocket-Version": "13"} if status == 426 else {}))
    except (OSError, DeviceGone) as e:  # gone during the handshake: the answer goes nowhere
        return text(400, "The client went during the WebSocket handshake: %s" % e)
    why, error = "closed", True
    devices.pending(link)
    try:
        link.receive_hello(cfg.hello_timeout, lambda device: devices.attach(link, device))
        why = _session(app, link.entry, link)
    except HelloRefused as e:
        link.close(1013 if str(e).startswith("Too many devices") else 1008, "hello refused")
        why = str(e)
    except DeviceGone as e:
        why = "closed (%s%s)" % (e.code, ": " + e.reason if e.reason else "")
        error = e.code not in (1000, 1001)  # a clean close: going away is no error
    except OSError as e:
        why = "connection failed: %s" % e
    finally:
        devices.unpend(link)
        if link.entry is not None:
            devices.detach(link.entry, why, error)
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
