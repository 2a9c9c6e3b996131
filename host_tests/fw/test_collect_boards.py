# The board definitions (boards/<name>/board.py), each run with fakes of the hardware it
# would meet: machine.I2C carrying the register-level fake of its accelerometer
# (tools/chips/fake_i2c.py), and a network module whose WLAN goes through the statuses a
# port reports.
# Each board opens its chip on its pins, brings its network up (or has none), names itself
# from its MAC, and ei.collect() on it uploads or queues what the chip measured.
import sys

from fwtest import API_KEY, mock_addr, raises
from fake_i2c import G, FakeADXL345, FakeI2C, FakeLIS3DH, FakeLSM6DSOX, FakeMPU6050

import ei
from ei import config
from ei.compat import ticks_diff, ticks_ms
from ei.queue import Queue
from collect_checks import stored, stored_count, temp_dir
from fwtest import remove_tree

ROOT = __file__.rsplit("/", 3)[0]
MAC = b"\x24\x0a\xc4\x12\xab\xcd"
# The Wi-Fi boards upload: their collect() tests need a socket. The nrf52840's run on every
# runtime, f32-nonet (no socket, as the nRF port) included.
_UPLOADS = ("socket", "the board uploads to the mock service, and this runtime has no socket "
                      "(an nRF52840's queues: see the nrf52840 tests)")
ONLY = {
    "test_collect_on_esp32_uploads_what_the_mpu6050_measured": _UPLOADS,
    "test_collect_on_rp2_pico_w_uploads_to_testing": _UPLOADS,
    "test_an_i2c_chip_that_stops_answering_uploads_nothing": _UPLOADS,
}


class Board:
    """A board.py, loaded from its file the same way on both runtimes."""

    def __init__(self, name):
        ns = {"__name__": "board"}
        with open(ROOT + "/boards/%s/board.py" % name) as f:
            exec(f.read(), ns)
        for k in ns:
            setattr(self, k, ns[k])


# --- fakes of the ports' modules -----------------------------------------------------------

class Machine:
    """machine: I2C(id, scl=, sda=, freq=) over the given fake chips; Pin(n) is ("pin", n)."""

    def __init__(self, *devices):
        self.devices = devices
        self.buses = []
        self.i2c = None
        # bound here, so that `from machine import I2C, Pin` finds plain attributes: MicroPython
        # 1.23 refuses to import a method from an object
        self.I2C, self.Pin = self.I2C, self.Pin

    def Pin(self, n):
        return ("pin", n)

    def I2C(self, id, scl=None, sda=None, freq=None):
        self.buses.append((id, scl, sda, freq))
        self.i2c = FailingI2C(*self.devices)
        return self.i2c

    def unique_id(self):
        return b"\xde\xad\xbe\xef\x01\x02\x03\x04"


class FailingI2C(FakeI2C):
    """A bus whose chip stops acknowledging after `fail_after` burst reads (6 bytes)."""
    fail_after = None

    def readfrom_mem_into(self, addr, memaddr, buf, *, addrsize=8):
        if len(buf) == 6 and self.fail_after is not None:
            if self.fail_after == 0:
                raise OSError(19)  # ENODEV: nothing acknowledged
            self.fail_after -= 1
        FakeI2C.readfrom_mem_into(self, addr, memaddr, buf, addrsize=addrsize)


# Each port's WLAN status numbers (ports/esp32/network_wlan.c, the CYW43 driver of rp2).
ESP32_STAT = {"STAT_IDLE": 1000, "STAT_CONNECTING": 1001, "STAT_GOT_IP": 1010,
              "STAT_BEACON_TIMEOUT": 200, "STAT_NO_AP_FOUND": 201, "STAT_WRONG_PASSWORD": 202,
              "STAT_ASSOC_FAIL": 203, "STAT_HANDSHAKE_TIMEOUT": 204}
RP2_STAT = {"STAT_IDLE": 0, "STAT_CONNECTING": 1, "STAT_GOT_IP": 3, "STAT_CONNECT_FAIL": -1,
            "STAT_NO_AP_FOUND": -2, "STAT_WRONG_PASSWORD": -3}


