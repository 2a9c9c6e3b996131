"""The host's end of the serial AT protocol, following edge-impulse-daemon's own rules
(protocol notes, section 2; CLI shared/daemon/ei-serial-protocol.ts and cli/daemon.ts), to
drive a board's ei.daemon() the way the daemon does, with nothing of the firmware:

- framing: connect with "b\\r" and wait up to 5 s for "> "; write each command and its CR in
  5-byte pieces 20 ms apart; an answer ends at "> " (2 s, 10 s for AT+CLEARCONFIG,
  (length + 3000) * 10 ms for sampling and reads); the answer cut from it exactly as
  parseSerialResponse and execCommand cut it (parse_response); "Not a valid AT command" is
  an error;
- AT+CONFIG? parsed by section and "key: value" lines, sensor lines by the daemon's regex;
- a sample: the status strings it watches for, "File name:", then the case (a: READBUFFER,
  b: READFILE, c: uploaded by the board), the file decoded from base64;
- the signature checked with CPython's hmac, and the upload the daemon would make.
"""
import base64
import hashlib
import hmac
import http.client
import os
import re
import time
import urllib.parse

import cbor2

SECTIONS = {"= Device info =": "info", "= Sensors =": "sensors", "= Snapshot =": "snapshot",
            "= Inference =": "inference", "= WIFI =": "wifi",
            "= Sampling parameters =": "sampling", "= Ingestion parameters =": "ingestion",
            "= Upload settings =": "upload", "= Remote management =": "management"}
SENSOR_LINE = re.compile(r"^Name\:\s?([^,]+),\s?Max sample length\:\s?([^,]+)s\s?,\s?"
                         r"Frequencies\:\s?\[(.*)\]\s?$")
STATUSES = ("Sampling...", "Processing...", "Uploading...")
PROMPT = b"> "


class DaemonError(Exception):
    """What the daemon would throw: no prompt in time, an invalid command, an ERR."""


# what JavaScript's String.prototype.trim() removes, of the characters 'ascii' can give
_JS_SPACE = " \t\n\v\f\r"


def parse_response(raw):
    """What the daemon's execCommand returns for the bytes `raw` it read up to the prompt:
    parseSerialResponse (a LF not after a CR becomes CRLF; then from the first CRLF to the
    last one, CRLF included, or from the first to the end when there is only one, or the
    last byte when there is none), then Buffer.toString('ascii') (each byte's high bit
    dropped) and trim()."""
    b = bytearray()
    for i, c in enumerate(raw):
        if c == 0x0A and (i == 0 or raw[i - 1] != 0x0D):
            b += b"\r\n"
        else:
            b.append(c)
    first, last = b.find(b"\r\n"), b.rfind(b"\r\n")
    part = b[first:] if first == last else b[first:last]
    return "".join(chr(c & 0x7F) for c in part).strip(_JS_SPACE)


def parse_config(text):
    """AT+CONFIG? as the daemon's getConfig reads it: {section: {key: value}}, sensors as a
    list of {name, max_sample_length_s, frequencies}. Raises on a sensor line it cannot read."""
    out = {name: {} for name in SECTIONS.values()}
    out["sensors"] = []
    section = None
    for line in text.split("\r\n"):
        line = line.strip()
        if not line:
            continue
        hit = [name for marker, name in SECTIONS.items() if marker in line]
        if hit:
            section = hit[0]
            continue
        if section == "sensors":
            m = SENSOR_LINE.match(line)
            if m:
                out["sensors"].append({
                    "name": m.group(1), "max_sample_length_s": int(m.group(2)),
                    "frequencies": [float(f.strip().rstrip("Hz")) for f in
                                    m.group(3).split(",") if f.strip()]})
            elif line not in ("Built-in accelerometer", "Built-in microphone"):
                raise DaemonError("Cannot parse sensor line: %r" % line)
            continue
        if section is None or ":" not in line:
            continue
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if section == "sampling" and key in ("interval", "length"):
            value = value.replace(" ms.", "")
        out[section][key] = value
    version = out["info"].get("at version", "1.0.0")
    out["info"]["at_version"] = tuple(int(x) for x in version.split("."))
    return out


