# nRF52840 DK (PCA10056) with an ADXL345 on the Arduino-header I2C pins: SDA P0.26, SCL
# P0.27, VDD and GND. No IP network: ei.collect() captures to flash and queues, and the host
# drains the queue over USB (make drain PORT=...); or ei.forward() feeds Edge Impulse's data
# forwarder. Deployed as board.py beside the ei package (make deploy BOARD=nrf52840).
NAME = "nrf52840"
DEVICE_TYPE = "NRF52840_DK"
INTERVAL_MS = 10          # 100 Hz
CONFIG = "config.json"
NETWORK = None            # no network: collect() queues, setup() has nothing to bring up
SENSOR = "adxl345"        # config.json "sensor" names another chip (ei.sensors.CHIPS)
I2C_ID = 0
SDA = 26                  # P0.26; a pin of port 1 is 32 + n (P1.02 is 34)
SCL = 27                  # P0.27
I2C_FREQ = 400000         # the TWI runs at 100k, 250k or 400k; the nearest below is used


def setup(cfg):
    """No network to bring up: captures wait in the queue for the host."""


def sensor(cfg):
    """The accelerometer on the I2C pins (config.json's sda/scl/i2c_id/i2c_freq override)."""
    import ei.sensors
    return ei.sensors.on_board(cfg, SENSOR, I2C_ID, SDA, SCL, I2C_FREQ, INTERVAL_MS)


def device_name():
    """The chip's factory-programmed device ID (FICR), as aa:bb:..: no radio MAC without a
    running BLE stack, and this ID is as unique and as stable."""
    import machine
    return ":".join(["%02x" % b for b in machine.unique_id()])
