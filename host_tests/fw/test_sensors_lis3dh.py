# LIS3DH driver against the register-level fake (datasheet DocID17530).
from fake_i2c import G, FakeI2C, FakeLIS3DH
from sensor_checks import (on_bus, near, check_identity, check_one_g_per_range,
                           check_saturation, check_read_is_one_burst, check_fifo_in_order,
                           check_fifo_overrun, check_fifo_needs_fifo_true, check_rates,
                           check_ranges, fifo_rows)
from ei.sensors.lis3dh import LIS3DH

_MG = {2: 1, 4: 2, 8: 4, 16: 12}  # high-resolution mode, mg/digit


def test_lis3dh_checks_who_am_i_0x33_and_names_address_and_id_when_wrong_or_missing():
    check_identity(FakeLIS3DH, LIS3DH, wrong_id=0x32)  # 0x32: an LIS331DLH


def test_lis3dh_range_sets_fs_in_ctrl_reg4_with_bdu_and_high_resolution():
    check_ranges(FakeLIS3DH, LIS3DH, 0x23, (0x88, 0x98, 0xA8, 0xB8))


def test_lis3dh_rate_sets_odr_in_ctrl_reg1_with_all_axes_on():
    check_rates(FakeLIS3DH, LIS3DH, (
        (100, 100, {0x20: 0x57}),
        (1, 1, {0x20: 0x17}),
        (60, 100, {0x20: 0x57}),     # the slowest rate at or above the one asked
        (1000, 1344, {0x20: 0x97}),  # 1.344 kHz in high-resolution mode
    ), too_fast=1345)


def test_lis3dh_turns_the_high_pass_filter_off():
    dev = FakeLIS3DH()
    dev.regs[0x21] = 0x08  # FDS: filtered data, left by an earlier program
    LIS3DH(FakeI2C(dev))
    assert dev.regs[0x21] == 0


def test_lis3dh_one_g_reads_9_80665_within_one_lsb_at_each_range():
    check_one_g_per_range(FakeLIS3DH, LIS3DH, lambda r: _MG[r] / 1000)


def test_lis3dh_data_is_12_bit_left_justified_little_endian_at_1_mg_per_digit_at_2g():
    i2c, dev, d = on_bus(FakeLIS3DH, LIS3DH, range_g=2)
    dev.set_acceleration(G, -G, 0.001 * G)
    # 1000 digits << 4 = 0x3E80; -1000 << 4 = 0xC180; 1 << 4
    assert bytes(dev.regs[0x28:0x2E]) == b"\x80\x3e\x80\xc1\x10\x00"
    near(d.read()[2], 0.001 * G, 1e-12)


def test_lis3dh_saturates_at_full_scale():
    check_saturation(FakeLIS3DH, LIS3DH, 2, 2.047 * G, -2.048 * G)


def test_lis3dh_read_is_one_six_byte_burst_from_out_x_l_with_the_auto_increment_bit():
    check_read_is_one_burst(FakeLIS3DH, LIS3DH, 0x28 | 0x80)


def test_lis3dh_fake_does_not_auto_increment_without_bit_7():
    i2c, dev, d = on_bus(FakeLIS3DH, LIS3DH, range_g=2)
    dev.set_acceleration(G, 0, 0)
    assert i2c.readfrom_mem(0x18, 0x28, 3) == b"\x80\x80\x80"
    assert i2c.readfrom_mem(0x18, 0xA8, 3) == b"\x80\x3e\x00"


def test_lis3dh_fifo_returns_the_queued_rows_in_order():
    # The FIFO keeps the top 10 of the 12 bits: 4 digits of 2 mg at the default 4 g.
    check_fifo_in_order(FakeLIS3DH, LIS3DH, 20, 0.008 * G)


def test_lis3dh_fifo_is_stream_mode_drained_in_one_burst():
    i2c, dev, d = on_bus(FakeLIS3DH, LIS3DH, fifo=True)
    assert dev.regs[0x24] == 0x40 and dev.regs[0x2E] == 0x80  # FIFO_EN; FM = stream
    fifo_rows(dev, 31)
    i2c.log = []
    assert len(d.read_fifo()) == 31
    assert i2c.log == [("read", 0x18, 0x2F, 1), ("read", 0x18, 0xA8, 31 * 6)], i2c.log


def test_lis3dh_fifo_overwritten_raises_fifo_overrun_and_restarts_it():
    check_fifo_overrun(FakeLIS3DH, LIS3DH, 32)


def test_lis3dh_read_fifo_without_fifo_true_is_an_error():
    check_fifo_needs_fifo_true(FakeLIS3DH, LIS3DH)
