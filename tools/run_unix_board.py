"""`make run`: the unix board's main job against a local mock ingestion server.

Starts the mock server on loopback, writes the unix board's config.json for it, runs
boards/unix/main.py on the real MicroPython unix port, then shows what the server stored.
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

from service import API_KEY, MockServer

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    label = sys.argv[1] if len(sys.argv) > 1 else "wave"
    data = ROOT / "data" / "run"
    server = MockServer(data_dir=data).start()
    print("mock ingestion server on %s (data in %s)" % (server.url, data), flush=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = pathlib.Path(tmp) / "config.json"
            cfg.write_text(json.dumps({"board": "unix", "api_key": API_KEY, "host": server.host,
                                       "port": server.port, "tls": False, "motion": label}))
            env = dict(os.environ, MICROPYPATH=os.pathsep.join(
                [str(ROOT / "boards" / "unix"), str(ROOT / "firmware"), ".frozen"]))
            micropython = pathlib.Path(sys.executable).parent / "micropython"
            print("$ micropython boards/unix/main.py %s" % label, flush=True)
            rc = subprocess.run([str(micropython), "-X", "heapsize=128k",
                                 str(ROOT / "boards" / "unix" / "main.py"), label, str(cfg)],
                                env=env).returncode
        if rc == 0:
            entry = server.store.listing()[-1]
            print("the server stored %s: category %s, label %s, %d rows of %s at %s ms"
                  % (entry["name"], entry["category"], entry["label"], entry["rows"],
                     ", ".join(s["name"] for s in entry["sensors"]), entry["interval_ms"]))
        return rc
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
