"""The four accelerometer drivers on the emulated Pico, through the rp2 port's own machine.I2C
and the RP2040's I2C controller to the chip models on I2C0 (tools/chips/fake_i2c.py, clocked
by emulated time): reads, FIFO bursts in order, and a chip that stops answering.

Each test boots the board once for all four chips (they sit at their default addresses);
ei is on its flash as .mpy, as `make deploy MPY=1` puts it.
"""
import re

import pytest

from fake_i2c import G, FakeADXL345, FakeLIS3DH, FakeLSM6DSOX, FakeMPU6050
from pico_board import END, booted, ei_files, script, step

ADDRESSES = {"mpu6050": 0x68, "lis3dh": 0x18, "adxl345": 0x53, "lsm6dsox": 0x6A}
MODELS = {"mpu6050": FakeMPU6050, "lis3dh": FakeLIS3DH, "adxl345": FakeADXL345,
          "lsm6dsox": FakeLSM6DSOX}
BUS = ("from machine import I2C, Pin\n"
       "import ei.sensors\n"
       "i2c = I2C(0, scl=Pin(5), sda=Pin(4), freq=400000)\n")


def board(code, chips):
    """The Pico with ei (.mpy) and `code` as its main.py (pico_board.script), chips on I2C0."""
    return booted(dict(ei_files(), **{"main.py": script(code)}), chips=chips)


def rows(text, tag):
    """The numbers of each line `tag ...` the board printed."""
    return [[float(v) for v in line.split()[1:]]
            for line in text.splitlines() if line.startswith(tag + " ")]


def test_each_driver_reads_its_chip_through_the_rp2_machine_i2c():
    accel = {"mpu6050": (1.5, -2.25, G), "lis3dh": (-3.0, 0.5, 8.0),
             "adxl345": (0.25, 4.0, -G), "lsm6dsox": (12.0, -0.75, 2.5)}
    chips = []
    for name, a in accel.items():
        chip = MODELS[name]()
        chip.set_acceleration(*a)  # asleep or off: it converts once the driver starts it
        chips.append(chip)
    code = BUS + (
        "import time\n"
        "for name in %r:\n"
        "    d = ei.sensors.open(i2c, name, range_g=4, rate_hz=100)\n"
        "    time.sleep_ms(25)  # its first conversions\n"
        "    print(name, d.chip, ('%%.5f ' * 3) %% d.read())\n" % (list(accel),))
    with board(code, chips) as pico:
        pico.write(b"g")
        text = pico.read_until(END).decode().replace("\r\n", "\n")
    # one count at +-4 g, from each datasheet: 8192 LSB/g, 2 mg (12 bits), 3.9 mg (full
    # resolution), 0.122 mg
    count = {"mpu6050": G / 8192, "lis3dh": 0.002 * G, "adxl345": 0.0039 * G,
             "lsm6dsox": 0.000122 * G}
    for name, want in accel.items():
        line = re.search(r"^%s (\S+) (.*)$" % name, text, re.M)
        assert line, text
        assert line.group(1).lower().startswith(name[:6]), line.group(0)
        got = [float(v) for v in line.group(2).split()]
        assert all(abs(g - w) <= count[name] * 1.001 for g, w in zip(got, want)), \
            (name, got, want)


def sawtooth(t):
    """x climbs 0.5 m/s2 every 10 ms from -10 to 10 and starts again: a row missing, doubled
    or out of order shows as a step other than +0.5 (or the -19.5 of a new tooth)."""
    return (((t * 50) % 20) - 10, 0.0, G)


def test_fifo_bursts_bring_every_row_in_order_at_the_chips_rate():
    chips = [MODELS[n]() for n in ADDRESSES]
    code = BUS + (
        "import time\n"
        "for name in %r:\n"
        "    d = ei.sensors.open(i2c, name, range_g=4, rate_hz=100, fifo=True)\n"
        "    time.sleep_ms(20)\n"
        "    d.read_fifo()\n"
        "    time.sleep_ms(300)\n"
        "    print('DRAIN', name, d.rate_hz)\n"
        "    wait()\n"
        "    got = d.read_fifo()\n"
        "    print('DRAINED', len(got))\n"
        "    wait()\n"
        "    for r in got:\n"
        "        print('ROW', r[0], r[2])\n" % (list(ADDRESSES),))
    with board(code, chips) as pico:
        bus = pico.i2c[0]
        for c in chips:
            c.motion = sawtooth  # each conversion, at its instant of emulated time
        pico.write(b"g")
        start, phases = 0, {}
        for name in ADDRESSES:
            start = step(pico, b"DRAIN %s" % name.encode(), start)
            before = bus.transactions
            start = step(pico, b"DRAINED", start)
            phases[name] = bus.transactions - before
        text = pico.read_until(END).decode().replace("\r\n", "\n")
    per_chip = text.split("DRAIN ")[1:]
    assert len(per_chip) == 4, text
    for name, part in zip(ADDRESSES, per_chip):
        rate = float(part.split()[1])
        xs = [r[0] for r in rows(part, "ROW")]
        zs = [r[1] for r in rows(part, "ROW")]
        # 300 ms at the chip's rate (100 Hz, or the LSM6DSOX's 104), give or take the row
        # that lands while it is drained
        assert abs(len(xs) - 0.3 * rate) <= 2, (name, len(xs), rate)
        steps = [b - a for a, b in zip(xs, xs[1:])]
        lsb = 0.08  # the LIS3DH's FIFO keeps 10 bits: 8 mg a count at +-4 g
        want = 50 / rate
        assert all(abs(s - want) <= lsb or abs(s - want + 20) <= lsb for s in steps), \
            (name, steps)
        assert all(abs(z - G) <= lsb for z in zs), (name, zs)
        # address phases (a register read is two): the MPU6050 and LIS3DH drivers read many
        # rows a burst; the ADXL345 pops one entry a read (datasheet), and the LSM6DSOX
        # driver reads one tagged word a read: one read a row, and nothing more
        if name in ("mpu6050", "lis3dh"):
            assert phases[name] < len(xs) / 2, (name, phases[name], len(xs))
        else:
            assert phases[name] <= 2 * (len(xs) + 1), (name, phases[name], len(xs))


