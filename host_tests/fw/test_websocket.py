# ei.websocket against the remote-management peer on loopback (host_tests/peer_scenarios.py,
# Studio's side on wsproto): the handshake and its accept check, masking, ping/pong, close,
# fragments, oversized and malformed frames, timeouts.
from fwtest import RUNTIME, raises, peer_url, peer_log, tohex

_SOCKET = "opens a socket: the no-network build has none"
# what a test needs that a build may lack (the harness skips it there, with the reason)
ONLY = {name: ("socket", _SOCKET) for name in (
    "test_text_and_binary_messages_come_back_from_the_echo_peer",
    "test_every_client_frame_is_masked",
    "test_a_wrong_sec_websocket_accept_is_refused",
    "test_a_refused_upgrade_names_the_status",
    "test_a_ping_from_the_server_is_answered_with_its_payload",
    "test_a_ping_from_the_client_gets_a_pong",
    "test_a_close_from_the_server_raises_with_its_code_and_is_answered",
    "test_a_fragmented_message_is_assembled",
    "test_a_message_over_max_size_is_refused_with_close_1009",
    "test_malformed_frames_close_the_connection_with_1002",
    "test_recv_returns_none_when_nothing_comes_within_its_timeout",
    "test_close_sends_a_close_frame_the_peer_sees",
    "test_a_server_that_stops_mid_frame_is_a_timeout_not_a_hang",
)}


def _open(route, token, **kw):
    from ei.websocket import WebSocket
    return WebSocket(peer_url(route, token), timeout=5, **kw)


def _closes(token):
    # the peer logs a connection's end when its thread sees it: wait a little for it
    from ei.compat import sleep_ms
    for _ in range(50):
        log = peer_log(token)
        if log["closes"]:
            return log
        sleep_ms(100)
    return log


def test_url_is_parsed_into_tls_host_port_and_path():
    from ei.websocket import parse_url
    assert parse_url("ws://remote-mgmt.edgeimpulse.com") == (
        False, "remote-mgmt.edgeimpulse.com", 80, "/")
    assert parse_url("wss://h:8443/a/b?c=1") == (True, "h", 8443, "/a/b?c=1")
    for bad in ("http://h/", "ws://", "ws://h:x/", "ws://h:70000/", "ws://h/a b", None):
        raises(ValueError, parse_url, bad)


