"""config/demo.toml is valid and every device in it comes online (run with private endpoints so
a developer's running demo does not collide with the test)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.toml"


def test_demo_config_starts_with_every_device_online(hwd_daemon):
    text = DEMO.read_text(encoding="utf-8")
    body = re.sub(r"(?ms)^\[daemon\].*?(?=^\[)", "", text)
    d = hwd_daemon(body)
    deadline = time.monotonic() + 20
    while True:
        rows = d.call("devices.list")
        if all(r["state"] == "online" for r in rows) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert rows and all(r["state"] == "online" for r in rows), [(r["id"], r["state"], r["detail"]) for r in rows]


def test_demo_window_7_has_a_caller_and_an_evaluator_on_its_screens_bus(hwd_daemon):
    """Window 7 as the public queue systems wire one: the caller's key calls, its LCD shows the
    ticket's digits and the waiting count, finish starts the evaluator, whose key rates."""
    from daemon_fixture import wait_for

    text = DEMO.read_text(encoding="utf-8")
    d = hwd_daemon(re.sub(r"(?ms)^\[daemon\].*?(?=^\[)", "", text))
    for device in ("win7-strip", "win7-caller", "win7-rate"):
        d.wait_state(device, "online", timeout=20)
    ev = d.events("hall.")
    for _ in range(2):
        d.call("hall.issue_ticket", {"service": "zh"})
    d.sim("win7-caller", "press", key="call_next", digits="2")
    assert ev.wait("hall.ticket.called", window="7", timeout=10)["number"] == "A002"
    wait_for(lambda: d.sim("win7-caller", "lcd")["lcd"] == "002_1", what="A002 and 1 waiting on the caller")
    d.sim("win7-caller", "press", key="finish")
    wait_for(lambda: d.sim("win7-rate", "lcd")["evaluating"], what="the evaluator started")
    d.sim("win7-rate", "press", key="rate:5")
    assert ev.wait("hall.rating", window="7", timeout=10)["score"] == 5
    wait_for(lambda: d.sim("win7-rate", "lcd")["stars"] == 5, what="five stars")


def test_demo_24_hour_kiosk_and_its_locker_deposit_by_day_pickup_at_night(hwd_daemon, tmp_path):
    """The demo's 24-hour area: a result deposited for a served ticket in the 24-door locker, the
    door shut by hand; that evening kiosk k24 issues no ticket and opens the door for the code.
    ``make demo NIGHT=1``'s copy of the config runs its test clock from 20:00."""
    from hwd import config as configuration, demo, errors
    from hwd.client import RpcError

    assert configuration.load(DEMO).hall.kiosks["k24"].area == "24h"
    night = configuration.load(demo.night_config(DEMO, "Asia/Shanghai", tmp_path / "night.toml"))
    assert night.daemon.test_clock and night.daemon.test_clock_start.endswith("T20:00:00")
    assert night.daemon.state_dir == configuration.load(DEMO).daemon.state_dir, "hwctl --config config/demo.toml reaches it"

    text = DEMO.read_text(encoding="utf-8")
    d = hwd_daemon(re.sub(r"(?ms)^\[daemon\].*?(?=^\[)", "", text), clock_start="2026-11-23T10:00:00")  # a Monday
    d.wait_state("locker1", "online", timeout=20)
    assert len(d.call("locker.status", {"device": "locker1"})["doors"]) == 24
    ev = d.events("locker.", "hall.pickup.")
    ticket = d.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k1"})
    for step in ("hall.call_next", "hall.start", "hall.finish"):
        d.call(step, {"window": "5"})
    got = d.call("hall.deposit", {"ticket": ticket["number"], "window": "5"})
    ev.wait("locker.door", device="locker1", door=got["door"], state="opened")
    d.sim("locker1", "shut", door=got["door"])
    ev.wait("hall.pickup.deposited", deposit=got["deposit"])

    d.call("clock.set", {"now": "2026-11-23T21:00:00"})
    assert d.call("hall.area", {"kiosk": "k24"})["open"] is False
    with pytest.raises(RpcError) as refused:
        d.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k24"})
    assert refused.value.code == errors.OUTSIDE_HOURS
    assert d.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k1"})["number"], "the hall is always_open"
    opened = d.call("hall.pickup", {"code": got["code"], "kiosk": "k24"})
    assert (opened["device"], opened["door"]) == ("locker1", got["door"])
    d.sim("locker1", "shut", door=got["door"])
    ev.wait("hall.pickup.picked", deposit=got["deposit"], kiosk="k24")
