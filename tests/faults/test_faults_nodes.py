"""A window PC (a second hwd, ``[[node]]``) gone and back, again and again, while the main PC's
hall keeps calling. Two ways of going: ``kill -9`` then a restart (the PC rebooted), and
SIGSTOP then SIGCONT (the PC hangs or its network cable is pulled: sockets stay open, nothing
answers).

Proved: while the peer is gone every hall operation still succeeds (calls, finishes, pauses) and
the peer's devices turn ``offline`` at the main PC; when it is back they turn ``online``, its LED
shows the latest content (not the one from before the outage), its keypad rates the service
again (the key event is re-published with ``node`` and the rating is stored), and the main PC's
hall state is consistent (no ticket lost, none called twice).
"""

from __future__ import annotations

import os
import random
import signal

import pytest

from support.devices import led
from faults_helpers import wait_for

WINDOW_PC = led("win5-led", 5) + '''
[[device]]
id = "win5-rate"
kind = "keypad"
driver = "serial"
url = "sim://win5-rate"
keys = { "31" = "rate:5", "32" = "rate:4", "33" = "rate:3", "34" = "rate:2", "35" = "rate:1" }
prompt = "a5 01 5a"
'''

MAIN_PC = '''
[[node]]
id = "win5-pc"
rpc = "{rpc}"
events = "{events}"

[[device]]
id = "win5-led"
kind = "display"
node = "win5-pc"

[[device]]
id = "win5-rate"
kind = "keypad"
node = "win5-pc"

[hall]
rating_timeout_s = 600
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
[[hall.window]]
id = "6"
name = "6号窗口"
services = ["bdc"]
'''


def state_at_main(main, device: str) -> str:
    return next(r for r in main.call("devices.list") if r["id"] == device)["state"]


def expected_lines(main) -> list[str]:
    w = next(x for x in main.call("hall.state")["windows"] if x["id"] == "5")
    if w["state"] == "paused":
        return [w["name"], "暂停服务"]
    return [f"请{w['current']}号", w["name"]] if w["current"] else [w["name"], ""]


def outage(win, how: str) -> None:
    if how == "kill":
        win.kill()
    else:
        os.kill(win.proc.pid, signal.SIGSTOP)


def back(win, how: str) -> None:
    if how == "kill":
        win.start()
    else:
        os.kill(win.proc.pid, signal.SIGCONT)


def run(hwd_daemon, rounds: int, seed: int) -> None:
    rng = random.Random(seed)
    win = hwd_daemon(WINDOW_PC, name="win5pc")
    win.wait_state("win5-led", "online")
    main = hwd_daemon(MAIN_PC.format(rpc=win.rpc, events=win.events_ep), name="main")
    screen = lambda: win.sim("win5-led", "content", address=5)["lines"]  # noqa: E731
    wait_for(lambda: state_at_main(main, "win5-led") == "online", what="the remote screen online")
    for _ in range(6 * rounds + 4):
        main.call("hall.issue_ticket", {"service": "bdc"})
    ev = main.events("hall.rating", "keypad.", "device.state")
    called: list[int] = []
    try:
        for n in range(rounds):
            how = "kill" if n % 2 == 0 else "stop"
            outage(win, how)
            wait_for(lambda: state_at_main(main, "win5-led") == "offline", what=f"the screen offline ({how})")
            assert state_at_main(main, "win5-rate") == "offline"
            # the hall goes on: calls, finishes and pauses all succeed while the peer is gone
            for _ in range(rng.randint(1, 3)):
                w = main.call("hall.state")["windows"][0]
                if w["state"] == "paused":
                    main.call("hall.resume", {"window": "5"})
                elif w["current"]:
                    main.call("hall.finish", {"window": "5"})
                elif rng.random() < 0.2:
                    main.call("hall.pause", {"window": "5", "reason": "离岗"})
                else:
                    called.append(main.call("hall.call_next", {"window": "5"})["id"])
                t = main.call("hall.call_next", {"window": "6"})
                if t:
                    called.append(t["id"])
                    main.call("hall.finish", {"window": "6"})
            back(win, how)
            wait_for(lambda: state_at_main(main, "win5-led") == "online", timeout=30, what="the screen back online")
            wait_for(lambda: state_at_main(main, "win5-rate") == "online", timeout=30, what="the keypad back online")
            want = expected_lines(main)
            wait_for(lambda: screen() == want, timeout=30, what=f"the latest content on the peer's LED ({want})")
            # the peer's keypad works again: finish a service and rate it from the keypad
            w = main.call("hall.state")["windows"][0]
            if w["state"] == "paused":
                main.call("hall.resume", {"window": "5"})
            if not w["current"]:
                called.append(main.call("hall.call_next", {"window": "5"})["id"])
            prompts = win.sim("win5-rate", "status")["prompts"]
            done = main.call("hall.finish", {"window": "5"})
            wait_for(lambda: win.sim("win5-rate", "status")["prompts"] > prompts, what="the peer's keypad prompted")
            win.sim("win5-rate", "press", key="rate:4")
            assert ev.wait("keypad.key", timeout=15)["node"] == "win5-pc"
            rating = ev.wait("hall.rating", timeout=15)
            assert rating["ticket"] == done["id"] and rating["channel"] == "keypad"
    finally:
        if win.proc.poll() is None:
            os.kill(win.proc.pid, signal.SIGCONT)
    assert len(called) == len(set(called)), "a ticket was called twice"
    stored = {t["id"]: t for t in main.call("hall.tickets", {"limit": 5000})}
    assert all(stored[i]["state"] in ("called", "serving", "done") for i in called)
    numbers = sorted(int(t["number"][1:]) for t in stored.values())
    assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.faults
@pytest.mark.fast
@pytest.mark.timeout(180)
def test_peer_pc_gone_and_back_quick(hwd_daemon):
    run(hwd_daemon, rounds=2, seed=1)


@pytest.mark.faults
@pytest.mark.timeout(400)
def test_peer_pc_gone_and_back(hwd_daemon):
    run(hwd_daemon, rounds=8, seed=2)
