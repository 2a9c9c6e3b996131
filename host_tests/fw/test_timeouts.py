# Every step is bounded by the client's timeout: a server that drops the connection attempt,
# accepts and never answers, never reads, stalls mid-answer or dribbles it a byte at a time
# ends in ei.Timeout within timeout plus a second, never a hang. Bounds, not speeds: a test
# asserts only that the client gave up by then.
from faults import proxy_addr, read_file, script, silent_addr, syn_drop_addr, tls_mute_addr
from fwtest import API_KEY, client as fw_client, env, mock_addr, raises, sample as made, scratch

import ei
from ei import errors
from ei.compat import ticks_diff, ticks_ms

TIMEOUT = 1
BIG = scratch("ei-timeouts-big") + ".bin"

ONLY_MODULE = ("socket", "network timeouts: the nRF52840 (f32-nonet) has no socket")
ONLY = {
    "test_name_resolution_is_bounded_where_the_runtime_allows":
        ("cpython", "MicroPython's getaddrinfo cannot be bounded; an IP address skips it"),
}


def sample():
    return made(4)


def client(addr, tls=False):
    return fw_client(("127.0.0.1", addr[1]), tls=tls, timeout=TIMEOUT, retries=0)


def times_out(c, fn, *args, **kw):
    """Call fn; it must raise ei.Timeout within TIMEOUT + 1 s. Returns the error."""
    t0 = ticks_ms()
    e = raises(errors.Timeout, fn, *args, **kw)
    took = ticks_diff(ticks_ms(), t0)
    assert took < (TIMEOUT + 1) * 1000, "gave up after %d ms" % took
    return e


def test_connect_to_a_port_that_drops_connection_attempts_times_out():
    c = client(syn_drop_addr())
    e = times_out(c, c.upload, sample())
    assert "connecting to 127.0.0.1" in str(e)


def test_a_server_that_accepts_and_never_answers_times_out():
    c = client(silent_addr())
    e = times_out(c, c.upload, sample())
    assert "reading from" in str(e)


def test_a_server_that_reads_the_request_and_never_answers_times_out():
    script("stall_request")
    c = client(proxy_addr())
    times_out(c, c.upload, sample())


def test_a_stall_mid_response_times_out():
    script("stall_mid_response")
    c = client(proxy_addr())
    times_out(c, c.upload, sample())


def test_a_dribbled_response_times_out_as_a_whole():
    # a byte every 0.2 s: each read succeeds, but the whole answer must come within timeout
    script("dribble")
    c = client(proxy_addr())
    times_out(c, c.upload, sample())


def test_an_answer_on_a_connection_kept_open_is_read_by_its_length():
    # a keep-alive server sends its answer and waits: the client must not wait for a close
    script("keep_open")
    c = client(proxy_addr())
    t0 = ticks_ms()
    assert c.upload(sample(), label="idle") == "idle.cbor"
    assert ticks_diff(ticks_ms(), t0) < TIMEOUT * 1000


def test_a_tls_handshake_that_never_completes_times_out():
    script("stall_request")
    c = client(proxy_addr(), tls=True)
    e = times_out(c, c.upload, sample())
    assert "TLS handshake" in str(e)


def test_a_tls_server_that_never_answers_times_out():
    ip, port = tls_mute_addr()
    c = ei.Client(API_KEY, host="localhost", port=port, addr=(ip, port), timeout=TIMEOUT,
                  retries=0, ca=read_file(env("EI_TLS_CA_PEM")))
    e = times_out(c, c.upload, sample())
    assert "reading from localhost" in str(e)


def _sparse(path, size):
    with open(path, "wb") as f:
        f.seek(size - 1)
        f.write(b"\0")


def test_a_write_to_a_server_that_never_reads_times_out():
    # 48 MB, more than loopback buffers hold: a write blocks once they are full
    _sparse(BIG, 48 * 1024 * 1024)
    try:
        c = ei.Client(API_KEY, host="127.0.0.1", port=silent_addr()[1], tls=False,
                      timeout=TIMEOUT, retries=0, chunk=16384)
        t0 = ticks_ms()
        e = raises(errors.Timeout, c.upload_files, [("big.bin", BIG)])
        assert "sending to" in str(e)
        # each write is bounded; filling the buffers first takes what it takes
        assert ticks_diff(ticks_ms(), t0) < 30000
    finally:
        import os
        os.remove(BIG)


def test_an_ip_address_skips_name_resolution():
    # addr= goes straight to an IP: the name in `host` (here one that cannot resolve) is
    # only the Host header, never looked up
    host, port = mock_addr()
    c = ei.Client(API_KEY, host="never-resolved.invalid", port=port, tls=False,
                  addr=(host, port), timeout=TIMEOUT, retries=0)
    assert c.upload(sample(), label="idle") == "idle.cbor"


def test_name_resolution_is_bounded_where_the_runtime_allows():
    import socket
    import time
    real = socket.getaddrinfo

    def slow(*a, **kw):
        time.sleep(TIMEOUT + 3)
        return real(*a, **kw)

    socket.getaddrinfo = slow
    try:
        c = ei.Client(API_KEY, host="slow-dns.example", tls=False, timeout=TIMEOUT, retries=0)
        e = times_out(c, c.upload, sample())
        assert "resolving slow-dns.example" in str(e)
    finally:
        socket.getaddrinfo = real
