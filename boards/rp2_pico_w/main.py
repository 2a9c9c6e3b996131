# The Raspberry Pi Pico W at reset: ei.boot() checks config.json, opens the LIS3DH and joins
# the Wi-Fi network, then serves Edge Impulse Studio ("remote_mgmt": true), edge-impulse-daemon
# ("daemon": true) or records ("record_label"), as config.json says, until Ctrl-C gives the
# REPL back:  import ei; ei.collect("idle", seconds=2)  (docs/boards.md)
import ei

ei.boot()
