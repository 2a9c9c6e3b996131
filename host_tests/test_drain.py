"""make drain: a board with no network queues its captures on flash; the host pulls them over
mpremote and uploads them with the board's own request code (ei.Queue.flush, ei.Client on
CPython). Tried on a virtual board deployed with make deploy, against the mock service."""
import json
import pathlib
import re
import subprocess

import pytest

from service import API_KEY
from tools.virtual_board import VirtualBoard

ROOT = pathlib.Path(__file__).resolve().parent.parent


def make(*args, timeout=180):
    return subprocess.run(["make", "--no-print-directory"] + list(args), cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def board(tmp_path, servers):
    """A deployed virtual board whose config queues every capture (as a board with no
    network does) and names the mock service, for the host that drains it."""
    server = servers["mock"]
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"board": "unix", "api_key": API_KEY, "host": server.host,
                               "port": server.port, "tls": False, "queue": True,
                               "device_name": "drained-%s" % tmp_path.name[-12:]}))
    with VirtualBoard(tmp_path / "flash") as b:
        r = make("deploy", "BOARD=unix", "PORT=" + b.port, "CONFIG=%s" % cfg)
        assert r.returncode == 0, r.stdout + r.stderr
        b.cfg = cfg
        yield b


def queued(board):
    q = pathlib.Path(board.flash) / "queue"
    return sorted(p.name for p in q.glob("*.eiq")) if q.is_dir() else []


def test_make_drain_uploads_what_the_board_queued_and_empties_its_queue(board, servers):
    # one session, so the simulated sensor goes on: three different samples
    out = board.mpremote("exec", "import ei\n"
                                 "for label in ('idle', 'wave', 'idle'):\n"
                                 "    ei.collect(label, seconds=0.2)\n").stdout
    entries = re.findall(r"queued as (\S+)", out)
    assert len(entries) == 3 and queued(board) == entries
    before = len(servers["mock"].store.listing())
    r = make("drain", "PORT=" + board.port, "CONFIG=%s" % board.cfg)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 stored by 127.0.0.1, 0 refused" in r.stdout, r.stdout
    new = servers["mock"].store.listing()[before:]
    assert [(e["label"], e["rows"], e["category"]) for e in new] == [
        ("idle", 20, "training"), ("wave", 20, "training"), ("idle", 20, "training")]
    assert all(e["device_type"] == "MICROPYTHON_UNIX" for e in new)
    assert queued(board) == []


def test_make_drain_with_nothing_queued_says_so(board):
    r = make("drain", "PORT=" + board.port, "CONFIG=%s" % board.cfg)
    assert r.returncode == 0 and "has nothing queued" in r.stdout, r.stdout + r.stderr


def test_an_entry_the_service_refuses_is_moved_aside_on_the_board(board, tmp_path):
    out = board.mpremote("exec", "import ei; ei.collect('idle', seconds=0.1)").stdout
    good = re.search(r"queued as (\S+)", out).group(1)
    # an entry whose header is whole but whose body is not a data acquisition object
    body = b"\xa1\x61x\x01"
    head = b'EIQ1 ' + json.dumps({"category": "training", "label": "bad", "file_name":
                                  "bad.cbor", "content_type": "application/cbor",
                                  "no_label": False, "add_date_id": True,
                                  "size": len(body)}).encode() + b"\n"
    (pathlib.Path(board.flash) / "queue" / "00000099.eiq").write_bytes(head + body)
    into = tmp_path / "drained"
    r = make("drain", "PORT=" + board.port, "CONFIG=%s" % board.cfg, "INTO=%s" % into)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 stored by 127.0.0.1, 1 refused" in r.stdout and "refused 00000099.eiq" in r.stdout
    assert (into / "aside" / "00000099.eiq").is_file()  # kept on the host too
    assert queued(board) == []
    assert (pathlib.Path(board.flash) / "queue" / "aside" / "00000099.eiq").is_file()
    assert good not in queued(board)


def test_drain_refuses_a_folder_that_is_not_empty(board, tmp_path):
    board.mpremote("exec", "import ei; ei.collect('idle', seconds=0.1)")
    r = make("drain", "PORT=" + board.port, "CONFIG=%s" % board.cfg, "INTO=%s" % tmp_path)
    assert r.returncode != 0 and "is not empty" in r.stderr, r.stdout + r.stderr
    assert len(queued(board)) == 1 and (tmp_path / "flash" / "board.py").is_file()


def test_a_drain_that_cannot_reach_the_service_leaves_everything_queued(board, tmp_path):
    board.mpremote("exec", "import ei; ei.collect('idle', seconds=0.1)")
    before = queued(board)
    cfg = json.loads(board.cfg.read_text())
    cfg.update(host="127.0.0.1", port=9)  # nothing listens: every attempt is refused
    offline = tmp_path / "offline.json"
    offline.write_text(json.dumps(cfg))
    r = make("drain", "PORT=" + board.port, "CONFIG=%s" % offline, "INTO=%s" % (tmp_path / "d"))
    assert r.returncode != 0 and "drain: stopped after 0 entries" in r.stderr, r.stderr
    assert queued(board) == before and len(before) == 1
