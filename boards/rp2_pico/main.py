# The Raspberry Pi Pico at reset: ei.boot() checks config.json and opens the MPU6050, then
# serves edge-impulse-daemon's AT commands on the USB serial port ("daemon": true, the
# example's) or records to the queue ("record_label"), as config.json says, until Ctrl-C
# gives the REPL back:  import ei; ei.collect("idle", seconds=2)  (docs/boards.md)
import ei

ei.boot()
