# ESP32 (an ESP32-DevKitC or any board with the ESP32-WROOM/WROVER module) with an MPU6050 on
# I2C bus 0: SDA GPIO21, SCL GPIO22, 3V3 and GND. Wi-Fi in station mode. Deployed as board.py
# beside the ei package (make deploy BOARD=esp32); ei.collect() uses it.
NAME = "esp32"
DEVICE_TYPE = "ESP32"
INTERVAL_MS = 10          # 100 Hz
CONFIG = "config.json"
NETWORK = "wifi"          # the network comes up in setup(): Wi-Fi, joined within a timeout
SENSOR = "mpu6050"        # config.json "sensor" names another chip (ei.sensors.CHIPS)
I2C_ID = 0
SDA = 21
SCL = 22
I2C_FREQ = 400000
WIFI_TIMEOUT_MS = 20000


def setup(cfg):
    """Join the Wi-Fi network that config.json names, within wifi_timeout_ms."""
    import network
    from ei.wifi import join
    join(network, cfg["wifi_ssid"], cfg.get("wifi_password", ""),
         cfg.get("wifi_timeout_ms", WIFI_TIMEOUT_MS), cfg.get("device_name"))


def sensor(cfg):
    """The accelerometer on the I2C pins (config.json's sda/scl/i2c_id/i2c_freq override)."""
    import ei.sensors
    return ei.sensors.on_board(cfg, SENSOR, I2C_ID, SDA, SCL, I2C_FREQ, INTERVAL_MS)


def device_name():
    """The Wi-Fi MAC, aa:bb:cc:dd:ee:ff: unique to this board, stable across deploys."""
    import network
    from ei.wifi import mac
    return mac(network)
