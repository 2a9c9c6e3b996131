# ei.forward(): the data forwarder's protocol, one comma-separated line of readings per
# interval, at fixed deadlines; an ERR line when the sensor fails. (The virtual board test,
# host_tests/test_deploy.py, reads it from a serial port and checks the rate as the forwarder
# detects it.)
from fwtest import API_KEY, raises

import ei
from ei.compat import sleep_us, ticks_diff, ticks_us
from ei.sim import Accelerometer


class Lines:
    """An `out` that keeps each line written, and when (ticks_us)."""

    def __init__(self, slow_line=None, cost_us=0):
        self.lines = []
        self.times = []
        self.slow_line = slow_line
        self.cost_us = cost_us

    def write(self, text):
        self.times.append(ticks_us())
        self.lines.append(text)
        if len(self.lines) == self.slow_line:
            sleep_us(self.cost_us)  # a serial port that blocked for a moment


class Failing:
    axes = Accelerometer.axes

    def __init__(self, after, row=None):
        self.inner = Accelerometer("wave")
        self.after = after
        self.row = row
        self.n = 0

    def read(self):
        self.n += 1
        if self.n > self.after:
            if self.row is not None:
                return self.row
            raise OSError(5)  # EIO: the chip stopped acknowledging
        return self.inner.read()


def values(line):
    assert line.endswith("\n") and "\r" not in line, repr(line)
    return [float(v) for v in line[:-1].split(",")]


# all on the emulated Pico ([rp2]): the data forwarder's lines as the rp2 port formats floats
RP2 = "all"


def test_each_line_is_one_reading_comma_separated_to_four_decimals():
    out = Lines()
    assert ei.forward(Accelerometer("wave"), 10, seconds=0.1, out=out) == 10
    assert len(out.lines) == 10
    expected = Accelerometer("wave")
    for line in out.lines:
        want = expected.read()
        got = values(line)
        assert len(got) == 3 and all(abs(got[i] - want[i]) <= 0.00005 for i in range(3))
        for v in line[:-1].split(","):
            assert len(v.split(".")[1]) == 4, line


def test_digits_sets_the_decimals():
    out = Lines()
    ei.forward(Accelerometer("idle"), 5, seconds=0.01, digits=1, out=out)
    assert all(len(v.split(".")[1]) == 1 for v in out.lines[0][:-1].split(","))


def test_lines_keep_fixed_deadlines_when_a_write_blocks():
    # The 5th line blocks for 25 ms (2.5 periods): later lines catch up, so the 30 lines span
    # 29 periods, not 29 periods plus the block.
    out = Lines(slow_line=5, cost_us=25000)
    ei.forward(Accelerometer("idle"), 10, seconds=0.3, out=out)
    span = ticks_diff(out.times[-1], out.times[0])
    assert len(out.lines) == 30
    assert 290000 - 1000 <= span < 290000 + 20000, span


def test_a_failing_sensor_prints_an_err_line_and_raises():
    out = Lines()
    e = raises(ei.CaptureStopped, ei.forward, Failing(after=3), 5, seconds=1, out=out)
    assert "after 3 lines" in str(e) and isinstance(e.error, OSError), e
    assert len(out.lines) == 4
    assert out.lines[-1].startswith("ERR: the sensor failed after 3 lines: OSError")


def test_a_reading_of_the_wrong_width_is_an_err_line_too():
    out = Lines()
    raises(ei.CaptureStopped, ei.forward, Failing(after=2, row=(1.0, 2.0)), 5, seconds=1,
           out=out)
    assert out.lines[-1].startswith("ERR:") and "2 values for 3 axes" in out.lines[-1]


def test_without_a_sensor_the_board_s_own_is_forwarded_at_its_interval():
    class Board:
        NAME = "unix"
        DEVICE_TYPE = "TEST_BOARD"
        INTERVAL_MS = 20
        NETWORK = None

        def sensor(self, cfg):
            return Accelerometer("circle")

    ei.use(Board(), {"board": "unix", "api_key": API_KEY})
    out = Lines()
    assert ei.forward(seconds=0.1, out=out) == 5  # 100 ms at the board's 20 ms
    assert values(out.lines[0]) == values("%.4f,%.4f,%.4f\n" % Accelerometer("circle").read())


def test_bad_arguments_are_refused_before_any_line():
    out = Lines()
    raises(ValueError, ei.forward, Accelerometer(), 0, seconds=1, out=out)
    raises(ValueError, ei.forward, Accelerometer(), 10, seconds=1, digits=12, out=out)
    raises(TypeError, ei.forward, object(), 10, seconds=1, out=out)
    assert out.lines == []