def test_accept_key_is_rfc_6455_s_example():
    from ei.websocket import accept_key
    from ei.sha1 import digest
    # RFC 6455 section 1.3
    assert accept_key(b"dGhlIHNhbXBsZSBub25jZQ==") == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    # the Python SHA-1 a build without hashlib.sha1 uses: FIPS 180 test vectors
    assert tohex(digest(b"abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert tohex(digest(b"a" * 1000)) == "291e9a6c66994949b57ba5e650361e98fc36b1ba"


def test_text_and_binary_messages_come_back_from_the_echo_peer():
    ws = _open("echo", "echo1")
    try:
        ws.send("héllo")
        assert ws.recv() == "héllo"
        ws.send(b"\x00\x01\xff" * 100)  # 300 bytes: a 16-bit length
        assert ws.recv() == b"\x00\x01\xff" * 100
    finally:
        ws.close()


def test_every_client_frame_is_masked():
    ws = _open("echo", "mask1")
    try:
        ws.send("x")
        assert ws.recv() == "x"
    finally:
        ws.close()
    log = _closes("mask1")
    # the first frame as it came: FIN + text, then the mask bit over a length of 1
    assert log["first_frames"][0] == "8181", log
    # and the peer (wsproto, which refuses unmasked client frames with 1002) saw no error
    assert log["closes"][0][0] == 1000, log


def test_a_wrong_sec_websocket_accept_is_refused():
    from ei.websocket import HandshakeError
    e = raises(HandshakeError, _open, "wrong-accept", "acc1")
    assert "Sec-WebSocket-Accept" in str(e)


def test_a_refused_upgrade_names_the_status():
    from ei.websocket import HandshakeError
    e = raises(HandshakeError, _open, "refuse", "ref1")
    assert "403" in str(e)


def test_a_ping_from_the_server_is_answered_with_its_payload():
    ws = _open("echo", "ping1")
    try:
        ws.send("!ping:abc")
        assert ws.recv() == "pong:abc"
    finally:
        ws.close()
    assert peer_log("ping1")["pongs"] == ["abc"]


def test_a_ping_from_the_client_gets_a_pong():
    ws = _open("echo", "ping2")
    try:
        assert ws.last_pong is None
        ws.ping(b"k")
        assert ws.recv() is None  # the pong: no message, but last_pong says when
        assert ws.last_pong is not None
        ws.send("after")
        assert ws.recv() == "after"
    finally:
        ws.close()


def test_a_close_from_the_server_raises_with_its_code_and_is_answered():
    from ei.websocket import ConnectionClosed
    ws = _open("echo", "close1")
    ws.send("!close")
    e = raises(ConnectionClosed, ws.recv)
    assert (e.code, e.reason) == (4000, "bye")
    # closed stays closed: no send, no recv
    raises(ConnectionClosed, ws.send, "x")
    raises(ConnectionClosed, ws.recv)
    ws.close()
    assert _closes("close1")["closes"][0][0] == 4000  # the device's answering close


def test_a_fragmented_message_is_assembled():
    ws = _open("echo", "frag1")
    try:
        ws.send("!fragments")
        assert ws.recv() == "hello fragmented world"
    finally:
        ws.close()


def test_a_message_over_max_size_is_refused_with_close_1009():
    from ei.websocket import ConnectionClosed
    ws = _open("echo", "big1", max_size=200)
    ws.send("!big:200")
    assert ws.recv() == b"x" * 200  # max_size itself is taken
    ws.send("!big:201")
    e = raises(ConnectionClosed, ws.recv)
    assert e.code == 1009
    assert _closes("big1")["closes"][0][0] == 1009


def test_malformed_frames_close_the_connection_with_1002():
    from ei.websocket import ConnectionClosed
    cases = (
        ("c10161", "reserved bit set"),
        ("818100000000", "masked server frame"),
        ("830161", "unknown opcode"),
        ("897e0080" + "00" * 128, "control frame over 125 bytes"),
        ("090161", "fragmented ping"),
        ("800161", "continuation with no message"),
        ("010161" + "810162", "new message inside a fragmented one"),
        ("880103", "close frame with one byte"),
    )
    for i, (frame, why) in enumerate(cases):
        # a token of its own: the peer's log of it is this case's, on this runtime only
        token = "malformed%d-%s" % (i, RUNTIME)
        ws = _open("echo", token)
        ws.send("!raw:" + frame)
        e = raises(ConnectionClosed, ws.recv)
        assert e.code == 1002, (why, e.code)
        raises(ConnectionClosed, ws.recv)
        ws.close()
        assert _closes(token)["closes"][0][0] == 1002, why


def test_a_text_message_that_is_not_utf8_closes_with_1007():
    from ei.websocket import ConnectionClosed
    ws = _open("echo", "utf1")
    ws.send("!raw:8102c328")
    e = raises(ConnectionClosed, ws.recv)
    assert e.code == 1007
    ws.close()
    assert _closes("utf1")["closes"][0][0] == 1007


ONLY["test_a_text_message_that_is_not_utf8_closes_with_1007"] = ("socket", _SOCKET)


def test_recv_returns_none_when_nothing_comes_within_its_timeout():
    from ei.compat import ticks_ms, ticks_diff
    ws = _open("echo", "quiet1")
    try:
        t = ticks_ms()
        assert ws.recv(0.3) is None
        assert ticks_diff(ticks_ms(), t) < 0.3 * 1000 + 1000  # within the timeout + 1 s
        ws.send("still open")
        assert ws.recv() == "still open"
    finally:
        ws.close()


def test_a_server_that_stops_mid_frame_is_a_timeout_not_a_hang():
    from ei.compat import ticks_ms, ticks_diff
    from ei.websocket import ConnectionClosed, WebSocket
    ws = WebSocket(peer_url("echo", "stall1"), timeout=1)
    ws.send("!raw:810561")  # 5 bytes announced, 1 sent
    t = ticks_ms()
    e = raises(ConnectionClosed, ws.recv)
    assert e.code == 1002 and "half-way" in e.reason
    assert ticks_diff(ticks_ms(), t) < 1000 + 1000  # within the timeout + 1 s
    ws.close()


def test_close_sends_a_close_frame_the_peer_sees():
    ws = _open("echo", "bye1")
    ws.send("x")
    assert ws.recv() == "x"
    ws.close(1000, "done")
    log = _closes("bye1")
    assert log["closes"][0] == [1000, "done"], log


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _wss(token, ca):
    from ei.websocket import WebSocket
    from fwtest import env
    port = int(env("EI_PEER_TLS_PORT"))
    # the certificate names localhost; addr skips the lookup
    return WebSocket("wss://localhost:%d/echo/%s" % (port, token), timeout=5, ca=ca,
                     addr=("127.0.0.1", port))


def test_wss_with_the_right_ca_carries_messages():
    from fwtest import env
    ws = _wss("tls1", _read(env("EI_PEER_CA_PEM")))
    try:
        ws.send("over TLS")
        assert ws.recv() == "over TLS"
    finally:
        ws.close()


def test_wss_with_a_wrong_ca_fails_with_a_certificate_error():
    from fwtest import env
    from ei.errors import CertificateError
    raises(CertificateError, _wss, "tls2", _read(env("EI_PEER_WRONG_CA_PEM")))


ONLY["test_wss_with_the_right_ca_carries_messages"] = ("socket", _SOCKET)
ONLY["test_wss_with_a_wrong_ca_fails_with_a_certificate_error"] = ("socket", _SOCKET)
