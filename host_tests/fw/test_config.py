# The board's config file: every board's committed example is valid for it, and a missing
# key, a wrong type, an unknown board or key, or a value out of range is an error at start-up
# that names the file and the key, and never a secret's value.
import os

from fwtest import raises

from ei import config
from ei.config import ConfigError

ROOT = __file__.rsplit("/", 3)[0]  # host_tests/fw/test_config.py -> the repository
KEY = "ei_" + "0123456789abcdef" * 4
ONLY = {"test_client_follows_the_config":
        ("socket", "makes the Client, which talks over a socket: the nRF52840 (f32-nonet) "
         "has none")}


def good(**kw):
    cfg = {"board": "unix", "api_key": KEY}
    cfg.update(kw)
    return cfg


def message(cfg, board=None):
    return str(raises(ConfigError, config.check, cfg, "config.json", board))


def temp_file(text):
    path = "/tmp/ei-test-config-%s.json" % "".join("%02x" % b for b in os.urandom(6))
    with open(path, "w") as f:
        f.write(text)
    return path


def test_every_board_example_config_is_valid_for_its_board():
    for board in config.BOARDS:
        cfg = config.load(ROOT + "/boards/%s/config.example.json" % board, board)
        assert cfg["board"] == board


def test_a_missing_key_is_named_with_the_file():
    m = message({"board": "unix"})
    assert "config.json" in m and "missing the key 'api_key'" in m, m
    m = message({"api_key": KEY})
    assert "missing the key 'board'" in m, m


def test_a_wifi_board_without_wifi_ssid_names_the_key():
    for board in ("esp32", "rp2_pico_w"):
        m = message(good(board=board, wifi_password="x"), board)
        assert "'wifi_ssid'" in m and board in m, m
    config.check(good(board="nrf52840"), "config.json", "nrf52840")  # no network, no Wi-Fi


def test_a_wrong_type_names_the_key_and_both_types():
    m = message(good(port="8000"))
    assert "'port' must be int, not str" in m, m
    m = message(good(timeout=[10]))
    assert "'timeout' must be int or float, not list" in m, m


def test_a_bool_is_not_a_number_and_a_number_is_not_a_bool():
    assert "'port' must be int, not bool" in message(good(port=True))
    assert "'tls' must be bool, not int" in message(good(tls=1))


def test_an_unknown_board_is_named_with_the_known_ones():
    m = message(good(board="esp8266"))
    assert "unknown board 'esp8266'" in m and "'board'" in m, m
    for board in config.BOARDS:
        assert board in m


def test_an_unknown_key_is_named():
    m = message(good(wifi_pasword="x"))  # a typo must not be ignored silently
    assert "unknown key 'wifi_pasword'" in m, m


def test_a_config_for_another_board_is_refused_naming_both():
    m = message(good(board="esp32", wifi_ssid="lab"), "rp2_pico_w")
    assert "'esp32'" in m and "'rp2_pico_w'" in m and "BOARD=rp2_pico_w" in m, m


def test_numbers_out_of_range_are_named():
    assert "'port' must be more than 0 and at most 65535, not 0" in message(good(port=0))
    assert "'port' must be more than 0 and at most 65535" in message(good(port=70000))
    assert "'interval_ms' must be more than 0 " in message(good(interval_ms=0))
    assert "'wifi_timeout_ms' must be more than 0 " in message(good(wifi_timeout_ms=-1))


def test_an_api_key_that_is_not_one_is_named_without_repeating_it():
    m = message(good(api_key="ei_notahexkey"))
    assert "'api_key'" in m and "notahexkey" not in m, m


def test_messages_never_hold_a_secret_value():
    for key in ("wifi_password", "hmac_key"):
        m = message(good(**{key: 98765432}))
        assert "'%s' must be str" % key in m and "98765432" not in m, m


def test_load_names_a_missing_file():
    e = raises(ConfigError, config.load, "/tmp/no-such-dir-ei/config.json")
    assert "no config file at /tmp/no-such-dir-ei/config.json" in str(e), e


def test_load_names_a_file_that_is_not_json_without_quoting_it():
    path = temp_file('{"board": "unix", "api_key": "%s", "wifi_password": "hunter22",' % KEY)
    try:
        m = str(raises(ConfigError, config.load, path))
        assert path in m and "not valid JSON" in m and "hunter22" not in m, m
    finally:
        os.remove(path)


def test_load_checks_against_the_board_it_is_loaded_for():
    path = temp_file('{"board": "unix", "api_key": "%s"}' % KEY)
    try:
        assert config.load(path, "unix")["board"] == "unix"
        m = str(raises(ConfigError, config.load, path, "nrf52840"))
        assert path in m and "'unix'" in m, m
    finally:
        os.remove(path)


