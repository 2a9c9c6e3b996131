"""A loopback HTTP server that answers as a hostile one would: the firmware's client must hold.

Each request's X-Label header picks its answer (an X-Label of "name.token" picks "name"; the
token keeps one test's /files state apart from another's):

    page-1k, page-20k, page-200k   a 502 HTML error page of that size (Content-Length)
    page-chunked                   the 200 KB page, chunked
    page-close                     the 200 KB page, delimited by the close
    endless-chunked                200, then chunks forever (until the client goes)
    endless-headers                200, then header lines forever
    long-header                    200 and the stored name, after a 2 KB Report-To (as a CDN
                                   sends) and a 100 KB Set-Cookie header line
    chunk-negative, chunk-0x       a chunk size of "-5" / "0x5"
    two-lengths                    Content-Length 5 and Content-Length 3
    length-and-chunked             both
    status-600, status-99          a status outside 100-599
    continue                       100 Continue, then 200 with the stored name
    latin1                         400 with a Latin-1 body (not UTF-8)
    slow                           reads the body 8 KB every 1.5 s, then answers 200
    files-partial                  /files: the first request stores the first 9 files, then
                                   the service "crashes" (500, no per-file results); later
                                   requests answer per file, "already exists" for stored ones
    files-per-file-500             /files: the first request stores all but the last 3 and
                                   answers 500 with per-file results; later ones store all
    files-invalid                  /files: files named bad* are refused as invalid (per file)
    files-long                     /files: stores every file, and answers 200 KB of JSON: a
                                   long "log" string before the per-file results
    files-chunked                  /files: stores every file, and answers in chunks of 1 to 13
                                   bytes, each with a chunk extension

GET /_hostile/log?token=T answers, as JSON, {"requests": [[part file names], ...],
"stored": [file names]} for that token: what each /files request carried and what is stored.
"""
import hashlib
import json
import re
import threading
import time

from loopback import Served

PAGE = {"page-1k": 1000, "page-20k": 20000, "page-200k": 200000}
SLOW_BYTES, SLOW_EVERY_S = 8192, 1.5
PARTIAL_STORED = 9
DUPLICATE = "An item with this hash already exists"
_IO_TIMEOUT_S = 60


def _html(n):
    head = b"<html><body><h1>502 Bad Gateway</h1><p>"
    tail = b"</p></body></html>"
    return head + b"x" * (n - len(head) - len(tail)) + tail


def _answer(status, body, ctype=b"text/plain", extra=b""):
    return (b"HTTP/1.1 %d Hostile\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s"
            b"Connection: close\r\n\r\n%s" % (status, ctype, len(body), extra, body))


