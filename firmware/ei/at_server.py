# ei.daemon(): the serial AT protocol (version 1.8.0) that Edge Impulse's `edge-impulse-daemon`
# speaks to official dev kits, on the REPL's serial port (protocol notes, section 2). Each
# character is echoed; a command ends with CR; the answer follows the echo's CRLF, each line
# ends CRLF, and "> " asks for the next (the daemon keeps what lies between the first and the
# last CRLF). AT+SAMPLESTART samples into a signed CBOR file on flash that the daemon reads
# back as base64 (AT+READFILE) and uploads itself, unless the board's own Wi-Fi and remote
# management are up: then it uploads itself, and AT+CONFIG? says so, so the daemon steps aside.
# Settings persist in config.json. Bad input is an "ERR: ..." line, never a crash.
import sys
from binascii import b2a_base64

from ei import collector, wire
from ei.compat import const, sleep_ms

AT_VERSION = "1.8.0"
_LINE = const(256)        # longest command line kept; a longer one is refused whole
_CHUNK = const(513)       # bytes of a file per base64 piece: a multiple of 3, as the ESP's
_START_DELAY_MS = const(2000)
_LABEL = "idle"
_LENGTH_MS = const(10000)
_PATH = "/api/training/data"
_FOLDER = "daemon"        # beside config.json: the sample files AT+READFILE may read
_HELP = ("AT+CONFIG?", "AT+CLEARCONFIG", "AT+DEVICEID=<id>", "AT+UPLOADHOST=<url>",
         "AT+MGMTSETTINGS=<url>", "AT+UPLOADSETTINGS=<api key>,<path>",
         "AT+SAMPLESETTINGS=<label>,<interval ms>,<length ms>[,<hmac key>]",
         "AT+SAMPLESTART[=<sensor>]", "AT+READFILE=<file>[,y|n]",
         "AT+READBUFFER=<from>,<to>[,y|n]", "AT+UNLINKFILE=<file>", "AT+HELP")
# the keys AT+CLEARCONFIG forgets (what the daemon sets; the board's wiring stays)
_SETTINGS = ("sample_label", "sample_length_ms", "upload_path", "device_id",
             "remote_mgmt_url", "hmac_key")


class Refused(ValueError):
    """A command's arguments are wrong: its text is the ERR line."""


