"""Power cuts and a full flash on the emulated Pico: boards/rp2_pico queues two captures of
its MPU6050 (ei.collect with no network), the chip is stopped at chosen instructions, and the
board boots again from its flash as the cut left it.

Each run boots main.py, which does the work at boot as a deployed board does (so that the
instructions up to a cut are the same in every run), unless GP15 is held high: then it runs
the check (the board's own Queue and Sample.from_capture read what the cut left).
"""
import re

import cbor2

from fake_i2c import G, FakeMPU6050
from pico_board import END, Pico, board_files, booted, free_blocks, read_files, script

CHECK_PIN = 15
WORK = """import ei, time
ei.setup()
for i in range(2):
    ei.collect('idle', seconds=0.3)
print('DONE')
"""
CHECK = """from ei.queue import Queue
from ei.acquisition import Sample
from ei.capture import CaptureError
q = Queue('queue')
for e in q:
    print('ENTRY', e['name'], e['bytes'])
for name, why in q.aside:
    print('ASIDE', name, why)
try:
    s = Sample.from_capture('capture.eic')
    print('CAPTURE finished', len(s))
except CaptureError as e:
    print('CAPTURE refused', e)
    try:
        print('CAPTURE partial', len(Sample.from_capture('capture.eic', partial=True)))
    except CaptureError as e:
        print('CAPTURE nothing', e)
"""


def sawtooth(t):
    return (((t * 50) % 20) - 10, 0.0, G)


def chip():
    c = FakeMPU6050()
    c.motion = sawtooth
    return c


def files():
    f = board_files("rp2_pico", {"daemon": False})
    f["main.py"] = (b"import machine\n"
                    b"if machine.Pin(%d, machine.Pin.IN).value():\n    import check\n"
                    b"else:\n    import work\n" % CHECK_PIN)
    f["work.py"] = WORK.encode()
    f["check.py"] = script(CHECK)
    return f


def check(flash):
    """Boot from `flash` with GP15 high: what the board's own Queue and capture reader say,
    and the files it leaves."""
    with booted(flash=flash, pins={CHECK_PIN: 1}) as pico:
        pico.write(b"g")
        text = pico.read_until(END).decode().replace("\r\n", "\n")
    return text, read_files(pico.flash)


def entry_rows(data):
    """The rows of a queue entry: its EIQ1 line, then exactly `size` bytes of CBOR."""
    head, _, body = data.partition(b"\n")
    assert head.startswith(b"EIQ1 "), head[:20]
    sample = cbor2.loads(body)
    return sample["payload"]["values"]


def test_a_power_cut_anywhere_leaves_whole_entries_and_names_an_unfinished_capture():
    image = Pico(files=files()).flash  # the same first image for every run
    with booted(flash=image, chips=[chip()], trace_flash=True) as pico:
        pico.read_until(b"DONE", 120)
    ops = pico.flash_ops
    assert len(ops) > 10, ops
    # cuts: while the first capture samples (before its first flash write), between flash
    # writes through the two captures and queue puts, and after the last one
    cuts = [int(ops[0]["instructions"] * 0.95)]
    for i in (len(ops) // 4, len(ops) // 2, 3 * len(ops) // 4):
        cuts.append((ops[i]["instructions"] + ops[i + 1]["instructions"]) // 2)
    cuts.append(ops[-1]["instructions"] + 10000)
    seen = set()
    for cut in cuts:
        with Pico(flash=image, chips=[chip()], cut_at=cut) as cutting:
            end = cutting.wait_stopped()
        assert end["reason"] == "cut" and end["instructions"] == cut, end
        text, left = check(cutting.flash)
        assert "Traceback" not in text, (cut, text)
        entries = [line.split() for line in text.splitlines() if line.startswith("ENTRY")]
        # every entry the queue lists is whole: 30 rows of the sawtooth, z at 1 g
        for _, name, size in entries:
            data = left["queue/" + name]
            assert len(data) == int(size)
            rows = entry_rows(data)
            assert len(rows) == 30, (cut, name, len(rows))
            assert all(abs(r[2] - G) < 0.01 and -10.01 <= r[0] <= 10.01 for r in rows)
        # nothing torn was left to move aside, nor a temporary file after the check
        assert "ASIDE" not in text, (cut, text)
        assert not [p for p in left if p.startswith("queue/") and not p.endswith(".eiq")]
        capture = [line for line in text.splitlines() if line.startswith("CAPTURE")]
        if len(entries) < 2 and "capture.eic" in left and capture[0] != "CAPTURE finished 30":
            # the cut came while a capture was sampling: it is named as unfinished
            assert "capture.eic was never finished" in capture[0], (cut, text)
            seen.add("unfinished")
        seen.add(len(entries))
    assert {"unfinished", 0, 1, 2} <= seen, (seen, cuts)


def test_a_flash_full_mid_capture_stops_it_naming_the_file_and_takes_nothing_half_written():
    base = files()
    base["main.py"] = script(
        "import ei\n"
        "ei.setup()\n"
        "try:\n"
        "    ei.collect('idle', seconds=4)\n"
        "except ei.CaptureStopped as e:\n"
        "    print('STOPPED', e)\n"
        "    print('CAUSE', type(e.error).__name__, e.error.errno, e.error.path)\n"
        "import os\n"
        "if 'queue' in os.listdir():\n"
        "    from ei.queue import Queue\n"
        "    for e in Queue('queue'):\n"
        "        print('ENTRY', e['name'], e['bytes'])\n")
    base["config.json"] = base["config.json"].replace(b"}", b', "interval_ms": 2}')
    # leave three blocks free: the capture (16 bytes a row at 500 Hz) fills them within 1.5 s
    free = free_blocks(Pico(files=base).flash)
    base["filler.bin"] = b"\0" * ((free - 3) * 4088)
    image = Pico(files=base).flash
    assert free_blocks(image) <= 4
    with booted(flash=image, chips=[chip()]) as pico:
        pico.write(b"g")
        text = pico.read_until(END, 120).decode().replace("\r\n", "\n")
    assert "Traceback" not in text, text
    stopped = [line for line in text.splitlines() if line.startswith("STOPPED")]
    assert stopped and "FlashFull: the flash is full: no room in capture.eic after" \
        in stopped[0], text
    assert "CAUSE FlashFull 28 capture.eic" in text, text
    left = read_files(pico.flash)
    # the rows it kept: whole rows of the chip's, in an unfinished capture
    kept = re.search(r"the (\d+) rows read are (kept|queued)", stopped[0])
    assert kept and int(kept.group(1)) > 100, stopped[0]
    # whatever was queued is whole; nothing half-written waits in the queue
    for line in text.splitlines():
        if line.startswith("ENTRY"):
            _, name, size = line.split()
            rows = entry_rows(left["queue/" + name])
            assert len(left["queue/" + name]) == int(size) and rows
            assert all(abs(r[2] - G) < 0.01 for r in rows)
    assert not [p for p in left if p.startswith("queue/") and not p.endswith(".eiq")], left
