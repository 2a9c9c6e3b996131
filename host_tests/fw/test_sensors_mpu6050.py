# MPU6050 driver against the register-level fake (MPU-6000/6050 register map rev 4.2).
from fwtest import raises

from fake_i2c import G, FakeI2C, FakeMPU6050
from sensor_checks import (on_bus, near, check_identity, check_one_g_per_range,
                           check_saturation, check_read_is_one_burst, check_fifo_in_order,
                           check_fifo_overrun, check_fifo_needs_fifo_true, check_rates,
                           check_ranges, fifo_rows)
from ei.sensors import FifoOverrun
from ei.sensors.mpu6050 import MPU6050


def test_mpu6050_checks_who_am_i_0x68_and_names_address_and_id_when_wrong_or_missing():
    check_identity(FakeMPU6050, MPU6050, wrong_id=0x70)  # 0x70: an MPU6500


def test_mpu6050_resets_then_wakes_from_sleep_on_the_gyro_pll_clock():
    i2c = FakeI2C(FakeMPU6050())
    MPU6050(i2c)
    pwr = [v for _, v in i2c.writes(0x6B)]
    assert pwr == [0x80, 0x01], pwr  # DEVICE_RESET, then SLEEP=0 with CLKSEL=1


def test_mpu6050_range_sets_afs_sel_in_accel_config():
    check_ranges(FakeMPU6050, MPU6050, 0x1C, (0x00, 0x08, 0x10, 0x18))


def test_mpu6050_rate_sets_smplrt_div_of_1khz_and_a_low_pass_below_half_the_rate():
    check_rates(FakeMPU6050, MPU6050, (
        (100, 100, {0x19: 9, 0x1A: 3}),         # 1000/(1+9); DLPF 44 Hz
        (1000, 1000, {0x19: 0, 0x1A: 1}),       # DLPF 184 Hz
        (400, 500, {0x19: 1, 0x1A: 1}),         # the fastest 1000/n at or above 400
        (62.5, 62.5, {0x19: 15, 0x1A: 4}),      # 21 Hz
        (2, 1000 / 256, {0x19: 255, 0x1A: 6}),  # slowest it has; DLPF 5 Hz
    ), too_fast=1001)


def test_mpu6050_one_g_reads_9_80665_within_one_lsb_at_each_range():
    check_one_g_per_range(FakeMPU6050, MPU6050, lambda r: r / 32768)


def test_mpu6050_data_is_big_endian_at_accel_xout_h_16384_lsb_per_g_at_2g():
    i2c, dev, d = on_bus(FakeMPU6050, MPU6050, range_g=2)
    dev.set_acceleration(-G, G / 2, G)
    assert bytes(dev.regs[0x3B:0x41]) == b"\xc0\x00\x20\x00\x40\x00"
    assert d.read() == (-G, G / 2, G)


def test_mpu6050_saturates_at_full_scale():
    check_saturation(FakeMPU6050, MPU6050, 2, 32767 * G / 16384, -2 * G)
    check_saturation(FakeMPU6050, MPU6050, 16, 32767 * G / 2048, -16 * G)


def test_mpu6050_read_is_one_six_byte_burst_from_accel_xout_h():
    check_read_is_one_burst(FakeMPU6050, MPU6050, 0x3B)


def test_mpu6050_asleep_reads_nothing_new():
    # The fake converts only when awake: this is what a driver that forgot to wake it sees.
    dev = FakeMPU6050()
    dev.set_acceleration(1, 2, 3)
    assert bytes(dev.regs[0x3B:0x41]) == bytes(6)


def test_mpu6050_fifo_returns_the_queued_rows_in_order():
    check_fifo_in_order(FakeMPU6050, MPU6050, 40, 4 * G / 32768)


def test_mpu6050_fifo_is_accelerometer_only_and_drained_in_bursts_from_fifo_r_w():
    i2c, dev, d = on_bus(FakeMPU6050, MPU6050, fifo=True)
    assert dev.regs[0x23] == 0x08 and dev.regs[0x6A] == 0x40  # ACCEL_FIFO_EN, FIFO_EN
    fifo_rows(dev, 40)
    i2c.log = []
    assert len(d.read_fifo()) == 40
    bursts = [n for op, a, reg, n in i2c.log if reg == 0x74]
    assert bursts == [96, 96, 48], bursts  # 16 rows a burst
    assert ("read", 0x68, 0x72, 2) in i2c.log  # FIFO_COUNTH/L together


def test_mpu6050_fifo_overflow_raises_fifo_overrun_and_restarts_it():
    check_fifo_overrun(FakeMPU6050, MPU6050, 170)


def test_mpu6050_fifo_overflow_during_a_drain_discards_the_misaligned_rows():
    i2c, dev, d = on_bus(FakeMPU6050, MPU6050, fifo=True)
    fifo_rows(dev, 170)  # full: 1020 of 1024 bytes
    real = i2c.readfrom_mem_into

    def late_sample(addr, reg, buf):
        if reg == 0x74 and dev.fifo:
            dev.tick()  # a sample lands while the FIFO is read: 2 bytes fall off its head
        real(addr, reg, buf)

    i2c.readfrom_mem_into = late_sample
    raises(FifoOverrun, d.read_fifo)
    i2c.readfrom_mem_into = real
    assert d.read_fifo() == []


def test_mpu6050_read_fifo_without_fifo_true_is_an_error():
    check_fifo_needs_fifo_true(FakeMPU6050, MPU6050)
