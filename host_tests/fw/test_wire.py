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


def test_oversized_body_is_refused():
    r = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 100
    raises(TransportError, wire.read_response, feeder(r), 50)


def test_endless_header_line_is_refused():
    raises(TransportError, wire.read_response, feeder(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 5000))


def test_request_head_order_for_data():
    head = wire.request_head("/api/training/data", "h", "ei_01", [("X-File-Name", "a.cbor")],
                             "application/cbor", 12)
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
