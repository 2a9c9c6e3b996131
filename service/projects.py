"""Projects, as in Studio: each API key belongs to one project, which has its HMAC keys, its
samples, its devices and its dashboard. A key sees and changes only its own project's.

    --project NAME:API_KEY[:HMAC_KEY]   (repeatable; the same NAME again adds a key to it)
    --api-key K --hmac-key H            (the old flags: one project named "default")

The dashboard (a browser cannot put a header on a link, an image or an EventSource) is given
a session cookie for its project when it shows the key once (POST /session): the cookie names
the project and is an HMAC of its name under a secret made at start, so a restart asks again.
What changes data takes the x-api-key header only, never the cookie.
"""
import dataclasses
import hashlib
import hmac
import re
import secrets

from service.config import API_KEY, DEFAULT_PROJECT, DEV_HMAC_KEY

COOKIE = "ei_local_project"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_KEY = re.compile(r"[\x21-\x7e]{1,256}")  # printable ASCII, no space: what a header carries


class ProjectError(ValueError):
    """A --project the service cannot start with, saying why (never the key)."""


@dataclasses.dataclass(frozen=True)
class Project:
    """One project: its name, its number (Studio's projectId: its place on the command line),
    the API keys that open it and the HMAC keys its samples are checked with."""
    name: str
    id: int
    api_keys: tuple
    hmac_keys: tuple = ()

    @property
    def sample_hmac_key(self):
        """The hmacKey of the sample requests sent to its devices: its first HMAC key, else
        DEV_HMAC_KEY (and then signatures are not checked: no key was given to check them)."""
        return self.hmac_keys[0] if self.hmac_keys else DEV_HMAC_KEY

    def __repr__(self):  # never the keys
        return "Project(%r, id=%d)" % (self.name, self.id)


def parse(spec):
    """(name, api key, hmac key or None) of NAME:API_KEY[:HMAC_KEY]; ProjectError naming the
    part that is wrong."""
    name, _, rest = spec.partition(":")
    key, _, hmac_key = rest.partition(":")
    if not _NAME.fullmatch(name):
        raise ProjectError("--project %r: a name is 1 to 64 letters, digits, '.', '_' or '-'" % name[:80])
    if not _KEY.fullmatch(key):
        raise ProjectError("--project %s: the API key must be 1 to 256 printable ASCII characters" % name)
    if ":" in rest and not _KEY.fullmatch(hmac_key):
        raise ProjectError("--project %s: the HMAC key must be 1 to 256 printable ASCII characters" % name)
    return name, key, hmac_key or None


def from_specs(specs, api_keys=(), hmac_keys=()):
    """The projects of a command line: the old flags' default project (when they give keys, or
    when nothing is given: the page's example key), then each --project, in order."""
    keys, hmacs, order = {}, {}, []
    if api_keys or not specs:
        order.append(DEFAULT_PROJECT)
        keys[DEFAULT_PROJECT] = list(api_keys or (API_KEY,))
        hmacs[DEFAULT_PROJECT] = list(hmac_keys)
    for spec in specs:
        name, key, hmac_key = parse(spec)
        if name not in keys:
            order.append(name)
            keys[name], hmacs[name] = [], []
        keys[name].append(key)
        if hmac_key and hmac_key not in hmacs[name]:
            hmacs[name].append(hmac_key)
    return tuple(Project(name, i + 1, tuple(keys[name]), tuple(hmacs[name]))
                 for i, name in enumerate(order))


class Projects:
    """The service's projects, found by API key, by name and by session cookie."""

    def __init__(self, projects):
        self.all = tuple(projects)
        self.by_key, self.by_name = {}, {}
        for p in self.all:
            if p.name in self.by_name:
                raise ProjectError("project %s is named twice" % p.name)
            self.by_name[p.name] = p
            for key in p.api_keys:
                if key in self.by_key and self.by_key[key] is not p:
                    raise ProjectError("one API key is given to projects %s and %s"
                                       % (self.by_key[key].name, p.name))
                self.by_key[key] = p
        self._secret = secrets.token_bytes(32)

    def for_key(self, key):
        return self.by_key.get(key)

    def cookie(self, project):
        """The session cookie's value for `project`: its name and an HMAC of it."""
        return "%s.%s" % (project.name, self._mac(project.name))

    def for_cookie(self, value):
        name, _, mac = (value or "").rpartition(".")
        project = self.by_name.get(name)
        if project is None or not hmac.compare_digest(mac, self._mac(name)):
            return None
        return project

    def _mac(self, name):
        return hmac.new(self._secret, name.encode(), hashlib.sha256).hexdigest()
