# The API key's check, used by Client and by the config file's check. A module of its own so
# that checking a config at start-up loads nothing of the client: no socket (the nRF port has
# none), and none of the ~30 KB of heap the client's code takes to look at a key's hex digits.
from ei.compat import const
from ei.errors import Msg

_HEX = "0123456789abcdefABCDEF"
_M_API_KEY = const(59)  # error text (ei/messages.py)


def check_api_key(key):
    """Return key if it is 'ei_' and hex digits; else a ValueError that never repeats it."""
    # strip, not a loop over the characters: on MicroPython each character a loop hands out
    # is interned as a qstr, and a new qstr pool may not be found on a crowded heap
    ok = (isinstance(key, str) and len(key) > 3 and key[:3] == "ei_"
          and not key[3:].strip(_HEX))
    if not ok:
        raise ValueError(Msg(_M_API_KEY))
    return key
