"""China's official calendar of public holidays and make-up working days (调休), from the
maintained ``chinese-calendar`` package, which the State Council's yearly notice updates.

The package knows the years it was released with. On an offline kiosk it can be out of date: then
``covers(year)`` is False, the hall falls back to its weekday rules, and ``warnings`` says so in
words a hall manager can act on (``hwctl doctor`` and the admin page show them). From December on
it also warns when next year is not known yet, because a hall must load next year's 调休 before
1 January.
"""

from __future__ import annotations

import datetime as dt
import logging
from importlib import metadata

log = logging.getLogger("hwd.hall.calendar")

try:
    import chinese_calendar
    from chinese_calendar import constants as _constants
except ImportError:  # optional: without it the hall keeps to its configured week
    chinese_calendar = None
    _constants = None

HOLIDAY, MAKEUP = "holiday", "makeup"


def _package_version() -> str | None:
    try:
        return metadata.version("chinese-calendar")
    except metadata.PackageNotFoundError:
        return None


class OfficialCalendar:
    def __init__(self, enabled: bool = True):
        self.enabled = enabled and chinese_calendar is not None
        self.version = _package_version() if self.enabled else None
        years: set[int] = set()
        if self.enabled:
            years = {d.year for d in _constants.holidays} | {d.year for d in _constants.workdays}
        self.years = years

    def covers(self, year: int) -> bool:
        return self.enabled and year in self.years

    def kind(self, day: dt.date) -> tuple[str | None, str | None]:
        """``(HOLIDAY, name)`` for a public holiday (also one falling on a weekend), ``(MAKEUP,
        name)`` for a weekend that is a working day, ``(None, None)`` for an ordinary day or a year
        the package does not cover."""
        if not self.covers(day.year):
            return None, None
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        label = _zh_name(name)
        if on_holiday and name is not None:
            return HOLIDAY, label
        if not on_holiday and day.weekday() >= 5:
            return MAKEUP, label
        return None, None

    def describe(self) -> dict:
        """Where the dates come from, for ``hall.hours``."""
        if not self.enabled:
            return {"source": "config", "package": None, "years": None}
        return {"source": "chinese-calendar", "package": self.version,
                "years": [min(self.years), max(self.years)] if self.years else None}

    def warnings(self, today: dt.date, exceptions: dict) -> list[dict]:
        """What a hall manager must do about the calendar now: one ``{year, missing, exceptions,
        message}`` per year the package does not cover (this year; from December on next year
        too). ``exceptions``: the configured dates, which always win; ``message`` is English for
        logs and ``hwctl doctor``, the admin page words its own Chinese from the fields."""
        if chinese_calendar is None:
            return [{"year": today.year, "missing": "package", "exceptions": len(exceptions),
                     "message": "the chinese-calendar package is not installed: public holidays and 调休 working "
                                "days follow only [[hall.hours.exception]]; pip install chinese-calendar"}]
        if not self.enabled:
            return []
        out = []
        years = [today.year] + ([today.year + 1] if today.month == 12 else [])
        for year in years:
            if self.covers(year):
                continue
            own = sum(1 for d in exceptions if d.startswith(f"{year}-"))
            when = "this year" if year == today.year else "next year"
            out.append({"year": year, "missing": "year", "exceptions": own, "package": self.version,
                        "message": f"the official holiday calendar (chinese-calendar {self.version}) has no data for "
                                   f"{year} ({when}): the weekday rules apply"
                                   f"{f' plus {own} configured exceptions' if own else ''}; update chinese-calendar "
                                   f"or add {year}'s holidays and 调休 days as [[hall.hours.exception]]"})
        return out


# the package names holidays in English; the kiosk shows Chinese
_ZH = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
       "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
       "Anti-Fascist 70th Day": "抗战胜利70周年纪念日"}


def _zh_name(name: object) -> str | None:
    if name is None:
        return None
    english = getattr(name, "value", name)
    return _ZH.get(str(english), str(english))
