"""python -m service: the local ingestion service and its dashboard (what `make serve` runs).

    python -m service [--host 127.0.0.1] [--port 8000] [--data data/serve]
        [--project NAME:API_KEY[:HMAC_KEY] ...] [--api-key K ...] [--hmac-key K ...]
        [--allow-host NAME ...] [--timeout S] [--max-connections N] [--max-devices N]
        [--device-timeout S] [--testing]

Each --project is a project with its samples, devices and dashboard (service/projects.py);
--api-key and --hmac-key make the project named "default" (the page's example key when no key
is given at all).

Devices connect over remote management on the same port: ws://HOST:PORT/ (docs/studio.md); the dashboard's Record form sends them sample requests.
"""
import argparse

import sys

from service.app import create_app
from service.config import DEVICE_TIMEOUT, MAX_CONNECTIONS, MAX_DEVICES, TIMEOUT, Config
from service.projects import ProjectError, Projects, from_specs
from service.server import Server


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m service",
                                 description="The local Edge Impulse ingestion service, with a dashboard at /")
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback, this machine only)")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--data", default="data/serve", help="folder of the store (kept across restarts)")
    ap.add_argument("--project", action="append", dest="projects", default=[], metavar="NAME:API_KEY[:HMAC_KEY]",
                    help="a project: the API key that opens it, the HMAC key its samples are signed with "
                         "(repeatable; the same NAME again adds a key to it)")
    ap.add_argument("--api-key", action="append", dest="api_keys", default=[],
                    help="an API key of the project named default (repeatable; without any key at all: "
                         "the Ingestion API page's example key)")
    ap.add_argument("--hmac-key", action="append", dest="hmac_keys", default=[],
                    help="an HMAC key of the project named default, to verify HS256 signatures with (repeatable)")
    ap.add_argument("--allow-host", action="append", dest="allow_hosts", default=[],
                    help="a name the Host header may give besides the bound address (repeatable), e.g. "
                         "this machine's name when bound to 0.0.0.0")
    ap.add_argument("--timeout", type=float, default=TIMEOUT,
                    help="seconds a client may stay silent mid-request before a 408 (default %(default)s)")
    ap.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS,
                    help="open connections at most; beyond, 503 (default %(default)s)")
    ap.add_argument("--max-devices", type=int, default=MAX_DEVICES,
                    help="remote-management devices connected at once; beyond, 503 (default %(default)s)")
    ap.add_argument("--device-timeout", type=float, default=DEVICE_TIMEOUT,
                    help="seconds a connected device may stay silent, besides the sample it records "
                         "(default %(default)s; devices ping every 30 s)")
    ap.add_argument("--testing", action="store_true",
                    help="serve the test API too (/_mock/samples, /_mock/reset): for tests only")
    args = ap.parse_args(argv)
    try:
        projects = from_specs(args.projects, tuple(args.api_keys), tuple(args.hmac_keys))
        Projects(projects)  # a key given to two projects is refused here, before anything starts
    except ProjectError as e:
        ap.error(str(e))
    config = Config(data_dir=args.data, projects=projects, host=args.host, port=args.port,
                    allow_hosts=tuple(args.allow_hosts), timeout=args.timeout,
                    max_connections=args.max_connections, max_devices=args.max_devices,
                    device_timeout=args.device_timeout, log_requests=True)
    server = Server(create_app(config, testing=args.testing))
    print("ingestion service on %s (data in %s)" % (server.url, args.data), flush=True)
    print("dashboard: %s/ (give a project's API key to open it)" % server.url, flush=True)
    print("remote management: ws%s/" % server.url[4:], flush=True)
    for p in projects:
        print("project %s (id %d): %d API key%s; sample requests signed with %s" % (
            p.name, p.id, len(p.api_keys), "" if len(p.api_keys) == 1 else "s",
            "its first HMAC key" if p.hmac_keys else
            "the development HMAC key, unchecked: give it an HMAC key to check signatures"), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
