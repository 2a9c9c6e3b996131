# Writing capture files (the format is in ei/capture.py, its constants in
# ei/capture_format.py): the sampler's half, loaded only when sampling to flash.
import json
from struct import pack, pack_into

from ei.capture_format import MAGIC, VERSION, ROWS_AT, UNFINISHED, layout
from ei.compat import FLOAT32, const, sync
from ei.errors import Msg

_BLOCK = const(512)  # bytes of rows gathered before each write to flash
# error texts (ei/messages.py)
_M_FLASH_FULL = const(187)
# Blocks written between commits to the file system. LittleFS keeps a file's new length in
# RAM until the file is synced: a power cut loses every row written since. A commit costs a
# metadata write, and the next write then copies the half-filled last block to a new one: a
# second 45 ms sector erase that stalls a Pico's CPU (measured on the emulated Pico at 100 Hz:
# every 2 KB made 20 of 500 rows late, every 4 KB 12, never 9). So it is done every 4 KB of
# rows, a flash sector: a cut loses at most that, and the file reads as an unfinished capture
# holding the rest.
_SYNC_BLOCKS = const(8)
_ENOSPC = const(28)


class Writer:
    """Writes the rows of `sample` (a Sample with its metadata and no rows) to `path`.

    append(row) checks the row and packs it into one preallocated block, written to flash
    when full; finish(interval_ms) writes the rest and the row count. float32=None writes
    the board's own float size (a single-precision board loses nothing with float32).
    A file system with no room left raises ei.errors.FlashFull naming the file and the row
    reached; the file then stays unfinished with the rows it got (partial=True reads them).
    commit=False commits the header only, not the rows every 4 KB: for rows from a chip's
    FIFO, which the two erases of a commit close together would overrun at the rates FIFOs
    are for (the emulated Pico's MPU6050 at 1 kHz: it overran with commits, not without); a
    cut then keeps no rows, and the file still names itself unfinished."""

    def __init__(self, path, sample, float32=None, commit=True):
        self.path = path
        self.sample = sample
        self.float32 = FLOAT32 if float32 is None else bool(float32)
        head, step, row_len = layout(sample.width, self.float32)
        self._fmt = ">f" if self.float32 else ">d"
        self._step = step
        self._hl = len(head)
        self._row_len = row_len
        self.rows = 0
        # The block's row heads and value tags never change: written once here, so that
        # append only packs the values.
        self._buf = bytearray(max(1, _BLOCK // row_len) * row_len)
        tag = 0xFA if self.float32 else 0xFB
        for r in range(0, len(self._buf), row_len):
            self._buf[r:r + len(head)] = head
            for j in range(sample.width):
                self._buf[r + len(head) + j * step] = tag
        self._pos = 0
        self._unsynced = 0
        self._commit = _SYNC_BLOCKS if commit else 0
        self._full = False
        desc = json.dumps({"device_type": sample.device_type, "device_name": sample.device_name,
                           "sensors": [list(s) for s in sample.sensors]}).encode()
        try:
            self._f = open(path, "wb")
        except OSError as e:
            self._f = None
            raise self._no_room(e)
        try:
            self._write(MAGIC + pack(">BBHId", VERSION, 4 if self.float32 else 8, len(desc),
                                     UNFINISHED, sample.interval_ms))
            self._write(desc)
            self._sync()  # from now on, a cut leaves a file that names itself unfinished
        except BaseException:
            self.close()
            raise

    def append(self, row):
        row = self.sample.check_row(row, self.rows)
        buf = self._buf
        p = self._pos + self._hl + 1
        for v in row:
            pack_into(self._fmt, buf, p, v)
            p += self._step
        self._pos += self._row_len
        self.rows += 1
        if self._pos == len(buf):
            self._write(buf)
            self._pos = 0
            self._unsynced += 1
            if self._unsynced == self._commit:
                self._sync()
                self._unsynced = 0

    def _write(self, data):
        try:
            self._f.write(data)
        except OSError as e:
            raise self._no_room(e)

    def _sync(self):
        try:
            sync(self._f)
        except OSError as e:
            raise self._no_room(e)

    def _no_room(self, e):
        """FlashFull for the file system's ENOSPC; any other error as it was."""
        if not e.args or e.args[0] != _ENOSPC:
            return e
        from ei.errors import FlashFull
        self._full = True
        return FlashFull(Msg(_M_FLASH_FULL, self.path, self.rows), self.path)

    def _flush(self):
        if self._pos and not self._full:
            self._write(memoryview(self._buf)[:self._pos])
        self._pos = 0

    def finish(self, interval_ms=None):
        """Write the last rows, the row count and the interval kept; close the file."""
        self._flush()
        self._f.seek(ROWS_AT)
        self._write(pack(">Id", self.rows, self.sample.interval_ms if interval_ms is None
                         else interval_ms))
        self.close()

    def close(self):
        """Close the file. Unless finish() ran, it stays unfinished (its rows are written,
        its count is not): reading it says so, and partial=True reads the rows."""
        if self._f is None:
            return
        try:
            self._flush()
        finally:
            f, self._f = self._f, None
            try:
                f.close()
            except OSError as e:
                # a full file system: the file keeps what was committed before
                if not self._full:
                    raise self._no_room(e)