class Driver:
    """edge-impulse-daemon's side of the link over `port`, an open pyserial Serial (or any
    object with write(bytes) and read(n) that returns what has come, b"" after its timeout)."""

    def __init__(self, port, log=None):
        self.port = port
        self.seen = bytearray()  # everything read, for a failing test to show
        self.log = log

    def _read_until_prompt(self, timeout, watch=None):
        end = time.monotonic() + timeout
        buf = bytearray()
        while not buf.endswith(PROMPT):
            if time.monotonic() > end:
                raise DaemonError("no prompt within %s s; got %r" % (timeout, bytes(buf[-500:])))
            chunk = self.port.read(4096)
            if chunk:
                buf += chunk
                self.seen += chunk
                if watch is not None:
                    watch(bytes(buf))
        return bytes(buf)

    def connect(self, timeout=5):
        """As the daemon's onConnected: "b\\r", then the prompt."""
        self.port.write(b"b\r")
        self._read_until_prompt(timeout)

    def execute(self, command, timeout=2.0, watch=None):
        """The answer to one command, cut as the daemon cuts it."""
        data = command.encode() + b"\r"
        for i in range(0, len(data), 5):  # execCommand: 5-byte pieces, 20 ms apart
            self.port.write(data[i:i + 5])
            time.sleep(0.02)
        raw = self._read_until_prompt(timeout, watch)
        answer = parse_response(raw)
        if "Not a valid AT command" in answer:
            raise DaemonError("Not a valid AT command: %r" % answer)
        return answer

    def expect_ok(self, command, timeout=2.0):
        answer = self.execute(command, timeout)
        if "OK" not in answer:
            raise DaemonError("%s: %r" % (command.split("=")[0], answer))
        return answer

    def get_config(self):
        return parse_config(self.execute("AT+CONFIG?"))

    def sample(self, sensor, length_ms):
        """AT+SAMPLESTART as the daemon runs it: (statuses seen in order, file name, case
        "buffer" / "file" / "uploaded", the buffer range or None, the answer)."""
        seen = []

        def watch(buf):
            text = buf.decode("utf-8", "replace")
            for s in STATUSES:
                if s in text and s not in seen:
                    seen.append(s)

        answer = self.execute("AT+SAMPLESTART=%s" % sensor if sensor else "AT+SAMPLESTART",
                              (length_ms + 3000) * 10 / 1000, watch)
        if "ERR:" in answer:
            raise DaemonError([x for x in answer.split("\n") if "ERR:" in x][0].strip(_JS_SPACE))
        names = [line for line in answer.split("\n") if "File name:" in line]
        if not names:
            raise DaemonError("no File name in %r" % answer)
        name = names[0].split(":")[1].strip(_JS_SPACE)  # as the daemon: up to a second ":"
        if "Not uploading file" in answer:
            m = re.search(r"from=(\d+).*?to=(\d+)", answer)
            if "Used buffer" in answer and m:
                return seen, name, "buffer", (int(m.group(1)), int(m.group(2))), answer
            return seen, name, "file", None, answer
        return seen, name, "uploaded", None, answer

    def read_file(self, name, length_ms=10000):
        answer = self.execute("AT+READFILE=%s,n" % name, (length_ms + 3000) * 10 / 1000)
        return base64.b64decode("".join(answer.split()))

    def read_buffer(self, start, end, length_ms=10000):
        answer = self.execute("AT+READBUFFER=%d,%d,n" % (start, end),
                              (length_ms + 3000) * 10 / 1000)
        return base64.b64decode("".join(answer.split()))

    def unlink(self, name):
        answer = self.execute("AT+UNLINKFILE=%s" % name)
        if answer:
            raise DaemonError("Failed to unlink file: %r" % answer)


def signature_valid(body, hmac_key):
    """True when a CBOR data acquisition file is HS256-signed with hmac_key: the HMAC over the
    bytes with the signature's hex replaced by 64 zeros, in place (how the encoder signs)."""
    obj = cbor2.loads(body)
    if obj.get("protected", {}).get("alg") != "HS256":
        return False
    sig = obj["signature"]
    old = cbor2.dumps("signature") + cbor2.dumps(sig)
    if body.count(old) != 1:
        return False
    zeroed = body.replace(old, cbor2.dumps("signature") + cbor2.dumps("0" * len(sig)))
    expected = hmac.new(hmac_key.encode(), zeroed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, sig)


def upload(config, name, body, path=None, timeout=10):
    """POST the file as the daemon does after a READFILE: to the device's Host + Path, with
    its Api Key, x-file-name the file's base name, Content-Type application/cbor, no label
    (the service infers it from the name). Returns (status, text)."""
    host = urllib.parse.urlsplit(config["upload"]["host"])
    conn = (http.client.HTTPSConnection if host.scheme == "https" else
            http.client.HTTPConnection)(host.hostname, host.port, timeout=timeout)
    try:
        conn.request("POST", path or config["upload"]["path"], body=body, headers={
            "x-api-key": config["upload"]["api key"],
            "x-file-name": urllib.parse.quote(os.path.basename(name), safe=""),
            "Content-Type": "application/cbor"})
        r = conn.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        conn.close()
