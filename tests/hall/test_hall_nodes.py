"""Two hall PCs on loopback: the main PC's hall drives a window PC's LED and hears its keypad
through the window PC's own hwd; while the window PC is down the hall goes on and the screen
catches up when it returns. One case over tcp:// with CURVE keys."""

from __future__ import annotations

import socket

import pytest

from hwd.client import Client, RpcError
from hwd.keys import keygen
from sim_devices import keypad, led
from daemon_fixture import wait_for as _wait_for
import functools

WINDOW_PC = led("win5-led", 5) + keypad()

MAIN_PC = '''
[[node]]
id = "win5-pc"
rpc = "{rpc}"
events = "{events}"
{keys}

[[device]]
id = "win5-led"
kind = "display"
node = "win5-pc"

[[device]]
id = "win5-rate"
kind = "keypad"
node = "win5-pc"

[hall]
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
keypad = "win5-rate"
'''


wait_for = functools.partial(_wait_for, timeout=15.0, tolerate=(RpcError,))


def remote_state(main, device):
    return next(r for r in main.call("devices.list") if r["id"] == device)


def test_window_pc_screen_keypad_and_outage(hwd_daemon):
    win = hwd_daemon(WINDOW_PC, name="win5pc")
    win.wait_state("win5-led", "online")
    win.wait_state("win5-rate", "online")
    main = hwd_daemon(MAIN_PC.format(rpc=win.rpc, events=win.events_ep, keys=""), name="main")
    wait_for(lambda: remote_state(main, "win5-led")["state"] == "online", what="the remote screen online")
    assert remote_state(main, "win5-led")["node"] == "win5-pc"
    screen = lambda: win.sim("win5-led", "content", address=5)["lines"]  # noqa: E731
    wait_for(lambda: screen() == ["5号窗口", ""], what="the window name on the remote LED")

    ev = main.events("hall.", "keypad.", "device.state")
    main.call("hall.issue_ticket", {"service": "bdc"})
    main.call("hall.call_next", {"window": "5"})
    wait_for(lambda: screen() == ["请B001号", "5号窗口"], what="the call on the remote LED")
    main.call("hall.finish", {"window": "5"})
    wait_for(lambda: win.sim("win5-rate", "status")["prompts"] >= 1, what="the remote keypad prompted")
    win.sim("win5-rate", "press", key="rate:5")
    assert ev.wait("keypad.key", timeout=10)["node"] == "win5-pc"
    assert ev.wait("hall.rating", timeout=10)["channel"] == "keypad"

    # the window PC goes down: its devices go offline at the main PC; calls still succeed
    win.kill()
    wait_for(lambda: remote_state(main, "win5-led")["state"] == "offline", what="the remote screen offline")
    ev.wait("device.state", device="win5-led", state="offline", timeout=10)
    main.call("hall.issue_ticket", {"service": "bdc"})
    assert main.call("hall.call_next", {"window": "5"})["number"] == "B002"
    win.start()
    wait_for(lambda: screen() == ["请B002号", "5号窗口"], timeout=30, what="the screen catching up")
    wait_for(lambda: remote_state(main, "win5-led")["state"] == "online", what="the remote screen back online")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_window_pc_over_tcp_with_curve(hwd_daemon, tmp_path):
    keys = tmp_path / "keys"
    win_public, win_secret = keygen(keys, "win")
    main_public, main_secret = keygen(keys / "clients", "main")
    test_public, test_secret = keygen(keys / "clients", "tester")
    rpc, events = f"tcp://127.0.0.1:{_port()}", f"tcp://127.0.0.1:{_port()}"
    win = hwd_daemon(f'''
[daemon]
rpc = "{rpc}"
events = "{events}"
state_dir = "{tmp_path / 'win-state'}"
server_key = "{win_secret}"
clients_dir = "{keys / 'clients'}"
''' + WINDOW_PC, name="wintcp", start=False)
    win.start(wait=False)
    client = Client(rpc, timeout=1.0, retries=1, server_key=win_public, client_key=test_secret)
    wait_for(lambda: client.call("daemon.status"), what="the CURVE window PC up")
    stranger_public, stranger_secret = keygen(tmp_path / "other", "stranger")
    with pytest.raises(Exception):
        Client(rpc, timeout=0.5, retries=1, server_key=win_public, client_key=stranger_secret).call("daemon.status")
    node_keys = f'server_key = "{win_public}"\nclient_key = "{main_secret}"'
    main = hwd_daemon(MAIN_PC.format(rpc=rpc, events=events, keys=node_keys), name="maintcp")
    wait_for(lambda: remote_state(main, "win5-led")["state"] == "online", what="the remote screen online over CURVE")
    main.call("hall.issue_ticket", {"service": "bdc"})
    main.call("hall.call_next", {"window": "5"})
    wait_for(lambda: client.call("sim.control", {"device": "win5-led", "action": "content",
                                                 "params": {"address": 5}})["lines"] == ["请B001号", "5号窗口"],
             what="the call on the LED over CURVE")
    client.close()


pytestmark = pytest.mark.timeout(120)


TTS = ("import struct, sys, wave; w = wave.open(sys.argv[2], 'wb'); w.setnchannels(1); w.setsampwidth(2); "
       "w.setframerate(8000); w.writeframes(struct.pack('<h', 500) * 4000); w.close()")


def test_a_window_pcs_speaker_is_heard_on_the_main_pcs_bus(hwd_daemon):
    """Issue 24 item 5: the hall display holds each call while its speaker announces it, so a
    speaker on a window PC must be heard at the main PC: its speaker.announced comes over with
    ``node``, as the window PC's keypad presses do."""
    import json
    import sys

    speaker = (f'\n[[device]]\nid = "win5-speaker"\nkind = "speaker"\ndriver = "command"\nurl = "null://"\n'
               f'command = {json.dumps([sys.executable, "-c", TTS, "{text}", "{out}"], ensure_ascii=False)}\n')
    win = hwd_daemon(WINDOW_PC + speaker, name="win5pc")
    win.wait_state("win5-speaker", "online")
    main_pc = MAIN_PC.replace('keypad = "win5-rate"', 'keypad = "win5-rate"\nspeaker = "win5-speaker"').replace(
        "[hall]", '[[device]]\nid = "win5-speaker"\nkind = "speaker"\nnode = "win5-pc"\n\n[hall]', 1)
    main = hwd_daemon(main_pc.format(rpc=win.rpc, events=win.events_ep, keys=""), name="main")
    wait_for(lambda: remote_state(main, "win5-speaker")["state"] == "online", what="the remote speaker online")
    ev = main.events("speaker.")
    main.call("hall.issue_ticket", {"service": "bdc"})
    main.call("hall.call_next", {"window": "5"})
    heard = ev.wait("speaker.announced", timeout=15)
    assert heard["device"] == "win5-speaker" and heard["node"] == "win5-pc"
    assert heard["played"] and heard["duration_ms"] > 0
