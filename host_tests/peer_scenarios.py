"""The tests' remote-management peer: studio_peer's DeviceLink behind scripted behaviours, so
that firmware tests on either runtime can drive it over loopback.

A device connects to ws://127.0.0.1:PORT/<route>/<token>; the token names the test's log.
Routes (data, below):
    /echo/<t>          echoes every message; text commands: "!ping:<p>" pings with payload p
                       and answers "pong:<p>" once the pong came; "!close" closes with 4000;
                       "!fragments" sends one text message in three frames; "!big:<n>" sends a
                       binary message of n bytes; "!raw:<hex>" writes those bytes as they are
    /wrong-accept/<t>  answers 101 with a Sec-WebSocket-Accept for another key
    /refuse/<t>        answers 403
    /garbled/<t>       answers 400 with a status line that is not UTF-8 (a proxy's Latin-1)
    /long-header/<t>   answers 101 with a 100 KB header line (a CDN's Report-To) among its
                       headers, then sends the text message "hello" and reads to the end
    /studio/<t>        Studio: checks the hello (API key), then runs the token's script
Control, plain HTTP:
    POST /_peer/script/<t>  the script: a JSON list of steps, run in order across connections:
                            {"sample": {...}} push it and follow it to its end (SampleProgress);
                            {"sample_text": str} the same, pushed as that text (numbers
                            JSON cannot carry from a dict: 1e309, bignums' exact digits);
                            {"send": obj} push obj; {"text": str} push text ("repeat": n
                            times over, one message); {"raw": hex};
                            {"ping": str}; {"drop": true} drop the TCP connection;
                            {"wait_ms": n} read (and answer pings) for n ms;
                            {"mute_ms": n} read nothing for n ms (pings go unanswered)
                            {"trickle": {"every_ms": n, "for_ms": m}} begin a text message,
                            then send an empty continuation every n ms for m ms, reading
                            (and answering pings) between them; ends early if the device goes
    GET  /_peer/log/<t>     what the peer saw (JSON): connections, hellos, messages, samples...
"""
import base64
import binascii
import hashlib
import json
import threading
import time

from studio_peer import DeviceGone, DeviceLink, HelloRefused, Listener, read_head, reject

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WS_ROUTES = {"echo": "_echo", "wrong-accept": "_wrong_accept", "refuse": "_refuse",
             "garbled": "_garbled", "long-header": "_long_header", "studio": "_studio"}
CONTROL_ROUTES = {("POST", "script"): "_put_script", ("GET", "log"): "_get_log"}


def new_log():
    return {"connections": 0, "targets": [], "hellos": [], "hello_errors": [], "messages": [],
            "closes": [], "samples": [], "pongs": [], "first_frames": [], "events": [],
            "pings": 0}