class Network:
    """network: after connect(), WLAN.status() goes through `statuses` (names), staying on
    the last; connected at STAT_GOT_IP. Everything asked of it is noted."""
    STA_IF = 0

    def __init__(self, stat, statuses):
        for k in stat:
            setattr(self, k, stat[k])
        self.statuses = [stat[s] for s in statuses]
        self.calls = []
        net = self

        class WLAN:
            PM_NONE = 0x101110

            def __init__(self, iface):
                assert iface == net.STA_IF
                self.on = False

            def active(self, on=None):
                if on is not None:
                    net.calls.append(("active", on))
                    self.on = on
                return self.on

            def connect(self, ssid, password):
                net.calls.append(("connect", ssid, password))
                net.connecting = list(net.statuses)

            def disconnect(self):
                net.calls.append(("disconnect",))

            def status(self):
                if not net.connecting:
                    return net.STAT_IDLE
                if len(net.connecting) > 1:
                    return net.connecting.pop(0)
                return net.connecting[0]

            def isconnected(self):
                return bool(net.connecting) and net.connecting[0] == net.STAT_GOT_IP

            def ifconfig(self):
                return ("192.168.1.23", "255.255.255.0", "192.168.1.1", "192.168.1.1")

            def config(self, *args, **kw):
                if args == ("mac",):
                    return MAC
                net.calls.append(("config", kw))

        self.WLAN = WLAN
        self.connecting = []

    def country(self, cc):
        self.calls.append(("country", cc))

    def hostname(self, name):
        self.calls.append(("hostname", name))


def installed(machine=None, network=None):
    """Put the fakes where `import machine` and `import network` find them."""
    for name, mod in (("machine", machine), ("network", network)):
        if mod is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = mod


def uninstall():
    installed(None, None)


def cfg_for(board, **kw):
    host, port = mock_addr()
    c = {"board": board, "api_key": API_KEY, "host": host, "port": port, "tls": False}
    if board in config.WIFI_BOARDS:
        c.update(wifi_ssid="lab-2.4G", wifi_password="s3cret-pass", wifi_timeout_ms=2000)
    c.update(kw)
    return c


CHIPS = {"esp32": (FakeMPU6050, "MPU6050", 0, 22, 21),
         "rp2_pico_w": (FakeLIS3DH, "LIS3DH", 0, 5, 4),
         "rp2_pico": (FakeMPU6050, "MPU6050", 0, 5, 4),
         "nrf52840": (FakeADXL345, "ADXL345", 0, 27, 26)}


# --- the board protocol --------------------------------------------------------------------

def test_every_board_folder_defines_the_board_protocol():
    for name in config.BOARDS:
        b = Board(name)
        assert b.NAME == name and isinstance(b.DEVICE_TYPE, str) and b.DEVICE_TYPE
        assert b.INTERVAL_MS > 0 and b.CONFIG == "config.json"
        assert b.NETWORK in (None, "wifi", "host")
        assert callable(b.setup) and callable(b.sensor) and callable(b.device_name)
    assert Board("nrf52840").NETWORK is None and Board("rp2_pico").NETWORK is None
    assert Board("esp32").NETWORK == Board("rp2_pico_w").NETWORK == "wifi"


def test_each_board_opens_its_accelerometer_on_its_i2c_pins():
    try:
        for name in CHIPS:
            fake, chip, bus, scl, sda = CHIPS[name]
            dev = fake()
            m = Machine(dev)
            installed(m)
            s = Board(name).sensor(cfg_for(name))
            assert m.buses == [(bus, ("pin", scl), ("pin", sda), 400000)], (name, m.buses)
            assert s.chip == chip and s.rate_hz >= 100, (name, s)
            dev.set_acceleration(G / 2, -G / 4, G)
            x, y, z = s.read()
            assert abs(x - G / 2) < 0.05 and abs(y + G / 4) < 0.05 and abs(z - G) < 0.05
    finally:
        uninstall()


