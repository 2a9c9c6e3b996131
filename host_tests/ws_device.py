"""A remote-management device written on wsproto, for the service tests that send what the
firmware would not (a malformed hello, an oversized frame, a silent device): connects to the
service's / with Upgrade: websocket, sends JSON or raw frames, reads what comes. Not a test
module. The firmware's own client (ei.Remote) is the device of the end-to-end tests.

Device(..., cbor=True) speaks as Edge Impulse's firmware-sdk does (remote-mgmt.cpp; protocol
notes 1.1 and 1.3): every message a CBOR map in a binary frame, and it reads only binary
frames (`text_frames` counts any text frame the service sent it instead).
"""
import json
import socket
import time

import cbor2
from wsproto import ConnectionType, WSConnection
from wsproto.events import (AcceptConnection, BytesMessage, CloseConnection, Ping, Pong,
                            RejectConnection, RejectData, Request, TextMessage)

from service import API_KEY


def hello(device_id="dev-1", api_key=API_KEY, **changes):
    h = {"version": 3, "apiKey": api_key, "deviceId": device_id, "deviceType": "WS_TEST",
         "connection": "ip", "sensors": [{"name": "Accelerometer", "maxSampleLengthS": 60,
                                          "frequencies": [62.5, 100]}],
         "supportsSnapshotStreaming": False}
    h.update(changes)
    return {"hello": h}


def firmware_sdk_hello(device_id="24:6f:28:aa:bb:cc", api_key=API_KEY):
    """The hello of Edge Impulse's firmware-sdk (get_hello_msg), field by field in its order:
    version 3 as an integer, connection "ip", the keys, supportsSnapshotStreaming false, each
    sensor's maxSampleLengthS an integer and its frequencies doubles."""
    return {"hello": {"version": 3, "connection": "ip", "apiKey": api_key, "deviceId": device_id,
                      "deviceType": "ESPRESSIF_ESP32", "supportsSnapshotStreaming": False,
                      "sensors": [{"name": "Accelerometer", "maxSampleLengthS": 300,
                                   "frequencies": [62.5, 100.0]},
                                  {"name": "Microphone", "maxSampleLengthS": 60, "frequencies": [16000.0]}]}}


class Device:
    """connect() opens the WebSocket (status: 101, or the refusal's status and text)."""

    def __init__(self, server, timeout=10, cbor=False):
        self.sock = socket.create_connection((server.host, server.port), timeout=timeout)
        self.cbor = cbor
        self.text_frames = 0    # text frames received by a CBOR device (which reads none)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.timeout = timeout
        self.closed = None     # (code, reason) of the service's close
        self.status = None
        self.refusal = b""
        self._refusing = False  # a refusal's body is still coming
        self.pongs = []         # payloads of the pongs received
        self._pending = []

    def connect(self, host=None, **headers):
        host = host or "%s:%d" % self.sock.getpeername()[:2]
        self.sock.sendall(self.ws.send(Request(host=host, target="/", extra_headers=[
            (k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()])))
        end = time.monotonic() + self.timeout
        while (self.status is None or self._refusing) and time.monotonic() < end:
            self._read(end)
        return self

    def send_json(self, obj):
        self.sock.sendall(self.ws.send(TextMessage(data=json.dumps(obj))))

    def send_message(self, obj):
        """obj as this device speaks: CBOR in a binary frame, or JSON text."""
        if self.cbor:
            self.sock.sendall(self.ws.send(BytesMessage(data=cbor2.dumps(obj))))
        else:
            self.send_json(obj)

    def ping(self, payload):
        self.sock.sendall(self.ws.send(Ping(payload=payload)))

    def send_raw(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.sendall(self.ws.send(CloseConnection(code=1000)))
        except Exception:
            pass
        self.sock.close()

    def recv(self, timeout=None):
        """The next message (JSON decoded), or None once the service closed or timeout passed."""
        end = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not self._pending and self.closed is None and time.monotonic() < end:
            self._read(end)
        return self._pending.pop(0) if self._pending else None

    def _read(self, end):
        self.sock.settimeout(max(0.01, end - time.monotonic()))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return
        except OSError:
            data = b""
        if not data:
            self.closed = self.closed or (1006, "dropped")
            self._refusing = False
            if self.status is None:
                self.status = 0
            return
        self.ws.receive_data(data)
        for event in self.ws.events():
            if isinstance(event, AcceptConnection):
                self.status = 101
            elif isinstance(event, RejectConnection):
                self.status = event.status_code
                self._refusing = event.has_body
            elif isinstance(event, RejectData):
                self.refusal += event.data
                self._refusing = not event.body_finished
            elif isinstance(event, TextMessage) and self.cbor:
                self.text_frames += 1
            elif isinstance(event, TextMessage):
                self._pending.append(json.loads(event.data))
            elif isinstance(event, BytesMessage) and self.cbor:
                self._pending.append(cbor2.loads(bytes(event.data)))
            elif isinstance(event, BytesMessage):
                self._pending.append(bytes(event.data))
            elif isinstance(event, Pong):
                self.pongs.append(bytes(event.payload))
            elif isinstance(event, Ping):
                self.sock.sendall(self.ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                self.closed = (event.code, event.reason or "")
                try:
                    self.sock.sendall(self.ws.send(event.response()))
                except Exception:
                    pass