class Daemon:
    """The AT server on the streams inp (read(1) gives a character, "" at the end) and out
    (write(str)), for the board and config collector.board() gives."""

    def __init__(self, inp, out, start_delay_ms=_START_DELAY_MS):
        self.inp = inp
        self.out = out
        self.start_delay_ms = start_delay_ms
        self._line = bytearray(_LINE)  # the command being typed
        self.last_file = None
        # command name: method (data, not a chain of ifs)
        self.commands = {
            "HELP": self.help, "CONFIG?": self.config, "CLEARCONFIG": self.clear,
            "DEVICEID": self.device_id, "UPLOADHOST": self.upload_host,
            "MGMTSETTINGS": self.mgmt_settings, "UPLOADSETTINGS": self.upload_settings,
            "SAMPLESETTINGS": self.sample_settings, "SAMPLESTART": self.sample_start,
            "READFILE": self.read_file, "READBUFFER": self.read_buffer,
            "UNLINKFILE": self.unlink_file,
        }

    # --- the line discipline -------------------------------------------------------------

    def write(self, text):
        self.out.write(text)

    def line(self, text=""):
        self.out.write(text)
        self.out.write("\r\n")

    def _flush(self):
        f = getattr(self.out, "flush", None)
        if f is not None:
            f()

    def readline(self):
        """One command line, echoed as typed (backspace edits); None at the end of input or
        on Ctrl-C. A line over _LINE characters comes back as False."""
        n = 0
        over = False
        while True:
            c = self.inp.read(1)
            if not c or c == "\x03":
                return None
            if c == "\r":
                self.write("\r\n")
                if over:
                    return False
                return bytes(self._line[:n]).decode("utf-8", "replace")
            if c == "\n":
                continue  # CR ends a line; the LF of a CRLF is dropped
            if c in "\x08\x7f":
                if n:
                    n -= 1
                    self.write("\x08 \x08")
                continue
            self.write(c)
            for b in c.encode():
                if n < _LINE:
                    self._line[n] = b
                    n += 1
                else:
                    over = True
            self._flush()

    def run(self):
        """Serve commands until the input ends or Ctrl-C."""
        self.write("> ")
        self._flush()
        try:
            while True:
                text = self.readline()
                if text is None:
                    return
                if text is False:
                    self.line("ERR: a command line is at most %d characters" % _LINE)
                else:
                    self.execute(text.strip())
                self.write("> ")
                self._flush()
        except KeyboardInterrupt:
            self.line()

    def execute(self, text):
        if not text:
            return
        if text[:3].upper() != "AT+":
            # the EI AT server's words (the daemon sends "b" on connecting, and skips this)
            self.line("ERR: Not a valid AT command (%s)" % text[:40])
            return
        name, eq, args = text[3:].partition("=")
        handler = self.commands.get(name.upper())
        if handler is None:
            self.line("ERR: unknown command AT+%s (AT+HELP lists them)" % name[:40])
            return
        try:
            handler(args.split(",") if eq else None)
        except Refused as e:
            self.line("ERR: %s" % e)
        except Exception as e:  # never a crash: the daemon sees an ERR line
            self.line("ERR: %s: %s" % (type(e).__name__, e))

    # --- settings ------------------------------------------------------------------------

    def _cfg(self):
        return collector.board()

    def _set(self, **changes):
        """Change config keys (None removes), check, save; put them back if refused."""
        b, cfg = self._cfg()
        old = {}
        for k in changes:
            old[k] = cfg.get(k)
        for k in changes:
            v = changes[k]
            if v is None:
                cfg.pop(k, None)
            else:
                cfg[k] = v
        try:
            collector.save_config()
        except Exception as e:
            for k in old:
                if old[k] is None:
                    cfg.pop(k, None)
                else:
                    cfg[k] = old[k]
            raise Refused(str(e))

    def _args(self, args, least, most, usage):
        if args is None or not least <= len(args) <= most:
            raise Refused("usage: " + usage)
        return [a.strip() for a in args]

    def _ok(self):
        self.line("OK")

    def help(self, args):
        for h in _HELP:
            self.line(h)

    def clear(self, args):
        changes = {}
        for k in _SETTINGS:
            changes[k] = None
        self._set(**changes)
        self._ok()

    def device_id(self, args):
        (v,) = self._args(args, 1, 1, "AT+DEVICEID=<id>")
        self._set(device_id=wire.check_header(v, "device id"))
        self._ok()

    def upload_host(self, args):
        (url,) = self._args(args, 1, 1, "AT+UPLOADHOST=<http(s)://host[:port]>")
        tls = url.startswith("https://")
        if not (tls or url.startswith("http://")):
            raise Refused("the upload host must start with http:// or https://")
        host, _, port = url.split("://", 1)[1].rstrip("/").partition(":")
        if not host or "/" in host:
            raise Refused("the upload host is http(s)://host[:port], not %r" % url[:60])
        try:
            port = int(port) if port else None
        except ValueError:
            raise Refused("the upload host's port is not a number")
        self._set(host=wire.check_header(host, "host"), tls=tls, port=port)
        self._ok()

    def mgmt_settings(self, args):
        (url,) = self._args(args, 1, 1, "AT+MGMTSETTINGS=<ws(s)://host[:port]>")
        from ei.websocket import parse_url
        try:
            parse_url(url)
        except ValueError as e:
            raise Refused(str(e))
        self._set(remote_mgmt_url=url)
        self._ok()

    def upload_settings(self, args):
        key, path = self._args(args, 2, 2, "AT+UPLOADSETTINGS=<api key>,<path>")
        from ei.remote_mgmt import category_of
        try:
            category_of(path)
        except ValueError as e:
            raise Refused(str(e))
        # config.check() names a wrong key without showing it (and loads no socket code)
        self._set(api_key=key, upload_path=path)
        self._ok()

    def sample_settings(self, args):
        a = self._args(args, 3, 4, "AT+SAMPLESETTINGS=<label>,<interval ms>,<length ms>"
                       "[,<hmac key>]")
        label = _check_label(a[0])
        try:
            interval = float(a[1])
            length = int(float(a[2]))
        except ValueError:
            raise Refused("interval and length must be numbers (ms)")
        if not interval > 0 or length <= 0:
            raise Refused("interval and length must be > 0 ms")
        changes = {"sample_label": label, "interval_ms": interval, "sample_length_ms": length}
        if len(a) == 4:
            changes["hmac_key"] = a[3] or None
        self._set(**changes)
        self._ok()

    # --- AT+CONFIG? ----------------------------------------------------------------------

    def _settings(self):
        b, cfg = self._cfg()
        return (b, cfg, cfg.get("sample_label", _LABEL),
                cfg.get("interval_ms") or b.INTERVAL_MS,
                cfg.get("sample_length_ms", _LENGTH_MS), cfg.get("upload_path", _PATH))

    def _device_id(self, b, cfg):
        return (cfg.get("device_id") or cfg.get("device_name") or _call(b, "device_name")
                or "00:00:00:00:00:00")

    def self_uploads(self):
        """True when the board's own network and remote management are up (config
        "remote_mgmt" on a board with a network that setup() brought up): it then uploads
        its samples itself, and the daemon steps aside."""
        b, cfg = self._cfg()
        return bool(cfg.get("remote_mgmt") and getattr(b, "NETWORK", None) is not None
                    and collector._network)

    def _host(self, cfg):
        tls = cfg.get("tls", True)
        return "%s://%s" % ("https" if tls else "http", wire.host_header(
            cfg.get("host", "ingestion.edgeimpulse.com"), cfg.get("port"), tls))

    def config(self, args):
        from ei.remote_mgmt import URL
        b, cfg, label, interval, length, path = self._settings()
        up = self.self_uploads()
        wifi = getattr(b, "NETWORK", None) == "wifi"
        L = self.line
        L("===== Device info =====")
        L("ID:         " + self._device_id(b, cfg))
        L("Type:       " + b.DEVICE_TYPE)
        L("AT Version: " + AT_VERSION)
        L("Data Transfer Baudrate: 115200")  # no baud switching: USB serial ignores it
        L()
        L("===== Sensors ======")
        L("Name: %s, Max sample length: %ds, Frequencies: [%s]" % (
            self.sensor_name(), 300, ", ".join("%.2fHz" % f for f in self.frequencies())))
        L()
        L("===== Snapshot ======")
        L("Has snapshot:         0")
        L("Supports stream:      0")
        L()
        L("===== Inference ======")  # as the ESP32 firmware prints it; no model runs here
        L("Sensor:           2")
        L("Model type:       classification")
        L()
        L("===== WIFI =====")
        # Present only while joined: the daemon's Wi-Fi wizard (AT+WIFI) is not served
        L("SSID:      " + (cfg.get("wifi_ssid", "") if wifi else ""))
        L("Password:  ")  # never shown
        L("Security:  0")
        L("MAC:       " + (_call(b, "device_name") or "" if wifi else ""))
        L("Connected: %d" % (wifi and collector._network))
        L("Present:   %d" % (wifi and collector._network))
        L()
        L("===== Sampling parameters =====")
        L("Label:     " + label)
        L("Interval:  %.2f ms." % interval)
        L("Length:    %d ms." % length)
        # the keys as the official firmwares print them: the daemon reads them here
        L("HMAC key:  " + cfg.get("hmac_key", "please-set-me"))
        L()
        L("===== Upload settings =====")
        L("Api Key:   " + cfg["api_key"])
        L("Host:      " + self._host(cfg))
        L("Path:      " + path)
        L()
        L("===== Remote management =====")
        L("URL:        " + cfg.get("remote_mgmt_url", URL))
        L("Connected:  %d" % up)
        L("Last error: ")

    def sensor_name(self):
        return self._cfg()[1].get("sensor_name", "Accelerometer")

    def frequencies(self):
        b, cfg = self._cfg()
        src = collector.sensor()
        if getattr(src, "fifo", False):
            return [src.rate_hz]
        return [1000 / (cfg.get("interval_ms") or b.INTERVAL_MS)]

    # --- sampling ------------------------------------------------------------------------

    def _folder(self):
        return collector._home + "/" + _FOLDER if collector._home else _FOLDER

    def sample_start(self, args):
        b, cfg, label, interval, length, path = self._settings()
        if args is not None and args[0].strip() and args[0].strip() != self.sensor_name():
            raise Refused("unknown sensor %r (this device has %r)" % (
                args[0].strip()[:40], self.sensor_name()))
        label = _check_label(label)
        from ei.remote_mgmt import category_of
        category = category_of(path)
        src = collector.sensor()
        if getattr(src, "fifo", False):
            interval = 1000 / src.rate_hz  # the FIFO's rows come at the chip's own rate
        rows = int(length / interval + 0.5)
        if rows < 1:
            raise Refused("the length is less than one interval")
        folder = self._folder()
        _mkdir(folder)
        name = folder + "/" + label
        L = self.line
        L("Sampling settings:")
        L("\tInterval: %.5f ms." % interval)
        L("\tLength: %d ms." % length)
        L("\tName: " + label)
        L("\tFile name: " + name)
        L("Samples req: %d" % rows)
        L("Starting in %d ms..." % self.start_delay_ms)
        self._flush()
        sleep_ms(self.start_delay_ms)
        L("Sampling...")
        self._flush()
        from ei.sampler import sample
        capture = collector._path(cfg, "capture_path", "capture.eic")
        s = sample(src, interval, rows, device_type=b.DEVICE_TYPE,
                   device_name=cfg.get("device_name") or _call(b, "device_name"), path=capture)
        L("Done sampling, total samples collected: %d" % len(s))
        L("Processing...")
        self._flush()
        from ei import encoder
        from ei.compat import unix_time
        key = cfg.get("hmac_key")
        # signed as an upload would be (iat once the clock is set); no client: a board
        # without a network has no socket module
        enc = encoder.Encoding("cbor", False, key, unix_time() if key else None)
        with open(name, "wb") as f:
            encoder.write(s, enc, f.write)
        _remove(capture)
        self.last_file = name
        L("Done processing")
        if self.self_uploads():
            L("Uploading... '%s' to %s%s..." % (name, self._host(cfg), path))
            self._flush()
            stored = collector.client().upload_encoded(
                name, label, category=category, label=label, content_type="application/cbor",
                add_date_id=True)
            _remove(name)
            L("File uploaded (%s)" % stored)
        else:
            L("Not uploading file, not connected to WiFi.")
        self._ok()

    def _file(self, name):
        """name if it is a sample file this daemon wrote (never config.json or the like)."""
        folder = self._folder()
        base = name[len(folder) + 1:] if name.startswith(folder + "/") else ""
        if not base or "/" in base or base[0] == ".":
            raise Refused("no sample file %r (AT+SAMPLESTART names its file)" % name[:60])
        return name

    def _base64(self, name, start, end):
        buf = bytearray(_CHUNK)
        with open(name, "rb") as f:
            f.seek(start)
            left = end - start
            while left > 0:
                n = f.readinto(memoryview(buf)[:min(_CHUNK, left)])
                if not n:
                    break
                self.write(b2a_base64(memoryview(buf)[:n])[:-1].decode())
                left -= n
        self.line()  # so that the daemon's CRLF slicing keeps exactly the base64

    def _speed(self, args, i):
        if len(args) > i and args[i].strip() not in ("y", "n", ""):
            raise Refused("the last argument is y or n (this board stays at 115200 baud)")

    def read_file(self, args):
        a = self._args(args, 1, 2, "AT+READFILE=<file>[,y|n]")
        self._speed(a, 1)
        name = self._file(a[0])
        size = _size(name)
        self._base64(name, 0, size)

    def read_buffer(self, args):
        a = self._args(args, 2, 3, "AT+READBUFFER=<from>,<to>[,y|n]")
        self._speed(a, 2)
        if self.last_file is None:
            raise Refused("no sample yet: AT+SAMPLESTART first")
        try:
            start, end = int(a[0]), int(a[1])
        except ValueError:
            raise Refused("from and to must be whole numbers")
        size = _size(self.last_file)
        if not 0 <= start <= end <= size:
            raise Refused("from and to must be within the sample's %d bytes" % size)
        self._base64(self.last_file, start, end)

    def unlink_file(self, args):
        (name,) = self._args(args, 1, 1, "AT+UNLINKFILE=<file>")
        _size(self._file(name))
        _remove(name)  # an empty answer: the daemon takes anything else as a failure


def _check_label(label):
    try:
        wire.check_header(label, "label")
    except ValueError as e:
        raise Refused(str(e))
    if "/" in label or "\\" in label or label[0] == ".":
        raise Refused("the label names the sample's file: no /, \\ or leading .")
    return label


def _call(b, name):
    f = getattr(b, name, None)
    return f() if f is not None else None


def _size(path):
    import os
    try:
        return os.stat(path)[6]
    except OSError:
        raise Refused("no file %s" % path)


def _remove(path):
    import os
    try:
        os.remove(path)
    except OSError:
        pass


def _mkdir(path):
    import os
    try:
        os.mkdir(path)
    except OSError:
        pass  # it is there already


def daemon(inp=None, out=None, start_delay_ms=_START_DELAY_MS):
    """Serve edge-impulse-daemon's AT commands on the REPL's serial port (or on the streams
    inp and out) until the input ends or Ctrl-C."""
    Daemon(inp or sys.stdin, out or sys.stdout, start_delay_ms).run()
