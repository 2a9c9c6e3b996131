# Typed errors. They carry what a user needs (status, the server's text, which argument and
# why) and never a secret: no API key or HMAC key is ever put in a message.
#
# Their words are not kept in RAM: an error is raised with a Msg (a number and the values it
# names), whose text is put together from ei/messages.py when it is shown, that module loaded
# then and forgotten after. Each module numbers the texts it raises with _M_NAME = const(n):
# the compiler folds them, so a check costs its module two bytes, not a string.
#
# Only the transport's errors are made here, at `import ei` (every module catches them); the
# service's answers (IngestionError and its kinds, for_status) and the errors of /files, the
# queue, a capture and a full flash are in ei/errors_rare.py, made the first time one is
# named (from ei.errors import Duplicate, ei.Duplicate): an upload that raises none never
# keeps their classes (measured on f32, .mpy and frozen). This module imports nothing.


class Msg:
    """An error's text, made when it is shown (str(), a traceback): raise
    ValueError(Msg(_M_ROWS, rows, n)) is a ValueError whose str() is messages.TEXTS[_M_ROWS]
    % (rows, n). The values are kept, the words loaded only then (ei/messages.py)."""

    def __init__(self, code, *args):
        self.code = code
        self.args = args

    def __str__(self):
        try:
            from ei.messages import text
        except MemoryError:  # no room for the words (about 10 KB from .mpy): the number
            import sys  # (its text in ei/messages.py) and the values say it
            sys.modules.pop("ei.messages", None)  # (not left half-loaded)
            return "ei error %d: %s" % (self.code, "; ".join([str(a) for a in self.args]))
        return text(self.code, self.args)

    def __repr__(self):
        return repr(str(self))


class TransportError(OSError):
    """The connection failed: name resolution, connect, TLS, a reset or a bad response."""


class CertificateError(TransportError):
    """The server's certificate did not verify against the CA given, or names another host:
    a retry would meet the same certificate, so none is made."""


class Timeout(TransportError):
    """A connect, write or read did not finish within the client's timeout."""


def __getattr__(name):
    if name in ("IngestionError", "BadRequest", "Duplicate", "Unauthorized", "MissingHeader",
                "ServerError", "for_status", "DUPLICATE_TEXT", "NotDelivered", "QueueFull",
                "FlashFull", "CaptureStopped"):
        value = getattr(__import__("ei.errors_rare", None, None, ("_",)), name)
        globals()[name] = value  # found directly next time
        return value
    raise AttributeError("module 'ei.errors' has no attribute '%s'" % name)
