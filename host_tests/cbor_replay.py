# Replays encoder cases on the MicroPython unix port for test_cbor_props.py:
#   micropython cbor_replay.py CASES_FILE
# CASES_FILE holds one case a line in the tagged JSON form that test_cbor_props.py writes;
# this prints the hex of ei.cbor's encoding of each, one a line, in order.
# Reading a line at a time keeps the heap to one case however many there are.
import json
import sys
from binascii import hexlify, unhexlify
from collections import OrderedDict
from struct import unpack

from fwtest import cbor_dumps as dumps


def rebuild(t):
    if t is None or t is True or t is False:
        return t
    tag, v = t
    if tag == "i":
        return int(v)
    if tag == "f":
        return unpack(">d", unhexlify(v))[0]
    if tag == "s":
        return unhexlify(v).decode()
    if tag == "b":
        return unhexlify(v)
    if tag == "l":
        return [rebuild(x) for x in v]
    if tag == "t":
        return tuple(rebuild(x) for x in v)
    if tag == "d":
        return OrderedDict([(rebuild(k), rebuild(x)) for k, x in v])
    raise ValueError("unknown tag %r" % tag)


def main(path):
    with open(path) as f:
        for line in f:
            print(hexlify(dumps(rebuild(json.loads(line)))).decode())


main(sys.argv[1])