def test_client_follows_the_config():
    c = config.client(good(host="127.0.0.1", port=8000, tls=False, timeout=3))
    assert (c.host, c.port, c.tls, c.timeout) == ("127.0.0.1", 8000, False, 3)
    c = config.client(good())
    assert (c.host, c.port, c.tls) == ("ingestion.edgeimpulse.com", 443, True)
    assert KEY not in repr(c)


def test_every_number_must_be_finite_and_in_its_range():
    big = 10 ** 30  # a bignum where the port has them
    for key in config.KEYS:
        types = config.KEYS[key][0]
        if int not in types:
            continue
        bad = [big, -big] + ([float("inf"), float("-inf"), float("nan"), 1e30]
                             if float in types else [])
        for v in bad:
            m = message(good(**{key: v}))
            assert ("'%s' must be more than " % key) in m, (key, v, m)


def test_the_daemon_s_sample_settings_are_bounded_by_what_it_advertises():
    assert config.MAX_SAMPLE_MS == 300000  # AT+CONFIG?: "Max sample length: 300s"
    config.check(good(sample_length_ms=300000, sample_interval_ms=0.0625))
    assert "'sample_length_ms' must be more than 0 and at most 300000" in message(
        good(sample_length_ms=300001))
    assert "'sample_interval_ms' must be int or float, not str" in message(
        good(sample_interval_ms="10"))


def test_a_check_with_keys_missing_is_partial_but_every_key_there_is_checked():
    config.check({"board": "unix"}, partial=True)  # being repaired: api_key not set yet
    assert "'port'" in str(raises(ConfigError, config.check, {"port": 0}, "config", None,
                                  True))


def test_salvage_keeps_the_keys_that_are_right_and_names_the_others():
    kept, dropped = config.salvage({"board": "esp32", "api_key": "ei_zz", "port": 80,
                                    "interval_ms": float("inf"), "nope": 1}, "unix")
    assert kept == {"board": "unix", "port": 80}, kept
    assert sorted(dropped) == ["api_key", "board", "interval_ms", "nope"], dropped
    assert config.salvage([1, 2], "unix") == ({"board": "unix"}, [])


def test_save_writes_what_loads_and_refuses_what_would_not_leaving_the_file():
    path = temp_file("{}")
    try:
        config.save(good(device_id="one", interval_ms=12.5), path, "unix")
        assert config.load(path, "unix")["device_id"] == "one"
        with open(path) as f:
            before = f.read()
        for bad in (good(interval_ms=float("inf")), good(interval_ms=float("nan")),
                    good(api_key="ei_zz"), good(board="esp32")):
            raises(ConfigError, config.save, bad, path, "unix")
            with open(path) as f:
                assert f.read() == before
        assert not _exists(path + ".tmp")
    finally:
        os.remove(path)


def test_read_finds_the_new_file_when_a_reset_came_between_remove_and_rename():
    # save() on FAT removes the old file before renaming the new one over its name
    path = temp_file('{"board": "unix", "api_key": "%s"}' % KEY)
    try:
        os.rename(path, path + ".tmp")
        assert config.load(path, "unix")["api_key"] == KEY
        assert _exists(path) and not _exists(path + ".tmp")
    finally:
        os.remove(path)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def test_a_lenient_read_takes_the_numbers_json_cannot_hold_as_null():
    # what json.dumps writes for inf and nan (MicroPython: inf, nan; CPython: Infinity, NaN)
    text = ('{"board": "unix", "api_key": "%s", "interval_ms": inf, "timeout": -Infinity, '
            '"device_id": "inf nan \\" NaN", "sample_interval_ms": nan}' % KEY)
    path = temp_file(text)
    try:
        assert "not valid JSON" in str(raises(ConfigError, config.read, path))
        cfg = config.read(path, lenient=True)
        assert cfg["device_id"] == 'inf nan " NaN'  # strings are left alone
        assert (cfg["interval_ms"], cfg["timeout"], cfg["sample_interval_ms"]) == (
            None, None, None)
        kept, dropped = config.salvage(cfg, "unix")
        assert sorted(dropped) == ["interval_ms", "sample_interval_ms", "timeout"], dropped
        config.check(kept)  # what is kept loads
    finally:
        os.remove(path)


def test_save_can_keep_the_old_file_under_another_name():
    path = temp_file('{"board": "unix", "api_key": "%s", "interval_ms": inf}' % KEY)
    try:
        config.save(good(device_id="new"), path, "unix", keep=path + ".bad")
        assert config.load(path, "unix")["device_id"] == "new"
        with open(path + ".bad") as f:
            assert "inf" in f.read()
        assert not _exists(path + ".tmp")
    finally:
        os.remove(path)
        os.remove(path + ".bad")
