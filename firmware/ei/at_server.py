# ei.daemon(): the serial AT protocol (version 1.8.0) that Edge Impulse's `edge-impulse-daemon`
# speaks to official dev kits, on the REPL's serial port (protocol notes, section 2). Bytes in
# (sys.stdin.buffer: a bare-metal port's sys.stdin turns CR into LF), each character echoed; CR,
# LF or CRLF ends a command; the answer follows the echo's CRLF, each line ends CRLF, and "> "
# asks for the next (the daemon keeps what lies between the first and the last CRLF).
# This module is the line discipline; what the commands share is ei/at_common.py's, the
# commands are in ei/at_settings.py (AT+CONFIG? and what persists in config.json), ei/at_sample.py
# (AT+SAMPLESTART) and ei/at_files.py (reading the sample back, unlinking it), loaded for
# the command that needs them and kept while the next commands are that module's (the daemon
# sends its settings in a row: on a Pico each module read again from flash would cost about
# 22 ms), forgotten when a command needs another: the heap holds one module's at a time.
# Every line ends in its answer: bad input is one "ERR: ..." line, never an exception.
import gc
import sys

from ei import collector
from ei.at_common import Refused, shown
from ei.compat import MICROPYTHON, const
from ei.errors import Msg
from ei.stream import decode

_LINE = const(256)        # bytes of a command line kept; a longer one is refused whole
_START_DELAY_MS = const(2000)
# each command and the module (ei.at_<module>) whose function of its name in lower case
# answers it (AT+HELP lists them with their arguments: ei.at_usage.USAGE)
COMMANDS = {
    "CONFIG?": "settings", "CLEARCONFIG": "settings", "DEVICEID": "settings",
    "UPLOADHOST": "settings", "MGMTSETTINGS": "settings", "UPLOADSETTINGS": "settings",
    "SAMPLESETTINGS": "settings", "SAMPLESTART": "sample", "READFILE": "files",
    "READBUFFER": "files", "UNLINKFILE": "files", "HELP": "settings"}
# what is read again when used rather than kept: the config's check (only the settings
# commands save) and the commands' own modules
_NOT_KEPT = ("ei.config", "ei.api_key")
# error texts (ei/messages.py)
_M_CONFIG_BROKEN = const(144)
_M_LINE_LONG = const(145)
_M_READ_BACK = const(146)
_M_AT_CONTROL = const(147)
_M_NOT_UTF8 = const(148)
_M_NOT_AT = const(149)
_M_UNKNOWN_COMMAND = const(150)


