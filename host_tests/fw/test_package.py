# `import ei` is light: it loads the errors only; each other name loads its module when used.
import os
import sys

from fwtest import RUNTIME, raises

import ei

ONLY = {"test_every_public_name_loads_from_its_module":
        ("socket", "ei.Client loads ei.transport, which imports socket: the nRF52840 "
         "(f32-nonet) has none")}
# a test of what the first import loads needs a process where nothing else ran first
OWN_PROCESS = ("test_import_ei_loads_no_module_but_the_errors",)
RP2 = "all"  # the package as a Pico loads it: .mpy files on littlefs


def test_import_ei_loads_no_module_but_the_errors():
    loaded = [m for m in sys.modules if m.startswith("ei.")]
    # other tests of this process may have loaded more on CPython; on MicroPython this test
    # has a process of its own (OWN_PROCESS), where only these are loaded
    for m in ("ei.errors",):
        assert m in loaded
    if sys.implementation.name == "micropython":
        assert sorted(loaded) == ["ei.errors"], loaded


def test_every_public_name_loads_from_its_module():
    for name in ("Sample", "Client", "sample", "Queue", "collect", "setup", "use", "forward"):
        assert callable(getattr(ei, name)), name
    assert ei.Client.__name__ == "Client" and ei.sample.__name__ == "sample"


def test_an_unknown_name_is_an_attribute_error():
    try:
        ei.Klient
    except AttributeError as e:
        assert "Klient" in str(e)
    else:
        raise AssertionError("ei.Klient did not raise")


def test_ei_runs_from_the_runtimes_frozen_firmware_or_from_firmware_folder():
    # f32-frozen holds ei frozen in, as a custom board firmware does, and firmware/ is not on
    # its path: what runs there is the frozen package, named by its path inside the firmware
    if RUNTIME == "f32-frozen":
        assert ei.__file__ == "ei/__init__.py", ei.__file__
        raises(OSError, os.stat, ei.__file__)  # no such file: it is frozen in
    elif RUNTIME == "rp2":  # copied to the Pico's flash as .mpy, as make deploy MPY=1 does
        assert ei.__file__ == "ei/__init__.mpy", ei.__file__
        os.stat(ei.__file__)
    else:
        assert ei.__file__.endswith("firmware/ei/__init__.py"), ei.__file__
        os.stat(ei.__file__)


def test_an_error_s_words_are_loaded_when_it_is_shown_and_forgotten_after():
    # the text of a typed error lives in ei/messages.py, not in the module that raised it
    from ei import wire
    e = raises(ValueError, wire.check_category, "validation")
    assert type(e) is ValueError
    assert "ei.messages" not in sys.modules
    text = "category must be one of training, testing, anomaly; not 'validation'"
    assert str(e) == text and "%s" % e == text and text in repr(e)
    assert "ei.messages" not in sys.modules and "messages" not in ei.__dict__



class _NoRoom:
    def __getattr__(self, name):
        raise MemoryError("memory allocation failed")


def test_an_error_shown_where_its_words_do_not_fit_still_names_its_values():
    # loading ei/messages.py takes about 10 KB from .mpy: on a heap that has not that much
    # left, str() gives the text's number and the values, and the module is not left behind
    from ei import wire
    e = raises(ValueError, wire.check_category, "validation")
    sys.modules["ei.messages"] = _NoRoom()  # (as a load that runs out of memory)
    try:
        text = str(e)
    finally:
        had = sys.modules.pop("ei.messages", None) is not None
    assert text.startswith("ei error ") and text.endswith(": validation"), text
    assert not had  # str() took it out
    assert str(e).startswith("category must be one of training")
