# A simulated 3-axis accelerometer (accX/accY/accZ in m/s2) for the unix board and tests:
# gravity on a slowly tilting board, plus a motion and noise, deterministic for a seed.
import math

G = 9.80665
_MOTIONS = ("idle", "wave", "circle", "shake")


class Accelerometer:
    """read() returns the next (accX, accY, accZ) of a board sampled at rate_hz. The same
    seed and motion give the same readings on every run (noise from an xorshift32)."""

    axes = (("accX", "m/s2"), ("accY", "m/s2"), ("accZ", "m/s2"))

    def __init__(self, motion="idle", rate_hz=100, seed=1, noise=0.05):
        if motion not in _MOTIONS:
            raise ValueError("motion must be one of %s, not %r" % (", ".join(_MOTIONS), motion))
        if not rate_hz > 0:
            raise ValueError("rate_hz must be > 0")
        self.motion = motion
        self._dt = 1 / rate_hz
        self._state = (seed & 0xFFFFFFFF) or 1
        self._noise = noise
        self._n = 0

    def _rand(self):
        # xorshift32: the same sequence on every runtime, no dependency on `random`
        x = self._state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self._state = x
        return x / 4294967296.0 - 0.5

    def read(self):
        t = self._n * self._dt
        self._n += 1
        tilt = 0.05 * math.sin(0.3 * t)  # radians: the board is never perfectly level
        x = G * math.sin(tilt)
        y = 0.0
        z = G * math.cos(tilt)
        m = self.motion
        if m == "wave":
            x += 4.0 * math.sin(2 * math.pi * 1.5 * t)
        elif m == "circle":
            x += 3.0 * math.cos(2 * math.pi * 0.8 * t)
            y += 3.0 * math.sin(2 * math.pi * 0.8 * t)
        elif m == "shake":
            z += 6.0 * math.sin(2 * math.pi * 6.0 * t)
        n = self._noise
        return (x + n * self._rand(), y + n * self._rand(), z + n * self._rand())