class Daemon:
    """The AT server on the byte streams inp (read(1) gives a byte, b"" at the end) and out
    (write(bytes)), for the board and config collector.board() gives. A text stream's
    .buffer is used where it has one. read_back: how the daemon is told to read a sample
    back, "buffer" (AT+READBUFFER of the bytes it names, as EI's ESP32 and RP2040 firmwares:
    Studio then shows the reading's progress) or "file" (AT+READFILE of the file it names)."""

    def __init__(self, inp, out, start_delay_ms=_START_DELAY_MS, read_back="buffer"):
        if read_back not in ("buffer", "file"):
            raise ValueError(Msg(_M_READ_BACK, read_back))
        self.inp = getattr(inp, "buffer", inp)
        self.out = getattr(out, "buffer", out)
        self.flush = getattr(self.out, "flush", None) or _nothing
        self.start_delay_ms = start_delay_ms
        self.read_back = read_back
        self._line = bytearray(_LINE)  # the command being typed
        self._cr = False               # the last byte was CR: a LF after it ends nothing
        self.kept = None               # the modules kept between commands (MicroPython)
        self._loaded = None            # the commands' module loaded beside them
        self.last_file = None          # the last sample's file (AT+READBUFFER reads it)

    # --- the line discipline -------------------------------------------------------------

    def write(self, text):
        self.out.write(text.encode() if isinstance(text, str) else text)

    def line(self, text=""):
        self.write(text)
        self.write(b"\r\n")

    def readline(self):
        """One command line as bytes, echoed as typed (backspace removes a character, all
        its UTF-8 bytes); None at the end of input or on Ctrl-C. A line over _LINE bytes is
        read to its end and comes back as False: the rest of it is dropped."""
        n = 0
        over = False
        buf = self._line
        while True:
            c = self.inp.read(1)
            if isinstance(c, str):  # a text stream (a port without sys.stdin.buffer)
                c = c.encode()
            if not c or c == b"\x03":
                return None
            o = c[0]
            cr = self._cr
            self._cr = o == 13
            if o == 13 or (o == 10 and not cr):
                self.write(b"\r\n")
                return False if over else bytes(buf[:n])
            if o == 10:
                continue  # the LF of a CRLF
            if o == 8 or o == 127:
                if n:
                    n -= 1
                    while n and buf[n] & 0xC0 == 0x80:  # a UTF-8 continuation byte
                        n -= 1
                    self.write(b"\x08 \x08")
                    self.flush()
            elif n < _LINE:
                buf[n] = o
                n += 1
                if o >= 32:  # control characters are kept (and refused) but not echoed
                    self.write(c)
                    self.flush()
            else:
                over = True

    def run(self):
        """Serve commands until the input ends or Ctrl-C. A config file that does not load
        is served with what could be read of it, so that the daemon can repair it: this
        says why first."""
        try:
            collector.board(True)
            why = collector.broken()
            if why:
                self.line("ERR: %s" % Msg(_M_CONFIG_BROKEN, why))
            collector.sensor()  # opened once, now: never mid-command
        except Exception as e:
            self.line("ERR: %s: %s" % (type(e).__name__, e))
        if MICROPYTHON:
            self.kept = [m for m in sys.modules if m not in _NOT_KEPT]
            forget(self.kept)
        self.write(b"> ")
        self.flush()
        try:
            while True:
                line = self.readline()
                if line is None:
                    return
                if line is False:
                    self.line("ERR: %s" % Msg(_M_LINE_LONG, _LINE))
                else:
                    self.execute(line)
                self.write(b"> ")
                self.flush()
        except KeyboardInterrupt:
            self.line()
        finally:
            self._load(None)  # the REPL gets the heap back as the daemon found it

    def execute(self, line):
        """Answer one command line (bytes)."""
        try:
            self._execute(line)
        except Refused as e:
            self.line("ERR: %s" % e)
        except Exception as e:  # never a crash: the daemon sees an ERR line
            self.line("ERR: %s: %s" % (type(e).__name__, e))

    def _load(self, module, function=None):
        """ei.at_<module>, for its `function` (module None: none), the last command's
        modules forgotten first if they were another's: what a sample loads (the sampler,
        the encoder) leaves before the files' commands come, and the settings' before the
        sample."""
        if self.kept is not None and module != self._loaded:
            forget(self.kept)
            gc.collect()  # now: the next module's code is laid out in what the last one left
        self._loaded = module
        if module is not None:
            return __import__("ei.at_" + module, None, None, (function,))

    def _execute(self, line):
        for o in line:
            if o < 32 or o == 127:
                raise Refused(Msg(_M_AT_CONTROL, o))
        text = decode(line)
        if text.encode() != line:  # a byte that is not UTF-8 became U+FFFD
            raise Refused(Msg(_M_NOT_UTF8, shown(text)))
        text = text.strip()
        if not text:
            return
        if text[:3].upper() != "AT+":
            # the EI AT server's words (the daemon sends "b" on connecting, and skips this)
            raise Refused(Msg(_M_NOT_AT, text[:40]))
        name, eq, args = text[3:].partition("=")
        name = name.upper()
        module = COMMANDS.get(name)
        if module is None:
            raise Refused(Msg(_M_UNKNOWN_COMMAND, name[:40]))
        function = name.rstrip("?").lower()
        args = args.split(",") if eq else None
        step = getattr(self._load(module, function), function)(self, args)
        while step:
            # a command in steps (AT+SAMPLESTART: the sampling, then the encoding), each its
            # module's: the next step's comes once the last one's has left the heap
            module, function, args = step
            step = getattr(self._load(module, function), function)(self, args)


def _nothing():
    pass


def forget(keep):
    """Forget every module not in keep: its code is on flash, read again when a command
    needs it. What one command loads (the sampler, the encoder, the config's check) then
    does not stay on the heap through the next, and a sample's sampling and its encoding
    take the heap in turn."""
    for name in list(sys.modules):
        if name not in keep:
            del sys.modules[name]
            parent, _, child = name.rpartition(".")
            if parent in sys.modules:
                try:
                    delattr(sys.modules[parent], child)  # the package keeps it too
                except (AttributeError, KeyError):
                    pass


def daemon(inp=None, out=None, start_delay_ms=_START_DELAY_MS, read_back="buffer"):
    """Serve edge-impulse-daemon's AT commands on the REPL's serial port (or on the streams
    inp and out) until the input ends or Ctrl-C."""
    Daemon(inp or sys.stdin, out or sys.stdout, start_delay_ms, read_back).run()
