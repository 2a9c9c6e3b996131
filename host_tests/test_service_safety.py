"""The service on a developer's machine, where any web page can send it requests: another
site's form or script is refused (Origin), a DNS-rebinding page is refused (Host), what changes
data needs a key, slow clients get 408 and cannot take every connection.
"""
import socket
import time

import pytest

from service import API_KEY, MockServer
from service_client import encode, post_data, request, sample, stored

TIMEOUT = 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = MockServer(tmp_path_factory.mktemp("safety"), timeout=TIMEOUT, allow_hosts=("devbox.local",)).start()
    yield s
    s.stop()


@pytest.fixture()
def one(server):
    """One sample stored, which a refused request must leave there."""
    request(server, "POST", "/_mock/reset", headers={"x-api-key": API_KEY})
    assert post_data(server, encode(sample(), "cbor"), file_name="keep.cbor").status == 200


def _form(server, path, **headers):
    return request(server, "POST", path, b"x=1", dict({"Content-Type": "application/x-www-form-urlencoded"},
                                                     **headers))


def test_a_cross_site_form_cannot_reset_the_store(server, one):
    a = _form(server, "/_mock/reset", Origin="http://evil.example")
    assert a.status == 403 and "another origin" in a.text
    a = _form(server, "/_mock/reset", Origin="http://evil.example", **{"x-api-key": API_KEY})
    assert a.status == 403
    assert [e["name"] for e in stored(server)] == ["keep.cbor"]


@pytest.mark.parametrize("origin", ["null", "http://127.0.0.1:1", "http://localhost.evil.example",
                                    "file://", "http://127.0.0.1:%d@evil.example"])
def test_an_upload_from_another_origin_is_refused(server, one, origin):
    a = post_data(server, encode(sample(), "cbor"), file_name="x.cbor", Origin=origin.replace("%d", str(server.port)))
    assert a.status == 403
    assert [e["name"] for e in stored(server)] == ["keep.cbor"]


def test_a_page_of_another_site_is_refused_by_its_fetch_metadata(server, one):
    assert request(server, "GET", "/samples", headers={"Sec-Fetch-Site": "cross-site"}).status == 403


def test_the_dashboards_own_origin_is_accepted(server, one):
    for origin in ("http://127.0.0.1:%d" % server.port, "http://localhost:%d" % server.port):
        a = post_data(server, encode(sample(), "cbor"), file_name="own.cbor", Origin=origin)
        assert a.status == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:%d", "127.0.0.1.nip.io:%d", "devbox:%d"])
def test_a_foreign_host_is_refused_so_dns_rebinding_reads_nothing(server, one, host):
    a = request(server, "GET", "/samples", headers={"Host": host.replace("%d", str(server.port))})
    assert a.status == 403 and "Host" in a.text and "keep.cbor" not in a.text


@pytest.mark.parametrize("host", ["127.0.0.1:%d", "localhost:%d", "localhost", "[::1]:%d", "devbox.local:%d"])
def test_the_bound_address_loopback_names_and_allowed_names_are_served(server, one, host):
    assert request(server, "GET", "/samples", headers={"Host": host.replace("%d", str(server.port))}).status == 200


def test_a_service_bound_to_all_addresses_takes_any_address_but_no_other_name(tmp_path):
    s = MockServer(tmp_path, host="0.0.0.0").start()
    try:
        for host, status in (("192.0.2.7:%d", 200), ("10.1.2.3", 200), ("localhost", 200), ("evil.example", 403)):
            c = request(s, "GET", "/samples", headers={"Host": host.replace("%d", str(s.port))})
            assert c.status == status, host
    finally:
        s.stop()


# ---- slow clients and many connections ---------------------------------------------------------

def _trickle(server, pieces, pause):
    """Send pieces with a pause between them until the service answers; its answer."""
    with socket.create_connection((server.host, server.port), timeout=10) as s:
        s.setblocking(True)
        got = b""
        for piece in pieces:
            try:
                s.sendall(piece)
            except OSError:
                break
            s.settimeout(pause)
            try:
                got += s.recv(4096)
                break
            except socket.timeout:
                pass
            finally:
                s.settimeout(10)
        while True:  # the service closes the connection after a 408
            more = s.recv(4096)
            if not more:
                break
            got += more
        return got


def test_a_client_that_trickles_its_head_gets_408(server):
    head = b"GET /samples HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"
    t = time.monotonic()
    got = _trickle(server, [head[i:i + 4] for i in range(0, len(head), 4)], 0.1)
    assert got.startswith(b"HTTP/1.") and b" 408 " in got.split(b"\r\n")[0], got[:200]
    assert b"head" in got and time.monotonic() - t < TIMEOUT + 5


def test_a_client_that_trickles_a_chunked_body_gets_408(server):
    head = (b"POST /api/training/data HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: %s\r\nx-file-name: slow.cbor\r\n"
            b"Content-Type: application/cbor\r\nTransfer-Encoding: chunked\r\n\r\n" % API_KEY.encode())
    t = time.monotonic()
    got = _trickle(server, [head] + [b"2\r\n\xa0\xa0\r\n"] * 100, 0.1)
    assert b" 408 " in got.split(b"\r\n")[0] and b"bytes/s" in got, got[:300]
    assert time.monotonic() - t < TIMEOUT + 5


def test_connections_beyond_the_bound_get_503_at_once_and_the_others_go_on(tmp_path):
    s = MockServer(tmp_path, max_connections=3, timeout=5).start()
    idle = [socket.create_connection((s.host, s.port), timeout=5) for _ in range(3)]
    try:
        time.sleep(0.2)  # the three are accepted and wait in their threads
        t = time.monotonic()
        with socket.create_connection((s.host, s.port), timeout=5) as extra:
            got = extra.recv(4096)
        assert got.startswith(b"HTTP/1.1 503 ") and time.monotonic() - t < 1.0, got[:200]
        idle.pop().close()
        time.sleep(0.2)
        assert request(s, "GET", "/samples").status == 200
    finally:
        for c in idle:
            c.close()
        s.stop()
