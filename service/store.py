"""The store: an index in SQLite (WAL) and each file as received beside it, named by its id.

    data_dir/index.sqlite3   one row a sample: what the service worked out, what the client sent
    data_dir/files/<id>      the bytes as received (ids are never reused: AUTOINCREMENT)

A request's files are received into temporary files (files/.tmp-*), checked, then renamed to
their ids inside one transaction that is committed last: a crash leaves each request's samples
stored and indexed, or absent. At start, what a crash left (temporary files, files no row
names) is removed. Nothing a client sends names a file or becomes a column of the index; the
headers it sends are kept as data in `extra`. Decoded samples are never kept: lists come from
the index, and a file is read only when one sample is asked for.
"""
import datetime
import json
import os
import sqlite3
import threading

from service.config import DUPLICATE
from service.web import Rejected

TMP = ".tmp-"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, file_name TEXT NOT NULL, category TEXT NOT NULL,
    label TEXT, size INTEGER NOT NULL, sha256 TEXT NOT NULL, received_at TEXT NOT NULL,
    summary TEXT NOT NULL, extra TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS samples_label ON samples (category, label);
CREATE INDEX IF NOT EXISTS samples_name ON samples (category, name);
CREATE INDEX IF NOT EXISTS samples_sha256 ON samples (sha256);
"""
_COLUMNS = "id, name, file_name, category, label, size, sha256, received_at, summary, extra"


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _base36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


def _entry(row):
    sample_id, name, file_name, category, label, size, sha256, received_at, summary, extra = row
    meta = {"name": name, "file_name": file_name, "category": category, "label": label, "size": size,
            "sha256": sha256, "received_at": received_at, "sample_id": sample_id}
    meta.update(json.loads(summary))
    meta.update(json.loads(extra))
    return meta


class Store:
    """Every method holds `lock`; `changed` is notified, and `version` grows, on every change."""

    def __init__(self, data_dir):
        self.data_dir = os.path.abspath(str(data_dir))
        self.files_dir = os.path.join(self.data_dir, "files")
        os.makedirs(self.files_dir, exist_ok=True)
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.version = 0
        self._last_date_id = 0
        self.db = sqlite3.connect(os.path.join(self.data_dir, "index.sqlite3"), isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)
        self._clean()

    def _clean(self):
        """Remove what a crash left: files being received, files of requests never committed."""
        ids = {str(r[0]) for r in self.db.execute("SELECT id FROM samples")}
        for entry in os.scandir(self.files_dir):
            if entry.name not in ids:
                os.remove(entry.path)

    def close(self):
        with self.lock:
            self.db.close()

    def path(self, sample_id):
        return os.path.join(self.files_dir, str(sample_id))

    def temp_path(self, token):
        return os.path.join(self.files_dir, TMP + token)

    # -- writing --

    def _stored_name(self, file_name, add_date_id):
        if not add_date_id:
            return file_name
        # A unique id in the style of Edge Impulse's (8 base-36 digits, from the clock in ms).
        n = max(int(datetime.datetime.now().timestamp() * 1000), self._last_date_id + 1)
        self._last_date_id = n
        stem, dot, ext = file_name.rpartition(".")
        if not dot or not stem:
            return file_name + "." + _base36(n)
        return "%s.%s.%s" % (stem, _base36(n), ext)

    def add(self, category, files, disallow_duplicates=False, add_date_id=False):
        """Store the checked files of one request together. files: dicts with file_name, path (the
        received temporary file), size, sha256, label, summary, extra and optionally category
        (from /api/split, it wins over `category`). Returns one result a file, in order: its
        metadata, or the Rejected that says why it alone was not stored. A new sample replaces
        an earlier one of the same name and category (send x-add-date-id: 1 for unique names)."""
        results, moved, replaced = [], [], []
        with self.lock:
            db = self.db
            db.execute("BEGIN IMMEDIATE")
            try:
                seen = set()
                for f in files:
                    if disallow_duplicates and (f["sha256"] in seen or db.execute(
                            "SELECT 1 FROM samples WHERE sha256 = ?", (f["sha256"],)).fetchone()):
                        results.append(Rejected(400, "%s (file %s, sha256 %s)" % (
                            DUPLICATE, f["file_name"], f["sha256"])))
                        continue
                    seen.add(f["sha256"])
                    where = f.get("category") or category
                    name = self._stored_name(f["file_name"], add_date_id)
                    for (old,) in db.execute("SELECT id FROM samples WHERE category = ? AND name = ?",
                                             (where, name)).fetchall():
                        db.execute("DELETE FROM samples WHERE id = ?", (old,))
                        replaced.append(old)
                    cur = db.execute(
                        "INSERT INTO samples (name, file_name, category, label, size, sha256, received_at,"
                        " summary, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (name, f["file_name"], where, f["label"], f["size"], f["sha256"], _now(),
                         # allow_nan=False: nothing stored can make the list invalid JSON
                         json.dumps(f["summary"], allow_nan=False),
                         json.dumps(f.get("extra") or {}, allow_nan=False)))
                    os.replace(f["path"], self.path(cur.lastrowid))
                    moved.append(cur.lastrowid)
                    results.append(cur.lastrowid)
                _fsync_dir(self.files_dir)
                db.execute("COMMIT")
            except BaseException as e:  # a full disk, a folder gone, a bug: nothing of it stays
                db.execute("ROLLBACK")
                for sample_id in moved:
                    _remove(self.path(sample_id))
                if isinstance(e, (OSError, sqlite3.Error)):
                    raise Rejected(507, "Insufficient storage: could not store the files: %s"
                                   % (getattr(e, "strerror", None) or e))
                raise
            for old in replaced:
                _remove(self.path(old))
            out = [r if isinstance(r, Rejected) else self._get(r) or Rejected(
                400, "Replaced by a later file of the same name in this request") for r in results]
            self.version += 1
            self.changed.notify_all()
            return out

    def reset(self):
        with self.lock:
            self.db.execute("DELETE FROM samples")
            for entry in os.scandir(self.files_dir):
                if not entry.name.startswith(TMP):
                    _remove(entry.path)
            self.version += 1
            self.changed.notify_all()

    # -- reading --

    def _get(self, sample_id):
        row = self.db.execute("SELECT %s FROM samples WHERE id = ?" % _COLUMNS, (sample_id,)).fetchone()
        return _entry(row) if row else None

    def get(self, sample_id):
        """One sample's metadata; None when there is none."""
        with self.lock:
            return self._get(sample_id)

    def metadata(self, category=None, label=()):
        """Stored samples' metadata, oldest first; only one category or label when given
        (label None: the samples without one)."""
        where, args = [], []
        if category is not None:
            where.append("category = ?")
            args.append(category)
        if label != ():
            where.append("label IS ?")
            args.append(label)
        sql = "SELECT %s FROM samples%s ORDER BY id" % (_COLUMNS, " WHERE " + " AND ".join(where) if where else "")
        with self.lock:
            rows = self.db.execute(sql, args).fetchall()
        return [_entry(r) for r in rows]

    def listing(self):
        """Every entry with its decoded data acquisition object: the test API's view (it reads
        every file; the service itself never does)."""
        from service.files import decoded
        out = []
        for meta in self.metadata():
            try:
                with open(self.path(meta["sample_id"]), "rb") as f:
                    meta["sample"] = decoded(meta, f)
            except OSError:
                meta["sample"] = None
            out.append(meta)
        return out


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
