"""A TCP proxy that puts a bad network between a client and the mock ingestion server.

Each connection it accepts gets one fault, taken from a script (the next fault in a list the
tests set) or, when the script is empty, drawn at `rate` from a seeded random generator:

    pass                  forward the request and the answer untouched
    refuse                reset the connection as soon as it is accepted (a listening socket
                          cannot refuse one connection; a reset at once is what a client sees
                          of a refusal that races its connect)
    reset_request         forward part of the request, then reset: the server gets a short body
    reset_response        forward the whole request (the server stores it), then reset before
                          any byte of the answer: a lost 200
    reset_mid_response    forward the request, then part of the answer, then reset
    stall_request         read what the client sends, never forward it, never answer
    stall_response        forward the request (the server stores it), never answer
    stall_mid_response    forward the request, send part of the answer, then never more
    dribble               forward the request, send the answer one byte every 0.2 s
    keep_open             forward the request and the whole answer, then keep the connection
                          open (as a keep-alive server does): not a fault, a client must read
                          the answer by its length and not wait for the close
    500, 503, 400, 401, 421, ...   answer that status without forwarding anything
    garbage               answer random bytes that are not HTTP, then close

With bytes_per_s, every request is read from the client at that rate, a slow uplink: the
client's writes wait once the sockets' buffers are full (the receive buffer is kept small).

A stalled connection is held until the client closes it or the proxy stops. Every connection
is logged (fault, the request's headers but the API key, the time it arrived, the server's
status when it was asked), for tests to check how many attempts a client made and what each
carried.

Control channel, for tests on the unix port (which cannot reach into this process): a second
port answers plain HTTP. POST /script with a body of comma-separated faults queues them for
the next connections and clears the log; GET /log answers the log as JSON; POST /mode with a
JSON body {"rate", "seed", "faults", "bytes_per_s"} (each optional: {} is no faults at full
speed) sets the random draw and the uplink's rate for the connections that follow.

    python -m tools.fault_proxy --upstream 127.0.0.1:8000 --port 8001 --rate 0.3 --seed 1
"""
import argparse
import json
import os
import random
import socket
import struct
import sys
import threading
import time

# The faults a random draw picks from, and how often (stalls cost a client its whole timeout,
# so they are drawn less often than the faults that end at once).
RANDOM_FAULTS = (
    ("refuse", 3), ("reset_request", 3), ("reset_response", 3), ("reset_mid_response", 3),
    ("stall_request", 1), ("stall_response", 1), ("stall_mid_response", 1),
    ("500", 2), ("503", 2), ("garbage", 2),
)
_HOLD_S = 60          # longest a stalled connection is held open
_IO_TIMEOUT_S = 10    # a client or server silent this long is given up on
_MAX_HEAD = 65536
_SLOW_RCVBUF = 4096   # a slow uplink's receive buffer: the client feels the rate soon


