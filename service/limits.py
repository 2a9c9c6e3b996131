"""Limits on what a client sends, applied while it sends it: the request body in time (408) and
each file in size (400 as soon as it passes the limit), each file received straight to disk.

The time limit itself is the connection's (server.py: a head or a body slower than MIN_RATE,
or silent for `timeout` s, raises TimeoutError from the socket); the body here turns that into
408 and a malformed chunked body into 400.
"""
import hashlib
import os
import uuid

from werkzeug.wrappers import Request

from service.config import MAX_FILE_BYTES, MIN_RATE
from service.web import Rejected


class Body:
    """wsgi.input, answering 408 for a client too slow and 400 for a malformed chunked body."""

    def __init__(self, stream, timeout):
        self._stream, self._timeout = stream, timeout

    def _guard(self, read, size):
        try:
            return read(size)
        except TimeoutError:
            raise Rejected(408, "Request Timeout: the body came in at under %d bytes/s, or nothing came "
                                "for %g s" % (MIN_RATE, self._timeout))
        except ConnectionError:
            raise
        except OSError as e:  # werkzeug's DechunkedInput on a bad chunk header or length
            raise Rejected(400, "Malformed chunked body: %s" % e)

    def read(self, size=-1):
        # read1: at most one recv, so the parser works on what has come
        return self._guard(getattr(self._stream, "read1", self._stream.read), size)

    def readline(self, size=-1):
        return self._guard(self._stream.readline, size)


def too_big(file_name, size, limit, at_least=""):
    return Rejected(400, "File too large: %s is %s%d bytes; at most %d bytes per file (the service takes 100 MB)"
                    % (file_name, at_least, size, limit))


class Incoming:
    """One file being received, written to the store's temporary path as it comes, with its
    SHA-256 and MD5 computed on the way; refused as soon as it passes `limit`."""

    def __init__(self, store, limit, file_name):
        self.path = store.temp_path(uuid.uuid4().hex)
        self.file = open(self.path, "w+b")
        self.limit, self.file_name, self.size = limit, file_name or "", 0
        self._sha256, self._md5 = hashlib.sha256(), hashlib.md5()

    def write(self, data):
        self.size += len(data)
        if self.size > self.limit:
            raise too_big(self.file_name, self.size, self.limit, "at least ")
        self._sha256.update(data)
        self._md5.update(data)
        return self.file.write(data)

    def finish(self):
        """Flushed to disk, ready to be renamed into the store; the file is left at its start."""
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.seek(0)
        self.sha256, self.md5 = self._sha256.hexdigest(), self._md5.hexdigest()
        return self

    def discard(self):
        self.file.close()
        try:
            os.remove(self.path)
        except OSError:
            pass

    # what werkzeug's FileStorage uses of its stream
    def seek(self, *a):
        return self.file.seek(*a)

    def read(self, *a):
        return self.file.read(*a)

    def tell(self):
        return self.file.tell()

    def close(self):
        self.file.close()


class ServiceRequest(Request):
    """A request whose multipart files are received to the store's disk, one Incoming each
    (the list of them is kept in `incoming`, so the view can discard what it does not store)."""
    max_file_bytes = MAX_FILE_BYTES
    store = None

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        part = Incoming(self.store, self.max_file_bytes, filename)
        self.incoming.append(part)
        return part

    @property
    def incoming(self):
        if "service.incoming" not in self.environ:
            self.environ["service.incoming"] = []
        return self.environ["service.incoming"]

    def make_form_data_parser(self):
        parser = super().make_form_data_parser()
        parser.silent = False  # a malformed multipart body is a 400 with werkzeug's reason
        return parser