def test_config_overrides_the_chip_its_address_and_the_pins():
    try:
        m = Machine(FakeLSM6DSOX(address=0x6B))
        installed(m)
        s = Board("esp32").sensor(cfg_for("esp32", sensor="lsm6dsox", sensor_address=0x6B,
                                          sda=18, scl=19, i2c_freq=100000, range_g=8))
        assert m.buses == [(0, ("pin", 19), ("pin", 18), 100000)]
        assert s.chip.startswith("LSM6DSOX") and (s.address, s.range_g) == (0x6B, 8), s
    finally:
        uninstall()


def test_a_missing_chip_is_named_with_its_address():
    try:
        installed(Machine())  # nothing on the bus
        e = raises(OSError, Board("esp32").sensor, cfg_for("esp32"))
        assert "0x68" in str(e) and "MPU6050" in str(e), e
    finally:
        uninstall()


# --- the network ---------------------------------------------------------------------------

def test_wifi_boards_join_the_configured_network_and_name_themselves_from_the_mac():
    try:
        for name, stat in (("esp32", ESP32_STAT), ("rp2_pico_w", RP2_STAT)):
            net = Network(stat, ["STAT_CONNECTING", "STAT_CONNECTING", "STAT_GOT_IP"])
            installed(network=net)
            b = Board(name)
            b.setup(cfg_for(name))
            assert ("connect", "lab-2.4G", "s3cret-pass") in net.calls, net.calls
            assert b.device_name() == "24:0a:c4:12:ab:cd"
        assert ("country", "XX") in net.calls  # rp2: the radio's channels, before it starts
        assert ("config", {"pm": 0x101110}) in net.calls  # rp2: power saving off
    finally:
        uninstall()


def test_a_wrong_wifi_password_fails_at_once_naming_the_ssid_never_the_password():
    try:
        for name, stat in (("esp32", ESP32_STAT), ("rp2_pico_w", RP2_STAT)):
            installed(network=Network(stat, ["STAT_CONNECTING", "STAT_WRONG_PASSWORD"]))
            t0 = ticks_ms()
            e = raises(ei.TransportError, Board(name).setup, cfg_for(name))
            assert "'lab-2.4G'" in str(e) and "password is wrong" in str(e), e
            assert "s3cret-pass" not in str(e)
            assert ticks_diff(ticks_ms(), t0) < 1500  # not left to the 2 s timeout
    finally:
        uninstall()


def test_a_network_that_never_comes_up_fails_at_the_timeout_saying_why():
    try:
        for name, stat in (("esp32", ESP32_STAT), ("rp2_pico_w", RP2_STAT)):
            net = Network(stat, ["STAT_CONNECTING", "STAT_NO_AP_FOUND", "STAT_CONNECTING"])
            installed(network=net)
            e = raises(ei.TransportError, Board(name).setup,
                       cfg_for(name, wifi_timeout_ms=300))
            m = str(e)
            assert "'lab-2.4G'" in m and "after 300 ms" in m and "no access point" in m, m
            assert "s3cret-pass" not in m and ("disconnect",) in net.calls
    finally:
        uninstall()


def test_nrf52840_has_no_network_and_names_itself_from_its_device_id():
    try:
        installed(Machine())
        b = Board("nrf52840")
        b.setup(cfg_for("nrf52840"))  # nothing to bring up, nothing raised
        assert b.device_name() == "de:ad:be:ef:01:02:03:04"
    finally:
        uninstall()


# --- ei.collect() on each board ------------------------------------------------------------

def on(name, machine, network=None, **kw):
    folder = temp_dir()
    installed(machine, network)
    ei.use(Board(name), cfg_for(name, capture_path=folder + "/capture.eic",
                                            queue_path=folder + "/queue", **kw))
    return folder


def test_collect_on_esp32_uploads_what_the_mpu6050_measured():
    dev = FakeMPU6050()
    folder = on("esp32", Machine(dev), Network(ESP32_STAT, ["STAT_GOT_IP"]))
    try:
        ei.setup()
        dev.set_acceleration(1.5, -2.0, G)
        e = stored(ei.collect("b-esp32", seconds=0.1))
        assert (e["label"], e["rows"], e["device_type"]) == ("b-esp32", 10, "ESP32"), e
        assert e["device_name"] == "24:0a:c4:12:ab:cd"
        for row in e["values"]:
            assert abs(row[0] - 1.5) < 0.01 and abs(row[1] + 2.0) < 0.01, row
    finally:
        uninstall()
        remove_tree(folder)


