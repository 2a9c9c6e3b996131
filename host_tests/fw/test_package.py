# `import ei` is light: it loads the errors only; each other name loads its module when used.
import sys

import ei


def test_import_ei_loads_no_module_but_the_errors():
    loaded = [m for m in sys.modules if m.startswith("ei.")]
    # other tests of this process may have loaded more on CPython; the unix port runs each
    # test in a fresh process, where only these are loaded
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
