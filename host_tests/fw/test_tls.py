# TLS against the mock server over HTTPS, its certificate signed for "localhost" by a test CA
# made when the session started (tools/tls_certs.py): the right CA connects, as PEM or DER; a wrong
# CA or a wrong hostname fails with a clear error. On the unix port mbedtls checks the
# hostname against the certificate (its Common Name and subjectAltName), as CPython's ssl does.
# Without a CA, HTTPS still works, with one warning. And no key is ever shown.
from faults import read_file, tls_addr
from fwtest import API_KEY, env, raises, remove_tree, sample, scratch

import ei
from ei import errors, log, transport

HMAC_KEY = "hmac-key-never-shown-0123"
ONLY_MODULE = ("socket", "HTTPS: the nRF52840 (f32-nonet) has no socket, ssl or tls")


def tls_client(ca=None, host="localhost", api_key=API_KEY, **kw):
    ip, port = tls_addr()
    return ei.Client(api_key, host=host, port=port, tls=True, addr=(ip, port), ca=ca,
                     timeout=5, retries=0, **kw)


def test_the_right_ca_as_pem_connects_and_the_sample_is_stored():
    c = tls_client(ca=read_file(env("EI_TLS_CA_PEM")))
    assert c.upload(sample(), label="idle") == "idle.cbor"


def test_the_right_ca_as_der_or_as_text_connects_too():
    assert tls_client(ca=read_file(env("EI_TLS_CA_DER"))).upload(sample(), label="a") == "a.cbor"
    text = read_file(env("EI_TLS_CA_PEM")).decode()
    assert tls_client(ca=text).upload(sample(), label="b") == "b.cbor"


def test_a_wrong_ca_fails_with_a_clear_error():
    c = tls_client(ca=read_file(env("EI_TLS_WRONG_CA_PEM")))
    e = raises(errors.CertificateError, c.upload, sample())
    text = str(e)
    assert text.startswith("TLS handshake with localhost:") and "certificate" in text.lower()
    assert "\n" not in text


def test_a_certificate_that_does_not_verify_is_not_retried():
    ip, port = tls_addr()
    c = ei.Client(API_KEY, host="localhost", port=port, tls=True, addr=(ip, port), timeout=5,
                  retries=3, backoff_ms=10, ca=read_file(env("EI_TLS_WRONG_CA_PEM")))
    raises(errors.CertificateError, c.upload, sample())
    assert c.attempts == 1


def test_a_wrong_hostname_fails_with_a_clear_error():
    c = tls_client(ca=read_file(env("EI_TLS_CA_PEM")), host="wrong.example")
    e = raises(errors.CertificateError, c.upload, sample())
    text = str(e).lower()
    assert text.startswith("tls handshake with wrong.example:") and "certificate" in text
    assert "hostname" in text or "cn" in text


def test_an_early_answer_over_tls_is_read_even_when_the_server_then_resets():
    # the server answers 401 on the headers, closes with the body unread, and its kernel
    # resets the connection: the answer that arrived first must still be read
    for _ in range(10):
        c = tls_client(ca=read_file(env("EI_TLS_CA_PEM")), api_key="ei_" + "0" * 64)
        e = raises(errors.Unauthorized, c.upload, sample())
        assert e.body == "Invalid API key"


def _warnings():
    seen = []
    transport._warned = False
    log.handler = lambda level, text: seen.append(text)
    return seen


def test_without_a_ca_https_works_and_warns_once():
    seen = _warnings()
    try:
        c = tls_client()
        assert c.upload(sample(), label="idle") == "idle.cbor"
        c.upload(sample(), label="idle")
        assert len(seen) == 1 and "not verified" in seen[0]
    finally:
        log.handler = None


def test_with_a_ca_there_is_no_warning():
    seen = _warnings()
    try:
        tls_client(ca=read_file(env("EI_TLS_CA_PEM"))).upload(sample(), label="idle")
        assert seen == []
    finally:
        log.handler = None


def _shows_no_key(text):
    assert API_KEY not in text and API_KEY[3:19] not in text, text
    assert HMAC_KEY not in text, text


def test_no_key_in_any_repr_or_error_message():
    from ei.encoder import Encoding
    from ei.queue import Queue
    from ei.signing import HMAC
    c = tls_client(ca=read_file(env("EI_TLS_WRONG_CA_PEM")), hmac_key=HMAC_KEY)
    folder = scratch("ei-tls-secrets")
    try:
        for r in (c, Encoding("cbor", False, HMAC_KEY), HMAC(HMAC_KEY),
                  Queue(folder, hmac_key=HMAC_KEY)):
            _shows_no_key(repr(r))
    finally:
        remove_tree(folder)
    failures = [
        (errors.TransportError, c.upload, (sample(),), {}),  # wrong CA
        (errors.TransportError, tls_client(host="wrong.example", hmac_key=HMAC_KEY,
                                           ca=read_file(env("EI_TLS_CA_PEM"))).upload,
         (sample(),), {}),
        (errors.Unauthorized, ei.Client("ei_" + "0" * 64, host="localhost", port=tls_addr()[1],
                                        addr=tls_addr(), hmac_key=HMAC_KEY, retries=0).upload,
         (sample(),), {}),
        (errors.TransportError, ei.Client(API_KEY, host="127.0.0.1", port=9, tls=False,
                                          hmac_key=HMAC_KEY, retries=0).upload, (sample(),), {}),
        (ValueError, c.upload, (sample(),), {"label": "a\nb"}),
        (ValueError, c.upload_files, ([("x.cbor", b"")] * 1001,), {}),
        (ValueError, ei.Client, (API_KEY + "\n",), {}),
        (ValueError, ei.Client, (API_KEY,), {"hmac_key": b""}),
    ]
    for error, fn, args, kw in failures:
        e = raises(error, fn, *args, **kw)
        _shows_no_key(str(e))
        _shows_no_key(repr(e))
