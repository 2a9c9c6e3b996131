# The offline queue: samples wait on flash until the ingestion service has them, in order,
# each exactly once, whatever the network and the power do meanwhile.
#
# On flash: a folder of its own (the queue moves aside any file it does not recognise).
#   NNNNNNNN.eiq   one entry; NNNNNNNN is its sequence number (8 digits), the send order
#   NNNNNNNN.tmp   an entry being written; left over only by a cut, and removed on open
#   aside/         entries that are torn, foreign or refused by the service: kept, not sent
# An entry is one line of text, then the body:
#   EIQ1 {"category": "training", "label": "idle", "file_name": "idle.cbor",
#         "content_type": "application/cbor", "no_label": false, "add_date_id": true,
#         "size": 1234}\n
#   then exactly `size` bytes: the data acquisition object as it goes to /api/{category}/data
#   (signed already when the queue has an HMAC key). No API key is ever written.
# Any runtime reads it: the board, or CPython on a host that flushes a copied queue.
#
# Power-safe: an entry is written under its .tmp name, synced, closed, then renamed; removal is
# one unlink. A cut at any instant leaves the old state or the new one, on a file system whose
# rename is atomic (LittleFS, which MicroPython boards use; FAT's is not). Sends are duplicate
# safe: every queued upload carries x-disallow-duplicates, so an entry that was stored but not
# yet removed when the power went is answered "already exists" next time: delivered, removed.
# Byte-identical samples are one sample to the service for the same reason.
import gc
import os

from ei import encoder, errors, wire
from ei.compat import FLOAT32, sync, ilistdir, const
from ei.errors import Msg
from ei.log import log, INFO, WARNING

_MAGIC = b"EIQ1 "
_EXT = ".eiq"
_TMP = ".tmp"
_ASIDE = "aside"
_MAX_HEADER = 1024  # longest first line accepted (a foreign file is never read whole)
_BATCH = 16         # entries' numbers found by one pass over the folder
_KEEP = 16          # names kept in delivered, dropped and aside by default
POLICIES = ("refuse", "drop_oldest")
_DIR = 0x4000
_MAX_SIZE = 100 * 1024 * 1024  # the service's most for a file
_TYPES = ("application/cbor", "application/json")
# error texts (ei/messages.py)
_M_POLICY = const(126)
_M_MAX_BYTES = const(127)
_M_ENTRY_HEADER = const(128)
_M_ENCODED_SIZE = const(129)
_M_ENTRY_TOO_BIG = const(130)
_M_QUEUE_FULL = const(131)


def _seq(name):
    """The sequence number of an entry or temporary file name, or None."""
    stem = name[:8]
    if len(name) == 12 and stem.isdigit() and name[8:] in (_EXT, _TMP):
        return int(stem)
    return None


def _name(seq):
    return "%08d%s" % (seq, _EXT)


def _check(meta):
    """Why a parsed header is not one the queue can send, or None. (Label and file name
    are checked again as they are sent: an entry the client refuses is moved aside then.)"""
    if not isinstance(meta, dict):
        return "not an object"
    size = meta.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= _MAX_SIZE:
        return "size is not a number of bytes the service takes"
    if meta.get("category") not in wire.CATEGORIES:
        return "no category of the service's"
    if meta.get("content_type") not in _TYPES:
        return "a content type the service does not take"
    name = meta.get("file_name")
    if not isinstance(name, str) or not name:
        return "no file name"
    label = meta.get("label")
    if label is not None and (not isinstance(label, str) or not label):
        return "a label that is not a string"
    for flag in ("no_label", "add_date_id"):
        if not isinstance(meta.get(flag, False), bool):
            return "%s is not true or false" % flag
    metadata = meta.get("metadata")
    if metadata is not None and not isinstance(metadata, str):
        return "metadata is not x-metadata's text"
    return None


