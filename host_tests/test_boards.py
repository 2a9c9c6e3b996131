"""Packaging for real boards: package.json (mpremote mip install) installs every firmware
module, manifest.py freezes the package on top of the stock firmware's own manifest, and the
boards' secrets stay out of git. (Deploying to a board: test_deploy.py, on a virtual board.)"""
import json
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"


def firmware_modules():
    return sorted(p.relative_to(FIRMWARE).as_posix() for p in (FIRMWARE / "ei").rglob("*.py"))


def test_package_json_installs_every_firmware_module_where_python_finds_it():
    pkg = json.loads((ROOT / "package.json").read_text())
    dests = [dest for dest, _ in pkg["urls"]]
    missing = sorted(set(firmware_modules()) - set(dests))
    assert not missing, "add to package.json's urls: %s" % ", ".join(
        '["%s", "firmware/%s"]' % (m, m) for m in missing)
    for dest, url in pkg["urls"]:
        # a relative url: mip resolves it against package.json's place (github:owner/repo)
        assert url == "firmware/" + dest and (ROOT / url).is_file(), (dest, url)
    assert pkg["deps"] == []


def test_package_json_version_is_the_firmware_version():
    pkg = json.loads((ROOT / "package.json").read_text())
    init = (FIRMWARE / "ei" / "__init__.py").read_text()
    assert '__version__ = "%s"' % pkg["version"] in init


class FakeManifestAPI:
    """The functions MicroPython's tools/manifestfile.py gives a manifest, over a fake build
    tree: include() of a missing file fails as it does there ("Error in manifest file: PATH:
    [Errno 2] No such file or directory")."""

    def __init__(self, existing, broken=(), **options):
        self.vars = {"$(BOARD_DIR)": "/mpy/ports/esp32/boards/ESP32_GENERIC",
                     "$(PORT_DIR)": "/mpy/ports/esp32"}
        self.existing = existing
        self.broken = broken
        self.included = []
        self.packages = []
        self.kwargs = options  # what include(path, **options) passes to the manifest

    def resolve(self, path):
        for k, v in self.vars.items():
            path = path.replace(k, v)
        return path

    def include(self, path):
        path = self.resolve(path)
        if path in self.broken:
            raise Exception("Error in manifest file: %s: Error in manifest file: %s/x.py: "
                            "[Errno 2] No such file or directory" % (path, path))
        if path not in self.existing:
            raise Exception("Error in manifest file: %s: [Errno 2] No such file or directory: "
                            "'%s'" % (path, path))
        self.included.append(path)

    def package(self, name, base_path="."):
        self.packages.append((name, base_path))

    def run(self):
        api = self

        class Options:
            def __init__(self):
                self._defaults = {}

            def defaults(self, **kw):
                self._defaults = kw

            def __getattr__(self, name):
                return api.kwargs.get(name, self._defaults.get(name))

        g = {"include": self.include, "package": self.package, "options": Options()}
        exec((ROOT / "manifest.py").read_text(), g)
        return self


BOARD_MANIFEST = "/mpy/ports/esp32/boards/ESP32_GENERIC/manifest.py"
PORT_MANIFEST = "/mpy/ports/esp32/boards/manifest.py"
NRF_MANIFEST = "/mpy/ports/esp32/modules/manifest.py"


def test_manifest_freezes_the_ei_package_from_firmware():
    m = FakeManifestAPI({PORT_MANIFEST}).run()
    assert m.packages == [("ei", "firmware")]
    # manifestfile.py runs a manifest in its own folder: base_path is relative to it
    assert (ROOT / "firmware" / "ei" / "__init__.py").is_file()


@pytest.mark.parametrize("existing, included", [
    ({BOARD_MANIFEST, PORT_MANIFEST}, BOARD_MANIFEST),  # the Pico W's: networking bundle
    ({PORT_MANIFEST}, PORT_MANIFEST),                   # ESP32_GENERIC has none of its own
    ({NRF_MANIFEST}, NRF_MANIFEST),                     # the nrf port keeps it in modules/
])
def test_manifest_builds_on_the_stock_firmware_s_own_manifest(existing, included):
    assert FakeManifestAPI(existing).run().included == [included]


def test_manifest_reports_an_error_inside_the_board_s_manifest():
    with pytest.raises(Exception, match="x.py"):
        FakeManifestAPI({PORT_MANIFEST}, broken={BOARD_MANIFEST}).run()


def test_manifest_included_with_base_none_adds_only_ei():
    m = FakeManifestAPI({BOARD_MANIFEST}, base=None).run()
    assert m.included == [] and m.packages == [("ei", "firmware")]


@pytest.mark.parametrize("board", ["esp32", "rp2_pico_w", "rp2_pico", "nrf52840", "unix"])
def test_a_board_s_config_is_ignored_by_git_and_its_example_is_not(board):
    def ignored(path):
        return subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0

    assert ignored("boards/%s/config.json" % board)
    assert not ignored("boards/%s/config.example.json" % board)
