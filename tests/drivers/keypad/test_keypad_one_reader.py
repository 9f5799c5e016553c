"""One reader per port (hwd/sharedport.py): two callers that talk unasked (``polled = false``, as
the public queue systems drive them) and a 重庆中意 strip screen on one emulated RS-485 bus
(one pty) through a real hwd process. Every press reaches the keypad it was made on — before,
each unpolled keypad read the shared port itself and the other's reader took and dropped about
half the presses as foreign frames — and the screen's frames are the preset's bytes, unchanged.
A frame for an address no device has is counted once, on the port."""

from __future__ import annotations

import time

from support.waits import wait_for
from drivers.display.presets import PRESETS
from support.devices import bus_keypad

PRESSES = 50
KEYS = ["call_next", "recall", "pause", "resume", "rate:5", "rate:4", "rate:1"]
CODES = {"call_next": "f1", "recall": "f2", "pause": "f3", "resume": "f4", "rate:5": "05", "rate:4": "04",
         "rate:1": "01"}
SCREEN = '''
[[device]]
id = "win7-strip"
kind = "display"
driver = "frame"
url = "sim://hallbus"
protocol = "zhongyi"
address = 7
'''
BUS = (SCREEN + bus_keypad("win7-caller", 0x21, bus="hallbus") + "polled = false\n"
       + bus_keypad("win8-caller", 0x22, bus="hallbus") + "polled = false\n")


def strip_frames(text: str) -> list[str]:
    """The zhongyi preset's frames for ``text`` at address 7, as the emulator logs them."""
    codec = PRESETS["zhongyi"].build({})
    return [f.hex().upper() for f in codec.update([text.encode("gbk")], 7, "static")]


def test_two_unpolled_callers_and_a_screen_on_one_bus_lose_no_press(hwd_daemon):
    d = hwd_daemon(BUS)
    for device in ("win7-strip", "win7-caller", "win8-caller"):
        d.wait_state(device, "online")
    ev = d.events("keypad.")
    shown = []
    for i in range(PRESSES):
        for device in ("win7-caller", "win8-caller"):
            d.sim(device, "press", key=KEYS[(i + (device == "win8-caller")) % len(KEYS)])
        if i % 10 == 0:
            text = f"请B{i:03d}号 7号窗口"
            assert d.call("display.show", {"device": "win7-strip", "lines": [text]})["delivered"] is True
            shown.append(text)
        time.sleep(0.2)          # 5 presses a second on each caller, as a clerk and a citizen press

    got: dict[str, list[str]] = {"win7-caller": [], "win8-caller": []}
    for _ in range(2 * PRESSES):
        event = ev.wait("keypad.key", timeout=15)
        got[event["device"]].append(event["key"])
    for device, offset in (("win7-caller", 0), ("win8-caller", 1)):
        assert got[device] == [CODES[KEYS[(i + offset) % len(KEYS)]] for i in range(PRESSES)], device
        assert d.device(device)["counters"]["keys"] == PRESSES

    # the screen got exactly the preset's frames (first its blank content when it came online),
    # none garbled, none lost
    assert [f["hex"] for f in d.sim("win7-strip", "frames", address=7)] == \
        [h for text in [""] + shown for h in strip_frames(text)]
    assert d.sim("win7-strip", "status")["bad_frames"] == 0
    port = d.device("win7-caller")["port"]
    assert port == d.device("win8-caller")["port"] and port["devices"] == ["win7-caller", "win7-strip", "win8-caller"]
    assert port["counters"]["unclaimed_frames"] == 0 and port["counters"]["bad_frames"] == 0

    # a caller at an address no device has: its frame is counted once, on the port
    from drivers.keypad.buspresets import build_spec
    stray = build_spec({"protocol": "caller21"}).encode(0x29, 0x01, b"\xf1")
    d.sim("win7-strip", "garbage", data=stray.hex())
    wait_for(lambda: d.device("win8-caller")["port"]["counters"]["unclaimed_frames"] == 1,
             what="the stray caller's frame counted on the port")
    assert "a keypad frame for address 41, which no device configured on this port has" in d.log()
    assert "foreign_frames" not in d.device("win7-caller")["counters"]
