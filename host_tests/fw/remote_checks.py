# What the remote management tests (test_remote.py, test_hostile_input.py) share: a Remote for
# one of the peer's scripts, a sample request, and the peer's log once it has noted the
# samples. Not a test module.
from fwtest import API_KEY, peer_log, peer_url, reset_mock

HMAC_KEY = "f9ef5e0bd3c6b6b7d1c3c8cbbb3cd6c3"
# the device's messages for a sample served from request to finish
FULL = ["sample=True", "sampleStarted", "sampleProcessing", "sampleUploading", "sampleFinished"]


def client(api_key=API_KEY, addr=None):
    from fwtest import client as fw_client
    return fw_client(addr, api_key=api_key, timeout=5, retries=0)


def remote(token, c=None, **kw):
    """A Remote for the peer's /studio/<token>, quick to start and to reconnect. The mock
    service is emptied first: stored() reads all of it, on a small heap."""
    from ei.remote_mgmt import Remote
    reset_mock()
    from ei.sim import Accelerometer
    kw.setdefault("start_delay_ms", 50)
    kw.setdefault("backoff_ms", 100)
    kw.setdefault("timeout", 5)
    return Remote(c or client(), Accelerometer("wave"), url=peer_url("studio", token),
                  device_id="remote-test-" + token, device_type="MICROPYTHON_TEST",
                  frequencies=[62.5, 100], max_sample_s=5, **kw)


def request(label, length=300, interval=10, **extra):
    s = {"label": label, "length": length, "path": "/api/training/data", "hmacKey": HMAC_KEY,
         "interval": interval, "sensor": "Accelerometer"}
    s.update(extra)
    return {"sample": s}


def settled(token, samples=1):
    """The peer's log once it has noted `samples` samples (it notes each when the device's
    last message for it has come, a moment after the device went on)."""
    from ei.compat import sleep_ms
    for _ in range(100):
        log = peer_log(token)
        if len(log["samples"]) >= samples:
            return log
        sleep_ms(50)
    raise AssertionError("the peer noted %d samples, not %d: %r" % (len(log["samples"]),
                                                                    samples, log))


def statuses(entry):
    out = []
    for _, msg in entry["events"]:
        for k in msg:
            if k != "error":
                out.append("%s=%s" % (k, msg[k]) if k == "sample" else k)
    return out
