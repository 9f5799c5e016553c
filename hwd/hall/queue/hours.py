"""Opening hours and working days: when tickets may be issued, when the hall opens next (for the
kiosk's message, through ``hall.hours``), and follow-up deadlines counted in working days.

A day's hours come, first to last, from its configured exception (no hours: closed), the official
calendar (a public holiday is closed; a 调休 weekend has ``makeup_hours``) for the years the
``chinese-calendar`` package covers, or else its weekday. Issuing opens ``early_minutes`` before
each range (the waiting area opens early). ``always_open`` lets tickets be issued at any time;
working days still follow the calendar.
"""

from __future__ import annotations

import datetime as dt

from hwd import errors, wording
from hwd.hall.config import DAYS, Hours
from hwd.hall.queue.official import HOLIDAY, MAKEUP, OfficialCalendar

WEEKDAYS_ZH = "一二三四五六日"


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


class Calendar:
    def __init__(self, hours: Hours):
        self.hours = hours
        self.official = OfficialCalendar(getattr(hours, "official_calendar", True))

    def day_kind(self, day: dt.date) -> tuple[str, str | None]:
        """Why ``day`` has its hours: ``exception``, ``holiday`` or ``makeup`` (official, with the
        holiday's name) or ``week``."""
        if day.isoformat() in self.hours.exceptions:
            return "exception", None
        kind, name = self.official.kind(day)
        return (kind, name) if kind else ("week", None)

    def texts_on(self, day: dt.date) -> list[str]:
        """Opening ranges of ``day`` as configured ("09:00-12:00")."""
        kind, _ = self.day_kind(day)
        if kind == "exception":
            return list(self.hours.exceptions[day.isoformat()])
        if kind == HOLIDAY:
            return []
        if kind == MAKEUP:
            makeup = getattr(self.hours, "makeup_hours", None)
            return list(makeup if makeup is not None else self.hours.week["mon"])
        return list(self.hours.week[DAYS[day.weekday()]])

    def ranges_on(self, day: dt.date) -> list[tuple[int, int]]:
        """Opening ranges of ``day`` in minutes since midnight."""
        texts = self.texts_on(day)
        out = []
        for text in texts:
            start, end = text.split("-")
            out.append((_minutes(start), _minutes(end)))
        return sorted(out)

    def is_working_day(self, day: dt.date) -> bool:
        return bool(self.ranges_on(day))

    def can_issue(self, now: dt.datetime) -> bool:
        return self.hours.always_open or self.in_hours(now)

    def in_hours(self, now: dt.datetime) -> bool:
        """Are the windows open now by the day's hours (issuing's early minutes included)? Unlike
        ``can_issue``, ``always_open`` does not count: a 24-hour kiosk follows the windows."""
        minute = now.hour * 60 + now.minute
        early = self.hours.early_minutes
        return any(start - early <= minute < end for start, end in self.ranges_on(now.date()))

    def next_opening(self, now: dt.datetime) -> dt.datetime | None:
        """The next moment issuing opens after ``now`` (within 60 days), or None."""
        early = self.hours.early_minutes
        minute = now.hour * 60 + now.minute
        for offset in range(61):
            day = now.date() + dt.timedelta(days=offset)
            for start, _end in self.ranges_on(day):
                opens = max(0, start - early)
                if offset == 0 and opens <= minute:
                    continue
                return dt.datetime.combine(day, dt.time(opens // 60, opens % 60), now.tzinfo)
        return None

    def warnings(self, today: dt.date) -> list[dict]:
        """What the hall manager must do about the calendar (a year the package does not cover)."""
        if not getattr(self.hours, "official_calendar", True):
            return []
        return self.official.warnings(today, self.hours.exceptions)

    def status(self, now: dt.datetime) -> dict:
        """``hall.hours``: whether tickets can be taken now, the next opening, today's hours and
        why, and where the calendar comes from."""
        can = self.can_issue(now)
        nxt = self.next_opening(now)
        kind, name = self.day_kind(now.date())
        return {"now": now.isoformat(timespec="seconds"), "open": can,
                "message": "" if can else self.closed_message(now),
                "opens_at": nxt.isoformat(timespec="seconds") if nxt else None,
                "always_open": self.hours.always_open,
                "today": {"date": now.date().isoformat(), "working": self.is_working_day(now.date()),
                          "hours": self.texts_on(now.date()), "kind": kind, "holiday": name},
                "calendar": {**self.official.describe(), "covered": self.official.covers(now.year),
                             "warnings": self.warnings(now.date())}}

    def closed(self, now: dt.datetime) -> tuple[str, dict]:
        """Why tickets cannot be issued now: the OUTSIDE_HOURS wording (hwd.wording) and its details."""
        nxt = self.next_opening(now)
        if nxt is None:
            return "", {}
        if nxt.date() == now.date():
            when = f"今天 {nxt:%H:%M}"
        elif nxt.date() == now.date() + dt.timedelta(days=1):
            when = f"明天 {nxt:%H:%M}"
        else:
            when = f"{nxt.month}月{nxt.day}日（周{WEEKDAYS_ZH[nxt.weekday()]}）{nxt:%H:%M}"
        kind, name = self.day_kind(now.date())
        if kind == HOLIDAY and name:
            return "holiday", {"holiday": name, "when": when}
        return "opens", {"when": when}

    def closed_message(self, now: dt.datetime) -> str:
        """What a kiosk shows when tickets cannot be issued now."""
        key, details = self.closed(now)
        return wording.say(errors.OUTSIDE_HOURS, key, **details)

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``day``."""
        current, left = day, n
        for _ in range(n * 10 + 400):
            if left <= 0:
                break
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                left -= 1
        return current
