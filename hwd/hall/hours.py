"""Opening hours and working days: when tickets may be issued, when the hall opens next (for the
kiosk's message), and follow-up deadlines counted in working days.

A day's hours come from its exception (holiday: no hours; extra working day: hours) or else its
weekday. Issuing opens ``early_minutes`` before each range (the waiting area opens early).
``always_open`` lets tickets be issued at any time; working days still follow the week.
"""

from __future__ import annotations

import datetime as dt

from hwd.hall.config import DAYS, Hours

WEEKDAYS_ZH = "一二三四五六日"


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


class Calendar:
    def __init__(self, hours: Hours):
        self.hours = hours

    def ranges_on(self, day: dt.date) -> list[tuple[int, int]]:
        """Opening ranges of ``day`` in minutes since midnight."""
        key = day.isoformat()
        texts = self.hours.exceptions[key] if key in self.hours.exceptions else self.hours.week[DAYS[day.weekday()]]
        out = []
        for text in texts:
            start, end = text.split("-")
            out.append((_minutes(start), _minutes(end)))
        return sorted(out)

    def is_working_day(self, day: dt.date) -> bool:
        return bool(self.ranges_on(day))

    def can_issue(self, now: dt.datetime) -> bool:
        if self.hours.always_open:
            return True
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

    def closed_message(self, now: dt.datetime) -> str:
        """What a kiosk shows when tickets cannot be issued now (Chinese)."""
        nxt = self.next_opening(now)
        if nxt is None:
            return "当前不在取号时间，请留意大厅公告"
        if nxt.date() == now.date():
            when = f"今天 {nxt:%H:%M}"
        elif nxt.date() == now.date() + dt.timedelta(days=1):
            when = f"明天 {nxt:%H:%M}"
        else:
            when = f"{nxt.month}月{nxt.day}日（周{WEEKDAYS_ZH[nxt.weekday()]}）{nxt:%H:%M}"
        return f"当前不在取号时间，取号开始时间：{when}"

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
