"""The local ingestion service: a stand-in for Edge Impulse's Ingestion API, with a dashboard.

A package by role (docs/service.md):
    config.py       Config and the limits        app.py       create_app(config): the WSGI app
    projects.py     projects and their keys      routes.py    the routes, as data
    safety.py       Host, Origin, API key        ingestion.py /api/<category>/{data,files}
    dashboard.py    the page, session, events    samples.py   /samples: list, values, downloads
    plots.py        plotted values, cached       store.py     SQLite index + files
    recordings.py   /recordings: a recording's windows joined, checked and thinned as one
    testing.py      /_mock/... (testing only)    studio_api.py  Studio REST calls (testing only)
    files.py        one file: check, describe, read back (acquisition.py, cbor_sample.py,
                    cbor_stream.py, json_sample.py, signature.py, media.py)
    limits.py       bodies and files as they come in             server.py    the threaded server
    remote.py, device_link.py, devices.py, record.py: remote management, the service as Studio
                    (the protocol, one device's WebSocket, / upgraded and the devices, the
                    Devices panel's /devices and start-sampling)
    __main__.py     python -m service (make serve)
"""
from service.app import create_app
from service.config import API_KEY, BAD_CSV, DUPLICATE, MAX_FILE_BYTES, MAX_FILES, MIN_RATE, Config
from service.projects import Project
from service.files import inspect_file, series, split_category
from service.server import MockServer, Server
from service.web import Rejected

__all__ = ["create_app", "Config", "Project", "Server", "MockServer", "Rejected", "inspect_file", "series",
           "split_category", "API_KEY", "BAD_CSV", "DUPLICATE", "MAX_FILE_BYTES", "MAX_FILES", "MIN_RATE"]
