# Hostile bytes at every input the firmware takes from a peer or from flash (issue 16), on
# every runtime: remote management's messages, frames and handshake (Studio's side on
# loopback, host_tests/peer_scenarios.py), the offline queue's files, and the clocks the
# sampler and the forwarder keep. Each input ends in the protocol's answer, a close with the
# right code, a reconnection or an entry moved aside, never in an exception that stops the
# board: non-UTF-8 at every text input, inf, nan, 1e309 and bignums in every number, messages
# of 100 KB, deep nesting, and clocks started near the wrap of ticks_us and ticks_ms.
# (The daemon's serial input is test_hostile_daemon.py's.)
from fwtest import RUNTIME, peer_log, peer_script, peer_url, raises, scratch
from remote_checks import remote, request, settled, statuses

_SOCKET = "opens a socket: the no-network build has none"
ONLY = {}
# The tests' own side (the peer's scripts and logs of 2 KB messages, 100 KB lines written to
# flash) is not the firmware's: its heap is bounded in test_board_heap.py.
MP_HEAPSIZE = "512k"


def _socket(fn):
    ONLY[fn.__name__] = ("socket", _SOCKET)
    return fn


def _token(name):
    # the peer's log of this token is this runtime's alone
    return "%s-%s" % (name, RUNTIME)


def _sample_text(fields):
    """A sample request's text, numbers as written (JSON from a dict cannot say 1e309)."""
    return ('{"sample":{"label":"hostile","path":"/api/training/data","hmacKey":"",'
            '"sensor":"Accelerometer",%s}}' % fields)


def _closes(token, n=1):
    from ei.compat import sleep_ms
    for _ in range(50):
        log = peer_log(token)
        if len(log["closes"]) >= n:
            return log
        sleep_ms(100)
    return log


# --- numbers in a sample request ---------------------------------------------------------

# (the number fields as written, the field the answer must name)
NUMBERS = [
    ('"length":1e309,"interval":10', "length"),
    ('"length":-1e309,"interval":10', "length"),
    ('"length":1e39,"interval":10', "length"),    # inf where floats are single precision
    ('"length":1%s,"interval":10' % ("0" * 400), "length"),  # a 401-digit bignum
    ('"length":100,"interval":1e309', "interval"),
    ('"length":100,"interval":1e-309', "interval"),
    ('"length":100,"interval":1%s' % ("0" * 400), "interval"),
    ('"length":100,"interval":1000', "interval"),  # longer than the sample: not one value
    ('"length":true,"interval":10', "length"),
    ('"length":100,"interval":"10"', "interval"),
    ('"length":NaN,"interval":10', "length"),     # CPython's json takes it; MicroPython's not
    ('"length":100,"interval":Infinity', "interval"),
]


@_socket
def test_hostile_numbers_in_a_sample_request_are_refused_naming_the_field():
    token = _token("numbers")
    peer_script(token, [{"sample_text": _sample_text(f)} for f, _ in NUMBERS]
                + [request("after-numbers", 100, 10)])
    assert remote(token).serve(len(NUMBERS) + 1) == len(NUMBERS) + 1
    log = settled(token, len(NUMBERS) + 1)
    assert log["connections"] == 1, log
    for entry, (fields, name) in zip(log["samples"], NUMBERS):
        assert statuses(entry) == ["sample=False"], (fields[:40], entry)
        error = entry["error"]
        # a number JSON does not have (NaN, Infinity on MicroPython) is named as not JSON
        assert name in error or "not JSON" in error, (fields[:40], error)
        assert len(error) < 200, error  # a 401-digit number is not echoed whole
    assert log["samples"][-1]["state"] == "finished", log["samples"][-1]


@_socket
def test_a_sample_request_nested_2_kb_deep_is_refused_and_serving_goes_on():
    # json.loads of 1,000 nested lists: a RecursionError on CPython, 1,000 lists on a board
    token = _token("nested")
    deep = "[" * 1000 + "]" * 1000
    many = ",".join(["{}"] * 600)  # 600 dicts: as heavy for a board's heap, as shallow as can be
    peer_script(token, [{"text": deep}, {"text": '{"a":%s}' % deep},
                        {"sample_text": '{"sample":%s}' % deep},
                        {"sample_text": '{"sample":{"label":[%s]}}' % many},
                        request("after-nesting", 100, 10)])
    assert remote(token).serve(3) == 3
    log = settled(token, 3)
    assert log["connections"] == 1, log
    for entry in log["samples"][:2]:
        assert statuses(entry) == ["sample=False"], entry
        assert "nested" in entry["error"] or "values" in entry["error"], entry
    assert log["samples"][2]["state"] == "finished", log["samples"][2]


