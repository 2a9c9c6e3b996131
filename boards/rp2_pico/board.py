# Raspberry Pi Pico (RP2040, no radio) with an MPU6050 (a GY-521 breakout) on I2C bus 0: SDA
# GP4 (pin 6), SCL GP5 (pin 7), 3V3(OUT) (pin 36) and GND. No network: from Edge Impulse Studio
# through edge-impulse-daemon on the USB serial port ("daemon": true, at boot), or
# ei.collect() captures to flash and queues for the host (make drain PORT=...), or ei.forward()
# feeds the data forwarder. Deployed as board.py beside the ei package (make deploy
# BOARD=rp2_pico); the emulated Pico (python -m tools.pico) runs it too.
NAME = "rp2_pico"
DEVICE_TYPE = "RASPBERRY_PI_PICO"
INTERVAL_MS = 10          # 100 Hz
CONFIG = "config.json"
NETWORK = None            # no network: collect() queues, setup() has nothing to bring up
SENSOR = "mpu6050"        # config.json "sensor" names another chip (ei.sensors.CHIPS)
I2C_ID = 0
SDA = 4
SCL = 5
I2C_FREQ = 400000


def setup(cfg):
    """No network to bring up: captures wait in the queue for the host, or the daemon
    relays them."""


def sensor(cfg):
    """The accelerometer on the I2C pins (config.json's sda/scl/i2c_id/i2c_freq override)."""
    import ei.sensors
    return ei.sensors.on_board(cfg, SENSOR, I2C_ID, SDA, SCL, I2C_FREQ, INTERVAL_MS)


def device_name():
    """The flash chip's unique ID (machine.unique_id()), as aa:bb:..: the Pico has no MAC."""
    import machine
    return ":".join(["%02x" % b for b in machine.unique_id()])
