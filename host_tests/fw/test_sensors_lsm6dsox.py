# LSM6DSOX (and LSM6DSO/LSM6DS3 family) driver against the register-level fake (DS12814).
from fwtest import raises

from fake_i2c import G, FakeI2C, FakeLSM6DSOX
from sensor_checks import (on_bus, near, check_identity, check_one_g_per_range,
                           check_saturation, check_read_is_one_burst, check_fifo_in_order,
                           check_fifo_overrun, check_fifo_needs_fifo_true, check_rates,
                           check_ranges, fifo_rows)
from ei.sensors import SensorError
from ei.sensors.lsm6dsox import LSM6DSOX

# The fake's 512-word FIFO is a list of 512 word objects: more than the default heap holds
# in one piece once the test modules are loaded. (The driver itself keeps only 7 bytes.)
MP_HEAPSIZE = "512k"

_MG = {2: 0.061, 4: 0.122, 8: 0.244, 16: 0.488}  # mg/LSB


def test_lsm6dsox_checks_who_am_i_and_names_address_and_id_when_wrong_or_missing():
    check_identity(FakeLSM6DSOX, LSM6DSOX, wrong_id=0x6B)  # 0x6B: an LSM6DSR/ISM330DHCX


def test_lsm6dsox_names_the_family_member_its_who_am_i_identifies():
    for who, chip in ((0x6C, "LSM6DSOX/LSM6DSO"), (0x6A, "LSM6DS3TR-C/LSM6DSL"),
                      (0x69, "LSM6DS3")):
        dev = FakeLSM6DSOX(who_am_i=who)
        d = LSM6DSOX(FakeI2C(dev))
        assert d.chip == chip
        dev.set_acceleration(0, 0, -G)
        near(d.read()[2], -G, 0.122e-3 * G)


def test_lsm6dsox_fifo_on_an_lsm6ds3_is_a_sensor_error_naming_the_chip():
    e = raises(SensorError, LSM6DSOX, FakeI2C(FakeLSM6DSOX(who_am_i=0x69)), fifo=True)
    assert "LSM6DS3" in str(e) and "0x6a" in str(e), str(e)


def test_lsm6dsox_resets_then_sets_bdu_and_if_inc():
    dev = FakeLSM6DSOX()
    dev.regs[0x12] = 0x00  # IF_INC cleared by an earlier program
    i2c = FakeI2C(dev)
    LSM6DSOX(i2c)
    assert i2c.writes(0x12) == [(0x12, 0x01), (0x12, 0x44)]
    assert dev.regs[0x12] == 0x44


def test_lsm6dsox_range_sets_fs_xl_in_ctrl1_xl():
    # ODR_XL 104 Hz (0100) with FS_XL 00, 10, 11, 01 for 2, 4, 8, 16 g
    check_ranges(FakeLSM6DSOX, LSM6DSOX, 0x10, (0x40, 0x48, 0x4C, 0x44))


def test_lsm6dsox_rate_sets_odr_xl_in_ctrl1_xl():
    check_rates(FakeLSM6DSOX, LSM6DSOX, (
        (100, 104, {0x10: 0x48}),
        (12.5, 12.5, {0x10: 0x18}),
        (1000, 1667, {0x10: 0x88}),
        (6667, 6667, {0x10: 0xA8}),
    ), too_fast=6668)


def test_lsm6dsox_one_g_reads_9_80665_within_one_lsb_at_each_range():
    check_one_g_per_range(FakeLSM6DSOX, LSM6DSOX, lambda r: _MG[r] / 1000)


def test_lsm6dsox_data_is_little_endian_at_outx_l_a_0_061_mg_per_lsb_at_2g():
    i2c, dev, d = on_bus(FakeLSM6DSOX, LSM6DSOX, range_g=2)
    dev.set_acceleration(G, -G, 0)
    # 1 g = round(1 / 0.061e-3) = 16393 = 0x4009
    assert bytes(dev.regs[0x28:0x2E]) == b"\x09\x40\xf7\xbf\x00\x00"


def test_lsm6dsox_saturates_at_full_scale():
    check_saturation(FakeLSM6DSOX, LSM6DSOX, 2, 32767 * 0.061e-3 * G, -32768 * 0.061e-3 * G)


def test_lsm6dsox_read_is_one_six_byte_burst_from_outx_l_a():
    check_read_is_one_burst(FakeLSM6DSOX, LSM6DSOX, 0x28)


def test_lsm6dsox_fifo_returns_the_queued_rows_in_order():
    check_fifo_in_order(FakeLSM6DSOX, LSM6DSOX, 30, 0.122e-3 * G)


def test_lsm6dsox_fifo_batches_the_accelerometer_continuously_read_a_word_a_burst():
    i2c, dev, d = on_bus(FakeLSM6DSOX, LSM6DSOX, fifo=True)
    assert dev.regs[0x09] == 0x04 and dev.regs[0x0A] == 0x06  # BDR_XL 104 Hz; continuous
    fifo_rows(dev, 4)
    i2c.log = []
    assert len(d.read_fifo()) == 4
    assert i2c.log == [("read", 0x6A, 0x3A, 2)] + [("read", 0x6A, 0x78, 7)] * 4, i2c.log


def test_lsm6dsox_fifo_skips_words_of_other_sensors():
    i2c, dev, d = on_bus(FakeLSM6DSOX, LSM6DSOX, fifo=True)
    want = fifo_rows(dev, 2)
    dev.fifo.insert(1, bytes((0x01 << 3, 1, 2, 3, 4, 5, 6)))  # a gyroscope word
    got = d.read_fifo()
    assert len(got) == 2
    near(got[1][0], want[1][0], 0.122e-3 * G)


def test_lsm6dsox_fifo_overrun_raises_fifo_overrun_and_restarts_it():
    check_fifo_overrun(FakeLSM6DSOX, LSM6DSOX, 512)


def test_lsm6dsox_read_fifo_without_fifo_true_is_an_error():
    check_fifo_needs_fifo_true(FakeLSM6DSOX, LSM6DSOX)
