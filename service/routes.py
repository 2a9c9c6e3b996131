"""Every route the service answers, as data: the URL map, and for each endpoint its view and
whether it needs an accepted API key (everything that changes or deletes data does).

A view is `view(app, request, **arguments)` and returns a Response; it runs in the connection's
own thread and may take the connection over (environ["werkzeug.socket"]), as a WebSocket does.
"""
from werkzeug.routing import BaseConverter, Map, Rule

from service import dashboard, devices, ingestion, record, testing


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
    Rule("/devices", endpoint="record.devices", methods=["GET"]),
    Rule("/devices/<device_id>/start-sampling", endpoint="record.start_sampling", methods=["POST"]),
    Rule("/dashboard/<name>", endpoint="dashboard.static", methods=["GET"]),
    Rule("/samples", endpoint="dashboard.samples", methods=["GET"]),
    Rule("/samples/<digits:sample_id>", endpoint="dashboard.sample", methods=["GET"]),
    Rule("/samples/<digits:sample_id>/raw", endpoint="dashboard.raw", methods=["GET"]),
    Rule("/samples/<digits:sample_id>/csv", endpoint="dashboard.csv", methods=["GET"]),
    Rule("/events", endpoint="dashboard.events", methods=["GET"]),
]
TEST_RULES = [
    Rule("/_mock/samples", endpoint="testing.samples", methods=["GET"]),
    Rule("/_mock/reset", endpoint="testing.reset", methods=["POST"]),
]

KEY = True  # the view needs an accepted x-api-key
VIEWS = {
    "ingestion.data": (ingestion.data, KEY),
    "ingestion.files": (ingestion.files, KEY),
    "dashboard.index": (dashboard.index, not KEY),
    "dashboard.static": (dashboard.static, not KEY),
    "dashboard.samples": (dashboard.samples, not KEY),
    "dashboard.sample": (dashboard.sample, not KEY),
    "dashboard.raw": (dashboard.raw, not KEY),
    "dashboard.csv": (dashboard.csv_export, not KEY),
    "dashboard.events": (dashboard.events, not KEY),
    "devices.connect": (devices.connect, not KEY),  # the key is in the hello
    "record.devices": (record.devices, not KEY),
    "record.start_sampling": (record.start_sampling, KEY),
    "testing.samples": (testing.samples, not KEY),
    "testing.reset": (testing.reset, KEY),
}


def _copy(rule):
    """A rule for a new Map (a rule belongs to one); Rule.empty() forgets `websocket`."""
    copy = rule.empty()
    copy.websocket = rule.websocket
    return copy


def url_map(testing=False):
    return Map([_copy(r) for r in RULES + (TEST_RULES if testing else [])],
               converters={"digits": Digits}, strict_slashes=False)