@_socket
def test_text_or_a_close_reason_that_is_not_utf8_closes_with_1007_and_serving_goes_on():
    text = b'{"sample":{"label":"\xff\xfe"}}'
    frames = {"text": bytes([0x81, len(text)]) + text,
              "close-reason": b"\x88\x06\x03\xe8\xc3\x28\xff\x41"}  # 1000, then not UTF-8
    for what, frame in frames.items():
        token = _token("utf8-" + what)
        peer_script(token, [{"raw": "".join("%02x" % b for b in frame)},
                            request("after-bad-" + what, 100, 10)])
        assert remote(token).serve(1) == 1
        log = settled(token)
        assert log["connections"] == 2 and log["closes"][0][0] == 1007, (what, log)
        assert log["samples"][0]["state"] == "finished", (what, log)


@_socket
def test_a_close_whose_reason_is_not_utf8_fails_the_connection_with_1007():
    from ei.websocket import ConnectionClosed, WebSocket
    token = _token("close-reason-ws")
    ws = WebSocket(peer_url("echo", token), timeout=5)
    ws.send("!raw:880503e9c3ff41")
    e = raises(ConnectionClosed, ws.recv)
    assert e.code == 1007, (e.code, e.reason)
    ws.close()
    assert _closes(token)["closes"][0][0] == 1007


# codes an endpoint may not send (RFC 6455 7.4.1 and 7.4.2), and codes it may
INVALID_CLOSE_CODES = (0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535)
VALID_CLOSE_CODES = (1000, 1001, 1003, 1007, 1011, 1013, 3000, 4999)  # wsproto's: not 1014


@_socket
def test_invalid_close_codes_are_answered_with_1002_not_echoed():
    from ei.websocket import ConnectionClosed, WebSocket
    for code in INVALID_CLOSE_CODES + VALID_CLOSE_CODES:
        token = _token("code%d" % code)
        ws = WebSocket(peer_url("echo", token), timeout=5)
        ws.send("!raw:8802%04x" % code)
        raises(ConnectionClosed, ws.recv)
        ws.close()
        answer = _closes(token)["closes"][0][0]
        assert answer == (1002 if code in INVALID_CLOSE_CODES else code), (code, answer)


@_socket
def test_a_refused_upgrade_whose_status_line_is_not_utf8_is_a_handshake_error():
    from ei.websocket import HandshakeError
    r = remote(_token("garbled"))
    r.url = peer_url("garbled", _token("garbled"))
    e = raises(HandshakeError, r.connect)  # a TransportError: serve() reconnects after it
    assert "400" in str(e), e


@_socket
def test_an_empty_continuation_every_half_second_ends_at_the_timeout_and_pings_go_on():
    # the message must be whole within timeout (2 s), however often its frames come; meanwhile
    # the keep-alive pings go out; then the device closes, reconnects and serves
    token = _token("trickle")
    peer_script(token, [{"trickle": {"every_ms": 500, "for_ms": 6000}},
                        request("after-trickle", 100, 10)])
    r = remote(token, timeout=2, ping_ms=300, pong_ms=2000)
    assert r.serve(1) == 1
    log = settled(token)
    assert log["connections"] == 2 and log["closes"][0][0] == 1008, log
    assert log["pings"] >= 3, log  # about 2 s at one every 300 ms, while the message trickled
    assert log["samples"][0]["state"] == "finished", log