def _reset(sock):
    """Close with a TCP reset (RST), not an orderly FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def _read_message(sock, first=b"", rate=None):
    """Read one HTTP message (head and Content-Length body), at `rate` bytes a second when
    given. Returns (bytes, head) or (bytes read so far, None) when the peer closes or sends
    something that is not HTTP."""
    data = first
    piece = max(64, rate // 20) if rate else 65536  # a twentieth of a second at a time

    def recv():
        chunk = sock.recv(piece)
        if rate:
            time.sleep(len(chunk) / rate)
        return chunk

    while b"\r\n\r\n" not in data:
        if len(data) > _MAX_HEAD:
            return data, None
        chunk = recv()
        if not chunk:
            return data, None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            length = int(value.strip())
    while len(body) < length:
        chunk = recv()
        if not chunk:
            return data, None
        body += chunk
        data += chunk
    return data, head


def _headers(head):
    out = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower().decode("latin-1")
        if name != "x-api-key":  # a log is printed when a test fails: no keys in it
            out[name] = value.strip().decode("latin-1")
    return out


def _status_answer(status, text):
    body = text.encode()
    return (b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n%s" % (status, b"Fault", len(body), body))


class FaultProxy:
    """upstream: (host, port), or a callable that returns it when a connection needs it
    (the session's mock server may start after the proxy)."""

    def __init__(self, upstream, rate=0.0, seed=0, host="127.0.0.1", port=0, faults=None,
                 control=False, bytes_per_s=None):
        self._upstream = upstream
        self._lock = threading.Lock()
        self._script = []
        self.log = []
        self.counts = {}
        self._stop = threading.Event()
        self._sock = socket.create_server((host, port), backlog=64)
        self.host, self.port = self._sock.getsockname()[:2]
        # what getsockopt says is what setsockopt was given, doubled on Linux
        self._rcvbuf = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // (
            2 if sys.platform.startswith("linux") else 1)
        self.set_mode(rate, seed, faults, bytes_per_s)
        self._ctl = socket.create_server((host, 0)) if control else None
        self.control_port = self._ctl.getsockname()[1] if control else None
        self._threads = []

    # -- running --

    def start(self):
        for target, sock in ((self._serve, self._sock), (self._serve_control, self._ctl)):
            if sock is not None:
                t = threading.Thread(target=target, daemon=True)
                t.start()
                self._threads.append(t)
        return self

    def stop(self):
        self._stop.set()
        for s in (self._sock, self._ctl):
            if s is not None:
                s.close()

    def set_mode(self, rate=0.0, seed=0, faults=None, bytes_per_s=None):
        """Draw a fault for `rate` of the connections (from `faults`, names or (name, weight)
        pairs; default RANDOM_FAULTS), seeded; read requests at bytes_per_s (None: at once)."""
        with self._lock:
            self.rate = rate
            self.faults = tuple(f if isinstance(f, (tuple, list)) else (f, 1)
                                for f in (faults or RANDOM_FAULTS))
            self._random = random.Random(seed)
            self.bytes_per_s = bytes_per_s
            # accepted sockets take the listener's buffer size
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF,
                                  _SLOW_RCVBUF if bytes_per_s else self._rcvbuf)

    def script(self, faults):
        """Give the next connections these faults, in order; clears the log."""
        with self._lock:
            self._script = list(faults)
            self.log = []

    def _next_fault(self):
        with self._lock:
            if self._script:
                return self._script.pop(0)
            if self._random.random() < self.rate:
                total = sum(w for _, w in self.faults)
                x = self._random.random() * total
                for name, w in self.faults:
                    x -= w
                    if x < 0:
                        return name
                return self.faults[-1][0]
            return "pass"

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            fault = self._next_fault()
            entry = {"fault": fault, "t": time.monotonic(), "headers": None}
            with self._lock:
                self.log.append(entry)
                self.counts[fault] = self.counts.get(fault, 0) + 1
            threading.Thread(target=self._handle, args=(conn, fault, entry), daemon=True).start()

    # -- one connection --

    def _handle(self, client, fault, entry):
        upstream = None
        try:
            client.settimeout(_IO_TIMEOUT_S)
            if fault == "refuse":
                _reset(client)
                return
            if fault == "stall_request":
                self._hold(client)
                return
            request, head = _read_message(client, rate=self.bytes_per_s)
            if head is None:
                client.close()
                return
            entry["headers"] = _headers(head)
            if fault.isdigit():
                client.sendall(_status_answer(int(fault), "fault proxy: %s" % fault))
                client.close()
                return
            if fault == "garbage":
                client.sendall(os.urandom(64).replace(b"\n", b"?"))
                client.close()
                return
            addr = self._upstream() if callable(self._upstream) else self._upstream
            upstream = socket.create_connection(addr, timeout=_IO_TIMEOUT_S)
            if fault == "reset_request":
                cut = self._random_below(len(request))
                upstream.sendall(request[:cut])
                _reset(client)
                return
            upstream.sendall(request)
            if fault == "stall_response":
                self._hold(client)
                return
            answer, _ = _read_message(upstream)
            if answer.startswith(b"HTTP/"):
                entry["status"] = int(answer.split(b" ", 2)[1])  # what the server answered
            if fault == "reset_response":
                _reset(client)
            elif fault == "reset_mid_response":
                client.sendall(answer[:self._random_below(len(answer))])
                _reset(client)
            elif fault == "stall_mid_response":
                client.sendall(answer[:len(answer) // 2])
                self._hold(client)
            elif fault == "keep_open":
                client.sendall(answer)
                self._hold(client)
            elif fault == "dribble":
                for i in range(len(answer)):
                    if self._stop.wait(0.2):
                        break
                    client.sendall(answer[i:i + 1])
                client.close()
            else:  # pass
                client.sendall(answer)
                client.close()
        except OSError:
            client.close()
        finally:
            if upstream is not None:
                upstream.close()

    def _random_below(self, n):
        with self._lock:
            return self._random.randrange(max(n, 1))

    def _hold(self, client):
        """Keep the connection open, reading and dropping what comes, until the client
        closes it, the proxy stops, or _HOLD_S pass."""
        client.settimeout(0.2)
        end = time.monotonic() + _HOLD_S
        while not self._stop.is_set() and time.monotonic() < end:
            try:
                if not client.recv(65536):
                    break
            except socket.timeout:
                continue
            except OSError:
                break
        client.close()

    # -- control channel --

    def _serve_control(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._ctl.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(_IO_TIMEOUT_S)
                try:
                    data, head = _read_message(conn)
                    if head is None:
                        continue
                    line = head.split(b"\r\n")[0].split()
                    body = data.partition(b"\r\n\r\n")[2].decode()
                    if line[:2] == [b"POST", b"/script"]:
                        self.script([f.strip() for f in body.split(",") if f.strip()])
                        answer = b""
                    elif line[:2] == [b"POST", b"/mode"]:
                        self.set_mode(**json.loads(body or "{}"))
                        answer = b""
                    elif line[:2] == [b"GET", b"/log"]:
                        with self._lock:
                            answer = json.dumps(self.log).encode()
                    else:
                        conn.sendall(_status_answer(404, "no such control path"))
                        continue
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                                 % (len(answer), answer))
                except OSError:
                    pass


class Blackhole:
    """Loopback ports that misbehave below HTTP.

    `syn_port`: its accept queue is full, so the kernel drops new connection attempts and a
    client's connect waits until its own timeout. `silent_port`: connections complete but are
    never accepted: what a client sends lands in a buffer nobody reads, and nothing answers."""

    def __init__(self, host="127.0.0.1"):
        self._syn = socket.socket()
        self._syn.bind((host, 0))
        self._syn.listen(0)
        self.syn_port = self._syn.getsockname()[1]
        self._fill = []
        for _ in range(4):  # more than the queue holds: the rest stay in SYN_SENT
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect((host, self.syn_port))
            except BlockingIOError:
                pass
            self._fill.append(c)
        self._silent = socket.create_server((host, 0), backlog=64)
        self.silent_port = self._silent.getsockname()[1]

    def stop(self):
        for s in self._fill + [self._syn, self._silent]:
            s.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", default="127.0.0.1:8000", help="host:port of the server")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8001)
    ap.add_argument("--rate", type=float, default=0.3, help="share of connections given a fault")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    host, _, port = args.upstream.rpartition(":")
    proxy = FaultProxy((host, int(port)), rate=args.rate, seed=args.seed, host=args.host,
                       port=args.port, control=True).start()
    print("fault proxy on %s:%d -> %s, rate %.2f, seed %d; control on port %d"
          % (proxy.host, proxy.port, args.upstream, args.rate, args.seed, proxy.control_port),
          flush=True)
    try:
        while True:
            time.sleep(60)
    except KeyboardInterrupt:
        pass
    finally:
        proxy.stop()


if __name__ == "__main__":
    main()
