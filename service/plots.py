"""The values the dashboard plots, worked out from a sample's file on demand and kept a while.

A plot is every step-th row of a sample (from a row `start`: a recording's windows are thinned
as one, recordings.py), at most MAX_PLOT_VALUES values (fewer rows for a wide sample), kept as
the JSON it is sent as: the cache holds at most `budget` bytes of it (least
recently used out first), and every request for one plot shares the same bytes. Working one
out reads a whole file, so at most HEAVY_READS plots and CSV exports are worked out at once
(`heavy`, which the CSV export takes too); the others wait their turn and then find the plot
made.
"""
import collections
import json
import threading

from service.config import HEAVY_READS, MAX_PLOT_VALUES
from service.files import each_row
from service.web import Rejected


def open_sample(store, meta):
    """The sample's file; 404 if it went meanwhile (replaced by a sample of the same name)."""
    try:
        return open(store.path(meta["sample_id"]), "rb")
    except OSError:
        raise Rejected(404, "Not found: sample %d is gone" % meta["sample_id"])


def points(meta, asked):
    """The rows a plot of `meta` has at most: what was asked, fewer for a wide sample."""
    axes = len(meta.get("sensors") or ()) or 1
    return max(1, min(asked, MAX_PLOT_VALUES // axes))


class Plots:
    """The plotted rows (as JSON bytes) of the samples last plotted, `budget` bytes of them."""

    def __init__(self, budget):
        self.budget, self.used = budget, 0
        self.lock = threading.Lock()
        self.kept = collections.OrderedDict()
        self.heavy = threading.BoundedSemaphore(HEAVY_READS)

    def _cached(self, key):
        with self.lock:
            found = self.kept.get(key)
            if found is not None:
                self.kept.move_to_end(key)
            return found

    def get(self, store, meta, max_points):
        """(step, the rows as JSON): every step-th row, at most max_points rows."""
        total = meta.get("rows") or 0
        step = max(1, -(-total // max_points)) if total else 1
        return step, self.rows(store, meta, step)

    def rows(self, store, meta, step, start=0):
        """Every step-th row from row `start`, as JSON bytes (b"null": a file of no values)."""
        key = (meta["sample_id"], meta["sha256"], step, start)
        found = self._cached(key)
        if found is not None:
            return found
        with self.heavy:
            found = self._cached(key)  # made while this one waited
            if found is not None:
                return found
            rows = []
            with open_sample(store, meta) as f:
                if not each_row(meta, f, rows.append, step, start):
                    rows = None
            found = json.dumps(rows, allow_nan=False, separators=(",", ":")).encode()
            del rows
        with self.lock:
            if len(found) <= self.budget // 4 and key not in self.kept:  # one plot never fills it
                self.kept[key] = found
                self.used += len(found)
                while self.used > self.budget:
                    _, old = self.kept.popitem(last=False)
                    self.used -= len(old)
        return found
