"""config/demo.toml is valid and every device in it comes online (run with private endpoints so
a developer's running demo does not collide with the test)."""

from __future__ import annotations

import re
import time
from pathlib import Path

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
