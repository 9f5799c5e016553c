"""One RS-485 bus as the public queue systems wire it (JackQChen/QueueSystem, uvbs/HospitalQueueSystem):
two callers and an evaluator that talk unasked (``polled = false``) and a 重庆中意 strip screen,
all on one emulated bus (one pty), through a real hwd process. 50 presses on each keypad at 5 a
second: every press reaches the keypad it was made on, with the digits typed before it, and is
written back at once (an evaluator's as FUNC 01), and the screen's frames are the preset's bytes,
unchanged. Before, each unpolled keypad read the shared port itself and the other's reader took
and dropped about half the presses, and nothing was written back. A frame for an address no
device has is counted once, on the port."""

from __future__ import annotations

import time

from support.waits import wait_for
from drivers.display.presets import PRESETS

PRESSES = 50
SCREEN = '''
[[device]]
id = "win7-strip"
kind = "display"
driver = "frame"
url = "sim://hallbus"
protocol = "zhongyi"
address = 7
'''


def caller(device_id: str, address: int, lcd: str, keys: str) -> str:
    return f'''
[[device]]
id = "{device_id}"
kind = "keypad"
driver = "bus"
url = "sim://hallbus"
protocol = "caller21"
address = {address}
polled = false
lcd = "{lcd}"
keys = {keys}
'''


# the keys as each source reads them: JackQChen frmMain.cs lines 240–294, uvbs HardWareDef.h
# lines 12–17 with SLZCCaller.cpp DoCallerMsg (lines 117–241); the evaluator's grades 00–04
# (HardWareDef.h HARDWARE_EVALTOR_GRADE*, 差 … 很好)
JQ_KEYS = '{ "0c" = "call_next", "0d" = "recall", "060f" = "no_show", "000f" = "pause", "12" = "pause", "13" = "transfer" }'
UV_KEYS = '{ "0c" = "call_next", "0d" = "recall", "0a" = "transfer", "0f" = "login", "000f" = "pause", "050f" = "no_show" }'
EVALUATOR = '''
[[device]]
id = "win7-rate"
kind = "keypad"
driver = "bus"
url = "sim://hallbus"
protocol = "caller21"
role = "evaluator"
address = 0x81
polled = false
keys = { "00" = "rate:1", "01" = "rate:2", "02" = "rate:3", "03" = "rate:4", "04" = "rate:5" }
'''
BUS = (SCREEN + caller("win7-caller", 0x21, "ticket6", JQ_KEYS) + caller("win8-caller", 0x22, "ticket-wait", UV_KEYS)
       + EVALUATOR)

# (key as pressed, digits) → (key code in the event, action)
PRESS_JQ = [("call_next", "", "0c", "call_next"), ("call_next", "123", "0c", "call_next"), ("recall", "", "0d", "recall"),
            ("060f", "", "060f", "no_show"), ("000f", "", "000f", "pause"), ("13", "", "13", "transfer")]
PRESS_UV = [("call_next", "", "0c", "call_next"), ("transfer", "2", "0a", "transfer"), ("login", "0815", "0f", "login"),
            ("050f", "", "050f", "no_show"), ("call_next", "45", "0c", "call_next")]
PRESS_EV = [(f"rate:{n}", "", f"{n - 1:02x}", f"rate:{n}") for n in (5, 4, 3, 2, 1)]
PLAN = {"win7-caller": PRESS_JQ, "win8-caller": PRESS_UV, "win7-rate": PRESS_EV}


def strip_frames(text: str) -> list[str]:
    """The zhongyi preset's frames for ``text`` at address 7, as the emulator logs them."""
    codec = PRESETS["zhongyi"].build({})
    return [f.hex().upper() for f in codec.update([text.encode("gbk")], 7, "static")]


def test_two_callers_an_evaluator_and_a_screen_on_one_bus(hwd_daemon):
    d = hwd_daemon(BUS)
    for device in ("win7-strip", *PLAN):
        d.wait_state(device, "online")
    ev = d.events("keypad.")
    shown = []
    for i in range(PRESSES):
        for device, plan in PLAN.items():
            key, digits, _, _ = plan[i % len(plan)]
            d.sim(device, "press", key=key, digits=digits)
        if i % 10 == 0:
            text = f"请B{i:03d}号 7号窗口"
            assert d.call("display.show", {"device": "win7-strip", "lines": [text]})["delivered"] is True
            shown.append(text)
        time.sleep(0.2)          # 5 presses a second on each keypad

    got: dict[str, list[tuple]] = {device: [] for device in PLAN}
    for _ in range(len(PLAN) * PRESSES):
        event = ev.wait("keypad.key", timeout=15)
        got[event["device"]].append((event["key"], event["action"], event["digits"]))
    for device, plan in PLAN.items():
        want = [(plan[i % len(plan)][2], plan[i % len(plan)][3], plan[i % len(plan)][1]) for i in range(PRESSES)]
        assert got[device] == want, device
        assert d.device(device)["counters"]["keys"] == PRESSES
        # every press was written back, as the keypad expects
        lcd = wait_for(lambda: (lambda s: s if s["awaiting_echo"] == 0 else None)(d.sim(device, "lcd")),
                       what=f"the last echoes to {device}")
        assert (lcd["presses"], lcd["echoed"], lcd["unechoed"]) == (PRESSES, PRESSES, 0), device
        assert d.device(device)["counters"]["acks"] == PRESSES

    # the screen got exactly the preset's frames (its connect frame and its blank content when
    # it came online first), none garbled, none lost
    hello = PRESETS["zhongyi"].build({}).hello(7)[0].hex().upper()
    assert [f["hex"] for f in d.sim("win7-strip", "frames", address=7)] == \
        [hello] + [h for text in [""] + shown for h in strip_frames(text)]
    status = d.sim("win7-strip", "status")
    assert status["bad_frames"] == 0 and status["connect_frames"] == 1
    port = d.device("win7-caller")["port"]
    assert port == d.device("win7-rate")["port"]
    assert port["devices"] == ["win7-caller", "win7-rate", "win7-strip", "win8-caller"]
    assert port["counters"]["unclaimed_frames"] == 0 and port["counters"]["bad_frames"] == 0

    # a caller at an address no device has: its frame is counted once, on the port, and not echoed
    from drivers.keypad.buspresets import build_spec
    stray = build_spec({"protocol": "caller21"}).encode(0x29, 0x01, b"\x0c")
    d.sim("win7-strip", "garbage", data=stray.hex())
    wait_for(lambda: d.device("win8-caller")["port"]["counters"]["unclaimed_frames"] == 1,
             what="the stray caller's frame counted on the port")
    assert "a keypad frame for address 41, which no device configured on this port has" in d.log()
    assert sum(d.device(x)["counters"]["acks"] for x in PLAN) == len(PLAN) * PRESSES
