# The checks of a new Client's arguments (ei/client.py): the API key, host, port, timeout,
# retries, transport and min_rate, each refused naming the bad value (never a key). Run once a
# client: ei.Client loads this module for them and forgets it after, so that its code is not
# kept beside the client's while uploads run (ei.Remote's heap).
from ei import wire
from ei.compat import FLOAT32, forget, const
from ei.errors import Msg

_TRANSPORTS = ("socket", "urequests")
# error texts (ei/messages.py)
_M_PORT = const(21)
_M_TIMEOUT = const(22)
_M_RETRIES = const(23)
_M_TRANSPORT = const(24)
_M_MIN_RATE = const(25)


def init(c, api_key, host, port, tls, timeout, addr, hmac_key, float32, ca, retries,
         backoff_ms, iat, transport, chunk, min_rate):
    """Client.__init__: check the arguments and set what they make of Client c."""
    from ei.api_key import check_api_key
    c._api_key = check_api_key(api_key)
    check_api_key = None
    forget("api_key")  # run once: not kept with the client's code (ei.Remote's heap)
    c.host = wire.check_header(host, "host")
    c.tls = bool(tls)
    c.port = port if port is not None else (443 if c.tls else 80)
    for what, v, ok in (
            (_M_PORT, port, isinstance(c.port, int) and 0 < c.port < 65536),
            (_M_TIMEOUT, timeout, isinstance(timeout, (int, float)) and timeout > 0),
            (_M_RETRIES, retries, isinstance(retries, int) and retries >= 0),
            (_M_TRANSPORT, transport, transport in _TRANSPORTS),
            (_M_MIN_RATE, min_rate, isinstance(min_rate, int) and min_rate > 0)):
        if not ok:
            raise ValueError(Msg(what, v))
    c.timeout = timeout
    c.addr = addr
    c._hmac_key = wire.check_hmac_key(hmac_key)
    # None: the board's float size. A single-precision board loses nothing in float32
    # (43% fewer bytes for 3-axis rows), and a capture it wrote is copied from flash.
    c.float32 = FLOAT32 if float32 is None else bool(float32)
    c.ca = ca  # the CA certificate uploads verify against (not a secret)
    c.retries = retries
    c.backoff_ms = backoff_ms
    c.iat = iat
    c.transport = transport
    c.chunk = chunk
    c.min_rate = min_rate
    c.attempts = 0  # how many attempts the last request took
