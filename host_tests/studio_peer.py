"""Studio's side of Edge Impulse remote management, for the tests' peer (peer_scenarios.py).

The protocol and one device's WebSocket are the local service's (service/remote.py: the hello
check, the sample request, SampleProgress; service/device_link.py: DeviceLink on wsproto),
re-exported here; this module adds what a bare TCP peer needs besides: read_head() (an HTTP
request head off a raw socket), reject() (an HTTP error instead of the upgrade) and Listener
(a TCP listener on loopback that hands each connection to a handler in a thread).
Nothing here imports firmware code: it checks the firmware independently.
"""
import loopback

from service.device_link import MAX_MESSAGE, DeviceGone, DeviceLink, HelloRefused
from service.remote import (CONNECTIONS, HELLO_VERSIONS, STATUSES, SampleProgress, check_hello,
                            hello_response, sample_path, sample_request)

MAX_HEAD = 8192       # bytes of an HTTP request head accepted


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



# --- the listener ---------------------------------------------------------------------------

def Listener(handler, host="127.0.0.1", port=0, ssl_context=None):
    """loopback.Listener for Studio's side: a device that goes or is refused ends its
    connection quietly."""
    return loopback.Listener(handler, host, port, ssl_context, quiet=(
        OSError, DeviceGone, HelloRefused, ValueError, ConnectionError))


def reject(sock, status=403, text="Forbidden"):
    """Answer a request head with an HTTP error instead of the upgrade."""
    body = text.encode()
    sock.sendall(b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                 b"Connection: close\r\n\r\n%s" % (status, text.encode(), len(body), body))


__all__ = ["check_hello", "hello_response", "sample_request", "sample_path", "SampleProgress",
           "DeviceLink", "DeviceGone", "HelloRefused", "Listener", "read_head", "reject",
           "STATUSES"]
