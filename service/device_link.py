"""The server's end of one device's remote-management WebSocket (RFC 6455 on wsproto: the
handshake, the client's masking, ping/pong, close), on a connected socket: receive_hello(),
recv() in the thread that owns the link, start_sample() from any other thread (a web request),
request_sample() (blocking), send_message(), ping(), close(), abort(). The protocol is
remote.py's; the session speaks the encoding of the device's hello (JSON text or CBOR binary).

What a device sends costs the same work per byte however it is framed: a message's size is
kept as it grows (not summed again on every frame), at most `max_message` bytes; before its
hello a device may send at most `before_hello` bytes in all (frames included); what is kept of
it afterwards is bounded (the last messages, the last pongs).
"""
import collections
import json
import socket
import threading
import time

from wsproto import ConnectionType, WSConnection
from wsproto.events import (AcceptConnection, BytesMessage, CloseConnection, Ping, Pong,
                            Request, TextMessage)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from service.remote import CBOR, JSON, SampleProgress, check_hello, decode, encode, hello_response, is_number

MAX_MESSAGE = 1 << 20
KEPT = 64  # messages (and pongs) kept of a device, the latest

class DeviceGone(Exception):
    """The device closed the WebSocket (code, reason) or the connection dropped (1006)."""

    def __init__(self, code, reason=""):
        Exception.__init__(self, "device gone (%s%s)" % (code, ": " + reason if reason else ""))
        self.code = code
        self.reason = reason


class HelloRefused(Exception):
    pass


class DeviceLink:
    """The server's end of one device's WebSocket, on a connected socket. accept() completes
    the handshake (from the request head, if read already); then receive_hello(),
    request_sample(), recv(), send_message(). wsproto enforces the client's masking: an
    unmasked frame closes the link with 1002. Everything received is kept in `messages`."""

    def __init__(self, sock, api_keys=None, timeout=10, max_message=MAX_MESSAGE, before_hello=None):
        """before_hello: the bytes a device may send before its hello is accepted (None: any)."""
        self.sock = sock
        self.before_hello = before_hello
        self.api_keys = api_keys
        self.timeout = timeout
        self.ws = WSConnection(ConnectionType.SERVER)
        self.max_message = max_message
        # the latest messages from the device, decoded (remote.decode: JSON, CBOR, else as sent)
        self.messages = collections.deque(maxlen=KEPT)
        self.device = None       # check_hello()'s result
        self.encoding = JSON     # the session's: the hello's (CBOR when it came in a binary frame)
        self.closed = None       # (code, reason) once closed
        self.pongs = collections.deque(maxlen=KEPT)  # payloads of the latest pongs received
        self.pings = 0           # pings received (each answered)
        self.first_frame = None  # the first frame's first bytes, as they came (masking bit)
        self.heard = time.monotonic()  # when the device last sent anything (a ping counts)
        self.received = 0        # bytes received since the handshake
        self._partial, self._partial_size = [], 0
        self._pending = collections.deque()
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

    def abort(self, why):
        """Close from another thread, at once: the thread reading the link sees it gone."""
        self.close(1008, why)
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _feed(self, data):
        self.heard = time.monotonic()
        self.received += len(data)
        if self.first_frame is None and data:
            self.first_frame = data[:2]
        if self.device is None and self.before_hello is not None and self.received > self.before_hello:
            self.close(1009, "no hello within %d bytes" % self.before_hello)
            raise DeviceGone(1009, "no hello within %d bytes" % self.before_hello)
        try:
            with self._lock:
                self.ws.receive_data(data)
                events = list(self.ws.events())
        except RemoteProtocolError as e:  # the messages before it are still read
            self.closed = (1002, str(e))
            return
        for event in events:
            if isinstance(event, (TextMessage, BytesMessage)):
                if event.data:
                    self._partial.append(event.data)
                    self._partial_size += len(event.data)
                if self._partial_size > self.max_message:
                    self.close(1009, "message too big")
                    raise DeviceGone(1009, "message too big")
                if event.message_finished:
                    whole = ("" if isinstance(event, TextMessage) else b"").join(self._partial)
                    self._partial, self._partial_size = [], 0
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
        """The next message from the device (remote.decode: a text frame's JSON, a binary
        frame's CBOR, else the text or bytes), or None if none came within timeout; DeviceGone
        once it closed or dropped."""
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
        raw = self._pending.popleft()
        msg = decode(raw)
        if self.device is None and isinstance(raw, bytes):
            self.encoding = CBOR  # until the hello: its frame says how the session speaks
        elif self.device is None:
            self.encoding = JSON
        self.messages.append(msg)
        progress = self.progress
        self.last_was_progress = bool(progress is not None and not progress.done
                                      and progress.on_message(msg))
        return msg

    def send_message(self, obj):
        """obj in the session's encoding: JSON text, or CBOR in a binary frame."""
        data = encode(obj, self.encoding)
        self._send(BytesMessage(data=data) if self.encoding == CBOR else TextMessage(data=data))

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

    def receive_hello(self, timeout=None, accepted=None):
        """Wait for the hello, answer it in its encoding; returns the device. A bad hello is
        answered with hello:false and raises HelloRefused. accepted(device), if given, runs
        before the {"hello":true} goes out (a service registers the device there: once the
        device has its answer, it is listed); what it returns, if not None, refuses the hello
        with that reason."""
        msg = self.recv(timeout)
        if msg is None:
            raise HelloRefused("no hello within the timeout")
        device, err = check_hello(msg, self.api_keys)
        if err is None and accepted is not None:
            err = accepted(device)  # the service may still refuse it (no room)
        if err is not None:
            self.send_message(hello_response(err))
            raise HelloRefused(err)
        self.device = device
        self.send_message(hello_response())
        return device

    def start_sample(self, request):
        """Push a sample request without waiting: its SampleProgress, which recv() (in the
        thread that reads this link) updates from the device's messages. One at a time:
        RuntimeError while the last one is not done."""
        with self._lock:
            if self.progress is not None and not self.progress.done:
                raise RuntimeError("the device is still busy with a sample")
            self.progress = SampleProgress(request)
        self.send_message(request)
        return self.progress

    def request_sample(self, request, timeout=None, on_message=None):
        """Push a sample request (sample_request()'s dict, or anything, for tests) and follow
        it until the device finished or failed, or `timeout` seconds passed; returns its
        SampleProgress. Other messages go to on_message(msg)."""
        progress = self.start_sample(request)
        length = 0
        if isinstance(request, dict) and isinstance(request.get("sample"), dict):
            length = request["sample"].get("length") if is_number(
                request["sample"].get("length")) else 0
        end = time.monotonic() + (timeout if timeout is not None else
                                  self.timeout + 2 + length / 1000)
        while not progress.done and time.monotonic() < end:
            msg = self.recv(end - time.monotonic())
            if msg is not None and not self.last_was_progress and on_message is not None:
                on_message(msg)
        return progress
