"""The store: an index in SQLite (WAL) and each file as received beside it, named by its id.

    data_dir/index.sqlite3   one row a sample: its project, what the service worked out, what the
                             client sent
    data_dir/files/<id>      the bytes as received (ids are never reused: AUTOINCREMENT)

Every sample belongs to one project (service/projects.py): names, duplicates and lists are a
project's own. A store written before projects has its samples in the project "default".

A request's files are received into temporary files (files/.tmp-*), checked, then renamed to
their ids inside one transaction that is committed last: a crash leaves each request's samples
stored and indexed, or absent. At start, what a crash left (temporary files, files no row
names) is removed. Nothing a client sends names a file or becomes a column of the index; the
headers it sends are kept as data in `extra`. Decoded samples are never kept: lists come from
the index, and a file is read only when one sample is asked for; a list comes a page at a time
(page()), each page bounded in entries and in bytes.
"""
import collections
import datetime
import json
import os
import pathlib
import sqlite3
import threading

from service.config import DEFAULT_PROJECT, DUPLICATE, PAGE, PAGE_BYTES
from service.web import Rejected

TMP = ".tmp-"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, file_name TEXT NOT NULL, category TEXT NOT NULL,
    label TEXT, size INTEGER NOT NULL, sha256 TEXT NOT NULL, received_at TEXT NOT NULL,
    summary TEXT NOT NULL, extra TEXT NOT NULL);
