"""The official calendar (issue 12): public holidays closed and 调休 weekends open from the
``chinese-calendar`` package, the config's exceptions winning, the weekday rules with a plain
warning for a year the package does not cover, ``hall.hours`` for the kiosk, and the kiosk page
saying what hwd says.

Dates checked against the State Council's notices as the package carries them (国办发明电〔2025〕
7号 for 2026: 国庆节 10月1日至7日放假, 10月10日（周六）上班).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from hwd.hall.queue import official
from hwd.hall.config import Hours
from hwd.hall.queue.hours import Calendar

pytestmark = pytest.mark.skipif(official.chinese_calendar is None, reason="chinese-calendar is not installed")

WEEK = {d: ["09:00-12:00", "13:00-17:00"] if d in ("mon", "tue", "wed", "thu", "fri") else []
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def cal(**kw) -> Calendar:
    return Calendar(Hours(week=dict(WEEK), **kw))


def at(y, m, d, hh=10, mm=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm)


def test_national_day_is_closed_and_the_makeup_saturday_open():
    c = cal()
    assert not c.can_issue(at(2026, 10, 1)) and c.day_kind(dt.date(2026, 10, 1)) == ("holiday", "国庆节")
    assert "国庆节假期" in c.closed_message(at(2026, 10, 1))
    assert c.next_opening(at(2026, 10, 1)).date() == dt.date(2026, 10, 8)
    assert c.day_kind(dt.date(2026, 10, 10))[0] == "makeup" and c.can_issue(at(2026, 10, 10))
    assert c.texts_on(dt.date(2026, 10, 10)) == WEEK["mon"], "a 调休 weekend keeps a working day's hours"
    assert cal(makeup_hours=["09:00-12:00"]).texts_on(dt.date(2026, 10, 10)) == ["09:00-12:00"]
    assert not c.can_issue(at(2026, 10, 11)), "an ordinary Sunday stays closed"


def test_the_configs_exceptions_win():
    c = cal(exceptions={"2026-10-02": ["09:00-12:00"], "2026-10-10": []})
    assert c.can_issue(at(2026, 10, 2)) and c.day_kind(dt.date(2026, 10, 2))[0] == "exception"
    assert not c.can_issue(at(2026, 10, 10))


def test_official_calendar_off_keeps_the_week():
    c = cal(official_calendar=False)
    assert c.can_issue(at(2026, 10, 1)) and not c.can_issue(at(2026, 10, 10))
    assert c.warnings(dt.date(2031, 1, 1)) == []


def test_a_year_the_package_does_not_know_falls_back_to_the_week_and_says_so():
    c = cal(exceptions={"2031-01-01": []})
    last = max(c.official.years)
    year = last + 1
    assert c.official.covers(last) and not c.official.covers(year)
    monday = next(dt.date(year, 1, d) for d in range(1, 8) if dt.date(year, 1, d).weekday() == 0)
    assert c.day_kind(monday) == ("week", None) and c.can_issue(dt.datetime.combine(monday, dt.time(10)))
    [w] = c.warnings(dt.date(year, 3, 1))
    assert w["year"] == year and str(year) in w["message"] and "weekday rules" in w["message"]
    # from December on, next year too: a hall must load next year's 调休 before 1 January
    dec = c.warnings(dt.date(last, 12, 1))
    assert [x["year"] for x in dec] == [year]
    assert c.warnings(dt.date(last, 11, 30)) == []
    assert c.status(at(last, 12, 1))["calendar"]["warnings"][0]["year"] == year


@settings(max_examples=200, deadline=None)
@given(day=st.dates(dt.date(2004, 1, 1), dt.date(2040, 12, 31)), minute=st.integers(0, 24 * 60 - 1))
def test_issuing_follows_the_days_hours(day, minute):
    c = cal(early_minutes=0)
    now = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
    ranges = c.ranges_on(day)
    assert c.can_issue(now) == any(a <= minute < b for a, b in ranges)
    assert c.is_working_day(day) == bool(ranges)
    if c.official.covers(day.year) and day.weekday() < 5:
        kind, _ = c.day_kind(day)
        assert bool(ranges) == (kind != "holiday")
    nxt = c.next_opening(now)
    assert nxt is None or (nxt > now and c.can_issue(nxt))
