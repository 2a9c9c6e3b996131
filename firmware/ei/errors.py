# Typed errors. They carry what a user needs (status, the server's text, which argument and
# why) and never a secret: no API key or HMAC key is ever put in a message.


class IngestionError(Exception):
    """The ingestion service answered with a status other than 200."""

    def __init__(self, status, body):
        super().__init__("ingestion service answered %d: %s" % (status, body))
        self.status = status
        self.body = body


class BadRequest(IngestionError):  # 400: the message is invalid; the body says why
    pass


class Duplicate(BadRequest):  # 400: x-disallow-duplicates and the dataset has this sample
    pass


# The service's words for a duplicate (as Edge Impulse's SDK tests and OpenMV's uploader see)
DUPLICATE_TEXT = "An item with this hash already exists"


class Unauthorized(IngestionError):  # 401: missing or invalid API key
    pass


class MissingHeader(IngestionError):  # 421: a required header is missing
    pass


class ServerError(IngestionError):  # 5xx: the service failed; worth a retry
    pass


def for_status(status, body):
    """The IngestionError subclass for an HTTP status."""
    if status == 400:
        if body.startswith(DUPLICATE_TEXT):
            return Duplicate(status, body)
        return BadRequest(status, body)
    if status == 401:
        return Unauthorized(status, body)
    if status == 421:
        return MissingHeader(status, body)
    if status >= 500:
        return ServerError(status, body)
    return IngestionError(status, body)


class TransportError(OSError):
    """The connection failed: name resolution, connect, TLS, a reset or a bad response."""


class CertificateError(TransportError):
    """The server's certificate did not verify against the CA given, or names another host:
    a retry would meet the same certificate, so none is made."""


class Timeout(TransportError):
    """A connect, write or read did not finish within the client's timeout."""


def __getattr__(name):
    # The errors only some paths raise (/files, the queue, a capture, a full flash) are
    # defined in ei/errors_rare.py and made when first named (from ei.errors import
    # FlashFull): an upload does not keep their classes and code (measured on f32, .mpy).
    if name in ("NotDelivered", "QueueFull", "FlashFull", "CaptureStopped"):
        value = getattr(__import__("ei.errors_rare", None, None, ("_",)), name)
        globals()[name] = value  # found directly next time
        return value
    raise AttributeError("module 'ei.errors' has no attribute '%s'" % name)
