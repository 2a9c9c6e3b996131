# The wire: request heads as the page writes them, header checks, and response parsing.
from fwtest import raises

from ei import files, wire
from ei.errors import TransportError


def feeder(data, step=7):
    """A readinto() that hands out `data` a few bytes at a time, as a socket may."""
    pos = [0]

    def readinto(buf):
        n = min(step, len(buf), len(data) - pos[0])
        buf[:n] = data[pos[0]:pos[0] + n]
        pos[0] += n
        return n
    return readinto


def test_response_with_content_length():
    r = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\ntest.cbor"
    assert wire.read_response(feeder(r)) == (200, "test.cbor")


def test_response_with_chunked_body():
    r = (b"HTTP/1.1 400 Bad Request\r\ntransfer-encoding: chunked\r\n\r\n"
         b"5\r\nMissi\r\n9;ext=1\r\nng values\r\n0\r\n\r\n")
    assert wire.read_response(feeder(r, 3)) == (400, "Missing values")


def test_response_delimited_by_close():
    r = b"HTTP/1.0 500 Internal Server Error\r\n\r\nboom"
    assert wire.read_response(feeder(r)) == (500, "boom")


def test_garbage_is_not_an_http_response():
    e = raises(TransportError, wire.read_response, feeder(b"SSH-2.0-OpenSSH\r\n\r\n"))
    assert "not an HTTP response" in str(e)


def test_truncated_body_is_an_error():
    r = b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nshort"
    e = raises(TransportError, wire.read_response, feeder(r))
    assert "5 of 20" in str(e)


def test_closed_in_headers_is_an_error():
    raises(TransportError, wire.read_response, feeder(b"HTTP/1.1 200 OK\r\nContent-Le"))


def endless(head, piece):
    """A readinto() that hands out head, then piece again and again, forever."""
    state = [head, 0]

    def readinto(buf):
        data, pos = state
        if pos == len(data):
            data, pos = piece, 0
        n = min(len(buf), len(data) - pos)
        buf[:n] = data[pos:pos + n]
        state[0], state[1] = data, pos + n
        return n
    return readinto


def sized(head, fill, n):
    """A readinto() that hands out head, then n bytes of fill, then the end of the stream."""
    left = [n, head]

    def readinto(buf):
        if left[1]:
            k = min(len(buf), len(left[1]))
            buf[:k] = left[1][:k]
            left[1] = left[1][k:]
            return k
        k = min(len(buf), left[0])
        for i in range(k):
            buf[i] = fill
        left[0] -= k
        return k
    return readinto


def test_a_large_body_is_read_through_and_only_its_first_bytes_are_kept():
    r = sized(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 200000\r\n\r\n<html>",
              0x78, 200000 - 6)
    status, text = wire.read_response(r)
    assert status == 502 and len(text) == wire.KEEP and text.startswith("<html>xx")


def test_the_sink_sees_every_body_byte_as_it_passes():
    seen = [0]

    def sink(buf, keep, a, b):
        seen[0] += b - a
    r = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"y" * 5000
    assert wire.read_response(feeder(r, 999), sink)[0] == 200
    assert seen[0] == 5000


def gather_runs(limit):
    """A sink that keeps each run of body bytes up to a ";" in the reader's buffer (as the
    /files answer's is kept), gathering the runs it sees whole: runs longer than limit are
    given up."""
    runs = []

    def sink(buf, keep, a, b):
        for i in range(a, b):
            if keep < 0:
                keep = i
            if buf[i] == 0x3B:  # ;
                runs.append(bytes(buf[keep:i + 1]))
                keep = -1
        return keep if keep >= 0 and b - keep <= limit else None
    return runs, sink


