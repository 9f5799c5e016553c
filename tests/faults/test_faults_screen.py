"""LED screens unplugged and plugged back while the hall keeps calling.

Two window LEDs and the hall LED share one emulated RS-485 bus (sim, a pty). The emulator's
``unplug`` closes the pty and the screens lose their content; ``plug`` reopens it, either after
the screens went offline or at once, before they noticed (then the first screen to poll reopens
the shared port and the others must still notice the bus was gone). Between the two, and right
after plugging (while the driver is still reconnecting), a clerk calls, finishes and pauses
through RPC — every call succeeds. Proved: once the bus is back, every
screen shows the latest content (each window's current ticket, idle name or 暂停服务, and the
hall LED the latest call), never an older one, with no bad frame on the bus.
"""

from __future__ import annotations

import random

import pytest

from support.devices import led
from faults_helpers import hall, wait_for

SCREENS = {"win1-led": 1, "win2-led": 2, "hall-led": 9}


def config() -> str:
    devices = "".join(led(dev, addr) for dev, addr in SCREENS.items())
    return hall(services=2, windows=2, devices=devices, displays=["hall-led"],
                window_values=lambda i: {"display": f"win{i}-led"})


def expected(d) -> dict[str, list[str]]:
    """What each screen must show now, from the hall's own state."""
    state = d.call("hall.state")
    out = {}
    for w in state["windows"]:
        if w["state"] in ("paused", "closed"):
            lines = [w["name"], "暂停服务"]
        elif w["current"]:
            lines = [f"请{w['current']}号", w["name"]]
        else:
            lines = [w["name"], ""]
        out[f"win{w['id'][1:]}-led"] = lines
    if state["recent_calls"]:
        last = state["recent_calls"][0]
        out["hall-led"] = [f"请{last['number']}号", f"到{last['window_name']}办理"]
    return out


def shown(d) -> dict[str, list[str]]:
    return {dev: d.sim(dev, "content", address=addr)["lines"] for dev, addr in SCREENS.items()}


def clerk_step(d, rng: random.Random) -> None:
    """One clerk action on a random window; each one must succeed."""
    w = rng.choice(["w1", "w2"])
    state = next(x for x in d.call("hall.state")["windows"] if x["id"] == w)
    if state["state"] == "paused":
        d.call("hall.resume", {"window": w})
    elif state["current"]:
        d.call("hall.finish", {"window": w})
    elif rng.random() < 0.15:
        d.call("hall.pause", {"window": w, "reason": "离岗"})
    else:
        assert d.call("hall.call_next", {"window": w}) is not None


def run(d, rounds: int, seed: int) -> None:
    for dev in SCREENS:
        d.wait_state(dev, "online")
    for i in range(4 * rounds + 10):
        d.call("hall.issue_ticket", {"service": "s0" if i % 2 else "s1"})
    rng = random.Random(seed)
    clerk_step(d, rng)
    wait_for(lambda: shown(d) == expected(d), what="the first call on the screens")
    for n in range(rounds):
        d.sim("win1-led", "unplug")
        if n % 2:
            # a quick replug, before the screens notice: the first screen to poll finds the bus
            # broken and reopens it; the others must still notice that their content is gone
            d.sim("win1-led", "plug")
        else:
            d.wait_state("win1-led", "offline")
            assert shown(d)["win1-led"] == [], "an unplugged screen keeps no content"
            for _ in range(rng.randint(1, 4)):
                clerk_step(d, rng)  # calls while the screens are gone: they succeed all the same
            d.sim("win1-led", "plug")
        for _ in range(rng.randint(0, 2)):
            clerk_step(d, rng)  # and while the driver reconnects
        for dev in SCREENS:
            d.wait_state(dev, "online", timeout=20)
        want = expected(d)
        last: list = []
        try:
            wait_for(lambda: last.append(shown(d)) or last[-1] == want, timeout=30,
                     what=f"the latest content restored (want {want})")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the screens show {last[-1] if last else None}") from None
    status = d.sim("win1-led", "status")
    assert status["bad_frames"] == 0, status.get("last_bad")


@pytest.mark.faults
@pytest.mark.fast
def test_screens_unplugged_during_calls_quick(hwd_daemon):
    run(hwd_daemon(config()), rounds=3, seed=3)


@pytest.mark.faults
@pytest.mark.timeout(240)
def test_screens_unplugged_during_calls(hwd_daemon):
    run(hwd_daemon(config()), rounds=20, seed=11)
