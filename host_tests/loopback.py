"""The tests' servers on loopback: a listener that accepts TCP connections on (host, port) and
runs handler(sock, addr) in a thread of its own for each, closing the socket when it returns.
The echo server, the hostile server and Studio's side of remote management are built on it."""
import socket
import threading


class Listener:
    """start() returns self; stop() closes the listening socket. ssl_context: a server-side
    ssl.SSLContext, to serve TLS. quiet: what a handler may raise when its peer misbehaves
    (a reset, a malformed request): the connection ends, the listener goes on."""

    def __init__(self, handler, host="127.0.0.1", port=0, ssl_context=None, backlog=32,
                 quiet=(OSError, ValueError, ConnectionError)):
        self.handler = handler
        self.ssl_context = ssl_context
        self.quiet = quiet
        self._sock = socket.create_server((host, port), backlog=backlog)
        self.host, self.port = self._sock.getsockname()[:2]

    def start(self):
        threading.Thread(target=self._serve, daemon=True).start()
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
            except self.quiet:
                pass


class Served:
    """A server whose _handle(conn) serves each connection on a Listener of its own:
    host and port once made, start() returns self, stop() closes the listening socket."""

    def __init__(self, host="127.0.0.1", port=0):
        self._listener = Listener(lambda conn, addr: self._handle(conn), host, port)
        self.host, self.port = self._listener.host, self._listener.port

    def start(self):
        self._listener.start()
        return self

    def stop(self):
        self._listener.stop()
