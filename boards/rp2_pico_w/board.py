# Raspberry Pi Pico W (RP2040 + CYW43439 Wi-Fi) with a LIS3DH on I2C bus 0: SDA GP4 (pin 6),
# SCL GP5 (pin 7), 3V3(OUT) (pin 36) and GND. Wi-Fi in station mode. Deployed as board.py
# beside the ei package (make deploy BOARD=rp2_pico_w); ei.collect() uses it.
NAME = "rp2_pico_w"
DEVICE_TYPE = "RASPBERRY_PI_PICO_W"
INTERVAL_MS = 10          # 100 Hz
CONFIG = "config.json"
NETWORK = "wifi"          # the network comes up in setup(): Wi-Fi, joined within a timeout
SENSOR = "lis3dh"         # config.json "sensor" names another chip (ei.sensors.CHIPS)
I2C_ID = 0
SDA = 4
SCL = 5
I2C_FREQ = 400000
WIFI_TIMEOUT_MS = 20000
WIFI_COUNTRY = "XX"       # worldwide-safe channels; set "wifi_country" for all of yours

# network.WLAN statuses that mean "this will not work", by their names in the network module
# (the CYW43 driver's numbers: -3 wrong password, -2 no AP found, -1 connection failed).
_FAILED = (("STAT_WRONG_PASSWORD", "the password is wrong"),
           ("STAT_NO_AP_FOUND", "no access point with that SSID is in range"),
           ("STAT_CONNECT_FAIL", "the connection failed"))


def setup(cfg):
    """Join the Wi-Fi network that config.json names, within wifi_timeout_ms."""
    import network
    join(network, cfg)


def join(network, cfg):
    """Join cfg's Wi-Fi network and return the WLAN. Raises ei.TransportError naming the
    SSID and why (never the password) if it cannot: a wrong password at once, anything else
    at the timeout, with the last status the radio reported."""
    from ei.compat import sleep_ms, ticks_diff, ticks_ms
    from ei.errors import TransportError
    ssid = cfg["wifi_ssid"]
    timeout = cfg.get("wifi_timeout_ms", WIFI_TIMEOUT_MS)
    if hasattr(network, "country"):  # before the radio starts: its legal channels
        network.country(cfg.get("wifi_country", WIFI_COUNTRY))
    if "device_name" in cfg and hasattr(network, "hostname"):
        network.hostname(cfg["device_name"])
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    if wlan.isconnected():
        return wlan
    # The CYW43's power saving adds tens of ms to every packet: off while we upload.
    pm = getattr(network.WLAN, "PM_NONE", None)
    if pm is not None:
        wlan.config(pm=pm)
    wlan.connect(ssid, cfg.get("wifi_password", ""))
    t0 = ticks_ms()
    why = None
    while not wlan.isconnected():
        status = wlan.status()
        why = _reason(network, status) or why
        if status == getattr(network, "STAT_WRONG_PASSWORD", None):
            wlan.disconnect()
            raise TransportError("Wi-Fi: cannot join %r: %s" % (ssid, why))
        if ticks_diff(ticks_ms(), t0) > timeout:
            wlan.disconnect()
            raise TransportError("Wi-Fi: not connected to %r after %d ms: %s" % (
                ssid, timeout, why or "status %r" % (status,)))
        sleep_ms(100)
    print("Wi-Fi: connected to %r as %s" % (ssid, wlan.ifconfig()[0]))
    return wlan


def _reason(network, status):
    for name, why in _FAILED:
        if status == getattr(network, name, None):
            return why
    return None


def sensor(cfg):
    """The accelerometer on the I2C pins (config.json's sda/scl/i2c_id/i2c_freq override)."""
    from machine import I2C, Pin
    import ei.sensors
    i2c = I2C(cfg.get("i2c_id", I2C_ID), scl=Pin(cfg.get("scl", SCL)),
              sda=Pin(cfg.get("sda", SDA)), freq=cfg.get("i2c_freq", I2C_FREQ))
    return ei.sensors.open(i2c, cfg.get("sensor", SENSOR), **_options(cfg))


def _options(cfg):
    kw = {"rate_hz": 1000 / (cfg.get("interval_ms") or INTERVAL_MS)}
    if "sensor_address" in cfg:
        kw["address"] = cfg["sensor_address"]
    if "range_g" in cfg:
        kw["range_g"] = cfg["range_g"]
    return kw


def device_name():
    """The Wi-Fi MAC, aa:bb:cc:dd:ee:ff (the CYW43 tells it once its interface is active)."""
    import network
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    return ":".join(["%02x" % b for b in wlan.config("mac")])
