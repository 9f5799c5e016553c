"""Keypads on a shared RS-485 bus: two caller keypads and two window screens on one emulated
bus (sim://ledbus) through a real hwd process, the hall putting the called number, 暂停 and the
rating prompt on the window's caller LCD, and the bus faults a keypad meets."""

from __future__ import annotations

import pytest

from daemon_fixture import wait_for
from hwd import errors
from sim_devices import bus_keypad, led

BUS = led("win5-led", 5) + led("win6-led", 6) + bus_keypad("win5-caller", 0x21) + bus_keypad("win6-caller", 0x22)
HALL = '''
[hall]
name = "某某县政务服务中心"
[hall.hours]
always_open = true
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
[[hall.window]]
id = "5"
name = "5号窗口"
services = ["bdc"]
display = "win5-led"
keypad = "win5-caller"
[[hall.window]]
id = "6"
name = "6号窗口"
services = ["bdc"]
display = "win6-led"
keypad = "win6-caller"
'''


def lcd(d, device):
    return d.sim(device, "lcd")["lcd"]


def test_two_keypads_and_two_screens_share_one_bus(hwd_daemon):
    d = hwd_daemon(BUS + HALL)
    for device in ("win5-led", "win6-led", "win5-caller", "win6-caller"):
        d.wait_state(device, "online")
    devices = {x["id"]: x for x in d.call("devices.list")}
    assert devices["win5-caller"]["url"] == devices["win5-led"]["url"] == "sim://ledbus"
    ev = d.events("hall.", "keypad.")

    d.call("hall.issue_ticket", {"service": "bdc"})
    d.call("hall.issue_ticket", {"service": "bdc"})
    # the clerk presses F1 on the caller keypad of window 5: the hall calls B001 there
    d.sim("win5-caller", "press", key="call_next")
    assert ev.wait("keypad.key", device="win5-caller", timeout=10)["action"] == "call_next"
    ev.wait("hall.ticket.called", number="B001", window="5", timeout=10)
    wait_for(lambda: lcd(d, "win5-caller") == "B001", what="the called number on the window-5 caller LCD")
    wait_for(lambda: d.sim("win5-led", "content", address=5)["lines"] == ["请B001号", "5号窗口"],
             what="the call on the window-5 screen")
    # a call from the other window reaches only its own keypad and screen
    d.call("hall.call_next", {"window": "6"})
    wait_for(lambda: lcd(d, "win6-caller") == "B002", what="B002 on the window-6 caller LCD")
    wait_for(lambda: d.sim("win6-led", "content", address=6)["lines"] == ["请B002号", "6号窗口"],
             what="the call on the window-6 screen")
    assert lcd(d, "win5-caller") == "B001"

    d.call("hall.pause", {"window": "6"})
    wait_for(lambda: lcd(d, "win6-caller") == "暂停", what="暂停 on the window-6 caller LCD")

    d.call("hall.start", {"window": "5"})
    d.call("hall.finish", {"window": "5"})
    wait_for(lambda: lcd(d, "win5-caller") == "请评价", what="the rating prompt on the caller LCD")
    d.sim("win5-caller", "press", key="rate:5")
    assert ev.wait("hall.rating", timeout=10)["score"] == 5

    # the screens saw the keypad frames as noise and no frame of theirs was lost or garbled
    status = d.sim("win5-led", "status")
    assert status["bad_frames"] == 0, status["last_bad"]
    bus = d.sim("win5-caller", "status")
    assert bus["bad_frames"] == 0 and {k["address"] for k in bus["keypads"]} == {0x21, 0x22}


def test_keypad_bus_faults(hwd_daemon):
    d = hwd_daemon(BUS)
    for device in ("win5-led", "win5-caller", "win6-caller"):
        d.wait_state(device, "online")
    ev = d.events("keypad.")

    # a corrupted reply is rejected, counted, and the key arrives with the next poll
    d.sim("win5-caller", "bad_checksum", count=2)
    d.sim("win5-caller", "press", key="call_next")
    assert ev.wait("keypad.key", device="win5-caller", timeout=10)["key"] == "f1"
    counters = {x["id"]: x for x in d.call("devices.list")}["win5-caller"]["counters"]
    assert counters["bad_frames"] >= 2 and counters["keys"] == 1

    # a reply that trickles in piece by piece is still one key
    d.sim("win6-caller", "split", count=1, gap_ms=15)
    d.sim("win6-caller", "press", key="05")
    assert ev.wait("keypad.key", device="win6-caller", timeout=10)["action"] == "rate:5"

    # a silent address: that keypad goes offline, its neighbour and the screen keep working
    d.sim("win6-caller", "silent_address", on=True)
    d.wait_state("win6-caller", "offline", timeout=10)
    d.sim("win5-caller", "press", key="recall")
    assert ev.wait("keypad.key", device="win5-caller", timeout=10)["action"] == "recall"
    d.call("display.show", {"device": "win5-led", "lines": ["请B009号", "5号窗口"]})
    wait_for(lambda: d.sim("win5-led", "content", address=5)["lines"] == ["请B009号", "5号窗口"],
             what="the screen still served on the bus")
    # text for the silent keypad is kept and shown when it answers again
    assert d.call("keypad.show", {"device": "win6-caller", "text": "B010"})["delivered"] is False
    d.sim("win6-caller", "silent_address", on=False)
    d.wait_state("win6-caller", "online", timeout=15)
    wait_for(lambda: lcd(d, "win6-caller") == "B010", what="the kept text on the LCD after the keypad came back")