@_socket
def test_messages_of_100_kb_close_with_1009_and_serving_goes_on():
    # 100 KB, then frame heads announcing 4 GB and 2**63 bytes: each is refused from its head
    token = _token("big")
    gone = {"wait_ms": 2000}  # the device's close ends the wait: the next step is on a new link
    peer_script(token, [{"text": "x", "repeat": 100000}, gone, {"raw": "827f0000000100000000"},
                        gone, {"raw": "827f8000000000000000"}, gone,
                        request("after-big", 100, 10)])
    assert remote(token).serve(1) == 1
    log = settled(token)
    assert log["connections"] == 4, log
    # 1009 as the peer read it; or a reset, when the close met the peer still sending 100 KB
    assert [c[0] in (1009, 1006) for c in log["closes"][:3]] == [True] * 3, log
    assert log["samples"][0]["state"] == "finished", log


# --- clocks near the wrap ----------------------------------------------------------------

class _Noting:
    """One axis; notes the virtual clock's elapsed µs at each read."""
    axes = (("t", "us"),)

    def __init__(self, clock):
        self.clock = clock
        self.at = []

    def read(self):
        self.at.append(self.clock.elapsed_us)
        return (1.0,)


def test_a_sample_at_one_reading_every_10_minutes_or_an_hour_keeps_its_deadlines():
    # intervals over 2**29 µs, half a 32-bit board's ticks period, from a clock one second
    # before ticks_us wraps (a virtual clock: it takes a moment)
    import ei
    from clock import Clock
    for interval_ms in (600000, 3600000):
        with Clock(before_wrap_us=1000000) as clock:
            sensor = _Noting(clock)
            s = ei.sample(sensor, interval_ms, 3)
        period = interval_ms * 1000
        assert s.interval_ms == interval_ms and s.timing.late_rows == 0, interval_ms
        for i, t in enumerate(sensor.at):  # each read within 1 ms of its deadline
            late = t - sensor.at[0] - i * period
            assert -1000 < late < 1000, (interval_ms, i, late)


def test_the_forwarder_at_one_line_an_hour_keeps_its_deadlines():
    import ei.forwarder
    from clock import Clock

    class Out:
        def __init__(self, clock):
            self.clock = clock
            self.at = []

        def write(self, text):
            self.at.append(self.clock.elapsed_us)

    with Clock(before_wrap_us=1000000, modules=(ei.forwarder,)) as clock:
        out = Out(clock)
        assert ei.forward(_Noting(clock), 3600000, seconds=3 * 3600, out=out) == 3
    for i, t in enumerate(out.at):
        late = t - out.at[0] - i * 3600000000
        assert -1000 < late < 1000, (i, late)


@_socket
def test_remote_management_keeps_its_pings_and_deadlines_over_the_ticks_ms_wrap():
    import ei.compat
    import ei.transport
    import ei.websocket_read
    from clock import NearWrap
    from ei.compat import forget
    token = _token("wrap-ms")
    peer_script(token, [{"wait_ms": 1500}, request("after-wrap", 100, 10)])
    # the modules that read ticks_ms: those loaded for a step (the session, the WebSocket's
    # reading again after a sample) take ei.compat's, shifted too
    with NearWrap((ei.compat, ei.websocket_read, ei.transport), before_ms=500):
        assert remote(token, ping_ms=200, pong_ms=1000).serve(1) == 1
    for name in ("websocket_read", "remote_session"):  # not kept with the shifted clock
        forget(name)
    log = settled(token)
    assert log["connections"] == 1 and log["pings"] >= 4, log
    assert log["samples"][0]["state"] == "finished", log


# --- the offline queue's files -----------------------------------------------------------

QUEUE = scratch("ei-hostile-queue")


def teardown_module():
    from fwtest import remove_tree
    remove_tree(QUEUE)


def _queue():
    from fwtest import remove_tree
    from ei.queue import Queue
    remove_tree(QUEUE)
    return Queue(QUEUE)


def _write(name, data):
    with open(QUEUE + "/" + name, "wb") as f:
        f.write(data)


def _entry(seq, header, body=b"\xa0"):
    """An entry file: the EIQ1 line (header: bytes of JSON, or a dict whose size is body's)."""
    import json
    if isinstance(header, dict):
        header = dict(header, size=len(body))
        header = json.dumps(header).encode()
    _write("%08d.eiq" % seq, b"EIQ1 " + header + b"\n" + body)


def _good(**changes):
    h = {"category": "training", "label": None, "file_name": "hostile.cbor",
         "content_type": "application/cbor", "no_label": False, "add_date_id": True}
    h.update(changes)
    return h


