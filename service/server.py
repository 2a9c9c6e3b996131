"""The threaded HTTP server that runs the app (Werkzeug's, one thread a connection), with the
service's answers to clients that misbehave at the HTTP level:

- a request head or body that comes slower than MIN_RATE bytes/s once `timeout` s have passed,
  or nothing for `timeout` s, is answered 408 (the rate is kept on the socket, so a head, a
  plain body and a chunked body are held to the same floor); a whole head must come within
  `timeout` s, however fast its bytes trickle;
- two Content-Length headers that differ are a 400 at once (which one would frame the body?);
- at most `max_connections` connections are open at once; beyond it, 503 at once;
- a malformed request line or head is answered in text/plain with a reason.

A view may take its connection over (environ["werkzeug.socket"]) in its own thread, as a
WebSocket does: it then reads the socket itself, sets its own timeouts, and the floor rate
(which applies to what the handler reads) no longer does. It still counts as an open connection.
"""
import io
import threading
import time

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from service.app import create_app
from service.config import MIN_RATE, Config
from service.projects import from_specs

_BUSY = b"Service Unavailable: too many open connections; try again\n"


class _RateLimited(io.RawIOBase):
    """The connection as read by the handler: each recv waits at most until the floor rate or
    the silence timeout would be broken, then TimeoutError."""

    def __init__(self, sock, handler):
        self.sock, self.handler = sock, handler

    def readable(self):
        return True

    def readinto(self, buf):
        h = self.handler
        elapsed = time.monotonic() - h.started
        allowed = h.timeout + h.received / MIN_RATE - elapsed
        if h.in_head:  # the whole head within `timeout`, whatever its rate
            allowed = min(allowed, h.timeout - elapsed)
        if allowed <= 0:
            raise TimeoutError("under %d bytes/s" % MIN_RATE)
        self.sock.settimeout(min(h.timeout, allowed))
        try:
            n = self.sock.recv_into(buf)
        finally:
            self.sock.settimeout(h.timeout)  # what writes wait at most
        h.received += n
        return n


class Handler(WSGIRequestHandler):
    timeout = 10.0  # set per server: how long a client may stay silent

    def setup(self):
        super().setup()
        self.started, self.received, self.in_head = time.monotonic(), 0, False
        self.rfile = io.BufferedReader(_RateLimited(self.connection, self))

    def log(self, type, message, *args):
        if getattr(self.server, "log_requests", False):
            super().log(type, message, *args)

    def handle_one_request(self):
        # http.server's own, but answering a timeout instead of dropping the connection.
        self.started, self.received, self.in_head = time.monotonic(), 0, True
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline, self.command = "", ""
                self.send_error(414, "the request line is over 65536 bytes")
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self.in_head = False
            if self.request_version == "HTTP/0.9":  # "GET /path": no version, no headers
                self.send_error(400, "the request line needs an HTTP version, e.g. HTTP/1.1")
                return
            lengths = {v.strip() for v in self.headers.get_all("Content-Length") or ()}
            if len(lengths) > 1:
                self.send_error(400, "two Content-Length headers that differ (%s)" % ", ".join(
                    sorted(v[:20] for v in lengths)))
                return
            self.run_wsgi()  # werkzeug serves every method here
            self.wfile.flush()
        except TimeoutError:
            self.send_error(408, "no complete request head within %g s, or under %d bytes/s"
                            % (self.timeout, MIN_RATE))
        finally:
            self.in_head = False

    def send_error(self, code, message=None, explain=None):
        # http.server answers a malformed request with an HTML page; the service says why in text.
        short = self.responses.get(code, ("Error",))[0]
        body = ("%s: %s\n" % (short, message) if message and message != short else short + "\n").encode(
            "utf-8", "replace")
        if not str(getattr(self, "request_version", "")).startswith("HTTP/1"):
            self.request_version = "HTTP/1.0"  # a status line even for a garbled request
        try:
            self.send_response(code, short)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if getattr(self, "command", "") != "HEAD":
                self.wfile.write(body)
        except OSError:
            pass  # the client is gone
        self.close_connection = True


class _Server(ThreadedWSGIServer):
    max_connections = 128

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self._open, self._open_lock = 0, threading.Lock()

    def process_request(self, request, client_address):
        with self._open_lock:
            busy = self._open >= self.max_connections
            if not busy:
                self._open += 1
        if busy:
            try:
                request.settimeout(1)
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                b"Content-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s"
                                % (len(_BUSY), _BUSY))
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self._closed()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._closed()

    def _closed(self):
        with self._open_lock:
            self._open -= 1


class Server:
    """The app on (config.host, config.port); port 0 picks a free one, and config.port is then
    the one bound. start() serves in a daemon thread and returns self; stop() ends it."""

    def __init__(self, app, ssl_context=None):
        cfg = app.config
        handler = type("Handler", (Handler,), {"timeout": cfg.timeout})
        self._server = _Server(cfg.host, cfg.port, app, handler=handler, ssl_context=ssl_context)
        self._server.max_connections = cfg.max_connections
        self._server.log_requests = cfg.log_requests
        cfg.port = self._server.server_port
        self.app, self.store, self.host, self.port = app, app.store, cfg.host, cfg.port
        self.url = "%s://%s:%d" % ("https" if ssl_context else "http",
                                   cfg.host if ":" not in cfg.host else "[%s]" % cfg.host, self.port)
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self._server.serve_forever()

    def stop(self):
        self.app.closing = True
        self.app.devices.close_all()
        with self.store.changed:
            self.store.changed.notify_all()  # ends the /events streams
        if self._thread:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        self.store.close()


class MockServer(Server):
    """The service as the tests and tools start it: MockServer(data_dir, **options).start(),
    with the test API (/_mock/...) unless testing=False."""

    def __init__(self, data_dir, api_keys=None, host="127.0.0.1", port=0, hmac_keys=(),
                 ssl_context=None, testing=True, projects=(), **options):
        """projects: NAME:API_KEY[:HMAC_KEY] specs, as --project takes them; api_keys and
        hmac_keys: the default project's, as --api-key and --hmac-key (the page's example key
        when neither these nor projects are given)."""
        config = Config(data_dir=str(data_dir), host=host, port=port,
                        projects=from_specs(projects, tuple(api_keys or ()), tuple(hmac_keys)), **options)
        super().__init__(create_app(config, testing=testing), ssl_context)