def test_a_sink_keeps_its_bytes_in_one_run_across_reads_and_chunks():
    body = b"".join(b"%d-%s;" % (i, b"v" * (i * 7 % 300)) for i in range(40))
    chunked = b"".join(b"%x;ext=%s\r\n%s\r\n" % (len(body[i:i + 97]), b"e" * (i % 150),
                                                   body[i:i + 97])
                       for i in range(0, len(body), 97)) + b"0\r\n\r\n"
    for r in (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body),
              b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked):
        for step in (1, 7, 100, 512):
            runs, sink = gather_runs(384)
            assert wire.read_response(feeder(r, step), sink)[0] == 200
            assert b"".join(runs) == body, step


def test_a_sink_that_keeps_too_much_ends_as_a_transport_error():
    runs, sink = gather_runs(10000)
    r = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 1000
    e = raises(TransportError, wire.read_response, feeder(r, 50), sink)
    assert "kept over" in str(e)


def test_header_lines_of_any_length_are_dropped_past_what_is_kept():
    # a CDN's Report-To of 2 KB, a 9 KB cookie: read and dropped in the answer's buffer (an
    # endless one ends at MAX_DROP, below)
    for n in (129, 600, 2000, 9000):
        r = (b"HTTP/1.1 200 " + b"O" * n + b"\r\nReport-To: " + b"{" * n +
             b"\r\nContent-Length: 9\r\n\r\ntest.cbor")
        for step in (7, 512):
            assert wire.read_response(feeder(r, step)) == (200, "test.cbor"), (n, step)


def test_a_content_length_over_a_line_is_refused_not_cut():
    r = b"HTTP/1.1 200 OK\r\nContent-Length: " + b"0" * 200 + b"9\r\n\r\ntest.cbor"
    e = raises(TransportError, wire.read_response, feeder(r))
    assert "Content-Length" in str(e)


def test_a_body_longer_than_max_drop_is_refused_before_it_is_read():
    r = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (wire.MAX_DROP + 1)
    e = raises(TransportError, wire.read_response, feeder(r))
    assert "over %d" % wire.MAX_DROP in str(e)


def test_an_endless_chunked_body_ends_at_max_drop():
    e = raises(TransportError, wire.read_response,
               endless(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                       b"400\r\n" + b"z" * 1024 + b"\r\n"))
    assert "over %d bytes" % wire.MAX_DROP in str(e)


def test_an_endless_body_until_close_ends_at_max_drop():
    e = raises(TransportError, wire.read_response,
               endless(b"HTTP/1.1 200 OK\r\n\r\n", b"z" * 4096))
    assert "over %d bytes" % wire.MAX_DROP in str(e)


def test_endless_headers_are_refused_at_the_header_count_limit():
    e = raises(TransportError, wire.read_response,
               endless(b"HTTP/1.1 200 OK\r\n", b"X-Padding: 1\r\n"))
    assert "header lines" in str(e)


def test_an_endless_header_line_ends_at_max_drop():
    e = raises(TransportError, wire.read_response,
               endless(b"HTTP/1.1 200 OK\r\nX: ", b"a" * 4096))
    assert "header line over %d bytes" % wire.MAX_DROP in str(e)
    e = raises(TransportError, wire.read_response,
               feeder(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 5000))
    assert "connection closed in the response's header" in str(e)


def test_chunk_sizes_are_hex_digits_only_and_bounded():
    for bad in (b"-5", b"0x5", b" 5", b"+5", b"5 ", b"", b"g", b"FFFFFFFF", b"\xff"):
        r = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + bad +
             b"\r\nhello\r\n0\r\n\r\n")
        e = raises(TransportError, wire.read_response, feeder(r))
        assert "bad chunk size" in str(e), bad


def test_a_chunk_longer_than_its_size_is_refused():
    r = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"3\r\nhello\r\n0\r\n\r\n")
    raises(TransportError, wire.read_response, feeder(r))


def test_chunked_trailers_are_read_and_skipped():
    r = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n")
    assert wire.read_response(feeder(r)) == (200, "hello")


def test_two_different_content_lengths_are_refused():
    r = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 3\r\n\r\nhello"
    e = raises(TransportError, wire.read_response, feeder(r))
    assert "two different Content-Lengths" in str(e)
    r = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"
    assert wire.read_response(feeder(r)) == (200, "hello")


