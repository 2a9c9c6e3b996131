"""Run an emulated Raspberry Pi Pico on a pseudo-terminal, as a Pico on USB would be.

    python -m tools.pico [--sensor mpu6050[@0x68]] [--frozen] [--flash build/pico/flash.bin]

prints the serial port to give mpremote, `make deploy BOARD=rp2_pico PORT=...` or
edge-impulse-daemon, and runs until Ctrl-C. The flash is kept in --flash between runs (a new
one is erased: the firmware formats its filesystem at first boot), so what was deployed is
there at the next boot. Sensors are emulated on I2C0 (GP4/GP5), lying flat (1 g on z).
"""
import argparse
import pathlib
import signal
import sys
import time

from tools.chips import fake_i2c
from tools.pico.board import FIRMWARE, FIRMWARE_FROZEN, ROOT, Pico, flash_image

CHIPS = {"mpu6050": fake_i2c.FakeMPU6050, "lis3dh": fake_i2c.FakeLIS3DH,
         "adxl345": fake_i2c.FakeADXL345, "lsm6dsox": fake_i2c.FakeLSM6DSOX}


def chip(spec):
    name, _, address = spec.partition("@")
    if name.lower() not in CHIPS:
        raise argparse.ArgumentTypeError("no chip %r; chips: %s" % (name, ", ".join(CHIPS)))
    cls = CHIPS[name.lower()]
    return cls(int(address, 0)) if address else cls()


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.pico", description=__doc__.split("\n")[0])
    ap.add_argument("--sensor", type=chip, action="append", default=[],
                    help="a chip on I2C0: mpu6050, lis3dh, adxl345 or lsm6dsox, @address")
    ap.add_argument("--frozen", action="store_true", help="the firmware with ei frozen in")
    ap.add_argument("--flash", default=str(ROOT / "build" / "pico" / "flash.bin"),
                    help="the flash image kept between runs (default: %(default)s)")
    ap.add_argument("--fresh", action="store_true", help="start from an erased filesystem")
    args = ap.parse_args(argv)
    firmware = FIRMWARE_FROZEN if args.frozen else FIRMWARE
    path = pathlib.Path(args.flash)
    image = flash_image(None, firmware)
    if path.is_file() and not args.fresh:
        kept = path.read_bytes()
        image = image[:0xA0000] + kept[0xA0000:]  # this firmware, the filesystem as left
    pico = Pico(chips=args.sensor, firmware=firmware, flash=image, paced=True, pty=True)
    pico.start()
    print("the emulated Pico's USB serial port: %s" % pico.port)
    print("  e.g. %s/.venv/bin/mpremote connect %s   (Ctrl-C here powers it off)"
          % (ROOT, pico.port), flush=True)
    signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while pico.ended is None:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    end = pico.stop()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pico.flash)
    print("powered off after %.1f s emulated (%s); flash kept in %s"
          % (end.get("nanos", 0) / 1e9, end.get("reason"), path))
    return 0 if end.get("reason") == "asked" else 1


if __name__ == "__main__":
    sys.exit(main())
