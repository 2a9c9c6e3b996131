# ADXL345 driver against the register-level fake (datasheet rev. G).
from fake_i2c import G, FakeI2C, FakeADXL345
from sensor_checks import (on_bus, near, check_identity, check_one_g_per_range,
                           check_saturation, check_read_is_one_burst, check_fifo_in_order,
                           check_fifo_overrun, check_fifo_needs_fifo_true, check_rates,
                           check_ranges, fifo_rows)
from ei.sensors.adxl345 import ADXL345


def test_adxl345_checks_devid_0xe5_and_names_address_and_id_when_wrong_or_missing():
    check_identity(FakeADXL345, ADXL345, wrong_id=0xE6)


def test_adxl345_range_sets_full_res_and_range_in_data_format():
    check_ranges(FakeADXL345, ADXL345, 0x31, (0x08, 0x09, 0x0A, 0x0B))


def test_adxl345_rate_sets_bw_rate_and_measures_only_once_configured():
    check_rates(FakeADXL345, ADXL345, (
        (100, 100, {0x2C: 0x0A}),
        (3200, 3200, {0x2C: 0x0F}),
        (60, 100, {0x2C: 0x0A}),     # the slowest rate at or above the one asked
        (12.5, 12.5, {0x2C: 0x07}),
        (0.1, 0.1, {0x2C: 0x00}),
        (0.2, 0.2, {0x2C: 0x01}),
    ), too_fast=3201)
    i2c = FakeI2C(FakeADXL345())
    ADXL345(i2c)
    w = i2c.writes()
    assert w[0] == (0x2D, 0x00) and w[-1] == (0x2D, 0x08), w  # standby ... Measure


def test_adxl345_one_g_reads_9_80665_within_one_lsb_at_each_range():
    check_one_g_per_range(FakeADXL345, ADXL345, lambda r: 1 / 256)


def test_adxl345_data_is_right_justified_little_endian_at_256_lsb_per_g():
    i2c, dev, d = on_bus(FakeADXL345, ADXL345, range_g=16)
    dev.set_acceleration(G, -G, 10 * G)
    assert bytes(dev.regs[0x32:0x38]) == b"\x00\x01\x00\xff\x00\x0a"  # 256, -256, 2560
    assert d.read() == (G, -G, 10 * G)


def test_adxl345_saturates_at_full_scale_of_each_full_resolution_width():
    check_saturation(FakeADXL345, ADXL345, 2, 511 * G / 256, -2 * G)      # 10 bits
    check_saturation(FakeADXL345, ADXL345, 16, 4095 * G / 256, -16 * G)   # 13 bits


def test_adxl345_read_is_one_six_byte_burst_from_datax0():
    check_read_is_one_burst(FakeADXL345, ADXL345, 0x32)


def test_adxl345_in_standby_reads_nothing_new():
    dev = FakeADXL345()
    dev.set_acceleration(1, 2, 3)
    assert bytes(dev.regs[0x32:0x38]) == bytes(6)


def test_adxl345_fifo_returns_the_queued_rows_in_order():
    check_fifo_in_order(FakeADXL345, ADXL345, 20, G / 256)


def test_adxl345_fifo_is_stream_mode_read_one_entry_a_burst():
    i2c, dev, d = on_bus(FakeADXL345, ADXL345, fifo=True)
    assert dev.regs[0x38] == 0x80  # FIFO_MODE = stream
    fifo_rows(dev, 5)
    i2c.log = []
    assert len(d.read_fifo()) == 5
    assert i2c.log == [("read", 0x53, 0x39, 1)] + [("read", 0x53, 0x32, 6)] * 5, i2c.log


def test_adxl345_fifo_full_raises_fifo_overrun_and_restarts_it():
    check_fifo_overrun(FakeADXL345, ADXL345, 32)


def test_adxl345_read_fifo_without_fifo_true_is_an_error():
    check_fifo_needs_fifo_true(FakeADXL345, ADXL345)
