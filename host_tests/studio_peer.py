"""Studio's side of Edge Impulse remote management (protocol notes, section 1), for the host.

Three layers, each usable alone (the local service takes them over later):
- the protocol, as plain functions and one class, no I/O: check_hello() (a device's hello
  v2/v3/v4, its API key), hello_response(), sample_request() (the message Studio's "Start
  sampling" makes the server push), and SampleProgress (one sample request, followed through
  the device's status messages in the order the official clients send them);
- DeviceLink: one device's WebSocket on a connected socket, Studio's end, built on wsproto
  (handshake, masking rules, ping/pong, close): receive_hello(), request_sample() (blocking),
  or start_sample() from another thread while one thread loops on recv() (a service's way),
  send_json(), ping(), close();
- Listener: a TCP listener on loopback that hands each connection to a handler in a thread.
Nothing here imports firmware code: it checks the firmware independently.
"""
import json
import socket
import threading
import time

from wsproto import ConnectionType, WSConnection
from wsproto.events import (AcceptConnection, BytesMessage, CloseConnection, Ping, Pong,
                            Request, TextMessage)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

HELLO_VERSIONS = (2, 3, 4)
CONNECTIONS = ("ip", "daemon")
# the device's status messages for one sample request, in the order it sends them
STATUSES = ("sampleStarted", "sampleProcessing", "sampleReading", "sampleUploading",
            "sampleFinished")
MAX_HEAD = 8192       # bytes of an HTTP request head accepted
MAX_MESSAGE = 1 << 20


# --- the protocol ---------------------------------------------------------------------------

def _is_number(v):
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
                and _is_number(s.get("maxSampleLengthS"))
                and isinstance(s.get("frequencies"), list)
                and all(_is_number(f) for f in s["frequencies"])):
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


# --- one device's WebSocket -----------------------------------------------------------------

class DeviceGone(Exception):
    """The device closed the WebSocket (code, reason) or the connection dropped (1006)."""

    def __init__(self, code, reason=""):
        Exception.__init__(self, "device gone (%s%s)" % (code, ": " + reason if reason else ""))
        self.code = code
        self.reason = reason


class HelloRefused(Exception):
    pass