class Queue:
    """Samples kept on flash under `path` until flush(client) has delivered them.

    max_bytes bounds the flash used by entries; when a new one does not fit, policy "refuse"
    raises QueueFull and keeps what is queued, "drop_oldest" removes (and reports) the oldest
    entries until it fits. hmac_key signs entries as they are queued (HS256); float32 writes
    32-bit CBOR floats (None: when the board's floats are single precision). `aside` lists
    (name, reason) of files moved aside, `dropped` the names of entries dropped for room,
    `delivered` the names of entries the service has (flush), since this Queue was made: the
    last `keep` of each (None: all of them, as a host draining a board's queue wants).

    Entries are read from flash as they are needed, never kept in RAM: the queue holds their
    count and their bytes, so a queue of 1,000 entries takes the heap that one of 10 takes."""

    def __init__(self, path, max_bytes=1 << 20, policy="refuse", hmac_key=None,
                 float32=None, iat=True, chunk=encoder.CHUNK, keep=_KEEP):
        if policy not in POLICIES:
            raise ValueError(Msg(_M_POLICY, policy))
        if not isinstance(max_bytes, int) or max_bytes <= 0:
            raise ValueError(Msg(_M_MAX_BYTES, max_bytes))
        wire.check_hmac_key(hmac_key)
        self.path = path.rstrip("/") or "/"
        self.max_bytes = max_bytes
        self.policy = policy
        self._hmac_key = hmac_key
        self.float32 = FLOAT32 if float32 is None else bool(float32)
        self.iat = iat
        self.chunk = chunk
        self.keep = keep
        self.aside = []
        self._dropped = []    # sequence numbers: small ints, nothing on the heap an entry
        self._delivered = []
        self.sent = 0     # entries delivered since this Queue was made (delivered keeps names)
        self._count = 0   # entries on flash
        self.used = 0     # their bytes
        self._next = 1
        self._line = bytearray(_MAX_HEADER)  # each header is read into it
        self._open()

    def __repr__(self):  # no keys
        return "<Queue %s: %d entries, %d of %d bytes, %s>" % (
            self.path, self._count, self.used, self.max_bytes, self.policy)

    def __len__(self):
        return self._count

    def __iter__(self):
        """Each entry, oldest first, as a dict: name, bytes (on flash), category, label,
        file_name, content_type, ... (read from flash as it is reached)."""
        for seq in self._ordered():
            name = _name(seq)
            try:
                with open(self._file(name), "rb") as f:
                    found = self._header(name, f)
            except OSError:
                continue  # gone meanwhile
            if not isinstance(found, str):
                meta = found[0]
                meta["name"] = name
                meta["bytes"] = found[2]
                yield meta

    @property
    def delivered(self):
        return [_name(seq) for seq in self._delivered]

    @property
    def dropped(self):
        return [_name(seq) for seq in self._dropped]

    def _note(self, names, item):
        names.append(item)
        if self.keep is not None and len(names) > self.keep:
            names.pop(0)

    # --- opening: what a cut or a stranger left ----------------------------------------

    def _file(self, name):
        return self.path + "/" + name

    def _open(self):
        try:
            os.stat(self.path)
        except OSError:
            os.mkdir(self.path)
        # Passes over the folder, acting between them (a folder is not changed while it
        # is listed): each pass notes what must go (a cut's .tmp, a stranger's file, a
        # torn entry), up to _BATCH of them; the last pass, with nothing to do, counts.
        top = 0  # the highest number seen, a removed .tmp's too: never given again
        while True:
            todo = []
            count = used = 0
            for entry in ilistdir(self.path):
                name = entry[0]
                if name == _ASIDE:
                    continue
                seq = _seq(name)
                if seq is not None:
                    top = max(top, seq)
                if len(todo) >= _BATCH:
                    continue  # the next pass does the rest; this one still finds the top
                if seq is None:
                    todo.append((name, "not a queue entry"))
                elif name.endswith(_TMP):
                    todo.append((name, None))  # a put the cut interrupted: it never returned
                else:
                    found = self._read(name)
                    if isinstance(found, str):
                        todo.append((name, found))
                    else:
                        count += 1
                        used += found[2]
            for name, why in todo:
                if why is None:
                    os.remove(self._file(name))
                else:
                    self._move_aside(name, why)
            if not todo:
                break
        self._count, self.used, self._next = count, used, top + 1

    def _read(self, name):
        """(header, header length, total bytes) of a whole entry, or why it is not one."""
        try:
            with open(self._file(name), "rb") as f:
                return self._header(name, f)
        except OSError as e:
            return "unreadable (%r)" % (e,)

    def _header(self, name, f):
        """_read's work on the entry's open file, left at the start of the body."""
        from ei.peer_json import loads
        st = os.stat(self._file(name))
        if st[0] & _DIR:
            return "a folder"
        total = st[6]
        line = self._line
        n = f.readinto(line)
        end = line.find(b"\n", 0, n)
        if line[:5] != _MAGIC or end < 0:
            return "not a queue entry (no EIQ1 header)"
        try:
            # a flat object of 7 fields: nothing deeper, nothing more, is decoded
            meta = loads(line, 1, 16, 5, end)
            why = _check(meta)
        except ValueError:  # not JSON, not UTF-8, or past those bounds
            why = "not JSON"
        if why is not None:
            return "not a queue entry (bad EIQ1 header: %s)" % why
        size = meta["size"]
        if total != end + 1 + size:
            return "torn: %d bytes of body, not %d" % (total - end - 1, size)
        f.seek(end + 1)
        return meta, end + 1, total

    def _ordered(self):
        """The entries' sequence numbers, oldest first, found _BATCH at a time by a pass over
        the folder each (its listing is never held whole): entries removed meanwhile are
        passed over, entries put meanwhile come last."""
        after = -1
        batch = [0] * _BATCH  # the n smallest numbers above `after`, in order: one list for all
        while True:
            n = 0
            for entry in ilistdir(self.path):
                name = entry[0]
                seq = _seq(name)
                if seq is None or seq <= after or not name.endswith(_EXT):
                    continue
                if n == _BATCH:
                    if seq > batch[n - 1]:
                        continue
                    n -= 1
                i = n
                while i and batch[i - 1] > seq:  # insertion, in place
                    batch[i] = batch[i - 1]
                    i -= 1
                batch[i] = seq
                n += 1
            for i in range(n):
                yield batch[i]
            if n < _BATCH:
                return
            after = batch[n - 1]

    def _move_aside(self, name, why):
        folder = self._file(_ASIDE)
        try:
            os.stat(folder)
        except OSError:
            os.mkdir(folder)
        dest = name
        n = 1
        while True:
            try:
                os.stat(folder + "/" + dest)
            except OSError:
                break
            n += 1
            dest = "%s.%d" % (name, n)
        os.rename(self._file(name), folder + "/" + dest)
        self._note(self.aside, (name, why))
        log(WARNING, "queue: moved %s aside to %s/%s: %s" % (name, _ASIDE, dest, why))

    # --- put ---------------------------------------------------------------------------

    def put(self, sample, category="training", label=None, file_name=None, fmt="cbor",
            no_label=False, add_date_id=True, metadata=None):
        """Encode the sample to flash, streamed (never whole in RAM), and return the entry's
        name. It is checked as Client.upload checks it, so what is queued can be sent.
        add_date_id (on by default) gives each stored sample a unique name on the service,
        so that entries sharing a file name do not replace each other. metadata is kept in
        the entry and sent as x-metadata (Client.upload), kept as its JSON text."""
        import json
        file_name = wire.check_upload(sample, category, label, file_name, fmt, "put()")
        if metadata:  # kept as x-metadata's text: checked now, and sent as it is
            from ei.metadata import header
            metadata = header(metadata)
        enc = wire.encoding(fmt, self.float32, self._hmac_key, self.iat)
        size = encoder.encoded_len(sample, enc)
        meta = {"category": category, "label": label, "file_name": file_name,
                "content_type": enc.content_type, "no_label": bool(no_label),
                "add_date_id": bool(add_date_id), "size": size}
        if metadata:
            meta["metadata"] = metadata
        head = _MAGIC + json.dumps(meta).encode() + b"\n"
        if len(head) > _MAX_HEADER:
            raise ValueError(Msg(_M_ENTRY_HEADER, len(head), _MAX_HEADER))
        total = len(head) + size
        self._make_room(total)
        name = _name(self._next)
        tmp = self._file(name[:8] + _TMP)
        self._next += 1
        try:
            with open(tmp, "wb") as f:
                f.write(head)
                n = encoder.write(sample, enc, f.write, self.chunk)
                sync(f)
            if n != size:  # would be a bug in the encoder: never queue a wrong entry
                raise ValueError(Msg(_M_ENCODED_SIZE, n, size))
            os.rename(tmp, self._file(name))
        except BaseException:
            try:
                os.remove(tmp)
            except OSError:
                pass
            raise
        self._count += 1
        self.used += total
        return name

    def _make_room(self, total):
        if total > self.max_bytes:
            raise errors.QueueFull(Msg(_M_ENTRY_TOO_BIG, total, self.max_bytes))
        while self.used + total > self.max_bytes:
            if self.policy == "refuse":
                raise errors.QueueFull(Msg(_M_QUEUE_FULL, self._count, self.used,
                                           self.max_bytes, total))
            for seq in self._ordered():
                name = _name(seq)
                size = self._remove(name)
                self._note(self._dropped, seq)
                log(WARNING, "queue: dropped %s (%d bytes), the oldest, to make room"
                    % (name, size))
                break
            else:  # counted bytes with no entry left: what the folder holds is the truth
                self._count = self.used = 0

    def _remove(self, name):
        """Remove an entry from flash and from the count; its bytes."""
        p = self._file(name)
        size = os.stat(p)[6]
        os.remove(p)
        self._gone(size)
        return size

    def _gone(self, size):
        self._count -= 1
        self.used -= size

    # --- flush -------------------------------------------------------------------------

    def flush(self, client, limit=None):
        """Send queued entries, oldest first, each removed only once the service has it (a
        "duplicate" answer means it had it already). An entry that cannot be sent (refused
        as invalid by the service, 400, or by the client before sending: a header it cannot
        send) is moved aside with its reason, and the rest go on. Any other failure
        (network, 401, 5xx after the client's retries) raises and leaves the entry queued
        for the next flush. This is upload_files' per-file truth, an entry a file: "already
        exists" is delivered, invalid is refused and not sent again, anything else is sent
        again. Returns how many entries were delivered (their names go to `delivered`)."""
        sent = 0
        for seq in self._ordered():
            if limit is not None and sent >= limit:
                break
            name = _name(seq)
            # each upload starts on a heap with no garbage of the last (the folder's names,
            # a header, an answer) between its blocks: 1,000 entries then flush in the heap
            # that 10 need, not in one the holes have grown
            gc.collect()
            why = self._send(client, name)
            if why is None:
                self._remove(name)
                self._note(self._delivered, seq)
                sent += 1
                self.sent += 1  # counted as each goes: a flush cut short still counts it
            else:
                try:
                    size = os.stat(self._file(name))[6]
                    self._move_aside(name, why)
                    self._gone(size)
                except OSError:  # gone meanwhile: not ours to count any more
                    self._gone(0)
        if sent:
            log(INFO, "queue: %d entries delivered, %d left" % (sent, self._count))
        return sent

    def _send(self, client, name):
        """Upload one entry: None once the service has it, or why it cannot be sent."""
        try:
            f = open(self._file(name), "rb")
        except OSError as e:
            return "unreadable (%r)" % (e,)
        try:
            found = self._header(name, f)
            if isinstance(found, str):
                return found
            meta = found[0]
            try:
                client.upload_encoded(
                    f, meta["file_name"], category=meta["category"], label=meta["label"],
                    no_label=meta.get("no_label", False),
                    add_date_id=meta.get("add_date_id", False), disallow_duplicates=True,
                    content_type=meta["content_type"], size=meta["size"],
                    metadata=meta.get("metadata"))
            except errors.Duplicate:  # (the service's errors load when one is raised)
                pass  # the service has it: an earlier flush's answer was lost
            except errors.BadRequest as e:
                return "refused by the service: %s" % (e.body,)
            except (ValueError, TypeError) as e:  # refused before anything was sent
                return "cannot be sent: %s" % (e,)
            return None
        finally:
            f.close()
