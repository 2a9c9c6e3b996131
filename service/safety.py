"""What keeps the service safe on a developer's machine, where any web page the user opens can
send it requests: the Host header must name this service (a DNS-rebinding page names its own
domain), a request from another site's page (its Origin) is refused, what changes data needs an
accepted API key, and what reads a project's data needs its key or the dashboard's session
cookie for it (projects.py). Edge Impulse's clients (SDK, CLI, firmware) send no Origin."""
import ipaddress
import re
import urllib.parse

from service.projects import COOKIE
from service.web import Rejected

_LOOPBACK_NAMES = ("localhost", "localhost.")


def _ip(name):
    try:
        return ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return None


def _split_host(value):
    """('name', port or None) of a Host header value; lower-case name, IPv6 without brackets."""
    m = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[^:\[\]]*)(?::([0-9]{1,5}))?", value.strip())
    if not m:
        return None, None
    return m.group(1).strip("[]").lower(), int(m.group(2)) if m.group(2) else None


def host_allowed(config, name):
    """True when `name` (from Host or Origin) names this service: the address it is bound to,
    a loopback name when bound to loopback, any address when bound to all of them (an address
    involves no DNS, so no rebinding), or a name given with --allow-host."""
    if name in (h.lower() for h in config.allow_hosts):
        return True
    bound = _ip(config.host)
    ip = _ip(name)
    if bound is None:  # bound by name, e.g. --host localhost
        return name == config.host.lower() or (config.host.lower() in _LOOPBACK_NAMES and (
            name in _LOOPBACK_NAMES or (ip is not None and ip.is_loopback)))
    if ip is not None:
        return ip == bound or bound.is_unspecified or (bound.is_loopback and ip.is_loopback)
    return name in _LOOPBACK_NAMES and (bound.is_loopback or bound.is_unspecified)


def check_host(config, request):
    value = request.environ.get("HTTP_HOST")
    if value is None:
        return  # HTTP/1.0 without Host: not a browser
    if not value.isascii():
        raise Rejected(400, "Invalid Host header: not ASCII")
    name, _ = _split_host(value)
    if name is None or not host_allowed(config, name):
        raise Rejected(403, "Forbidden: Host %r does not name this service (bound to %s); start it with "
                            "--allow-host NAME to take requests for another name" % (value[:100], config.host))


def check_origin(config, request):
    """A browser names the page that sent a request in Origin: it must be this service's own."""
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        raise Rejected(403, "Forbidden: a request from another site's page")
    origin = request.headers.get("Origin")
    if origin is None:
        return
    url = urllib.parse.urlsplit(origin.strip()) if origin.isascii() else None
    try:
        port = url.port if url else None
    except ValueError:
        url = None
    ok = url is not None and url.scheme in ("http", "https") and url.hostname is not None \
        and host_allowed(config, url.hostname.lower()) \
        and (port or (443 if url.scheme == "https" else 80)) == config.port
    if not ok:
        raise Rejected(403, "Forbidden: a request from another origin (%s)" % origin[:100])


def check_key(projects, request):
    """The project whose API key the request gives in x-api-key; Rejected(401) otherwise."""
    key = request.headers.get("x-api-key")
    if not key:
        raise Rejected(401, "Missing x-api-key header")
    project = projects.for_key(key)
    if project is None:
        raise Rejected(401, "Invalid API key")
    return project


def check_reader(projects, request):
    """The project a read is for: its API key in x-api-key, else the dashboard's session cookie."""
    if request.headers.get("x-api-key") is not None:
        return check_key(projects, request)
    value = request.cookies.get(COOKIE)
    project = projects.for_cookie(value) if value else None
    if project is None:
        raise Rejected(401, "Missing x-api-key header (or the dashboard's session: open the page and "
                            "give the project's API key)" if not value else
                       "The dashboard's session has expired (the service restarted): give the API key again")
    return project


def check_length(request):
    """A body's length is a number, or the body is chunked."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    length = request.headers.get("Content-Length")
    if length is not None and not chunked and not re.fullmatch(r"\s*[0-9]+\s*", length):
        raise Rejected(400, "Invalid Content-Length header: %r" % length[:40])
    if length is None and not chunked:
        raise Rejected(411, "Length Required: send Content-Length or Transfer-Encoding: chunked")
