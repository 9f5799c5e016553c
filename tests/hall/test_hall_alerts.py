"""Tidal-window alerts (潮汐窗口, hwd.hall.queue.alerts) on the engine in-process: the real method table,
event bus, SQLite and the test clock from a fixed Monday. Waits grow with ``clock.advance`` alone;
the alert is raised and cleared with hysteresis, and it names the windows that can serve the
service and why (宁政服发〔2018〕35号, its 自查自纠对照清单 items 5, 7, 8; 周政办字〔2022〕24号 第九条)."""

from __future__ import annotations

import asyncio
import textwrap

import pytest

from hwd import config as configuration
from hwd.errors import ConfigError
from hall_helpers import HALL as HELPER_HALL, EngineHarness, load_config

START = "2026-11-23T09:00:00"  # a Monday, before the hall's day is busy

HALL = '''
[hall]
name = "测试政务服务中心"
[hall.hours]
always_open = true
[hall.tidal]
wait_min = 30
[[hall.service]]
id = "sb"
name = "社保"
prefix = "A"
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
[[hall.service]]
id = "gjj"
name = "公积金"
prefix = "C"
[[hall.window]]
id = "1"
name = "1号窗口"
services = ["sb"]
[[hall.window]]
id = "2"
name = "2号窗口"
services = ["sb"]
[[hall.window]]
id = "3"
name = "3号窗口"
services = ["bdc", "sb"]
[[hall.window]]
id = "4"
name = "4号窗口"
services = ["bdc"]
[[hall.window]]
id = "5"
name = "5号窗口"
services = ["gjj"]
[[hall.window]]
id = "6"
name = "6号窗口"
services = ["sb"]
'''


def run(tmp_path, body, hall: str = HALL):
    async def main():
        h = await EngineHarness(load_config(tmp_path, hall, start=START)).start()
        try:
            await h.call("clock.set", {"now": START})
            return await body(h)
        finally:
            await h.stop()
    return asyncio.run(main())


def alerts(h) -> list[dict]:
    return [e for t, e in h.events if t == "hall.alert"]


async def advance(h, minutes: float) -> None:
    await h.call("clock.advance", {"seconds": minutes * 60})


def test_a_long_wait_raises_on_time_alone_naming_the_windows_and_clears_when_served(tmp_path):
    async def body(h):
        for _ in range(2):
            await h.call("hall.issue_ticket", {"service": "sb"})
        await h.call("hall.issue_ticket", {"service": "gjj"})     # gjj's own wait alert is off
        await h.call("hall.call_next", {"window": "1"})           # 1号 busy with A001
        await h.call("hall.call_next", {"window": "5"})           # 5号 busy with C001 ...
        await h.call("hall.finish", {"window": "5"})              # ... then idle, gjj empty
        await h.call("hall.issue_ticket", {"service": "gjj"})     # gjj waits again: 5号 cannot be spared
        await h.call("hall.pause", {"window": "2", "reason": "午休"})
        await h.call("hall.logout", {"window": "6"})
        await advance(h, 20)
        await h.call("hall.issue_ticket", {"service": "sb"})      # A003 at 09:20
        await advance(h, 9)
        assert alerts(h) == [] and await h.call("hall.alerts") == []
        await advance(h, 1)                                       # A002 has waited 30 minutes
        [raised] = alerts(h)
        assert raised["kind"] == "tidal" and raised["state"] == "raised" and raised["update"] is False
        assert (raised["service"], raised["service_name"]) == ("sb", "社保")
        assert (raised["wait_min"], raised["wait_s"], raised["queue"]) == (30, 1800, 2)
        assert raised["threshold"] == {"wait_min": 30, "queue": 0, "clear_percent": 80}
        assert raised["triggers"] == ["wait"]
        assert [(w["id"], w["why"]) for w in raised["windows"]] == [
            ("3", "idle"), ("2", "paused"), ("6", "closed"), ("4", "other_idle")]
        assert raised["text"] == ("社保 最长等候 30 分钟（2 人），可调配：3号窗口（空闲），2号窗口（暂停：午休），"
                                  "6号窗口（未开放），4号窗口（空闲，可改办社保）")
        [current] = await h.call("hall.alerts")
        assert current["text"] == raised["text"] and current["since"] == "2026-11-23T09:30:00+08:00"
        assert current["level"] == 1 and "update" not in current

        assert raised["level"] == 1
        await advance(h, 5)                                       # only the wait grew: no news ...
        assert len(alerts(h)) == 1
        [current] = await h.call("hall.alerts")                   # ... but hall.alerts is current
        assert current["wait_min"] == 35 and current["text"].startswith("社保 最长等候 35 分钟（2 人）")
        await advance(h, 25)                                      # 60 minutes: twice the threshold
        doubled = alerts(h)[-1]
        assert (doubled["update"], doubled["level"], doubled["wait_min"]) == (True, 2, 60)
        await advance(h, 29)
        assert len(alerts(h)) == 2

        await h.call("hall.resume", {"window": "2"})              # 2号 is idle now: a material change
        update = alerts(h)[-1]
        assert update["state"] == "raised" and update["update"] is True
        assert [(w["id"], w["why"]) for w in update["windows"]] == [
            ("2", "idle"), ("3", "idle"), ("6", "closed"), ("4", "other_idle")]

        await h.call("hall.call_next", {"window": "3"})           # A002 called: A003 waited 69 min
        assert alerts(h)[-1]["state"] == "raised" and len(await h.call("hall.alerts")) == 1
        await h.call("hall.call_next", {"window": "2"})           # A003 called: nobody waits
        cleared = alerts(h)[-1]
        assert cleared["state"] == "cleared" and cleared["service"] == "sb"
        assert (cleared["wait_min"], cleared["queue"]) == (0, 0)
        assert cleared["text"] == "社保 排队已缓解：最长等候 0 分钟（0 人）" and cleared["windows"] == []
        assert cleared["since"] == "2026-11-23T09:30:00+08:00"
        assert await h.call("hall.alerts") == []
    run(tmp_path, body, HALL.replace('prefix = "C"\n', 'prefix = "C"\ntidal_wait_min = 0\n'))


