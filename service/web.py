"""What every view shares: the refusal a view raises (Rejected), the text/plain and JSON answers,
and strict JSON reading (no NaN or Infinity, no integer beyond +-2**53, nesting bounded) for
bodies, headers and devices' messages alike."""
import json
import math

from werkzeug.wrappers import Response

from service.config import MAX_DEPTH, MAX_SAFE_INTEGER


class Rejected(Exception):
    """A request the service refuses: the status and the text/plain body that says why."""

    def __init__(self, status, text, headers=None):
        super().__init__(text)
        self.status = status
        self.text = text
        self.headers = headers or {}


def text(status, body, **headers):
    return Response(body, status=status, content_type="text/plain; charset=utf-8", headers=headers)


def json_answer(obj, status=200, **headers):
    # allow_nan=False: what the service writes is JSON that every reader takes
    return Response(json.dumps(obj, allow_nan=False), status=status, content_type="application/json",
                    headers=headers)


def count_arg(request, name, default, most):
    """A query argument that is a count: ASCII digits, 1 to `most` (no bound: None; default
    when absent); Rejected(400) naming it otherwise."""
    value = request.args.get(name)
    if value is None:
        return default
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        raise Rejected(400, "%s must be a whole number, not %r" % (name, value[:40]))
    return max(1, min(int(value), most)) if most else int(value)


def flag(headers, name):
    """A yes/no header: set when present, unless it says 0 or false."""
    value = headers.get(name)
    return value is not None and value.strip().lower() not in ("0", "false")


def no_constant(name):
    raise ValueError("%s is not JSON (RFC 8259 has no NaN or Infinity)" % name)


def finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("%s is too large for a number" % text[:40])
    return value


def safe_int(text):
    """An integer JSON or JavaScript holds exactly: at most 2**53 either way."""
    if len(text) > 17:  # checked before int() converts a long run of digits
        raise ValueError("%s... is beyond +-2**53" % text[:20])
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise ValueError("%s is beyond +-2**53" % text)
    return value


def loads(text):
    """json.loads, strictly: ValueError for NaN, Infinity, a float too large, an integer beyond
    +-2**53; RecursionError for nesting Python cannot follow."""
    return json.loads(text, parse_constant=no_constant, parse_float=finite_float, parse_int=safe_int)


def depth_ok(obj, limit=MAX_DEPTH):
    """True when no list or dict in obj is nested deeper than limit (iterative: no recursion)."""
    stack = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(node, dict):
            node = node.values()
        for child in node:
            if isinstance(child, (list, dict)):
                stack.append((child, depth + 1))
    return True


def strict_json(data, what):
    """Decode JSON that a client sent (bytes or str); Rejected(400) naming `what` and the reason
    for anything not strictly JSON: NaN/Infinity, an integer beyond +-2**53, bad UTF-8, nesting
    deeper than MAX_DEPTH."""
    try:
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        value = loads(data)
    except RecursionError:
        value = None
        deep = True
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, int digits over the limit
        raise Rejected(400, "Invalid message: %s is not valid JSON (%s)" % (what, e))
    else:
        deep = isinstance(value, (list, dict)) and not depth_ok(value)
    if deep:
        raise Rejected(400, "Invalid message: %s is nested deeper than %d levels" % (what, MAX_DEPTH))
    return value


def jsonable(obj):
    """A decoded sample as plain JSON: bytes as hex, NaN/inf and CBOR oddities as strings."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, (bytes, bytearray)):
        return bytes(obj).hex()
    return repr(obj)
