# The errors only some paths raise: the service's answers other than 200 (IngestionError and
# its kinds), /files (NotDelivered), the offline queue (QueueFull), a capture (CaptureStopped)
# and a full flash (FlashFull). Named through ei.errors (or ei), which loads this module the
# first time one is named: an upload that raises none never keeps their classes. Import them
# from ei.errors, not from here.


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


class NotDelivered(Exception):
    """upload_files: some files are not on the service. results holds, for every file in
    order, (file_name, delivered, detail); error is the last error of the request (None when
    the service refused files as invalid). The message names the files not delivered (the
    first ten) and why."""


class QueueFull(Exception):
    """The offline queue has no room for an entry under its max_bytes (policy "refuse")."""


class FlashFull(OSError):
    """The board's file system had no room for what was being written to `path` (errno
    ENOSPC, as the OSError it replaces); the file keeps what was written before."""

    def __init__(self, message, path):
        super().__init__(28, message)
        self.path = path

    def __str__(self):
        return str(self.args[1])


class CaptureStopped(Exception):
    """A capture stopped before its end: the sensor failed (an I2C OSError, a driver's
    SensorError, a row that is not numbers) or flash did. `sample` holds the rows read
    before it, with their true length (None when no row was read); `rows` is how many were
    asked for; `error` is what was raised. Such a sample is queued (when queuing) or kept,
    never uploaded in place of the whole one."""

    def __init__(self, message, sample, rows, error):
        super().__init__(message)
        self.sample = sample
        self.rows = rows
        self.error = error
