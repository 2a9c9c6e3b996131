# Freezes the ei package into a custom MicroPython firmware: its bytecode then runs from flash,
# leaving the RAM it would take to the samples, and there is no package to copy. From a
# MicroPython checkout (docs.micropython.org/en/latest/reference/manifest.html):
#   make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/ei-micropython/manifest.py
#   make -C ports/rp2 BOARD=RPI_PICO_W FROZEN_MANIFEST=/path/to/ei-micropython/manifest.py
#   make -C ports/nrf BOARD=PCA10056 FROZEN_MANIFEST=/path/to/ei-micropython/manifest.py
# What the stock firmware freezes (the ESP32's _boot.py, the Pico W's networking bundle) must
# stay: this includes the board's own manifest, or its port's when the board has none. From
# your own manifest, include("/path/to/ei-micropython/manifest.py", base=None) adds only ei.
# board.py, main.py and config.json stay on the board's filesystem (make deploy copies them;
# the frozen ei is used while no ei/ folder on flash shadows it).

options.defaults(base="board")  # noqa: F821 (manifest files run with the build's API)


def _include_first(*paths):
    """Include the first of `paths` that exists. A missing file is the only error skipped:
    an error inside a manifest that exists is the build's to report."""
    for path in paths:
        try:
            include(path)  # noqa: F821
            return
        except Exception as e:
            text = str(e)
            if "No such file" not in text or text.count("Error in manifest file") > 1:
                raise
    raise Exception("none of %s exists" % ", ".join(paths))


if options.base == "board":  # noqa: F821
    _include_first("$(BOARD_DIR)/manifest.py", "$(PORT_DIR)/boards/manifest.py",
                   "$(PORT_DIR)/modules/manifest.py")

package("ei", base_path="firmware")  # noqa: F821 (paths here are relative to this file)
