# Wi-Fi for the boards that have it (boards/esp32, boards/rp2_pico_w): join a network within
# a timeout, or fail with an error that names the SSID and why, never the password.
from ei.compat import sleep_ms, ticks_diff, ticks_ms
from ei.errors import TransportError

# network.WLAN statuses that mean "this will not work", by their names in the network module:
# each port has its own numbers, and a name a port lacks is skipped.
_FAILED = (("STAT_WRONG_PASSWORD", "the password is wrong"),
           ("STAT_NO_AP_FOUND", "no access point with that SSID is in range"),
           ("STAT_ASSOC_FAIL", "the access point refused to associate"),
           ("STAT_HANDSHAKE_TIMEOUT", "the handshake timed out (often a wrong password)"),
           ("STAT_BEACON_TIMEOUT", "the access point stopped answering"),
           ("STAT_CONNECT_FAIL", "the connection failed"))


def _reason(network, status):
    for name, why in _FAILED:
        if status == getattr(network, name, None):
            return why
    return None


def join(network, ssid, password="", timeout_ms=20000, hostname=None, country=None,
         power_save=True):
    """Join `ssid` in station mode and return the WLAN. A wrong password fails at once;
    anything else at the timeout, with the last status the radio reported. country (set
    before the radio starts) gives its legal channels; power_save=False turns off the
    radio's power saving (the CYW43's adds tens of ms to every packet)."""
    if country is not None and hasattr(network, "country"):
        network.country(country)
    if hostname and hasattr(network, "hostname"):
        network.hostname(hostname)
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    if wlan.isconnected():
        return wlan  # a soft reset keeps the connection
    pm = getattr(network.WLAN, "PM_NONE", None)
    if not power_save and pm is not None:
        wlan.config(pm=pm)
    wlan.connect(ssid, password)
    t0 = ticks_ms()
    why = None
    while not wlan.isconnected():
        status = wlan.status()
        why = _reason(network, status) or why
        if status == getattr(network, "STAT_WRONG_PASSWORD", None):
            wlan.disconnect()
            raise TransportError("Wi-Fi: cannot join %r: %s" % (ssid, why))
        if ticks_diff(ticks_ms(), t0) > timeout_ms:
            wlan.disconnect()
            raise TransportError("Wi-Fi: not connected to %r after %d ms: %s" % (
                ssid, timeout_ms, why or "status %r" % (status,)))
        sleep_ms(100)
    print("Wi-Fi: connected to %r as %s" % (ssid, wlan.ifconfig()[0]))
    return wlan


def mac(network):
    """The station interface's MAC as aa:bb:cc:dd:ee:ff (the interface is made active: the
    CYW43 tells its MAC only then)."""
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    return ":".join(["%02x" % b for b in wlan.config("mac")])
