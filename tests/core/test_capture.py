"""``hwctl capture`` and the capture/replay pair: the traffic of a port recorded in both
directions through a real hwd daemon, and a captured file played back by the emulator to the
real driver. Also: ID-card readers are never captured."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from hypothesis import given, settings, strategies as st

from hwd import capture
from hwd.capture_playback import exchanges

from sim_devices import bus_keypad, led

BUS = led("win5-led", 5) + bus_keypad("win5-caller", 0x21)


def hwctl(d, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hwd.hwctl", "--config", str(d.config_path), *args],
                          capture_output=True, text=True, timeout=60)


def test_capture_records_both_directions_and_replays(hwd_daemon, tmp_path):
    d = hwd_daemon(BUS)
    d.wait_state("win5-caller", "online")
    d.wait_state("win5-led", "online")
    out = tmp_path / "caller.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "hwd.hwctl", "--config", str(d.config_path), "capture",
                             "win5-caller", "--seconds", "3", "-o", str(out), "--hexdump"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # keep the bus busy until the capture is over (however late hwctl started recording)
    n = 0
    while proc.poll() is None:
        n += 1
        d.sim("win5-caller", "press", key="call_next")
        d.call("keypad.show", {"device": "win5-caller", "text": f"B{n:03d}"})
        d.call("display.show", {"device": "win5-led", "lines": [f"请B{n:03d}号", "5号窗口"]})
        time.sleep(0.2)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    header, records = capture.load(out)
    assert header["format"] == "hwd-capture/1" and header["device"] == "win5-caller"
    assert header["url"] == "sim://ledbus"
    times = [t for t, _, _ in records]
    assert times == sorted(times)
    txs = [data for _, direction, data in records if direction == "tx"]
    rxs = b"".join(data for _, direction, data in records if direction == "rx")
    poll = bytes.fromhex("ff 68 02 02 68 21 01 22 16")
    assert poll in txs                                              # the host's polls
    assert bytes.fromhex("ff 68 03 03 68 21 01 f1 13 16") in rxs   # the keypad's F1 answer
    assert any(b"\x02B0" in data for data in txs)                   # LCD text (command 02)
    assert any(data.startswith(b"\xa5") for data in txs)            # the screen's frame: same port
    assert "TX" in stdout and "RX" in stdout and "FF 68 02 02 68 21 01 22 16" in stdout

    # the capture becomes the emulator: the real driver gets the keypad's own bytes back
    pairs = exchanges(records)
    assert (poll, bytes.fromhex("ff 68 03 03 68 21 01 f1 13 16")) in pairs
    replay = hwd_daemon(f'''
[[device]]
id = "win5-caller"
kind = "keypad"
driver = "bus"
url = "sim://replayed?replay={out}"
protocol = "caller21"
address = 0x21
poll_ms = 50
keys = {{ "f1" = "call_next" }}
''', name="replay")
    ev = replay.events("keypad.")
    replay.wait_state("win5-caller", "online")
    assert ev.wait("keypad.key", timeout=10)["action"] == "call_next"
    status = replay.sim("win5-caller", "status")
    assert status["requests"] > 0 and status["capture"]["device"] == "win5-caller"


def test_id_card_readers_are_never_captured(hwd_daemon):
    d = hwd_daemon('''
[[device]]
id = "r1"
kind = "idcard"
driver = "sam"
url = "sim://r1"
''')
    d.wait_state("r1", "online")
    out = hwctl(d, "capture", "r1", "--seconds", "0.2")
    assert out.returncode == 1 and "error 1030" in out.stderr and "personal data" in out.stderr


def test_capture_url_option_records_for_the_ports_life(tmp_path):
    """``?capture=FILE`` on any serial-style URL (here pyserial's loop://) records from the start."""
    from hwd.ports import open_serial
    from hwd.url import parse

    path = tmp_path / "loop.jsonl"
    port = open_serial(parse(f"loop://?capture={path}"), timeout=0.1)
    port.write(b"\x10\x04\x01")
    assert port.read(3) == b"\x10\x04\x01"
    port.close()
    header, records = capture.load(path)
    assert [(direction, data) for _, direction, data in records] == [("tx", b"\x10\x04\x01"), ("rx", b"\x10\x04\x01")]
    assert json.loads(path.read_text().splitlines()[0])["url"].startswith("loop://")


def test_hexdump_layout_is_pyserials_spy():
    text = capture.hexdump([(1.5, "tx", b"HELLO"), (2.25, "rx", bytes(range(0x41, 0x41 + 18)))])
    lines = text.splitlines()
    assert lines[0].startswith("000001.500 TX   0000  48 45 4C 4C 4F") and lines[0].endswith("HELLO")
    assert lines[1].startswith("000002.250 RX   0000  41 42") and lines[2].startswith("000002.250 RX   0010  51 52")


records_st = st.lists(st.tuples(st.floats(0, 1e6, allow_nan=False), st.sampled_from(["tx", "rx"]),
                                st.binary(min_size=1, max_size=64)), max_size=30)


@settings(max_examples=200, deadline=None)
@given(records_st)
def test_capture_files_round_trip_and_exchanges_keep_every_byte(tmp_path_factory, records):
    path = tmp_path_factory.mktemp("cap") / "c.jsonl"
    header = {"format": capture.FORMAT, "url": "serial:///dev/ttyUSB0"}
    path.write_text(capture.dump(header, [{"t": t, "dir": d, "hex": b.hex()} for t, d, b in records]))
    loaded_header, loaded = capture.load(path)
    assert loaded_header == header and loaded == [(float(t), d, b) for t, d, b in records]
    pairs = exchanges(loaded)
    assert b"".join(tx for tx, _ in pairs) == b"".join(b for _, d, b in records if d == "tx")
    assert b"".join(rx for _, rx in pairs) == b"".join(b for _, d, b in records if d == "rx")


def test_a_byte_at_a_time_device_cannot_grow_a_capture_past_its_cap(tmp_path):
    """The cap counts records as written (~40 bytes of JSON for one byte read), not payload:
    a file capture left on for a port's life stays within ``max_bytes``."""
    path = tmp_path / "cap.jsonl"
    rec = capture.Recorder("serial:///dev/ttyUSB0", path, max_bytes=2000)
    for i in range(500):
        rec.add("rx", bytes([i % 256]))
    rec.close()
    lines = path.read_text().splitlines()
    assert rec.truncated and 30 < len(lines) < 100
    assert sum(len(line) + 1 for line in lines[1:]) == rec.bytes <= 2000
    memory = capture.Recorder("tcp://127.0.0.1:9", None, max_bytes=2000)
    for i in range(500):
        memory.add("tx", b"\x00")
    assert memory.truncated and sum(len(json.dumps(r)) + 1 for r in memory.records) == memory.bytes <= 2000
