"""Wait estimates (issue 18 §4): from the hall's own recent window times and open windows, or
暂无法估计 — never a made-up number. How close they come is measured in bench/estimate.py."""

from __future__ import annotations

import datetime as dt

from hwd.clock import TestClock
from hwd.hall.config import HallConfig, Hours, Service, Window
from hwd.hall.queue.core import HallCore
from hwd.hall.queue.estimate import UNKNOWN, minutes, words
from hwd.hall.store import Store


def hall(tmp_path, windows=None) -> HallCore:
    clock = TestClock("Asia/Shanghai")
    clock.set(dt.datetime(2026, 11, 23, 9, 0))
    cfg = HallConfig(services={"a": Service("a", "甲", "A"), "b": Service("b", "乙", "B")},
                     windows=windows or {"1": Window("1", "1号窗口", ["a"])}, hours=Hours(always_open=True))
    return HallCore(cfg, Store(tmp_path / "hall.sqlite3"), clock)


def serve(core: HallCore, wid: str, seconds: float) -> None:
    core.call_next(wid)
    core.clock.advance(seconds)
    core.finish(wid)


def test_no_data_no_number(tmp_path):
    core = hall(tmp_path)
    first = core.issue("a")
    assert first["wait"] == {"wait_s": None, "minutes": None, "text": UNKNOWN}
    core.call_next("1")
    core.clock.advance(600)
    core.finish("1")
    assert core.issue("a")["wait"]["text"] == UNKNOWN, "one service is no basis for a number"


def test_the_estimate_follows_window_times_and_places(tmp_path):
    core = hall(tmp_path)
    for _ in range(3):
        core.issue("a")
        serve(core, "1", 600)                     # three services of 10 minutes
    core.issue("a")
    core.call_next("1")                           # the window is busy with it
    core.issue("a")
    third = core.issue("a")                       # one waits before this one
    assert third["waiting_ahead"] == 1
    assert third["wait"]["wait_s"] == round(1.5 * 600) and third["wait"]["text"] == "预计等候约 15 分钟"
    assert core.estimate(ticket=third["id"])["wait_s"] == 900
    core.pause("1")
    assert core.estimate(ticket=third["id"])["text"] == UNKNOWN, "no open window: no estimate"


def test_an_idle_window_calls_at_once(tmp_path):
    core = hall(tmp_path)
    for _ in range(3):
        core.issue("a")
        serve(core, "1", 300)
    assert core.issue("a")["wait"] == {"wait_s": 0, "minutes": 1, "text": "即将叫号"}


def test_a_shared_window_counts_its_other_services_calls(tmp_path):
    """Window 1 prefers 乙 and helps with 甲: the 乙 ticket it calls first is one of 甲's places,
    and each window is on average half-way through its current service."""
    windows = {"1": Window("1", "1号窗口", ["b", "a"]), "2": Window("2", "2号窗口", ["a"])}
    core = hall(tmp_path, windows)
    for _ in range(3):
        core.issue("a")
        serve(core, "2", 600)
    core.issue("b")
    core.issue("a")
    core.call_next("1")                            # both windows busy, window 1 since first
    core.call_next("2")
    core.issue("b")
    a1 = core.issue("a")
    assert (a1["waiting_ahead"], a1["wait"]["wait_s"]) == (1, 300), "乙 at 1, then this one at 2, half-way"
    a2 = core.issue("a")
    assert (a2["waiting_ahead"], a2["wait"]["wait_s"]) == (2, 900), "window 1's second call"


def test_minutes_are_said_as_people_say_them():
    assert [minutes(s) for s in (30, 61, 540, 601, 14 * 60, 23 * 60)] == [1, 2, 9, 10, 15, 25]
    assert words(20) == "即将叫号" and words(16 * 60) == "预计等候约 15 分钟"


def test_the_receipt_says_the_estimate_and_says_nothing_without_one():
    from drivers.printer import templates

    base = {"number": "A004", "service_name": "社保", "waiting_ahead": 2, "issued_at": "2026-11-23T09:00:00+08:00"}
    texts = [p.get("text") for p in templates.ticket(dict(base, wait_text="预计等候约 15 分钟"))]
    assert "您前面还有 2 人等候" in texts and "预计等候约 15 分钟" in texts
    assert not any("预计" in (t or "") for t in templates.ticket(dict(base, wait_text="")))