def _parts(body, ctype):
    """(file name, sha256 of content) of each multipart part."""
    m = re.search(r"boundary=([^;]+)", ctype)
    if not m:
        return []
    sep = b"--" + m.group(1).encode()
    out = []
    for part in body.split(sep)[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.partition(b"\r\n\r\n")
        name = re.search(rb'filename="([^"]*)"', head)
        out.append((name.group(1).decode() if name else "",
                    hashlib.sha256(content[:-2]).hexdigest()))
    return out


class HostileServer(Served):
    def __init__(self, host="127.0.0.1", port=0):
        super().__init__(host, port)
        self._lock = threading.Lock()
        self._tokens = {}  # token: {"requests": [...], "stored": {sha: name}}

    def _handle(self, conn):
        conn.settimeout(_IO_TIMEOUT_S)
        try:
            with conn:
                self._one(conn)
        except OSError:
            pass  # the client gave up or reset: expected of these answers

    def _one(self, conn):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk or len(data) > 65536:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
        h = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            h[k.strip().lower()] = v.strip()
        if path.startswith("/_hostile/log"):
            token = path.partition("token=")[2]
            with self._lock:
                t = self._tokens.get(token, {"requests": [], "stored": {}})
                out = {"requests": t["requests"], "stored": sorted(t["stored"].values())}
            conn.sendall(_answer(200, json.dumps(out).encode(), b"application/json"))
            return
        length = int(h.get("content-length", "0") or 0)
        scenario, _, token = h.get("x-label", "").partition(".")
        if scenario == "slow":
            got = len(body)
            while got < length:
                time.sleep(SLOW_EVERY_S)
                chunk = conn.recv(min(SLOW_BYTES, length - got))
                if not chunk:
                    return
                got += len(chunk)
            conn.sendall(_answer(200, b"slow.cbor"))
            return
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return
            body += chunk
        if path.endswith("/files"):
            conn.sendall(self._files(scenario, token, body, h))
            return
        self._hostile(conn, scenario)

    def _hostile(self, conn, scenario):
        send = conn.sendall
        if scenario in PAGE:
            send(_answer(502, _html(PAGE[scenario]), b"text/html"))
        elif scenario == "page-chunked":
            page = _html(200000)
            send(b"HTTP/1.1 502 Hostile\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in range(0, len(page), 4000):
                piece = page[i:i + 4000]
                send(b"%x\r\n%s\r\n" % (len(piece), piece))
            send(b"0\r\n\r\n")
        elif scenario == "page-close":
            send(b"HTTP/1.1 502 Hostile\r\nContent-Type: text/html\r\n\r\n" + _html(200000))
        elif scenario == "endless-chunked":
            send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            piece = b"1000\r\n" + b"z" * 4096 + b"\r\n"
            while True:
                send(piece)
        elif scenario == "endless-headers":
            send(b"HTTP/1.1 200 OK\r\n")
            while True:
                send(b"X-Padding: " + b"p" * 100 + b"\r\n" * 1)
        elif scenario == "long-header":
            report_to = b'{"group":"cf-nel","max_age":604800,"endpoints":[{"url":"' + \
                b"https://a.nel.example/report/v4?s=" + b"x" * 2000 + b'"}]}'
            send(_answer(200, b"long-header.cbor", extra=b"Report-To: " + report_to +
                         b"\r\nSet-Cookie: " + b"c" * 100000 + b"\r\n"))
        elif scenario in ("chunk-negative", "chunk-0x"):
            size = b"-5" if scenario == "chunk-negative" else b"0x5"
            send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s\r\nhello\r\n0\r\n\r\n"
                 % size)
        elif scenario == "two-lengths":
            send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 3\r\n\r\nhello")
        elif scenario == "length-and-chunked":
            send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"5\r\nhello\r\n0\r\n\r\n")
        elif scenario in ("status-600", "status-99"):
            send(b"HTTP/1.1 %s Odd\r\nContent-Length: 2\r\n\r\nok" % scenario[7:].encode())
        elif scenario == "continue":
            send(b"HTTP/1.1 100 Continue\r\n\r\n" + _answer(200, b"continued.cbor"))
        elif scenario == "latin1":
            send(_answer(400, "Donn\u00e9es refus\u00e9es: \u00e9chantillon invalide".encode(
                "latin-1"), b"text/plain; charset=iso-8859-1"))
        else:
            send(_answer(404, b"no such hostile answer: " + scenario.encode()))

    def _files(self, scenario, token, body, h):
        parts = _parts(body, h.get("content-type", ""))
        with self._lock:
            t = self._tokens.setdefault(token, {"requests": [], "stored": {}})
            first = not t["requests"]
            t["requests"].append([name for name, _ in parts])
            stored = t["stored"]
            results = []
            for i, (name, sha) in enumerate(parts):
                if scenario == "files-partial" and first and i >= PARTIAL_STORED:
                    break  # the service crashed here
                if scenario == "files-per-file-500" and first and i >= len(parts) - 3:
                    results.append({"success": False, "fileName": name,
                                    "error": "Internal error: could not store the file"})
                    continue
                if scenario == "files-invalid" and name.startswith("bad"):
                    results.append({"success": False, "fileName": name,
                                    "error": "Invalid file: not a data acquisition file"})
                    continue
                if sha in stored:
                    results.append({"success": False, "fileName": name, "error": DUPLICATE})
                    continue
                stored[sha] = name
                results.append({"success": True, "fileName": name, "sampleId": len(stored)})
        if scenario == "files-partial" and first:
            return _answer(500, b"Internal server error")
        status = 500 if (scenario == "files-per-file-500" and first) else 200
        doc = {"success": all(r["success"] for r in results), "files": results}
        body = json.dumps(doc).encode()
        if scenario == "files-long":  # a long member first: the results come after 200 KB
            body = b'{"log": "' + b"[x] {y}, " * 22000 + b'", ' + body[1:]
        if scenario == "files-chunked":  # chunks of 1 to 13 bytes, with extensions
            out = [b"HTTP/1.1 %d Hostile\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" % status]
            i = k = 0
            while i < len(body):
                piece = body[i:i + 1 + k % 13]
                out.append(b"%x;e=%s\r\n%s\r\n" % (len(piece), b"x" * (k % 40), piece))
                i += len(piece)
                k += 1
            return b"".join(out) + b"0\r\n\r\n"
        return _answer(status, body, b"application/json")