def test_a_wait_alert_clears_only_below_80_percent(tmp_path):
    async def body(h):
        for _ in range(3):                                        # A001 09:00, A002 09:05, A003 09:10
            await h.call("hall.issue_ticket", {"service": "sb"})
            await advance(h, 5)
        await advance(h, 15)
        assert [e["state"] for e in alerts(h)] == ["raised"]
        await h.call("hall.call_next", {"window": "1"})           # A002: 25 minutes, above 24: still raised
        assert [e["state"] for e in alerts(h)] == ["raised", "raised"] and alerts(h)[-1]["update"]
        await h.call("hall.call_next", {"window": "2"})           # A003: 20 minutes: cleared
        assert alerts(h)[-1]["state"] == "cleared"
        assert alerts(h)[-1]["text"] == "社保 排队已缓解：最长等候 20 分钟（1 人）"
        assert await h.call("hall.alerts") == []
    run(tmp_path, body, HALL.replace('prefix = "C"\n', 'prefix = "C"\ntidal_wait_min = 0\n'))


QUEUE_HALL = HALL.replace("wait_min = 30", "wait_min = 0\nqueue = 5")


def test_a_long_queue_raises_and_clears_with_hysteresis(tmp_path):
    def states(h):  # raised and cleared, without the updates (a window called: the list changed)
        return [e["state"] for e in alerts(h) if not e["update"]]

    async def body(h):
        for _ in range(4):
            await h.call("hall.issue_ticket", {"service": "sb"})
        await advance(h, 120)                                     # the wait does not count (wait_min = 0)
        assert alerts(h) == []
        await h.call("hall.issue_ticket", {"service": "sb"})      # 5 waiting
        [raised] = alerts(h)
        assert raised["triggers"] == ["queue"] and raised["queue"] == 5
        assert raised["threshold"] == {"wait_min": 0, "queue": 5, "clear_percent": 80}
        await h.call("hall.call_next", {"window": "1"})           # 4 = 80 % of 5: still raised
        assert states(h) == ["raised"] and len(await h.call("hall.alerts")) == 1
        update = alerts(h)[-1]                                    # 1号 is busy now: no longer named
        assert update["update"] is True and "1" not in [w["id"] for w in update["windows"]]
        await h.call("hall.issue_ticket", {"service": "sb"})      # back to 5: the same alert, no news
        assert len(alerts(h)) == 2
        await h.call("hall.call_next", {"window": "2"})
        assert states(h) == ["raised"]
        await h.call("hall.call_next", {"window": "3"})           # 3 < 4: cleared
        assert states(h) == ["raised", "cleared"] and await h.call("hall.alerts") == []
        await h.call("hall.issue_ticket", {"service": "sb"})      # 4: below the threshold, not raised
        assert states(h) == ["raised", "cleared"]
        await h.call("hall.issue_ticket", {"service": "sb"})      # 5 again: raised again
        assert states(h) == ["raised", "cleared", "raised"]
    run(tmp_path, body, QUEUE_HALL)