class TestPeer:
    """start() listens on loopback; port is where. store: the mock service's Store, to check
    that a finished sample was signed with its request's hmacKey."""

    def __init__(self, api_keys, store=None, timeout=20, ssl_context=None):
        self.api_keys = tuple(api_keys)
        self.store = store
        self.timeout = timeout
        self.logs = {}
        self.scripts = {}
        self.lock = threading.Lock()
        self.listener = Listener(self._handle, ssl_context=ssl_context)
        self.port = self.listener.port

    def start(self):
        self.listener.start()
        return self

    def stop(self):
        self.listener.stop()

    def log(self, token):
        with self.lock:
            return self.logs.setdefault(token, new_log())

    def _handle(self, sock, addr):
        method, target, head, rest = read_head(sock)
        parts = target.split("?")[0].strip("/").split("/")
        if parts[0] == "_peer" and len(parts) == 3:
            name = CONTROL_ROUTES.get((method, parts[1]))
            if name is None:
                return reject(sock, 404, "Not found")
            return getattr(self, name)(sock, parts[2], head, rest)
        name = WS_ROUTES.get(parts[0]) if len(parts) == 2 else None
        if name is None:
            _body(sock, head, rest)  # read first: a client still sending would see a reset
            return reject(sock, 404, "Not found")
        log = self.log(parts[1])
        log["connections"] += 1
        log["targets"].append(target)
        return getattr(self, name)(sock, head, rest, log)

    # --- control ---------------------------------------------------------------------

    def _answer(self, sock, obj):
        body = json.dumps(obj).encode()
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d"
                     b"\r\nConnection: close\r\n\r\n%s" % (len(body), body))

    def _put_script(self, sock, token, head, rest):
        steps = json.loads(_body(sock, head, rest))
        with self.lock:
            self.scripts[token] = {"steps": steps, "next": 0}
            self.logs[token] = new_log()
        self._answer(sock, {"steps": len(steps)})

    def _get_log(self, sock, token, head, rest):
        with self.lock:
            log = json.loads(json.dumps(self.logs.get(token, new_log())))
        self._answer(sock, log)

    # --- WebSocket routes --------------------------------------------------------------

    def _link(self, sock, head, rest, log):
        link = DeviceLink(sock, self.api_keys, timeout=self.timeout)
        link.accept(head, rest)
        return link

    def _gone(self, link, log, e):
        log["closes"].append([e.code, e.reason])
        if link.first_frame is not None:
            log["first_frames"].append(binascii.hexlify(link.first_frame).decode())

    def _echo(self, sock, head, rest, log):
        link = self._link(sock, head, rest, log)
        try:
            while True:
                msg = link.recv(self.timeout)
                if link.first_frame is not None and not log["first_frames"]:
                    log["first_frames"].append(binascii.hexlify(link.first_frame).decode())
                if msg is None:
                    continue
                raw = link.messages[-1]
                log["messages"].append(raw if not isinstance(raw, bytes) else
                                       {"binary": binascii.hexlify(raw).decode()})
                if isinstance(raw, str) and raw.startswith("!"):
                    self._command(link, raw, log)
                elif isinstance(raw, bytes):
                    link.send_bytes(raw)
                else:
                    link.send_text(raw if isinstance(raw, str) else json.dumps(raw))
        except DeviceGone as e:
            self._gone(link, log, e)

    def _command(self, link, text, log):
        cmd, _, arg = text[1:].partition(":")
        if cmd == "ping":
            link.ping(arg.encode())
            end = time.monotonic() + self.timeout
            while arg.encode() not in link.pongs and time.monotonic() < end:
                link.recv(0.1)
            log["pongs"] = [p.decode() for p in link.pongs]
            link.send_text("pong:" + arg if arg.encode() in link.pongs else "no pong")
        elif cmd == "close":
            link.close(4000, "bye")
            link.recv(self.timeout)  # the device's answering close: DeviceGone
        elif cmd == "fragments":
            for i, part in enumerate(("hello ", "fragmented ", "world")):
                link.send_raw(bytes([(0x80 if i == 2 else 0) | (1 if i == 0 else 0),
                                     len(part)]) + part.encode())
        elif cmd == "big":
            link.send_bytes(b"x" * int(arg))
        elif cmd == "raw":
            link.send_raw(binascii.unhexlify(arg))

    def _wrong_accept(self, sock, head, rest, log):
        sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
                     b"Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n" % base64.b64encode(
                         hashlib.sha1(b"dGhlIHNhbXBsZSBub25jZQ==" + GUID).digest()))
        time.sleep(1)

    def _refuse(self, sock, head, rest, log):
        reject(sock, 403, "Forbidden")

    def _garbled(self, sock, head, rest, log):
        sock.sendall(b"HTTP/1.1 400 B\xe4d R\xffquest\r\nContent-Length: 0\r\nConnection: close"
                     b"\r\n\r\n")

    def _long_header(self, sock, head, rest, log):
        key = b""
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key":
                key = value.strip()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nReport-To: " + b"x" * 100000
                     + b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n\x81\x05hello")
        sock.settimeout(self.timeout)
        while sock.recv(4096):
            pass

    def _studio(self, sock, head, rest, log):
        link = self._link(sock, head, rest, log)
        token = log["targets"][-1].strip("/").split("/")[1]
        try:
            try:
                log["hellos"].append(link.receive_hello(self.timeout))
            except HelloRefused as e:
                log["hello_errors"].append(str(e))
                link.recv(2)  # the device closes
                return
            while True:
                with self.lock:
                    script = self.scripts.get(token, {"steps": [], "next": 0})
                    step = None
                    if script["next"] < len(script["steps"]):
                        step = script["steps"][script["next"]]
                        script["next"] += 1
                if step is None:
                    msg = link.recv(self.timeout)
                    if msg is not None:
                        log["messages"].append(msg)
                    continue
                try:
                    if self._step(link, step, log):
                        return
                except DeviceGone:
                    if "sample" in step or "sample_text" in step:  # asked again of the next connection
                        with self.lock:
                            script["next"] -= 1
                    raise
        except DeviceGone as e:
            self._gone(link, log, e)

    def _step(self, link, step, log):
        """Run one script step; True when the connection was dropped."""
        log["events"].append(sorted(step))
        if "sample" in step or "sample_text" in step:
            progress = _request_sample(link, step, self.timeout + 5 + _length_s(step),
                                       log["messages"].append)
            log["messages"].extend(m for _, m in progress.events)
            entry = {"state": progress.state, "error": progress.error,
                     "problems": progress.problems,
                     "events": [[round(t, 3), m] for t, m in progress.events],
                     "started_after_s": _gap(progress, "sampleStarted"),
                     "signature_valid": None, "stored": None}
            if progress.state == "finished" and self.store is not None and "sample" in step:
                entry["stored"], entry["signature_valid"] = self._check_stored(step["sample"])
            log["samples"].append(entry)
        elif "send" in step:
            link.send_json(step["send"])
        elif "text" in step:
            link.send_text(step["text"] * step.get("repeat", 1))
        elif "raw" in step:
            link.send_raw(binascii.unhexlify(step["raw"]))
        elif "ping" in step:
            link.ping(step["ping"].encode())
        elif "wait_ms" in step:
            _listen(link, step["wait_ms"], log)
        elif "trickle" in step:
            link.send_raw(b"\x01\x00")  # a text message begins, empty and not final
            end = time.monotonic() + step["trickle"]["for_ms"] / 1000
            while time.monotonic() < end:
                _listen(link, step["trickle"]["every_ms"], log)
                try:
                    link.send_raw(b"\x00\x00")  # an empty continuation, not final
                except OSError:
                    raise DeviceGone(*(link.closed or (1006, "connection dropped")))
        elif "mute_ms" in step:
            time.sleep(step["mute_ms"] / 1000)
        elif step.get("drop"):
            log["closes"].append([1006, "dropped by the peer"])
            link.sock.close()
            return True
        return False

    def _check_stored(self, request):
        """(stored name, whether its signature is request's hmacKey's) of the newest sample
        with the request's label. The check is at_driver's, independent of the service."""
        from at_driver import signature_valid
        for meta in reversed(self.store.metadata()):
            if meta.get("label") == request.get("label"):
                with open(self.store.path(meta["sample_id"]), "rb") as f:
                    body = f.read()
                if body[:1] == b"{":  # JSON: not what the device sends
                    return meta["name"], None
                return meta["name"], signature_valid(body, request["hmacKey"])
        return None, None


def _request_sample(link, step, timeout, on_message):
    """link.request_sample of the step's request; a sample_text goes out as that text."""
    if "sample_text" in step:
        link.send_message = lambda obj: link.send_text(step["sample_text"])
    try:
        return link.request_sample(step, timeout, on_message=on_message)
    finally:
        link.__dict__.pop("send_message", None)


def _listen(link, ms, log):
    """Read for ms, noting messages and the pings answered meanwhile."""
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        msg = link.recv(max(0.01, end - time.monotonic()))
        if msg is not None:
            log["messages"].append(msg)
        log["pings"] = log.get("pings", 0) + link.pings
        link.pings = 0


def _body(sock, head, rest, limit=1 << 20):
    """The request's body (Content-Length bytes, at most limit)."""
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = min(int(value), limit)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return rest[:length]


def _length_s(step):
    length = step["sample"].get("length") if isinstance(step.get("sample"), dict) else 0
    return length / 1000 if isinstance(length, (int, float)) else 0


def _gap(progress, status):
    """Seconds from the acknowledgement to `status`."""
    ack, t = progress.at("sample"), progress.at(status)
    return None if ack is None or t is None else round(t - ack, 3)
