"""create_app(config): the service as a WSGI application, separate from the server that runs it.

Each request: the Host and Origin checks (safety.py), the route (routes.py), the project the
API key (or the dashboard's session) opens where the route needs one, then the view. A refusal is text/plain with a reason; what a client sends
never makes a 500 (a 500 is the service's own fault, and says so).
"""
import sys
import traceback

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from service import routes, safety
from service.config import Config
from service.devices import Devices
from service.limits import Body, ServiceRequest
from service.plots import Plots
from service.projects import Projects, from_specs
from service.store import Store
from service.web import Rejected, text


class App:
    def __init__(self, config, testing=False):
        self.config = config
        self.testing = testing
        self.projects = Projects(config.projects or from_specs((), config.api_keys, config.hmac_keys))
        self.store = Store(config.data_dir)
        self.url_map = routes.url_map(testing)
        self.plots = Plots(config.plot_cache_bytes)
        self.devices = Devices(self.store.changed, config)
        self.device_names = {}  # testing: the names Studio's REST stand-in (studio_api.py) gives
        self.closing = False  # set when the server stops: long answers (/events) end

    def __call__(self, environ, start_response):
        environ["wsgi.input"] = Body(environ["wsgi.input"], self.config.timeout)
        request = ServiceRequest(environ)
        request.store = self.store
        request.project = None
        request.max_file_bytes = self.config.max_file_bytes
        request.max_form_parts = self.config.max_files + 16  # werkzeug's default (1000) would answer 413 first
        try:
            response = self._dispatch(request)
        except Rejected as e:
            response = text(e.status, e.text, **e.headers)
        except MethodNotAllowed as e:
            allowed = ", ".join(e.valid_methods or ())
            response = text(405, "Method not allowed: use %s" % allowed, Allow=allowed)
        except NotFound:
            response = text(404, "Not found: %s" % request.path)
        except HTTPException as e:  # werkzeug's: a client gone mid-body, a form field too large
            response = text(400, "Invalid message: %s" % e.description)
        except Exception as e:
            traceback.print_exc(file=sys.stderr)
            response = text(500, "Internal server error: %s" % type(e).__name__)
        return response(environ, start_response)

    def _dispatch(self, request):
        safety.check_host(self.config, request)
        safety.check_origin(self.config, request)
        endpoint, args = self.url_map.bind_to_environ(request.environ).match()
        view, access = routes.VIEWS[endpoint]
        if access == routes.KEY:
            request.project = safety.check_key(self.projects, request)
        elif access == routes.READ:
            request.project = safety.check_reader(self.projects, request)
        if endpoint.startswith("ingestion."):
            safety.check_length(request)
        return view(self, request, **args)


def create_app(config=None, testing=False):
    """The service for `config` (a Config; default: Config()). testing=True adds the test API
    (/_mock/...), for the tests and `python -m service --testing` only."""
    return App(config or Config(), testing)