def test_a_service_can_have_its_own_thresholds_or_none(tmp_path):
    hall = HALL.replace('prefix = "A"\n', 'prefix = "A"\ntidal_queue = 2\ntidal_wait_min = 0\n').replace(
        'prefix = "B"\n', 'prefix = "B"\ntidal_wait_min = 0\n')

    async def body(h):
        await h.call("hall.issue_ticket", {"service": "bdc"})
        await h.call("hall.issue_ticket", {"service": "gjj"})
        await h.call("hall.issue_ticket", {"service": "sb"})
        await advance(h, 29)
        assert alerts(h) == []
        await h.call("hall.issue_ticket", {"service": "sb"})      # sb: its own queue threshold of 2
        assert [(e["service"], e["triggers"]) for e in alerts(h)] == [("sb", ["queue"])]
        await advance(h, 90)                                      # gjj: the hall's 30 minutes; bdc: off
        assert [(e["service"], e["triggers"]) for e in alerts(h)] == [("sb", ["queue"]), ("gjj", ["wait"])]
        assert [a["service"] for a in await h.call("hall.alerts")] == ["sb", "gjj"]
        [gjj] = [a for a in await h.call("hall.alerts") if a["service"] == "gjj"]
        # 5号 is open and idle for gjj; 4号 is idle, but bdc (its service) has a ticket waiting
        assert [(w["id"], w["why"]) for w in gjj["windows"]] == [("5", "idle")]
    run(tmp_path, body, hall)


def test_without_the_section_a_30_minute_wait_raises(tmp_path):
    async def body(h):
        for window in ("5", "6"):                                 # both of sb's windows busy
            await h.call("hall.issue_ticket", {"service": "sb"})
            await h.call("hall.call_next", {"window": window})
        await h.call("hall.issue_ticket", {"service": "sb"})
        await advance(h, 29)
        assert alerts(h) == []
        await advance(h, 1)
        [raised] = alerts(h)
        assert raised["threshold"]["wait_min"] == 30 and raised["wait_min"] == 30 and raised["windows"] == []
        assert raised["text"] == "社保 最长等候 30 分钟（1 人），暂无可调配窗口，可增设临时窗口"
    run(tmp_path, body, HELPER_HALL)


def test_other_windows_off_names_only_the_service_s_own(tmp_path):
    async def body(h):
        await h.call("hall.issue_ticket", {"service": "sb"})
        await advance(h, 30)
        [raised] = alerts(h)
        assert {w["why"] for w in raised["windows"]} == {"idle"}
        assert [w["id"] for w in raised["windows"]] == ["1", "2", "3", "6"]
    run(tmp_path, body, HALL.replace("wait_min = 30", "wait_min = 30\nother_windows = false"))


def test_a_jump_of_the_clock_is_measured_on_the_hall_s_clock(tmp_path):
    async def body(h):
        await h.call("hall.issue_ticket", {"service": "sb"})
        await h.call("clock.set", {"now": "2026-11-23T09:45:00"})
        [raised] = alerts(h)
        assert raised["wait_min"] == 45
    run(tmp_path, body)


def test_bad_tidal_config_lists_every_problem_with_its_line(tmp_path):
    text = textwrap.dedent(f'''\
        [daemon]
        state_dir = "{tmp_path}"
        [hall]
        [hall.tidal]
        wait_min = -5
        queue = "many"
        clear_percent = 150
        colour = "red"
        [[hall.service]]
        id = "sb"
        name = "社保"
        prefix = "A"
        tidal_wait_min = 5000
        ''')
    with pytest.raises(ConfigError) as info:
        configuration.loads(text, tmp_path / "hwd.toml")
    problems = "\n".join(info.value.problems)
    for line, key in ((5, "hall.tidal.wait_min"), (6, "hall.tidal.queue"), (7, "hall.tidal.clear_percent"),
                      (8, "hall.tidal.colour"), (13, "hall.service[0].tidal_wait_min")):
        assert f"hwd.toml:{line} {key}:" in problems, problems
