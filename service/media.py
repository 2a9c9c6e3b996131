"""Plain files Edge Impulse takes besides data acquisition objects: CSV, WAV, PNG and JPEG,
each checked by reading it as a stream (a 100 MB file is never in memory whole). `keep(i, row)`
is handed the rows a plot asks for."""
import csv
import io
import math
import struct
import wave

from service.config import BAD_CSV, MAX_AXES, MAX_FIELD, MAX_ROW_BYTES
from service.web import Rejected


def _bad_csv(why):
    raise Rejected(400, "%s: %s" % (BAD_CSV, why))


class _Records:
    """The lines of a text file for csv.reader, each record (its lines together) at most
    MAX_ROW_BYTES characters: a line is never read whole when it is longer."""

    def __init__(self, text):
        self.text, self.size = text, 0

    def __iter__(self):
        while True:
            line = self.text.readline(MAX_ROW_BYTES + 1)
            if not line:
                return
            self.size += len(line)
            if self.size > MAX_ROW_BYTES:
                _bad_csv("a row is over %d bytes" % MAX_ROW_BYTES)
            yield line


def read_csv(f, keep=None):
    """Edge Impulse's CSV format: a header row, then rows of numbers. With a first column
    `timestamp` (ms) it is a time series; without, one row is one sample that is not. At most
    MAX_AXES columns of values, each row at most MAX_ROW_BYTES: read a row at a time."""
    bad = _bad_csv
    text = io.TextIOWrapper(f, encoding="utf-8-sig", newline="")
    try:
        records = _Records(text)
        reader = csv.reader(records)
        header, count, first, last, timed = None, 0, None, None, False
        for row in reader:
            records.size = 0
            if not any(c.strip() for c in row):
                continue
            if header is None:
                header = [h.strip() for h in row]
                if len(header) > MAX_AXES + 1:
                    bad("%d columns; at most %d columns of values (and a timestamp)" % (len(header), MAX_AXES))
                if "" in header or len(set(header)) != len(header):
                    bad("column names must be non-empty and distinct: %r" % (header[:50],))
                if any(len(h.encode("utf-8", "surrogatepass")) > MAX_FIELD for h in header):
                    bad("a column name is over %d bytes" % MAX_FIELD)
                timed = header[0].lower() == "timestamp"
                if timed and len(header) == 1:
                    bad("there is no column of values besides the timestamp")
                continue
            i = count + 1
            if len(row) != len(header):
                bad("row %d has %d columns, the header %d" % (i, len(row), len(header)))
            try:
                nums = [float(c) for c in row]
            except ValueError:
                bad("row %d holds something that is not a number: %r" % (i, row[:50]))
            if not all(math.isfinite(v) for v in nums):
                bad("row %d holds a value that is not finite" % i)
            if timed:
                if last is not None and nums[0] <= last:
                    bad("timestamps must increase")
                first = nums[0] if first is None else first
                last = nums[0]
                nums = nums[1:]
            elif count:
                bad("without a 'timestamp' column a CSV file holds one row (a sample that is not a "
                    "time series); this one has more")
            if keep:
                keep(count, nums)
            count += 1
    except UnicodeDecodeError as e:
        bad("not UTF-8 text (%s)" % e)
    except csv.Error as e:
        bad(str(e))
    finally:
        text.detach()
    if header is None or not count:
        bad("it needs a header row and at least one row of values")
    names = header[1:] if timed else header
    interval = (last - first) / (count - 1) if timed and count > 1 else 0
    if not math.isfinite(interval):
        raise Rejected(400, "%s: the timestamps span more than a number holds" % BAD_CSV)
    return {"sensors": [{"name": n, "units": ""} for n in names], "interval_ms": interval, "rows": count}


def _wav_bad(why):
    raise Rejected(400, "Could not parse this WAV file: %s" % why)


def read_wav(f, picks=(), keep=None):
    """A PCM WAV file: one axis a channel (`audio`, `audio2`, ...), interval_ms from its rate.
    Returns (summary, the rows numbered in picks), or hands them to keep(row) when given."""
    try:
        with wave.open(f, "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            if not (channels and rate and width in (1, 2, 3, 4)):
                _wav_bad("%d channels, %d bytes a sample at %d Hz" % (channels, width, rate))
            if channels > MAX_AXES:
                _wav_bad("%d channels; at most %d" % (channels, MAX_AXES))
            frame = channels * width
            per_read = max(1, (1 << 20) // frame)  # about 1 MB at a time, however wide the frames
            n = 0
            while True:  # count the frames there are, whatever the header says
                chunk = w.readframes(per_read)
                n += len(chunk) // frame
                if len(chunk) < per_read * frame:
                    break
            rows = []
            keep = keep or rows.append
            for i in picks:
                w.setpos(i)
                keep(_frame(w.readframes(1), channels, width))
    except Rejected:
        raise
    except Exception as e:  # wave raises wave.Error, EOFError, struct.error on garbage
        _wav_bad(e or type(e).__name__)
    sensors = [{"name": "audio" if c == 0 else "audio%d" % (c + 1), "units": "wav"} for c in range(channels)]
    return {"sensors": sensors, "interval_ms": 1000.0 / rate, "rows": n}, rows


def _frame(data, channels, width):
    if width == 3:
        return [int.from_bytes(data[i:i + 3], "little", signed=True) for i in range(0, channels * 3, 3)]
    flat = struct.unpack("<%d%s" % (channels, {1: "B", 2: "h", 4: "i"}[width]), data)
    return [v - 128 for v in flat] if width == 1 else list(flat)  # 8-bit WAV is unsigned


def image_size(f, content_type):
    """(width, height) of a PNG or JPEG, from its header; 400 when the bytes are not one."""
    f.seek(0)
    head = f.read(24)
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR" and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head[:2] == b"\xff\xd8":
        at = 2
        while True:
            f.seek(at)
            seg = f.read(9)
            if len(seg) < 9 or seg[0] != 0xFF:
                break
            marker = seg[1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                at += 2
                continue
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", seg[5:9])
                return width, height
            at += 2 + struct.unpack(">H", seg[2:4])[0]
    raise Rejected(400, "Could not parse this image: %s is neither a PNG nor a JPEG with a frame header"
                   % content_type)
