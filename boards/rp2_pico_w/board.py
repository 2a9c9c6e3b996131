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


def setup(cfg):
    """Join the Wi-Fi network that config.json names, within wifi_timeout_ms, with the
    CYW43's power saving off while we upload."""
    import network
    from ei.wifi import join
    join(network, cfg["wifi_ssid"], cfg.get("wifi_password", ""),
         cfg.get("wifi_timeout_ms", WIFI_TIMEOUT_MS), cfg.get("device_name"),
         cfg.get("wifi_country", WIFI_COUNTRY), power_save=False)


def sensor(cfg):
    """The accelerometer on the I2C pins (config.json's sda/scl/i2c_id/i2c_freq override)."""
    import ei.sensors
    return ei.sensors.on_board(cfg, SENSOR, I2C_ID, SDA, SCL, I2C_FREQ, INTERVAL_MS)


def device_name():
    """The Wi-Fi MAC, aa:bb:cc:dd:ee:ff (the CYW43 tells it once its interface is active)."""
    import network
    from ei.wifi import mac
    return mac(network)