def test_collect_on_rp2_pico_w_uploads_to_testing():
    dev = FakeLIS3DH()
    folder = on("rp2_pico_w", Machine(dev), Network(RP2_STAT, ["STAT_GOT_IP"]))
    try:
        e = stored(ei.collect("b-pico", seconds=0.05, category="testing"))
        assert (e["category"], e["rows"], e["device_type"]) == ("testing", 5,
                                                                 "RASPBERRY_PI_PICO_W"), e
    finally:
        uninstall()
        remove_tree(folder)


def test_collect_on_nrf52840_queues_the_capture_for_the_host():
    dev = FakeADXL345()
    folder = on("nrf52840", Machine(dev))
    try:
        entry = ei.collect("idle", seconds=0.05)
        (e,) = list(Queue(folder + "/queue"))
        assert (e["name"], e["label"], e["category"]) == (entry, "idle", "training")
    finally:
        uninstall()
        remove_tree(folder)


# What imports socket, or is only there to upload: none of it may load on the nRF port.
NETWORK_MODULES = ("ei.client", "ei.transport", "ei.files", "ei.via_requests", "socket")


def unloaded(names):
    """Take the modules out of sys.modules (and the ei package), so that an import loads
    them anew; returns what put_back() restores."""
    saved = {}
    for n in names:
        if n in sys.modules:
            saved[n] = sys.modules.pop(n)
        if n.startswith("ei.") and n[3:] in ei.__dict__:
            saved["ei:" + n[3:]] = ei.__dict__[n[3:]]
            delattr(ei, n[3:])
    return saved


def put_back(names, saved):
    for n in names:
        sys.modules.pop(n, None)
        if n.startswith("ei.") and n[3:] in ei.__dict__:
            delattr(ei, n[3:])
    for k in saved:
        if k.startswith("ei:"):
            setattr(ei, k[3:], saved[k])
        else:
            sys.modules[k] = saved[k]


def test_nrf52840_sets_up_and_queues_with_nothing_that_imports_socket():
    # The nrf port has no socket (the f32-nonet build neither): ei.setup() checks the config
    # and ei.collect() queues without loading the client. Elsewhere the modules that import
    # socket are unloaded first and must stay so.
    dev = FakeADXL345()
    saved = unloaded(NETWORK_MODULES)
    try:
        folder = on("nrf52840", Machine(dev))
        try:
            ei.setup()
            entry = ei.collect("idle", seconds=0.05)
            loaded = [n for n in NETWORK_MODULES if n in sys.modules]
            assert not loaded, loaded
            (e,) = list(Queue(folder + "/queue"))
            assert (e["name"], e["label"]) == (entry, "idle")
        finally:
            uninstall()
            remove_tree(folder)
    finally:
        put_back(NETWORK_MODULES, saved)


def test_an_i2c_chip_that_stops_answering_mid_capture_keeps_its_rows_queued():
    m = Machine(FakeADXL345())
    folder = on("nrf52840", m)
    try:
        ei.setup()
        m.i2c.fail_after = 6
        e = raises(ei.CaptureStopped, ei.collect, "idle", seconds=0.2)
        assert "after 6 of 20 rows" in str(e) and "queued as" in str(e), e
        assert len(e.sample) == 6
        (entry,) = list(Queue(folder + "/queue"))
        assert entry["label"] == "idle"
    finally:
        uninstall()
        remove_tree(folder)


def test_an_i2c_chip_that_stops_answering_uploads_nothing():
    m = Machine(FakeMPU6050())
    folder = on("esp32", m, Network(ESP32_STAT, ["STAT_GOT_IP"]))
    try:
        ei.setup()
        before = stored_count("b-stopped")
        m.i2c.fail_after = 4
        e = raises(ei.CaptureStopped, ei.collect, "b-stopped", seconds=0.2)
        assert len(e.sample) == 4 and "kept in" in str(e), e
        assert stored_count("b-stopped") == before
    finally:
        uninstall()
        remove_tree(folder)

