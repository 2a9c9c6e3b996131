# The nRF52840 DK at reset: ei.boot() checks config.json and opens the ADXL345, then serves
# edge-impulse-daemon's AT commands on this serial port ("daemon": true) or records to the
# queue ("record_label"), as config.json says, until Ctrl-C gives the REPL back:
#   import ei; ei.collect("idle", seconds=2)  (docs/boards.md)
import ei

ei.boot()