def test_content_length_with_chunked_is_refused():
    r = (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"5\r\nhello\r\n0\r\n\r\n")
    e = raises(TransportError, wire.read_response, feeder(r))
    assert "both Content-Length and chunked" in str(e)


def test_a_transfer_encoding_other_than_chunked_is_refused():
    r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    raises(TransportError, wire.read_response, feeder(r))


def test_a_status_outside_100_to_599_is_refused():
    for bad in (b"099", b"600", b"999", b"2000", b"20"):
        r = b"HTTP/1.1 " + bad + b" X\r\nContent-Length: 0\r\n\r\n"
        raises(TransportError, wire.read_response, feeder(r))


def test_interim_1xx_answers_are_skipped():
    r = (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
         b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nname")
    assert wire.read_response(feeder(r)) == (200, "name")


def test_a_204_has_no_body_even_on_a_connection_kept_open():
    # nothing follows the head: reading "to the close" would wait for the timeout
    r = b"HTTP/1.1 204 No Content\r\n\r\n"
    assert wire.read_response(endless(r, b"never read")) == (204, "")


def test_endless_interim_answers_are_refused():
    e = raises(TransportError, wire.read_response,
               endless(b"", b"HTTP/1.1 100 Continue\r\n\r\n"))
    assert "interim" in str(e)


def test_a_body_that_is_not_utf8_keeps_its_status_with_replacement_characters():
    r = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 9\r\n\r\nbad \xe9t\xe9 \xff"
    assert wire.read_response(feeder(r)) == (400, "bad \ufffdt\ufffd \ufffd")
    from ei.stream import decode
    assert decode("né ok".encode()) == "né ok"
    assert decode(b"cut \xc3") == "cut \ufffd"


def test_request_head_order_for_data():
    head = "".join(wire.head("/api/training/data", "h", "ei_01", [("X-File-Name", "a.cbor")],
                             "application/cbor", 12)).encode()
    assert head == (b"POST /api/training/data HTTP/1.1\r\nHost: h\r\nX-Api-Key: ei_01\r\n"
                    b"X-File-Name: a.cbor\r\nContent-Type: application/cbor\r\n"
                    b"Content-Length: 12\r\n\r\n")


def test_host_header_names_the_port_only_when_not_the_default():
    assert wire.host_header("h", 80, False) == "h"
    assert wire.host_header("h", 443, True) == "h"
    assert wire.host_header("h", 443, False) == "h:443"
    assert wire.host_header("h", 8080, True) == "h:8080"


def test_header_values_with_control_characters_are_refused():
    for bad in ("idle\r\nX-Api-Key: x", "a\nb", "tab\there", "nul\x00", "del\x7f"):
        e = raises(ValueError, wire.check_header, bad, "label")
        assert "label" in str(e) and "control character" in str(e)
    raises(ValueError, wire.check_header, "", "label")
    assert wire.check_header("idle 01", "label") == "idle 01"


def test_encode_uri_component_matches_javascript():
    assert wire.encode_uri_component("idle.01") == "idle.01"
    assert wire.encode_uri_component("a b/c?d") == "a%20b%2Fc%3Fd"
    assert wire.encode_uri_component("crème") == "cr%C3%A8me"
    assert wire.encode_uri_component("-_.!~*'()") == "-_.!~*'()"
    assert wire.encode_uri_component('"x"') == "%22x%22"


def test_content_type_follows_the_extension():
    assert files.content_type_for("a.CBOR") == "application/cbor"
    assert files.content_type_for("b.json") == "application/json"
    assert files.content_type_for("c.wav") == "audio/wav"
    assert files.content_type_for("d.jpg") == "image/jpeg"
    assert files.content_type_for("e.bin") == "application/octet-stream"


def test_unknown_category_is_refused():
    e = raises(ValueError, wire.check_category, "validation")
    assert "training, testing, anomaly" in str(e)