def read_head(sock, timeout=10):
    """(method, target, the head's bytes, bytes read after it) of an HTTP request."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("the client closed before its request head ended")
        data += chunk
        if len(data) > MAX_HEAD:
            raise ValueError("request head over %d bytes" % MAX_HEAD)
    head, _, rest = data.partition(b"\r\n\r\n")
    parts = head.split(b"\r\n", 1)[0].split()
    method, target = (parts[0].decode(), parts[1].decode()) if len(parts) >= 2 else ("", "")
    return method, target, head + b"\r\n\r\n", rest


class DeviceLink:
    """The server's end of one device's WebSocket, on a connected socket. accept() completes
    the handshake (from the request head, if read already); then receive_hello(),
    request_sample(), recv(), send_json(). wsproto enforces the client's masking: an
    unmasked frame closes the link with 1002. Everything received is kept in `messages`."""

    def __init__(self, sock, api_keys=None, timeout=10, max_message=MAX_MESSAGE):
        self.sock = sock
        self.api_keys = api_keys
        self.timeout = timeout
        self.ws = WSConnection(ConnectionType.SERVER)
        self.max_message = max_message
        self.messages = []       # every message from the device, JSON decoded when it is JSON
        self.device = None       # check_hello()'s result
        self.closed = None       # (code, reason) once closed
        self.pongs = []          # payloads of pongs received
        self.pings = 0           # pings received (each answered)
        self.first_frame = None  # the first frame's first bytes, as they came (masking bit)
        self._partial = []
        self._pending = []
        self.progress = None            # the sample request in progress (start_sample())
        self.last_was_progress = False  # recv()'s last message was about it
        # wsproto's state is shared by the reading thread and a thread that pushes a request
        self._lock = threading.RLock()

    # wire

    def _send(self, event):
        """Send an event; DeviceGone when the link is closing or the socket failed."""
        try:
            with self._lock:
                data = self.ws.send(event)
                if data:
                    self.sock.sendall(data)
        except LocalProtocolError:  # closing or closed: nothing more goes out
            raise DeviceGone(*(self.closed or (1006, "closed")))
        except OSError as e:
            self.closed = self.closed or (1006, str(e))
            raise DeviceGone(*self.closed)

    def send_raw(self, data):
        """Bytes straight onto the socket: malformed frames, for tests."""
        self.sock.sendall(data)

    def accept(self, head=b"", rest=b""):
        """Complete the handshake; returns the request target (path)."""
        self.sock.settimeout(self.timeout)
        if head:
            self.ws.receive_data(head)
        target = None
        while target is None:
            for event in self.ws.events():
                if isinstance(event, Request):
                    target = event.target
                    break
            else:
                data = self.sock.recv(4096)
                if not data:
                    raise DeviceGone(1006, "closed during the handshake")
                self.ws.receive_data(data)
        self._send(AcceptConnection())
        if rest:
            self._feed(rest)
        return target

    def _feed(self, data):
        if self.first_frame is None and data:
            self.first_frame = data[:2]
        try:
            with self._lock:
                self.ws.receive_data(data)
                events = list(self.ws.events())
        except RemoteProtocolError as e:  # the messages before it are still read
            self.closed = (1002, str(e))
            return
        for event in events:
            if isinstance(event, (TextMessage, BytesMessage)):
                self._partial.append(event.data)
                if sum(len(p) for p in self._partial) > self.max_message:
                    self.close(1009, "message too big")
                    raise DeviceGone(1009, "message too big")
                if event.message_finished:
                    whole = ("" if isinstance(event, TextMessage) else b"").join(self._partial)
                    self._partial = []
                    self._pending.append(whole)
            elif isinstance(event, Ping):
                self.pings += 1
                try:
                    self._send(event.response())
                except DeviceGone:
                    pass
            elif isinstance(event, Pong):
                self.pongs.append(bytes(event.payload))
            elif isinstance(event, CloseConnection):  # recv() raises once the rest is read
                self.closed = (event.code, event.reason or "")
                try:
                    self._send(event.response())
                except DeviceGone:
                    pass
                return

    def recv(self, timeout=None):
        """The next message from the device (its JSON decoded, else the text or bytes), or
        None if none came within timeout; DeviceGone once it closed or dropped."""
        end = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not self._pending:
            if self.closed is not None:
                raise DeviceGone(*self.closed)
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError as e:
                self.closed = (1006, str(e))
                raise DeviceGone(1006, str(e))
            if not data:
                self.closed = (1006, "connection dropped")
                raise DeviceGone(1006, "connection dropped")
            self._feed(data)
        raw = self._pending.pop(0)
        msg = raw
        if isinstance(raw, str):
            try:
                msg = json.loads(raw)
            except ValueError:
                pass
        self.messages.append(msg)
        progress = self.progress
        self.last_was_progress = bool(progress is not None and not progress.done
                                      and progress.on_message(msg))
        return msg

    def send_json(self, obj):
        self._send(TextMessage(data=json.dumps(obj)))

    def send_text(self, text):
        self._send(TextMessage(data=text))

    def send_bytes(self, data):
        self._send(BytesMessage(data=data))

    def ping(self, payload=b""):
        self._send(Ping(payload=payload))

    def close(self, code=1000, reason=""):
        if self.closed is None:
            self.closed = (code, reason)
            try:
                self._send(CloseConnection(code=code, reason=reason))
            except DeviceGone:
                pass

    # protocol

    def receive_hello(self, timeout=None):
        """Wait for the hello, answer it; returns the device. A bad hello is answered with
        hello:false and raises HelloRefused."""
        msg = self.recv(timeout)
        if msg is None:
            raise HelloRefused("no hello within the timeout")
        device, err = check_hello(msg, self.api_keys)
        self.send_json(hello_response(err))
        if err is not None:
            raise HelloRefused(err)
        self.device = device
        return device

    def start_sample(self, request):
        """Push a sample request without waiting: its SampleProgress, which recv() (in the
        thread that reads this link) updates from the device's messages. One at a time:
        RuntimeError while the last one is not done."""
        with self._lock:
            if self.progress is not None and not self.progress.done:
                raise RuntimeError("the device is still busy with a sample")
            self.progress = SampleProgress(request)
        self.send_json(request)
        return self.progress

    def request_sample(self, request, timeout=None, on_message=None):
        """Push a sample request (sample_request()'s dict, or anything, for tests) and follow
        it until the device finished or failed, or `timeout` seconds passed; returns its
        SampleProgress. Other messages go to on_message(msg)."""
        progress = self.start_sample(request)
        length = 0
        if isinstance(request, dict) and isinstance(request.get("sample"), dict):
            length = request["sample"].get("length") if _is_number(
                request["sample"].get("length")) else 0
        end = time.monotonic() + (timeout if timeout is not None else
                                  self.timeout + 2 + length / 1000)
        while not progress.done and time.monotonic() < end:
            msg = self.recv(end - time.monotonic())
            if msg is not None and not self.last_was_progress and on_message is not None:
                on_message(msg)
        return progress


# --- the listener ---------------------------------------------------------------------------

class Listener:
    """Accepts TCP connections on (host, port) and runs handler(sock, addr) in a thread for
    each; the socket is closed when the handler returns. start() returns self; stop().
    ssl_context: a server-side ssl.SSLContext to serve wss:// (TLS) instead."""

    def __init__(self, handler, host="127.0.0.1", port=0, ssl_context=None):
        self.handler = handler
        self.ssl_context = ssl_context
        self._sock = socket.create_server((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        self._thread = threading.Thread(target=self._serve, daemon=True, name="studio-peer")

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._sock.close()

    def _serve(self):
        while True:
            try:
                conn, addr = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._run, args=(conn, addr), daemon=True).start()

    def _run(self, conn, addr):
        with conn:
            try:
                if self.ssl_context is not None:
                    conn.settimeout(10)
                    conn = self.ssl_context.wrap_socket(conn, server_side=True)
                self.handler(conn, addr)
            except (OSError, DeviceGone, HelloRefused, ValueError, ConnectionError):
                pass


def reject(sock, status=403, text="Forbidden"):
    """Answer a request head with an HTTP error instead of the upgrade."""
    body = text.encode()
    sock.sendall(b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                 b"Connection: close\r\n\r\n%s" % (status, text.encode(), len(body), body))


__all__ = ["check_hello", "hello_response", "sample_request", "sample_path", "SampleProgress",
           "DeviceLink", "DeviceGone", "HelloRefused", "Listener", "read_head", "reject",
           "STATUSES"]
