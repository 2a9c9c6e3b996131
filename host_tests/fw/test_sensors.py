# Sensors: open() by chip name, SensorError and the fake bus itself. The checks the four chips'
# tests share (test_sensors_<chip>.py) are in sensor_checks.py.
from fwtest import raises
from sensor_checks import on_bus

from fake_i2c import G, FakeI2C, FakeMPU6050, FakeLIS3DH, FakeADXL345, FakeLSM6DSOX
from ei import sensors
from ei.sensors import SensorError, FifoOverrun

ONLY = {"test_read_allocates_only_the_tuple_and_floats_it_returns":
        ("micropython", "gc.mem_alloc() is MicroPython's")}


def test_open_by_chip_name_gives_that_chips_driver_on_the_bus():
    for name, fake in (("mpu6050", FakeMPU6050), ("lis3dh", FakeLIS3DH),
                       ("adxl345", FakeADXL345), ("lsm6dsox", FakeLSM6DSOX)):
        dev = fake()
        d = sensors.open(FakeI2C(dev), name)
        assert type(d).__name__ == name.upper() and d.address == dev.address
        assert d.axes == (("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2"))
        assert len(d.read()) == 3


def test_open_takes_names_in_any_case_and_family_aliases():
    d = sensors.open(FakeI2C(FakeMPU6050(address=0x69)), "MPU6050", address=0x69,
                     range_g=8, rate_hz=200)
    assert (d.address, d.range_g, d.rate_hz) == (0x69, 8, 200)
    d = sensors.open(FakeI2C(FakeLSM6DSOX(who_am_i=0x6A)), "lsm6ds3tr-c")
    assert type(d).__name__ == "LSM6DSOX" and d.chip == "LSM6DS3TR-C/LSM6DSL"


def test_open_an_unknown_sensor_is_a_value_error_listing_the_known_ones():
    e = raises(ValueError, sensors.open, FakeI2C(), "bmi160")
    msg = str(e)
    assert "'bmi160'" in msg, msg
    for name in sensors.CHIPS:
        assert name in msg, msg


def test_open_passes_bad_options_to_the_driver_which_refuses_them():
    raises(TypeError, sensors.open, FakeI2C(FakeMPU6050()), "mpu6050", rang_g=2)


def test_sensor_error_is_an_oserror_carrying_address_chip_and_found():
    e = SensorError("m", 0x18, "LIS3DH", 0x32)
    assert isinstance(e, OSError) and str(e) == "m"
    assert (e.address, e.chip, e.found) == (0x18, "LIS3DH", 0x32)
    assert issubclass(FifoOverrun, SensorError)


def test_fake_bus_raises_enodev_where_nothing_answers_and_logs_every_transaction():
    import errno
    dev = FakeMPU6050()
    i2c = FakeI2C(dev)
    assert i2c.scan() == [0x68]
    e = raises(OSError, i2c.readfrom_mem, 0x69, 0x75, 1)
    assert e.args[0] == errno.ENODEV
    raises(OSError, i2c.writeto_mem, 0x69, 0x6B, b"\x00")
    assert i2c.readfrom_mem(0x68, 0x75, 1) == b"\x68"
    i2c.writeto_mem(0x68, 0x1C, b"\x18")
    assert i2c.log == [("read", 0x69, 0x75, 1), ("write", 0x69, 0x6B, b"\x00"),
                       ("read", 0x68, 0x75, 1), ("write", 0x68, 0x1C, b"\x18")]
    assert i2c.writes(0x1C) == [(0x1C, 0x18)]


def test_a_chip_that_stops_answering_is_a_sensor_error_naming_chip_and_address():
    # read() and read_fifo() alike; still an OSError, as the bus error it replaces
    for fifo in (False, True):
        i2c, dev, d = on_bus(FakeADXL345, sensors.driver("adxl345"), fifo=fifo)
        i2c.detach(dev.address)
        e = raises(sensors.SensorError, d.read_fifo if fifo else d.read)
        assert isinstance(e, OSError) and e.address == 0x53 and e.chip == "ADXL345"
        assert "ADXL345 at I2C address 0x53 stopped answering" in str(e), str(e)


def test_xyz_decodes_signed_words_in_either_byte_order_and_justification():
    from ei.sensors import xyz
    b = bytes((0x00, 0x80, 0xFF, 0x7F, 0xF0, 0xFF, 0x12))  # -32768, 32767, -16 little-endian
    assert xyz(b, 0, False, 0, 1) == (-32768, 32767, -16)
    assert xyz(b, 0, False, 4, 1) == (-2048, 2047, -1)
    assert xyz(b, 0, True, 0, 0.5) == (64.0, -64.5, -1920.5)  # 0x0080, 0xFF7F, 0xF0FF
    assert xyz(b, 1, True, 0, 1) == (-32513, 32752, -238)


def test_read_allocates_only_the_tuple_and_floats_it_returns():
    import gc

    def three_floats(a, s):
        return (a * s, a * s, a * s)

    for name, fake in (("mpu6050", FakeMPU6050), ("lis3dh", FakeLIS3DH),
                       ("adxl345", FakeADXL345), ("lsm6dsox", FakeLSM6DSOX)):
        dev = fake()
        d = sensors.open(FakeI2C(dev, log=False), name)
        dev.set_acceleration(1.0, -2.0, G)
        d.read()
        three_floats(3, 0.5)
        gc.collect()
        gc.disable()
        try:
            m0 = gc.mem_alloc()
            three_floats(3, 0.5)
            m1 = gc.mem_alloc()
            d.read()
            m2 = gc.mem_alloc()
        finally:
            gc.enable()
        assert m2 - m1 == m1 - m0, (name, m2 - m1, m1 - m0)
