"""Every route the service answers, as data: the URL map, and for each endpoint its view and who
may call it: anyone (OPEN: the page and its files), a project's reader (READ: its API key in
x-api-key, or the dashboard's session cookie for it), or the holder of a project's key (KEY:
x-api-key only, for everything that changes or deletes data). The view finds the project in
request.project.

A view is `view(app, request, **arguments)` and returns a Response; it runs in the connection's
own thread and may take the connection over (environ["werkzeug.socket"]), as a WebSocket does.
"""
from werkzeug.routing import BaseConverter, Map, Rule

from service import dashboard, devices, ingestion, record, recordings, samples, studio_api, testing


class Digits(BaseConverter):
    """An id: ASCII digits only (werkzeug's int takes any Unicode digit, such as '²')."""
    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)


_CATEGORY = "<any(training, testing, anomaly):category>"
_FILES_CATEGORY = "<any(training, testing, anomaly, split):category>"

RULES = [
    Rule("/api/%s/data" % _CATEGORY, endpoint="ingestion.data", methods=["POST"]),
    Rule("/api/%s/files" % _FILES_CATEGORY, endpoint="ingestion.files", methods=["POST"]),
    Rule("/", endpoint="dashboard.index", methods=["GET"]),
    # remote management, as remote-mgmt.edgeimpulse.com: an Upgrade: websocket at /
    Rule("/", endpoint="devices.connect", methods=["GET"], websocket=True),
    Rule("/session", endpoint="dashboard.session", methods=["POST"]),
    Rule("/devices", endpoint="record.devices", methods=["GET"]),
    # any device id (a '/' in it too: the path converter), as the dashboard escapes it
    Rule("/devices/<path:device_id>/start-sampling", endpoint="record.start_sampling", methods=["POST"]),
    Rule("/dashboard/<name>", endpoint="dashboard.static", methods=["GET"]),
    Rule("/samples", endpoint="samples.listing", methods=["GET"]),
    Rule("/samples/<digits:sample_id>", endpoint="samples.sample", methods=["GET"]),
    Rule("/samples/<digits:sample_id>/raw", endpoint="samples.raw", methods=["GET"]),
    Rule("/samples/<digits:sample_id>/csv", endpoint="samples.csv_export", methods=["GET"]),
    Rule("/recordings", endpoint="recordings.listing", methods=["GET"]),
    Rule("/recordings/<rid>", endpoint="recordings.recording", methods=["GET"]),
    Rule("/recordings/<rid>/windows", endpoint="recordings.windows", methods=["GET"]),
    Rule("/events", endpoint="dashboard.events", methods=["GET"]),
]
TEST_RULES = [
    Rule("/_mock/samples", endpoint="testing.samples", methods=["GET"]),
    Rule("/_mock/reset", endpoint="testing.reset", methods=["POST"]),
] + studio_api.RULES

OPEN, READ, KEY = "open", "read", "key"
VIEWS = {
    "ingestion.data": (ingestion.data, KEY),
    "ingestion.files": (ingestion.files, KEY),
    "dashboard.index": (dashboard.index, OPEN),
    "dashboard.static": (dashboard.static, OPEN),
    "dashboard.session": (dashboard.session, KEY),
    "dashboard.events": (dashboard.events, READ),
    "samples.listing": (samples.listing, READ),
    "samples.sample": (samples.sample, READ),
    "samples.raw": (samples.raw, READ),
    "samples.csv_export": (samples.csv_export, READ),
    "recordings.listing": (recordings.listing, READ),
    "recordings.recording": (recordings.recording, READ),
    "recordings.windows": (recordings.windows, READ),
    "devices.connect": (devices.connect, OPEN),  # the key is in the hello
    "record.devices": (record.devices, READ),
    "record.start_sampling": (record.start_sampling, KEY),
    "testing.samples": (testing.samples, OPEN),  # every project's, or the key's (testing only)
    "testing.reset": (testing.reset, KEY),
}
VIEWS.update(studio_api.VIEWS)


def _copy(rule):
    """A rule for a new Map (a rule belongs to one); Rule.empty() forgets `websocket`."""
    copy = rule.empty()
    copy.websocket = rule.websocket
    return copy


def url_map(testing=False):
    return Map([_copy(r) for r in RULES + (TEST_RULES if testing else [])],
               converters={"digits": Digits}, strict_slashes=False)
