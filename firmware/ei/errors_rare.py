# The errors only some paths raise: /files (NotDelivered), the offline queue (QueueFull), a
# capture (CaptureStopped) and a full flash (FlashFull). Named through ei.errors (or ei), which
# loads this module the first time one is named: an upload that raises none never keeps
# their classes. Import them from ei.errors, not from here.


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
        return self.args[1]


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
