# Retries through the fault proxy: what is worth a retry is retried, with growing, jittered
# delays; what is not is never retried; and a retry never stores a sample twice.
from faults import log, proxy_client as client, script
from fwtest import API_KEY, AXES, raises, reset_mock, stored
from fwtest import sample as made

import ei
from ei import errors

ONLY_MODULE = ("socket", "uploads through the fault proxy: the nRF52840 (f32-nonet) has no "
                         "socket")


def sample(n, rows=4):
    return made(rows, n, device_name="retry-%d" % n)


def names_stored(device_name):
    return [e["name"] for e in stored()
            if e["sample"]["payload"].get("device_name") == device_name]


def dup_headers():
    return [(e["headers"] or {}).get("x-disallow-duplicates") for e in log()]


def test_refused_reset_and_5xx_are_retried_until_delivered():
    reset_mock()
    script("refuse", "reset_request", "503", "garbage", "500")
    c = client(retries=5)
    name = c.upload(sample(1), label="idle")
    assert c.attempts == 6
    assert [e["fault"] for e in log()] == ["refuse", "reset_request", "503", "garbage", "500",
                                          "pass"]
    assert names_stored("retry-1") == [name]


def test_every_retry_carries_x_disallow_duplicates():
    reset_mock()
    script("503", "reset_request", "500")
    c = client()
    c.upload(sample(2), label="idle")
    assert dup_headers() == [None, "1", "1", "1"]  # the first only when asked for


def test_upload_files_retries_carry_it_too():
    reset_mock()
    script("reset_response")
    results = client().upload_files([("idle.1.cbor", sample(3)), ("idle.2.cbor", sample(4))])
    # the first answer was lost; the retry, with x-disallow-duplicates, was answered file by
    # file that each exists already: both delivered, by one retry
    assert results == [("idle.1.cbor", True, "already stored"),
                       ("idle.2.cbor", True, "already stored")]
    assert dup_headers()[1:] == ["1"]
    assert len(names_stored("retry-3")) == 1 and len(names_stored("retry-4")) == 1


def test_a_lost_200_is_stored_once_and_counts_as_delivered():
    reset_mock()
    for fault in ("reset_response", "reset_mid_response", "stall_response",
                  "stall_mid_response"):
        script(fault)
        c = client(timeout=1)
        n = 10 + len(stored())
        assert c.upload(sample(n), label="idle") is None  # delivered, by an earlier attempt
        assert c.attempts == 2
        assert len(names_stored("retry-%d" % n)) == 1, fault


def test_gives_up_after_its_retries_with_the_last_error():
    reset_mock()
    script("500", "503", "500")
    c = client(retries=2)
    e = raises(errors.ServerError, c.upload, sample(5))
    assert e.status == 500 and c.attempts == 3 and len(log()) == 3
    assert stored() == []


def test_timeouts_are_retried():
    reset_mock()
    script("stall_request")
    c = client(timeout=1)
    assert c.upload(sample(6), label="idle") == "idle.cbor"
    assert c.attempts == 2


def test_a_closed_port_is_retried_then_raises():
    c = ei.Client(API_KEY, host="127.0.0.1", port=9, tls=False, retries=2, backoff_ms=10)
    raises(errors.TransportError, c.upload, sample(7))
    assert c.attempts == 3


def test_400_401_and_421_are_never_retried():
    for status, error in (("400", errors.BadRequest), ("401", errors.Unauthorized),
                          ("421", errors.MissingHeader)):
        script(status, "pass", "pass")
        c = client()
        e = raises(error, c.upload, sample(8))
        assert e.status == int(status) and c.attempts == 1 and len(log()) == 1


def test_a_real_401_is_not_retried_either():
    script()
    c = client(api_key="ei_" + "0" * 64)
    raises(errors.Unauthorized, c.upload, sample(9))
    assert c.attempts == 1 and len(log()) == 1


def test_a_one_pass_sample_is_not_retried():
    # its values were consumed by the first attempt: sending again would send other rows
    reset_mock()
    script("503")
    s = ei.Sample(device_type="TEST", interval_ms=10, sensors=AXES,
                  values=iter([(1, 2, 3), (4, 5, 6)]), rows=2)
    c = client()
    raises(errors.ServerError, c.upload, s)
    assert c.attempts == 1


def test_delays_grow_and_are_at_least_half_of_each_step():
    script("refuse", "refuse", "refuse")
    client(backoff_ms=100).upload(sample(11), label="idle")
    t = [e["t"] for e in log()]
    gaps = [t[i + 1] - t[i] for i in range(3)]
    # retry k waits between half and all of backoff_ms * 2**(k-1): at least 50, 100, 200 ms
    for gap, low in zip(gaps, (0.05, 0.1, 0.2)):
        assert gap >= low, gaps


def test_retry_delays_are_jittered_and_bounded():
    c = client(backoff_ms=400)
    for attempt, full in ((1, 400), (2, 800), (3, 1600), (12, 30000)):
        seen = [c.retry_delay_ms(attempt) for _ in range(40)]
        assert min(seen) >= full // 2 and max(seen) <= full, (attempt, seen)
        assert len(set(seen)) > 1  # a fleet does not come back in lockstep
