# /files' answer, read file by file as it streams past, and what upload_files() returns: one
# byte of outcome a file. Loaded by ei/files.py only; it imports nothing of it.
import json

from ei.compat import const

# A file's outcome, in its byte of Upload.state: the low 4 bits are settled, the high 4 what
# the answer being read says (settled once the answer is known to name every file sent).
PENDING = const(0)
NAMED = const(1)    # stored under the name it was sent with (the usual answer)
OTHER = const(2)    # stored; its detail (another name, a sample id) is in `details`
ALREADY = const(3)  # the service had it already
STORED = const(4)   # stored, in a request whose 200 named no file
REFUSED = const(5)  # refused as invalid; the reason is in `details`

_ENTRY = const(384)  # longest per-file result parsed: the answer's buffer (stream.CHUNK)
                     # less a line (wire._LINE), which the reader must still have room for


class Answer:
    """The per-file results of a /files answer, {"success", "files": [{"success",
    "fileName" or "sampleId", "error"}, ...]}, read as the answer streams past: each object of
    the "files" array is kept in the buffer the answer is read through (feed is a
    wire.read_response sink) until it ends, then parsed alone, so a 1000-file answer needs no
    buffer of its own. Each is the fate of the next file of the upload's batch: what it says
    goes in that file's state (the high 4 bits), its detail in `said` when it is not the
    file's name. count: entries read; broken: one was over _ENTRY bytes or not JSON."""

    def __init__(self, upload):
        self.up = upload
        self.files = upload.batch()
        self.count = 0
        self.broken = False
        self.said = {}
        self.depth = 0
        self.mode = 0  # 1: in a string, 2: after its backslash, 4: in an entry too long

    def feed(self, buf, keep, a, b):
        depth, mode = self.depth, self.mode
        for i in range(a, b):
            c = buf[i]
            if mode & 2:
                mode &= ~2
            elif mode & 1:
                if c == 0x5C:  # backslash
                    mode |= 2
                elif c == 0x22:
                    mode &= ~1
            elif c == 0x22:
                mode |= 1
            elif c == 0x7B or c == 0x5B:  # { [
                depth += 1
                if depth == 3 and c == 0x7B:  # an object in the top object's array
                    keep = i
            elif c == 0x7D or c == 0x5D:  # } ]
                if depth == 3 and (keep >= 0 or mode & 4):
                    self.count += 1
                    if keep < 0 or not self.entry(bytes(buf[keep:i + 1])):
                        self.broken = True
                    keep = -1
                    mode &= ~4
                depth -= 1
        if keep >= 0 and b - keep > _ENTRY:
            mode |= 4
            keep = -1
        self.depth, self.mode = depth, mode
        return keep

    def entry(self, text):
        try:
            f = json.loads(text)
            ok = f.get("success") is True
            detail = f.get("fileName") or f.get("sampleId")
            why = str(f.get("error") or "")
        except (ValueError, AttributeError):
            return False
        for i in self.files:
            if ok:
                detail = "" if detail is None else str(detail)
                said = NAMED if detail == self.up.files[i][0] else OTHER
            else:
                said = ALREADY if "already exists" in why else REFUSED
                detail = why
            if said == OTHER or said == REFUSED:
                self.said[i] = detail
            self.up.state[i] |= said << 4
            break  # (more entries than files: count says so)
        return True


class Results:
    """What upload_files() returns (and NotDelivered.results): one (file_name, delivered,
    detail) a file, in order, read as from a list (len, index, slices, iteration, ==), made
    when asked for from a byte a file, the caller's list of files and the details that are
    not a file's own name: 1,000 results need 1 KB, not 1,000 tuples."""

    def __init__(self, files, state, details, error):
        self.files = files
        self.state = state
        self.details = details
        self.error = error

    def __len__(self):
        return len(self.state)

    def __getitem__(self, i):
        n = len(self.state)
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(n))]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("results index out of range")
        name = self.files[i][0]
        s = self.state[i]
        if s == PENDING:
            return name, False, "not delivered: %s" % (self.error,)
        if s == REFUSED:
            return name, False, "refused: " + self.details[i]
        return name, True, (name, self.details.get(i), "already stored", "stored")[s - 1]

    def __eq__(self, other):
        return list(self) == other

    def __repr__(self):
        return repr(list(self))
