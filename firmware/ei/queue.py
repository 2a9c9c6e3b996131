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
import json
import os

from ei import encoder, wire
from ei.compat import FLOAT32, sync
from ei.errors import BadRequest, Duplicate, QueueFull
from ei.log import log, INFO, WARNING

_MAGIC = b"EIQ1 "
_EXT = ".eiq"
_TMP = ".tmp"
_ASIDE = "aside"
_MAX_HEADER = 1024  # longest first line accepted (a foreign file is never read whole)
POLICIES = ("refuse", "drop_oldest")
_DIR = 0x4000


def _in_ram(meta):
    """What of an entry's header is kept in RAM: all but its x-metadata text (True in its
    place), read back from flash when the entry is sent. A recording queues a window a few
    seconds while offline, and each would hold its ~150 bytes of it on the heap."""
    if meta.get("metadata"):
        meta["metadata"] = True
    return meta


def _seq(name):
    """The sequence number of an entry or temporary file name, or None."""
    stem = name[:8]
    if len(name) == 12 and stem.isdigit() and name[8:] in (_EXT, _TMP):
        return int(stem)
    return None


class Queue:
    """Samples kept on flash under `path` until flush(client) has delivered them.

    max_bytes bounds the flash used by entries; when a new one does not fit, policy "refuse"
    raises QueueFull and keeps what is queued, "drop_oldest" removes (and reports) the oldest
    entries until it fits. hmac_key signs entries as they are queued (HS256); float32 writes
    32-bit CBOR floats (None: when the board's floats are single precision). `aside` lists
    (name, reason) of files moved aside, `dropped` the names of entries dropped for room,
    `delivered` the names of entries the service has (flush),
    since this Queue was made."""

    def __init__(self, path, max_bytes=1 << 20, policy="refuse", hmac_key=None,
                 float32=None, iat=True, chunk=encoder.CHUNK):
        if policy not in POLICIES:
            raise ValueError("policy must be 'refuse' or 'drop_oldest', not %r" % (policy,))
        if not isinstance(max_bytes, int) or max_bytes <= 0:
            raise ValueError("max_bytes must be a whole number > 0, not %r" % (max_bytes,))
        wire.check_hmac_key(hmac_key)
        self.path = path.rstrip("/") or "/"
        self.max_bytes = max_bytes
        self.policy = policy
        self._hmac_key = hmac_key
        self.float32 = FLOAT32 if float32 is None else bool(float32)
        self.iat = iat
        self.chunk = chunk
        self.aside = []
        self.dropped = []
        self.delivered = []
        self._entries = []  # [(name, total bytes, header dict, header length)], oldest first
        self._next = 1
        self._open()

    def __repr__(self):  # no keys
        return "<Queue %s: %d entries, %d of %d bytes, %s>" % (
            self.path, len(self._entries), self.used, self.max_bytes, self.policy)

    def __len__(self):
        return len(self._entries)

    def __iter__(self):
        """Each entry, oldest first, as a dict: name, size (bytes on flash), category, label,
        file_name, content_type."""
        for name, total, meta, _ in self._entries:
            e = dict(meta)
            e["name"] = name
            e["bytes"] = total
            yield e

    @property
    def used(self):
        n = 0
        for e in self._entries:
            n += e[1]
        return n

    # --- opening: what a cut or a stranger left ----------------------------------------

    def _file(self, name):
        return self.path + "/" + name

    def _open(self):
        try:
            os.stat(self.path)
        except OSError:
            os.mkdir(self.path)
        names = sorted(os.listdir(self.path))
        top = 0
        for name in names:
            seq = _seq(name)
            if name == _ASIDE:
                continue
            if seq is not None and name.endswith(_TMP):
                os.remove(self._file(name))  # a put the cut interrupted: it never returned
                top = max(top, seq)
                continue
            if seq is None:
                self._move_aside(name, "not a queue entry")
                continue
            top = max(top, seq)
            checked = self._check(name)
            if isinstance(checked, str):
                self._move_aside(name, checked)
            else:
                self._entries.append(checked)
        self._next = top + 1

    def _check(self, name):
        """(name, total, header, header length) for a whole entry, or why it is not one."""
        p = self._file(name)
        try:
            st = os.stat(p)
            if st[0] & _DIR:
                return "a folder"
            total = st[6]
            with open(p, "rb") as f:
                first = f.read(_MAX_HEADER)
        except OSError as e:
            return "unreadable (%r)" % (e,)
        end = first.find(b"\n")
        if not first.startswith(_MAGIC) or end < 0:
            return "not a queue entry (no EIQ1 header)"
        try:
            meta = json.loads(first[len(_MAGIC):end].decode())
            size = meta["size"]
            ok = (isinstance(size, int) and meta["category"] in wire.CATEGORIES
                  and meta["content_type"] in ("application/cbor", "application/json")
                  and isinstance(meta["file_name"], str))
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            return "not a queue entry (bad EIQ1 header)"
        if total != end + 1 + size:
            return "torn: %d bytes of body, not %d" % (total - end - 1, size)
        return (name, total, _in_ram(meta), end + 1)

    def _move_aside(self, name, why):
        folder = self._file(_ASIDE)
        try:
            os.stat(folder)
        except OSError:
            os.mkdir(folder)
        dest = name
        taken = os.listdir(folder)
        n = 1
        while dest in taken:
            n += 1
            dest = "%s.%d" % (name, n)
        os.rename(self._file(name), folder + "/" + dest)
        self.aside.append((name, why))
        log(WARNING, "queue: moved %s aside to %s/%s: %s" % (name, _ASIDE, dest, why))

    # --- put ---------------------------------------------------------------------------

    def put(self, sample, category="training", label=None, file_name=None, fmt="cbor",
            no_label=False, add_date_id=True, metadata=None):
        """Encode the sample to flash, streamed (never whole in RAM), and return the entry's
        name. It is checked as Client.upload checks it, so what is queued can be sent.
        add_date_id (on by default) gives each stored sample a unique name on the service,
        so that entries sharing a file name do not replace each other. metadata is kept in
        the entry and sent as x-metadata (Client.upload), kept as its JSON text."""
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
            raise ValueError("label and file name are too long for a queue entry (%d bytes "
                             "of header; at most %d)" % (len(head), _MAX_HEADER))
        total = len(head) + size
        self._make_room(total)
        name = "%08d%s" % (self._next, _EXT)
        tmp = self._file(name[:8] + _TMP)
        self._next += 1
        try:
            with open(tmp, "wb") as f:
                f.write(head)
                n = encoder.write(sample, enc, f.write, self.chunk)
                sync(f)
            if n != size:  # would be a bug in the encoder: never queue a wrong entry
                raise ValueError("encoded %d bytes, not the %d announced" % (n, size))
            os.rename(tmp, self._file(name))
        except BaseException:
            try:
                os.remove(tmp)
            except OSError:
                pass
            raise
        self._entries.append((name, total, _in_ram(meta), len(head)))
        return name

    def _make_room(self, total):
        if total > self.max_bytes:
            raise QueueFull("an entry of %d bytes cannot fit in a queue of max_bytes=%d"
                            % (total, self.max_bytes))
        used = self.used
        while used + total > self.max_bytes:
            if self.policy == "refuse":
                raise QueueFull("queue full: %d entries use %d of max_bytes=%d; this entry "
                                "needs %d (flush it, or use policy='drop_oldest')"
                                % (len(self._entries), used, self.max_bytes, total))
            name, size = self._entries[0][:2]
            self._remove(0)
            self.dropped.append(name)
            used -= size
            log(WARNING, "queue: dropped %s (%d bytes), the oldest, to make room"
                % (name, size))

    def _remove(self, i):
        name = self._entries[i][0]
        os.remove(self._file(name))
        self._entries.pop(i)

    # --- flush -------------------------------------------------------------------------

    def flush(self, client, limit=None):
        """Send queued entries, oldest first, each removed only once the service has it (a
        "duplicate" answer means it had it already). An entry the service refuses as invalid
        (400) is moved aside and reported, and the rest go on. Any other failure (network,
        401, 5xx after the client's retries) raises and leaves the entry queued for the next
        flush. This is upload_files' per-file truth, an entry a file: "already exists" is
        delivered, invalid is refused and not sent again, anything else is sent again.
        Returns how many entries were delivered (their names go to `delivered`)."""
        sent = 0
        while self._entries and (limit is None or sent < limit):
            name, total, meta, hlen = self._entries[0]
            try:
                with open(self._file(name), "rb") as f:
                    metadata = None
                    if meta.get("metadata"):  # kept on flash only: read it back now
                        metadata = json.loads(f.read(hlen)[len(_MAGIC):-1].decode())["metadata"]
                    f.seek(hlen)
                    client.upload_encoded(
                        f, meta["file_name"], category=meta["category"], label=meta["label"],
                        no_label=meta.get("no_label", False),
                        add_date_id=meta.get("add_date_id", False), disallow_duplicates=True,
                        content_type=meta["content_type"], size=meta["size"],
                        metadata=metadata)
            except Duplicate:
                pass  # the service has it: an earlier flush's answer was lost
            except BadRequest as e:
                self._entries.pop(0)
                self._move_aside(name, "refused by the service: %s" % (e.body,))
                continue
            self._remove(0)
            self.delivered.append(name)
            sent += 1
        if sent:
            log(INFO, "queue: %d entries delivered, %d left" % (sent, len(self._entries)))
        return sent
