"""Properties of ei.cbor, checked against cbor2: any structure of the supported types decodes
to itself and is already in the form cbor2 writes (shortest heads, float64), on CPython and,
for the same cases replayed once, on the MicroPython unix port, byte for byte."""
import json
import math
import pathlib
import struct

import cbor2
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import run_micropython
from fwtest import cbor_dumps, encoded
from ei import cbor

REPLAY = pathlib.Path(__file__).resolve().parent / "cbor_replay.py"
REPLAY_CASES = 300

ints = st.integers(min_value=-(2 ** 64), max_value=2 ** 64 - 1)
# NaN != NaN would defeat equality; test_cbor.py checks NaN's encoding instead.
floats = st.floats(allow_nan=False)
# Surrogates are not text: UTF-8 cannot encode them.
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
keys = texts | ints
leaves = st.none() | st.booleans() | ints | floats | texts | st.binary(max_size=20)
values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=5)
        | st.lists(children, max_size=5).map(tuple)
        | st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=20,
)


def normalise(x):
    """What cbor2 decodes x's encoding to: tuples come back as lists."""
    if isinstance(x, (list, tuple)):
        return [normalise(v) for v in x]
    if isinstance(x, dict):
        return {k: normalise(v) for k, v in x.items()}
    return x


def same(a, b):
    """Equality that also tells 0.0 from -0.0 (floats are compared by their 8 bytes)."""
    if isinstance(a, float) or isinstance(b, float):
        return type(a) is type(b) and struct.pack(">d", a) == struct.pack(">d", b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


class Float64:
    """An infinity that cbor2 is to write as float64: by itself it writes +-inf as a half float
    (f97c00), where ei.cbor writes every float as float64, as Edge Impulse's example does."""

    def __init__(self, x):
        self.x = x


def write_float64(encoder, value):
    encoder.write(struct.pack(">Bd", 0xFB, value.x))


def float64_infinities(x):
    if isinstance(x, float) and math.isinf(x):
        return Float64(x)
    if isinstance(x, list):
        return [float64_infinities(v) for v in x]
    if isinstance(x, dict):
        return {k: float64_infinities(v) for k, v in x.items()}
    return x


def check_encoding(x, b):
    """b, an encoding of x, decodes to x and is what cbor2 writes for that value."""
    decoded = cbor2.loads(b)
    assert same(decoded, normalise(x)), (x, decoded)
    assert cbor2.dumps(float64_infinities(decoded), default=write_float64) == b


@settings(max_examples=300, deadline=None)
@given(values)
def test_any_supported_structure_round_trips_through_cbor2(x):
    check_encoding(x, cbor_dumps(x))


@settings(max_examples=50, deadline=None)
@given(values)
def test_dump_streams_the_same_bytes_as_dumps(x):
    chunks = []
    cbor.dump(x, chunks.append)
    assert b"".join(bytes(c) for c in chunks) == cbor_dumps(x)


def tagged(x):
    """x in a JSON form that cbor_replay.py rebuilds exactly on MicroPython: floats as the hex
    of their 8 bytes, text as the hex of its UTF-8 (MicroPython's json would split surrogate
    pairs), ints as decimal, dicts as [[k, v], ...] in order (rebuilt as OrderedDict)."""
    if x is None or isinstance(x, bool):
        return x
    if isinstance(x, int):
        return ["i", str(x)]
    if isinstance(x, float):
        return ["f", struct.pack(">d", x).hex()]
    if isinstance(x, str):
        return ["s", x.encode().hex()]
    if isinstance(x, bytes):
        return ["b", x.hex()]
    if isinstance(x, list):
        return ["l", [tagged(v) for v in x]]
    if isinstance(x, tuple):
        return ["t", [tagged(v) for v in x]]
    if isinstance(x, dict):
        return ["d", [[tagged(k), tagged(v)] for k, v in x.items()]]
    raise TypeError(type(x).__name__)


def replay_cases():
    """REPLAY_CASES structures, the same on every run (derandomized, no example database)."""
    cases = []

    @settings(max_examples=REPLAY_CASES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(values)
    def collect(x):
        cases.append(x)

    collect()
    return cases


def test_unix_port_encodes_the_same_cases_byte_for_byte(tmp_path):
    cases = replay_cases()
    assert len(cases) >= REPLAY_CASES // 2, len(cases)
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(tagged(x)) + "\n" for x in cases))

    r = run_micropython([str(REPLAY), str(path)], timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == len(cases), r.stdout + r.stderr

    for x, line in zip(cases, lines):
        b = bytes.fromhex(line)
        check_encoding(x, b)
        assert b == cbor_dumps(x), (x, line, cbor_dumps(x).hex())


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=30).flatmap(
    lambda w: st.lists(st.lists(finite, min_size=w, max_size=w), min_size=1, max_size=5)),
    st.booleans())
def test_rows_of_any_width_decode_with_cbor2_to_their_values(rows, f32):
    # rows of any width, packed as the body streams (ei/encoder.py), come out as cbor2 reads
    # them: float64 exactly, float32 as the value rounded to single
    import ei
    from ei import encoder
    width = len(rows[0])
    s = ei.Sample(device_type="T", interval_ms=1,
                  sensors=[("s%d" % j, "u") for j in range(width)], values=rows)
    try:
        body = encoded(s, encoder.Encoding(float32=f32))
    except OverflowError:  # a float64 beyond float32's range
        assert f32
        return
    got = cbor2.loads(body)["payload"]["values"]
    if f32:
        rows = [[struct.unpack(">f", struct.pack(">f", v))[0] for v in r] for r in rows]
    assert same(got, rows)