@pytest.mark.parametrize("how", ["nack", "hold"])
def test_a_chip_that_stops_answering_mid_read_is_an_error_naming_chip_and_address(how):
    # nack: unplugged, its address is not acknowledged; hold: hung, it holds the bus and
    # machine.I2C's own timeout ends the transfer. Either way the driver names the chip.
    chips = [FakeMPU6050(), FakeLIS3DH()]
    code = BUS + (
        "import time\n"
        "ds = [ei.sensors.open(i2c, n, fifo=f) for n, f in (('mpu6050', 0), ('lis3dh', 1))]\n"
        "time.sleep_ms(20)\n"
        "print('READY', ds[0].read()[2], len(ds[1].read_fifo()))\n"
        "wait()\n"
        "t0 = time.ticks_ms()\n"
        "for d in ds:\n"
        "    try:\n"
        "        d.read_fifo() if d.fifo else d.read()\n"
        "    except ei.sensors.SensorError as e:\n"
        "        print('ERROR', type(e).__name__, hex(e.address), e.chip, str(e))\n"
        "print('TOOK', time.ticks_diff(time.ticks_ms(), t0))\n")
    with board(code, chips) as pico:
        pico.write(b"g")
        step(pico, b"READY")
        pico.i2c[0].fail(0x68, how)
        pico.i2c[0].fail(0x18, how)
        text = pico.read_until(END).decode().replace("\r\n", "\n")
    errors = [line for line in text.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 2, text
    for line, addr, chip in zip(errors, ("0x68", "0x18"), ("MPU6050", "LIS3DH")):
        assert line.startswith("ERROR SensorError %s %s" % (addr, chip)), line
        assert "the %s at I2C address %s stopped answering" % (chip, addr) in line, line
    took = int(re.search(r"TOOK (\d+)", text).group(1))
    assert took < 1000, text  # never a hang: machine.I2C's timeout is 50 ms a transfer


def test_a_fifo_capture_to_flash_keeps_every_row_at_the_chips_rate():
    # rows written to littlefs while the FIFO fills: a sector erase stalls the CPU 45 ms, and
    # the 32-row LIS3DH FIFO holds 80 ms at 400 Hz; the chips were opened, then left alone
    chips = [FakeLIS3DH(), FakeMPU6050()]
    for c in chips:
        c.motion = sawtooth
    code = BUS + (
        "import time\n"
        "ds = [ei.sensors.open(i2c, n, rate_hz=r, fifo=True)\n"
        "      for n, r in (('lis3dh', 400), ('mpu6050', 1000))]\n"
        "time.sleep_ms(500)  # both FIFOs overrun meanwhile\n"
        "for d, n in zip(ds, (600, 1000)):\n"
        "    s = ei.sample(d, None, n, device_type='T', path='capture.eic')\n"
        "    print('CAPTURE', d.chip, len(s), s.interval_ms)\n"
        "    for r in s.iter_rows():\n"
        "        print('ROW', r[0], r[2])\n")
    with board(code, chips) as pico:
        pico.write(b"g")
        text = pico.read_until(END, 300).decode().replace("\r\n", "\n")
    parts = text.split("CAPTURE ")[1:]
    assert len(parts) == 2, text
    for part, (chip, n, rate) in zip(parts, (("LIS3DH", 600, 400), ("MPU6050", 1000, 1000))):
        head = part.split()
        assert head[:2] == [chip, str(n)] and float(head[2]) == 1000 / rate, head[:3]
        xs = [r[0] for r in rows(part, "ROW")]
        steps = [b - a for a, b in zip(xs, xs[1:])]
        want, lsb = 50 / rate, 0.08
        assert len(xs) == n and all(abs(s - want) <= lsb or abs(s - want + 20) <= lsb
                                    for s in steps), (chip, steps[:10])
