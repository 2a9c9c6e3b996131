# The client against a hostile server (host_tests/hostile_server.py), on every runtime with a
# socket: every answer, whatever its size, framing or encoding, ends in
# the status's IngestionError or a TransportError that says what was wrong, never in a
# MemoryError; a server that takes the body too slowly is left at the request's deadline;
# and /files is read file by file, so a retry sends only what the service does not have.
from hostile import client, log, token
from fwtest import raises, sample

import ei
from ei import errors, wire
from ei.compat import ticks_ms, ticks_diff

# 64 KB of heap is checked from .mpy, as a board runs it: test_hostile_memory.py

ONLY_MODULE = ("socket", "hostile servers over a socket: the nRF52840 (f32-nonet) has none")


def upload(scenario, **kw):
    return client(**kw).upload(sample(), label=scenario)


def test_error_pages_of_1_20_and_200_kb_end_as_server_errors_with_their_start_kept():
    for scenario in ("page-1k", "page-20k", "page-200k", "page-chunked", "page-close"):
        e = raises(errors.ServerError, upload, scenario)
        assert e.status == 502, scenario
        assert e.body.startswith("<html><body><h1>502 Bad Gateway"), scenario
        assert len(e.body) <= wire.KEEP, scenario


def test_an_endless_chunked_body_ends_as_a_transport_error():
    e = raises(errors.TransportError, upload, "endless-chunked")
    assert "over %d bytes" % wire.MAX_DROP in str(e)


def test_endless_headers_end_as_a_transport_error():
    e = raises(errors.TransportError, upload, "endless-headers")
    assert "header lines" in str(e)


def test_header_lines_of_any_length_are_dropped_and_the_stored_name_read():
    # a CDN's 2 KB Report-To and a 100 KB cookie: the upload was stored, and says so
    assert upload("long-header") == "long-header.cbor"


def test_bad_chunk_sizes_are_transport_errors_never_a_stored_name():
    for scenario in ("chunk-negative", "chunk-0x"):
        e = raises(errors.TransportError, upload, scenario)
        assert "bad chunk size" in str(e), scenario


def test_conflicting_framing_is_a_transport_error_saying_so():
    e = raises(errors.TransportError, upload, "two-lengths")
    assert "two different Content-Lengths" in str(e)
    e = raises(errors.TransportError, upload, "length-and-chunked")
    assert "both Content-Length and chunked" in str(e)


def test_a_status_outside_100_to_599_is_a_transport_error():
    for scenario in ("status-600", "status-99"):
        e = raises(errors.TransportError, upload, scenario)
        assert "not an HTTP response" in str(e) or "outside 100-599" in str(e), scenario


def test_100_continue_is_skipped_and_the_real_answer_read():
    assert upload("continue") == "continued.cbor"


def test_a_body_that_is_not_utf8_keeps_its_status():
    e = raises(errors.BadRequest, upload, "latin1")
    assert e.status == 400 and e.body.startswith("Donn\ufffdes refus\ufffdes")


def test_a_server_that_takes_the_body_slowly_is_left_at_the_request_s_deadline():
    # 200,000 rows of one float32: 1.2 MB. The server reads 8 KB every 1.5 s (5.5 KB/s);
    # min_rate asks for the body within about 3 s, so the request ends by timeout + 3 s.
    rows = 200000

    def values():
        for i in range(rows):
            yield (i,)
    s = ei.Sample(device_type="TEST", interval_ms=10, sensors=[("x", "u")], values=values(),
                  rows=rows)
    c = client(timeout=2, float32=True, min_rate=400000)
    bound_ms = c.deadline_ms(1200000)
    t0 = ticks_ms()
    e = raises(errors.Timeout, c.upload, s, label="slow")
    took = ticks_diff(ticks_ms(), t0)
    assert "deadline" in str(e) or "timed out" in str(e)
    assert took <= bound_ms + 2000, (took, bound_ms)


def files(n, tok):
    return [("f%02d.%s.csv" % (i, tok), b"t,x\n0,%d\n%s\n" % (i, tok.encode()))
            for i in range(n)]


def test_files_stored_in_part_are_each_delivered_once_after_a_crash():
    tok = token()
    results = client(retries=2).upload_files(files(12, tok), label="files-partial." + tok)
    assert [r[1] for r in results] == [True] * 12
    assert [r[2] for r in results[:9]] == ["already stored"] * 9
    assert [r[2] for r in results[9:]] == [n for n, _ in files(12, tok)[9:]]
    seen = log(tok)
    assert len(seen["requests"]) == 2  # the crash named no file: the retry sent all
    assert sorted(seen["stored"]) == sorted(n for n, _ in files(12, tok))


