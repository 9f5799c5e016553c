"""``hall.report``: the numbers behind the admin's charts (issue 14 item 14), checked against a
day worked out by hand, and the supervision periods (日检查、周考勤、月通报、季考核)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from hypothesis import given, strategies as st

from hwd import errors
from hwd.errors import HwdError
from hwd.hall.stats import period_dates
from hall_helpers import HALL, EngineHarness, load_config

STAFFED = HALL + '''
[[hall.staff]]
id = "s01"
name = "王小明"
'''


async def at(h, when: str) -> None:
    """Time passes until ``when`` (clock.advance: timeouts run out on the way, as in a real day)."""
    import datetime as dt

    now = dt.datetime.fromisoformat((await h.call("clock.now"))["now"])
    target = dt.datetime.fromisoformat(f"2026-11-23T{when}:00").replace(tzinfo=now.tzinfo)
    if target > now:
        await h.call("clock.advance", {"seconds": (target - now).total_seconds()})
    else:
        await h.call("clock.set", {"now": target.isoformat()})


async def fixture_day(h) -> None:
    """Monday 2026-11-23 at window 5 (the hand computation is in the test below)."""
    await at(h, "08:00")
    await h.call("hall.login", {"window": "5", "staff": "s01"})
    await at(h, "08:10")
    await h.call("hall.issue_ticket", {"service": "bdc"})           # B001
    await at(h, "08:20")
    await h.call("hall.issue_ticket", {"service": "bdc"})           # B002
    await at(h, "08:30")
    assert (await h.call("hall.call_next", {"window": "5"}))["number"] == "B001"     # waited 20 min
    await at(h, "08:31")
    await h.call("hall.start", {"window": "5"})
    await at(h, "08:41")
    await h.call("hall.finish", {"window": "5"})                    # 600 s of service
    await h.call("hall.rate", {"window": "5", "score": 5})
    await at(h, "08:45")
    assert (await h.call("hall.call_next", {"window": "5"}))["number"] == "B002"     # waited 25 min
    await at(h, "08:46")
    await h.call("hall.start", {"window": "5"})
    await at(h, "08:50")
    await h.call("hall.finish", {"window": "5"})                    # 240 s
    await h.call("hall.rate", {"window": "5", "score": 2, "reason": "等候时间长"})
    await at(h, "09:00")
    await h.call("hall.pause", {"window": "5", "reason": "会议"})
    await at(h, "09:05")
    await h.call("hall.issue_ticket", {"service": "sb"})            # A001
    await at(h, "09:30")
    await h.call("hall.resume", {"window": "5"})
    await at(h, "09:40")
    assert (await h.call("hall.call_next", {"window": "5"}))["number"] == "A001"     # waited 35 min
    await at(h, "09:41")
    await h.call("hall.start", {"window": "5"})
    await at(h, "09:51")
    await h.call("hall.finish", {"window": "5"})                    # 600 s; never rated
    await at(h, "09:52")                                            # rating_timeout_s = 30: unrated
    await at(h, "10:15")
    await h.call("hall.issue_ticket", {"service": "sb"})            # A002, never called
    await at(h, "11:00")
    await h.call("hall.logout", {"window": "5", "staff": "s01"})
    await at(h, "12:00")


def run(tmp_path, body, hall: str = STAFFED):
    async def main():
        h = await EngineHarness(load_config(tmp_path, hall)).start()
        try:
            return await body(h)
        finally:
            await h.stop()
    return asyncio.run(main())


def test_the_report_of_a_hand_computed_day(tmp_path):
    async def body(h):
        await fixture_day(h)
        return await h.call("hall.report", {"period": "day", "date": "2026-11-23"})

    r = run(tmp_path, body)
    assert (r["from"], r["to"], r["issued"]) == ("2026-11-23", "2026-11-23", 4)
    assert {a["hour"]: a["count"] for a in r["arrivals"] if a["count"]} == {"08": 2, "09": 1, "10": 1}
    assert len(r["arrivals"]) == 24
    assert {w["bucket"]: w["count"] for w in r["waits"] if w["count"]} == {"20–30分钟": 2, "30–45分钟": 1}
    assert r["not_called"] == 1
    w5, w6 = r["windows"]
    # on duty 08:00–11:00 less the 09:00–09:30 pause = 9000 s; busy 600 + 240 + 600 = 1440 s
    assert w5 == {"window": "5", "name": "不动产登记 5号窗口", "served": 3, "called": 3, "no_show": 0,
                  "busy_s": 1440.0, "on_duty_s": 9000.0, "idle_s": 7560.0, "paused_s": 1800.0, "basis": "login"}
    assert (w6["window"], w6["served"], w6["on_duty_s"], w6["idle_s"]) == ("6", 0, 0.0, 0.0)
    assert {x["level"]: x["count"] for x in r["ratings"]} == {"非常满意": 1, "满意": 0, "基本满意": 0,
                                                             "不满意": 1, "非常不满意": 0}
    assert r["unrated"] == 1


def test_week_month_and_quarter_gather_other_days(tmp_path):
    async def body(h):
        await fixture_day(h)
        await h.call("clock.set", {"now": "2026-11-25T10:00:00"})      # Wednesday of the same week
        await h.call("hall.issue_ticket", {"service": "bdc"})
        await h.call("clock.set", {"now": "2026-12-01T10:00:00"})      # next month, same quarter
        await h.call("hall.issue_ticket", {"service": "bdc"})
        out = {}
        for period in ("day", "week", "month", "quarter"):
            out[period] = await h.call("hall.report", {"period": period, "date": "2026-11-23"})
        out["custom"] = await h.call("hall.report", {"period": "custom", "from": "2026-11-24", "to": "2026-12-01"})
        with pytest.raises(HwdError) as info:
            await h.call("hall.report", {"period": "custom", "from": "2026-11-24"})
        assert info.value.code == errors.INVALID_PARAMS
        with pytest.raises(HwdError) as info:
            await h.call("hall.report", {"period": "week", "date": "2026-13-01"})
        assert info.value.code == errors.INVALID_PARAMS
        return out

    r = run(tmp_path, body)
    assert {k: v["issued"] for k, v in r.items()} == {"day": 4, "week": 5, "month": 5, "quarter": 6, "custom": 2}
    assert (r["week"]["from"], r["week"]["to"]) == ("2026-11-23", "2026-11-29")
    assert [(d["day"][8:], d["issued"], d["served"]) for d in r["week"]["days"]] == [
        ("23", 4, 3), ("24", 0, 0), ("25", 1, 0), ("26", 0, 0), ("27", 0, 0), ("28", 0, 0), ("29", 0, 0)]
    assert len(r["quarter"]["days"]) == 92 and len(r["day"]["days"]) == 1
    assert (r["month"]["from"], r["month"]["to"]) == ("2026-11-01", "2026-11-30")
    assert (r["quarter"]["from"], r["quarter"]["to"]) == ("2026-10-01", "2026-12-31")


def test_without_logins_duty_is_first_call_to_last_finish(tmp_path):
    async def body(h):
        await h.call("clock.set", {"now": "2026-11-23T09:00:00"})
        await h.call("hall.issue_ticket", {"service": "bdc"})
        await h.call("hall.call_next", {"window": "5"})
        await h.call("clock.set", {"now": "2026-11-23T09:10:00"})
        await h.call("hall.start", {"window": "5"})
        await h.call("clock.set", {"now": "2026-11-23T09:30:00"})
        await h.call("hall.finish", {"window": "5"})
        return await h.call("hall.report", {"date": "2026-11-23"})

    w5 = run(tmp_path, body, HALL)["windows"][0]
    assert (w5["basis"], w5["on_duty_s"], w5["busy_s"], w5["idle_s"]) == ("calls", 1800.0, 1200.0, 600.0)


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)),
       st.sampled_from(["day", "week", "month", "quarter"]))
def test_a_period_holds_its_anchor_and_has_the_right_length(anchor, kind):
    first, last = (dt.date.fromisoformat(x) for x in period_dates(kind, anchor))
    assert first <= anchor <= last
    days = (last - first).days + 1
    assert {"day": days == 1, "week": days == 7 and first.weekday() == 0,
            "month": 28 <= days <= 31 and first.day == 1 and (last + dt.timedelta(days=1)).day == 1,
            "quarter": 90 <= days <= 92 and first.month in (1, 4, 7, 10) and first.day == 1}[kind]


def test_a_call_stamped_before_its_issue_counts_as_no_wait(tmp_path):
    """The hall's clock stepped back (an NTP correction, or the sub-microsecond rounding of a frozen
    clock) between a ticket's issue and its call: the report puts it in the first bucket, it does not fail."""
    async def body(h):
        await at(h, "09:00")
        await h.call("hall.issue_ticket", {"service": "bdc"})
        await h.call("clock.set", {"now": "2026-11-23T08:59:30"})
        assert (await h.call("hall.call_next", {"window": "5"}))["number"] == "B001"
        return (await h.call("hall.report", {"period": "day", "date": "2026-11-23"}),
                await h.call("hall.stats", {"from": "2026-11-23", "to": "2026-11-23", "group_by": "window"}))

    r, stats = run(tmp_path, body, HALL)
    assert {w["bucket"]: w["count"] for w in r["waits"] if w["count"]} == {"0–5分钟": 1}
    assert r["not_called"] == 0
    row = next(s for s in (stats["rows"] if isinstance(stats, dict) else stats) if s["window"] == "5")
    assert row["mean_wait_s"] == 0 and row["p90_wait_s"] == 0


TEN = HALL + '''
[[hall.window]]
id = "10"
name = "综合 10号窗口"
services = ["bdc"]
[[hall.window]]
id = "9"
name = "综合 9号窗口"
services = ["bdc"]
'''


def test_statistics_list_windows_as_people_count_them(tmp_path):
    """Window ids are text: 9 comes before 10 (not "10" < "5" < "6" < "9")."""
    async def body(h):
        for wid, service in (("10", "bdc"), ("9", "bdc"), ("6", "sb"), ("5", "bdc")):
            await h.call("hall.issue_ticket", {"service": service})
            await h.call("hall.call_next", {"window": wid})
        return await h.call("hall.stats", {"from": "2026-11-23", "to": "2026-11-23", "group_by": "window"})

    stats = run(tmp_path, body, TEN)
    rows = stats["rows"] if isinstance(stats, dict) else stats
    assert [r["window"] for r in rows] == ["5", "6", "9", "10"]