"""
# A store from before projects gets the column, its samples in the default project.
_PROJECT = "ALTER TABLE samples ADD COLUMN project TEXT NOT NULL DEFAULT '%s'" % DEFAULT_PROJECT
# a recording's id, from what ei.record sends in x-metadata (recordings.py reads it; indexed)
RECORDING = "json_extract(extra, '$.metadata.recording')"
_INDEXES = """
DROP INDEX IF EXISTS samples_label;
DROP INDEX IF EXISTS samples_name;
DROP INDEX IF EXISTS samples_sha256;
CREATE INDEX IF NOT EXISTS samples_project ON samples (project, id);
CREATE INDEX IF NOT EXISTS samples_project_label ON samples (project, category, label, id);
CREATE INDEX IF NOT EXISTS samples_project_name ON samples (project, category, name);
CREATE INDEX IF NOT EXISTS samples_project_sha256 ON samples (project, sha256);
CREATE INDEX IF NOT EXISTS samples_project_recording ON samples (project, %s, id);
""" % RECORDING
_COLUMNS = "id, name, file_name, category, label, size, sha256, received_at, summary, extra, project"
# what one entry weighs in a list, in bytes, without reading it
_WEIGHT = ("length(CAST(name AS BLOB)) + length(CAST(file_name AS BLOB)) + length(CAST(summary AS BLOB))"
           " + length(CAST(extra AS BLOB)) + 2 * ifnull(length(CAST(label AS BLOB)), 0) + 300")


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
    sample_id, name, file_name, category, label, size, sha256, received_at, summary, extra, project = row
    meta = {"name": name, "file_name": file_name, "category": category, "label": label, "size": size,
            "sha256": sha256, "received_at": received_at, "sample_id": sample_id, "project": project}
    meta.update(json.loads(summary))
    meta.update(json.loads(extra))
    return meta


def _where(project, category, label):
    """The SQL condition and arguments of a list's filters (None: any project or category;
    label (): any, None: none)."""
    where, args = [], []
    for column, value in (("project", project), ("category", category)):
        if value is not None:
            where.append("%s = ?" % column)
            args.append(value)
    if label != ():
        where.append("label IS ?")
        args.append(label)
    return where, args


class Store:
    """Every method holds `lock`; `changed` is notified, and `version` (and the project's
    `versions[project]`) grows, on every change."""

    def __init__(self, data_dir):
        self.data_dir = os.path.abspath(str(data_dir))
        self.files_dir = os.path.join(self.data_dir, "files")
        os.makedirs(self.files_dir, exist_ok=True)
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.version = 0
        self.versions = collections.Counter()
        self._last_date_id = 0
        self.read_lock = threading.Lock()
        self.reader = None  # read()'s connection, opened on first use
        self.db = sqlite3.connect(os.path.join(self.data_dir, "index.sqlite3"), isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)
        if "project" not in [r[1] for r in self.db.execute("PRAGMA table_info(samples)")]:
            self.db.execute(_PROJECT)
        self.db.executescript(_INDEXES)
        self._clean()

    def _clean(self):
        """Remove what a crash left: files being received, files of requests never committed."""
        ids = {str(r[0]) for r in self.db.execute("SELECT id FROM samples")}
        for entry in os.scandir(self.files_dir):
            if entry.name not in ids:
                os.remove(entry.path)

    def close(self):
        with self.lock, self.read_lock:
            self.db.close()
            if self.reader is not None:
                self.reader.close()

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

    def _changed(self, project):
        self.version += 1
        self.versions[project] += 1
        self.changed.notify_all()

    def add(self, category, files, disallow_duplicates=False, add_date_id=False, project=DEFAULT_PROJECT):
        """Store the checked files of one request together, in `project`. files: dicts with
        file_name, path (the received temporary file), size, sha256, label, summary, extra and
        optionally category (from /api/split, it wins over `category`). Returns one result a
        file, in order: its metadata, or the Rejected that says why it alone was not stored. A
        new sample replaces an earlier one of the same name and category in the project (send
        x-add-date-id: 1 for unique names); a duplicate is one of the project's."""
        results, moved, replaced = [], [], []
        with self.lock:
            db = self.db
            db.execute("BEGIN IMMEDIATE")
            try:
                seen = set()
                for f in files:
                    if disallow_duplicates and (f["sha256"] in seen or db.execute(
                            "SELECT 1 FROM samples WHERE project = ? AND sha256 = ?",
                            (project, f["sha256"])).fetchone()):
                        results.append(Rejected(400, "%s (file %s, sha256 %s)" % (
                            DUPLICATE, f["file_name"], f["sha256"])))
                        continue
                    seen.add(f["sha256"])
                    where = f.get("category") or category
                    name = self._stored_name(f["file_name"], add_date_id)
                    for (old,) in db.execute("SELECT id FROM samples WHERE project = ? AND category = ?"
                                             " AND name = ?", (project, where, name)).fetchall():
                        db.execute("DELETE FROM samples WHERE id = ?", (old,))
                        replaced.append(old)
                    cur = db.execute(
                        "INSERT INTO samples (name, file_name, category, label, size, sha256, received_at,"
                        " summary, extra, project) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (name, f["file_name"], where, f["label"], f["size"], f["sha256"], _now(),
                         # allow_nan=False: nothing stored can make the list invalid JSON
                         json.dumps(f["summary"], allow_nan=False),
                         json.dumps(f.get("extra") or {}, allow_nan=False), project))
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
            self._changed(project)
            return out

    def reset(self, project=None):
        """Forget every sample of `project` (None: of every project), and its files."""
        with self.lock:
            where, args = _where(project, None, ())
            sql = " WHERE " + " AND ".join(where) if where else ""
            ids = [r[0] for r in self.db.execute("SELECT id FROM samples" + sql, args)]
            self.db.execute("DELETE FROM samples" + sql, args)
            for sample_id in ids:
                _remove(self.path(sample_id))
            for name in {project} if project is not None else set(self.versions) | {DEFAULT_PROJECT}:
                self._changed(name)

    # -- reading --

    def _get(self, sample_id):
        row = self.db.execute("SELECT %s FROM samples WHERE id = ?" % _COLUMNS, (sample_id,)).fetchone()
        return _entry(row) if row else None

    def get(self, sample_id, project=None):
        """One sample's metadata; None when there is none (in `project`, when given)."""
        with self.lock:
            meta = self._get(sample_id)
        return meta if meta is not None and project in (None, meta["project"]) else None

    def metadata(self, category=None, label=(), project=None):
        """Stored samples' metadata, oldest first, all at once (for tests and tools: the
        service's own lists are page()s); only one project, category or label when given
        (label None: the samples without one)."""
        where, args = _where(project, category, label)
        sql = "SELECT %s FROM samples%s ORDER BY id" % (_COLUMNS, " WHERE " + " AND ".join(where) if where else "")
        with self.lock:
            rows = self.db.execute(sql, args).fetchall()
        return [_entry(r) for r in rows]

    def page(self, project, category=None, label=(), after=0, limit=PAGE, budget=PAGE_BYTES):
        """One page of a project's samples, oldest first, from the sample after `after`: (ids,
        next) where ids are at most `limit` and weigh about `budget` bytes at most as a list
        (at least one), and next is the `after` of the next page (None: this is the last).
        Read each entry with get(): a page is chosen without reading one."""
        where, args = _where(project, category, label)
        sql = "SELECT id, %s FROM samples WHERE %s ORDER BY id LIMIT ?" % (
            _WEIGHT, " AND ".join(where + ["id > ?"]))
        ids, weight = [], 0
        with self.lock:
            rows = self.db.execute(sql, args + [after, limit + 1]).fetchall()
        for sample_id, size in rows[:limit]:
            if ids and weight + size > budget:
                return ids, ids[-1]
            ids.append(sample_id)
            weight += size
        return ids, ids[-1] if len(rows) > limit else None

    def read(self, sql, args=()):
        """The rows of one read-only query (recordings.py's, over the index), on a connection
        of its own: WAL lets it read while uploads are stored, so a long scan holds no upload."""
        with self.read_lock:
            if self.reader is None:
                index = pathlib.Path(self.data_dir, "index.sqlite3").as_uri()
                self.reader = sqlite3.connect(index + "?mode=ro", uri=True, isolation_level=None,
                                              check_same_thread=False)
            return self.reader.execute(sql, args).fetchall()

    def listing(self, project=None):
        """Every entry with its decoded data acquisition object: the test API's view (it reads
        every file; the service itself never does)."""
        from service.files import decoded
        out = []
        for meta in self.metadata(project=project):
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
