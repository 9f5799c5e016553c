"""Tidal-window alerts through a real hwd process: ``hall.alert`` on the ZeroMQ event bus when
the test clock (from a fixed Monday) moves a wait past the threshold, ``hall.alerts`` over RPC,
and ``hwctl alerts`` (its words and its exit code: 0 without alerts, 4 while one is raised)."""

from __future__ import annotations

import json
import subprocess
import sys

START = "2026-11-23T09:00:00"
HALL = '''
[hall]
name = "某某县政务服务中心"
[hall.hours]
always_open = true
[hall.tidal]
wait_min = 20
[[hall.service]]
id = "sb"
name = "社保"
prefix = "A"
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
[[hall.window]]
id = "3"
name = "3号窗口"
services = ["sb"]
[[hall.window]]
id = "5"
name = "5号窗口"
services = ["sb"]
[[hall.window]]
id = "7"
name = "7号窗口"
services = ["bdc"]
'''


def hwctl(d, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hwd.hwctl", "--config", str(d.config_path), *args],
                          capture_output=True, text=True, timeout=30)


def test_hall_alert_is_published_and_hwctl_shows_it(hwd_daemon):
    d = hwd_daemon(HALL, clock_start=START)
    d.call("clock.set", {"now": START})
    out = hwctl(d, "alerts")
    assert (out.returncode, out.stdout.strip()) == (0, "no tidal-window alerts"), out.stderr
    ev = d.events("hall.alert")
    for _ in range(3):
        d.call("hall.issue_ticket", {"service": "sb"})
    d.call("hall.call_next", {"window": "3"})
    d.call("hall.pause", {"window": "5", "reason": "午休"})
    d.call("clock.advance", {"seconds": 20 * 60})
    raised = ev.wait("hall.alert", state="raised")
    text = "社保 最长等候 20 分钟（2 人），可调配：5号窗口（暂停：午休），7号窗口（空闲，可改办社保）"
    assert raised["kind"] == "tidal" and raised["service"] == "sb" and raised["text"] == text
    assert (raised["wait_min"], raised["queue"], raised["threshold"]["wait_min"]) == (20, 2, 20)
    assert [(w["id"], w["why"]) for w in raised["windows"]] == [("5", "paused"), ("7", "other_idle")]
    [current] = d.call("hall.alerts")
    assert current["text"] == text and current["since"] == "2026-11-23T09:20:00+08:00"

    out = hwctl(d, "alerts")
    assert out.returncode == 4, out.stderr
    assert out.stdout.splitlines() == [f"09:20  {text}"]
    out = hwctl(d, "alerts", "--json")
    assert out.returncode == 4 and [a["service"] for a in json.loads(out.stdout)] == ["sb"]

    d.call("hall.finish", {"window": "3"})
    d.call("hall.call_next", {"window": "3"})
    d.call("hall.resume", {"window": "5"})
    d.call("hall.call_next", {"window": "5"})           # nobody waits for 社保 now
    cleared = ev.wait("hall.alert", state="cleared")
    assert cleared["text"] == "社保 排队已缓解：最长等候 0 分钟（0 人）"
    assert d.call("hall.alerts") == []
    assert hwctl(d, "alerts").returncode == 0
