# The JSON body of the data acquisition format, for the encoder (ei/encoder.py): loaded only
# for fmt="json". Numbers are written with repr(), so the counting pass (rows_len) and the
# writing pass (rows) agree byte for byte on every runtime.
import json


def _num(v):
    return repr(float(v))


def parts(sample, f, protected):
    """(head, middle, sig_head) of the JSON body; f and protected are (key, value) pairs."""
    d = json.dumps
    head = '{"payload":{' + ",".join(
        d(k) + ":" + (_num(v) if k == "interval_ms" else d(v)) for k, v in f)
    head += ',"sensors":[' + ",".join(
        '{"name":%s,"units":%s}' % (d(n), d(u)) for n, u in sample.sensors) + '],"values":['
    middle = ']},"protected":{' + ",".join(
        d(k) + ":" + d(v) for k, v in protected) + '},"signature":"'
    return head.encode(), middle.encode(), b""


def _json_row(row, sep=""):
    return (sep + "[" + ",".join(_num(v) for v in row) + "]").encode()


def rows_len(sample):
    n = 0
    for row in sample.iter_rows():
        n += len(_json_row(row)) + 1
    return n - 1 if n else 0


def rows(sample, ch):
    sep = ""
    it = sample.iter_rows()
    try:
        for row in it:
            yield from ch.put(_json_row(row, sep))
            sep = ","
    finally:
        if hasattr(it, "close"):
            it.close()  # a capture file being read is closed now, also when the write fails