def test_bad_keypad_bus_config_lists_every_problem(tmp_path):
    import subprocess
    import sys
    config = tmp_path / "hwd.toml"
    config.write_text('''
[[device]]
id = "k"
kind = "keypad"
driver = "bus"
url = "serial:///dev/ttyUSB0"
protocol = "caller99"
frame = ["{addr}", "{cmd}"]
commands = { poll = "0102", beep = "03" }
keys = { "zz" = "rate:5" }
''', encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "hwd", "--config", str(config), "--check"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    for needle in ("protocol", "frame[0]", "keys"):
        assert needle in out.stderr, out.stderr


def test_a_keypad_that_talks_by_itself(hwd_daemon):
    """``polled = false``: an evaluator on a port of its own sends its key frames unasked; the
    host still puts text on its LCD (and a key pressed while it waits for the ack is not lost)."""
    d = hwd_daemon(bus_keypad("desk-rate", 0x30, bus="own") + '''polled = false
prompt_text = "请您评价"
''')
    d.wait_state("desk-rate", "online")
    ev = d.events("keypad.")
    d.sim("desk-rate", "press", key="rate:4")
    assert ev.wait("keypad.key", device="desk-rate", timeout=10)["action"] == "rate:4"
    assert d.call("keypad.prompt", {"device": "desk-rate"}) == {"prompted": True}
    # an unpolled keypad does not answer: prompted means written, and the emulator reads it soon after
    wait_for(lambda: d.sim("desk-rate", "lcd")["lcd"] == "请您评价", what="the prompt on the LCD")
    d.sim("desk-rate", "bad_checksum", count=1)
    d.sim("desk-rate", "press", key="rate:1")           # garbled: counted, not a key
    d.sim("desk-rate", "press", key="rate:5")
    assert ev.wait("keypad.key", device="desk-rate", timeout=10)["action"] == "rate:5"
    # a frame that came unasked and garbled names no trustworthy address: the port counts it
    assert d.device("desk-rate")["port"]["counters"]["bad_frames"] == 1
    assert d.sim("desk-rate", "lcd")["polls"] == 0      # never polled


def test_keypad_show_is_checked_against_the_bus_keypads_own_limit(hwd_daemon):
    """``keypad.show`` belongs to the keypad kind (one interface for every driver); a bus keypad's
    LCD takes 64 characters and narrows ``text`` to that, on the RPC path too. (Before, the
    first keypad driver's spec was used for every keypad and 100 characters reached the bus.)"""
    from hwd.client import RpcError
    from sim_devices import keypad

    d = hwd_daemon(bus_keypad("win5-caller", 0x21) + keypad("win5-rate"))
    d.wait_state("win5-caller", "online")
    with pytest.raises(RpcError) as err:
        d.call("keypad.show", {"device": "win5-caller", "text": "号" * 100})
    assert err.value.code == errors.INVALID_PARAMS and "at most 64 characters" in str(err.value)
    assert lcd(d, "win5-caller") is None                       # nothing reached the bus
    assert d.call("keypad.show", {"device": "win5-caller", "text": "号" * 64})["delivered"] is True
    wait_for(lambda: lcd(d, "win5-caller") == "号" * 64, what="64 characters on the LCD")
    # the kind's own limit holds for every keypad; a keypad without an LCD takes what the kind takes
    assert d.call("keypad.show", {"device": "win5-rate", "text": "号" * 100}) == {"shown": False}
    with pytest.raises(RpcError) as err:
        d.call("keypad.show", {"device": "win5-rate", "text": "号" * 300})
    assert err.value.code == errors.INVALID_PARAMS
    methods = {m["name"]: m for m in d.call("daemon.methods")}
    assert {"keypad.show", "keypad.prompt"} <= set(methods)