def test_a_retry_sends_only_the_files_the_service_does_not_have():
    tok = token()
    sent = files(12, tok)
    results = client(retries=2).upload_files(sent, label="files-per-file-500." + tok)
    assert [r[1] for r in results] == [True] * 12
    seen = log(tok)
    assert seen["requests"] == [[n for n, _ in sent], [n for n, _ in sent[9:]]]
    assert sorted(seen["stored"]) == sorted(n for n, _ in sent)


def test_a_long_files_answer_is_read_file_by_file_as_it_streams_past():
    tok = token()
    sent = files(3, tok)
    results = client().upload_files(sent, label="files-long." + tok)
    assert results == [(n, True, n) for n, _ in sent]


def test_a_files_answer_in_small_chunks_is_read_file_by_file_across_them():
    # each entry is kept in the answer's buffer while the chunk framing between its bytes is
    # cut out of it
    tok = token()
    sent = files(12, tok)
    results = client().upload_files(sent, label="files-chunked." + tok)
    assert results == [(n, True, n) for n, _ in sent]


def test_the_results_read_as_a_list_and_the_files_code_is_forgotten_after():
    import sys
    tok = token()
    sent = files(5, tok)
    results = client().upload_files(sent, label="files-long." + tok)
    assert len(results) == 5 and results[0] == (sent[0][0], True, sent[0][0])
    assert results[-1][0] == sent[4][0] and results[1:3] == [r for r in results][1:3]
    assert list(results) == [(n, True, n) for n, _ in sent] == results
    assert [r[1] for r in results] == [True] * 5
    raises(IndexError, results.__getitem__, 5)
    assert "ei.files" not in sys.modules and "ei.files_answer" not in sys.modules


def test_a_file_that_grows_while_it_is_sent_is_never_taken_longer_than_announced():
    # an open file whose size is read as 9 bytes (checked, then counted in the request's
    # length), then 17 when its part is written: the body stops at the length the request
    # announced, and the upload says why
    class Growing:
        def __init__(self):
            self.pos, self.sizes = 0, [9, 9, 17]

        def tell(self):
            return self.pos

        def seek(self, pos, whence=0):
            self.pos = (self.sizes.pop(0) if len(self.sizes) > 1 else self.sizes[0]) \
                if whence == 2 else pos
            return self.pos

        def readinto(self, buf):
            n = len(buf)
            buf[:n] = b"x" * n
            return n
    tok = token()
    e = raises(ValueError, client().upload_files, [("grows.%s.csv" % tok, Growing())],
               label="files-plain." + tok)
    assert "did a file change" in str(e)
    assert log(tok)["stored"] == []


def test_a_file_refused_as_invalid_is_reported_not_retried_and_named():
    tok = token()
    sent = [("a.%s.csv" % tok, b"t,x\n0,1\n"), ("bad.%s.csv" % tok, b"nonsense"),
            ("b.%s.csv" % tok, b"t,x\n0,2\n")]
    e = raises(ei.NotDelivered, client(retries=3).upload_files, sent,
               label="files-invalid." + tok)
    assert [r[1] for r in e.results] == [True, False, True]
    assert "bad.%s.csv" % tok in str(e) and "Invalid file" in str(e)
    assert "a.%s.csv" % tok not in str(e)
    assert len(log(tok)["requests"]) == 1


def test_a_socket_without_a_method_fails_as_a_transport_error_not_attribute_error():
    # MicroPython 1.23's TLS socket has no recv: whatever a port's socket lacks, an upload
    # ends in a TransportError that names the step, never a bare AttributeError
    from ei.transport import Connection
    from hostile import HOST
    from fwtest import env

    def missing(*args):
        raise AttributeError("'SSLSocket' object has no attribute 'recv'")
    c = Connection(HOST, int(env("EI_HOSTILE_PORT")), timeout=5)
    try:
        c._readinto = c._write = missing
        e = raises(errors.TransportError, c.write, b"x")
        assert "sending to" in str(e) and "AttributeError" in str(e)
        e = raises(errors.TransportError, c.readinto, bytearray(4))
        assert "reading from" in str(e)
    finally:
        c.close()