# headers no entry of ours has, each with the body its size (if any) would need
HEADERS = [
    b'{"category": "training", "file_name": "a.cbor", "content_type": "application/cbor", '
    b'"label": "\xff\xfe", "size": 1}',
    b'{"category": "training", "file_name": "a.cbor", "content_type": "application/cbor", '
    b'"size": 1e309}',
    b'{"category": "training", "file_name": "a.cbor", "content_type": "application/cbor", '
    b'"size": -1}',
    b'{"category": "training", "file_name": "a.cbor", "content_type": "application/cbor", '
    b'"size": 1.0}',
    b'{"category": "training", "file_name": "a.cbor", "content_type": "application/cbor", '
    b'"size": true}',
    b'{"category": "training", "file_name": "a.cbor", "content_type": "application/cbor", '
    b'"size": 1' + b"0" * 400 + b"}",
    b'{"category": "training", "file_name": "a.cbor", "content_type": "application/cbor", '
    b'"size": NaN}',
    b'{"category": "training", "file_name": "a.cbor", "content_type": "application/cbor", '
    b'"size": 1, "x": ' + b"[" * 450 + b"]" * 450 + b"}",
    b'{"category": "training", "file_name": ["a"], "content_type": "application/cbor", '
    b'"size": 1}',
    b'{"category": "training", "file_name": "a.cbor", "content_type": "text/plain", '
    b'"size": 1}',
    b'{"category": "training", "file_name": "a.cbor", "content_type": "application/cbor", '
    b'"no_label": "yes", "size": 1}',
    b"[1, 2, 3]",
]


def test_queue_files_with_hostile_headers_are_moved_aside_on_open_and_the_rest_kept():
    from ei.queue import Queue
    _queue()
    _entry(1, _good())
    for i, header in enumerate(HEADERS):
        _entry(10 + i, header)
    with open(QUEUE + "/00000090.eiq", "wb") as f:  # a 100 KB line: no header in its 1 KB
        f.write(b"EIQ1 {")
        for _ in range(100):
            f.write(b"x" * 1000)
    _write("%08d.eiq" % 91, b"\xff" * 5000)
    _entry(99, _good())
    q = Queue(QUEUE)
    assert len(q) == 2 and [e["name"] for e in q] == ["00000001.eiq", "00000099.eiq"]
    reasons = dict(q.aside)
    assert len(q.aside) == 14 and all("not a queue entry" in r for r in reasons.values()), \
        q.aside
    assert q.put(_sample()) == "00000100.eiq"


def _sample():
    import ei
    return ei.Sample(device_type="TEST", interval_ms=10, sensors=[("x", "u")],
                     values=[[1.0], [2.0]])


@_socket
def test_a_queue_entry_that_cannot_be_sent_is_moved_aside_and_the_rest_flush():
    # headers that pass the queue's own check but not the client's: an empty file name
    # (the issue's), a control character, an empty body
    from remote_checks import client
    q = _queue()
    q.put(_sample(), label="hostile-first")
    _entry(2, _good(file_name=""), b"\xa0")
    _entry(3, _good(label="a\r\nX-Evil: 1"), b"\xa0")
    _entry(4, _good(), b"")
    from ei.queue import Queue
    q = Queue(QUEUE)
    assert q.put(_sample(), label="hostile-last") == "00000005.eiq"
    assert len(q) == 4 and q.aside == [  # the empty name, on open; the others, sent
        ("00000002.eiq", "not a queue entry (bad EIQ1 header: no file name)")], q.aside
    assert q.flush(client()) == 2 and len(q) == 0
    assert [name for name, _ in q.aside] == ["00000002.eiq", "00000003.eiq", "00000004.eiq"]
    assert "control character" in q.aside[1][1] and "empty" in q.aside[2][1], q.aside
    assert q.delivered == ["00000001.eiq", "00000005.eiq"]


@_socket
def test_a_100_kb_header_line_in_the_upgrade_is_dropped_and_the_websocket_opens():
    from ei.websocket import WebSocket
    ws = WebSocket(peer_url("long-header", _token("long-header")), timeout=5)
    try:
        assert ws.recv() == "hello"
    finally:
        ws.close()
