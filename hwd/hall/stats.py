"""Statistics for the daily/weekly/monthly inspections and the CSV export.

Rows per window, service, staff, day or hour over a period of issue times: issued, served,
no-show, expired, mean and p90 waiting time (issued → first call), mean service time (start →
finish), ratings by level, rated, unrated and the rating rate (rated / served). Ratings excluded
after 申诉复核 count only in ``excluded``, not in the levels, ``rated`` or ``bad``. Tickets never
called have no window or clerk, so they count only in the service, day and hour groupings.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from hwd import csvcells, errors, report_words
from hwd.clock import parse_time
from hwd.errors import HwdError
from hwd.hall import views

GROUPS = ("window", "service", "staff", "day", "hour")
YEARS = range(1970, 9999)  # dates a hall can have data on; others are refused as bad params


def check_year(when: dt.date, text: str) -> None:
    if when.year not in YEARS:
        raise HwdError(f"date out of range: {text!r} (years {YEARS[0]}–{YEARS[-1]})", errors.INVALID_PARAMS)


def period(start: str | None, end: str | None, tz: dt.tzinfo, today: dt.date) -> tuple[float, float]:
    """``from``/``to`` as dates (inclusive) or ISO date-times; both default to today."""
    def bound(text: str | None, is_end: bool) -> float:
        if text is None:
            day = today
        elif len(text) == 10:
            try:
                day = dt.date.fromisoformat(text)
            except ValueError:
                raise HwdError(f"not a date: {text!r} (YYYY-MM-DD)", errors.INVALID_PARAMS) from None
            check_year(day, text)
        else:
            when = parse_time(text, tz)
            check_year(when, text)
            return when.timestamp()
        if is_end:
            day += dt.timedelta(days=1)
        return dt.datetime.combine(day, dt.time(), tz).timestamp()

    def checked(text: str | None, is_end: bool) -> float:
        try:
            return bound(text, is_end)
        except (OverflowError, ValueError, OSError):  # year 9999 + 1 day, year 1 before the epoch in a zone
            raise HwdError(f"date out of range: {text!r}", errors.INVALID_PARAMS) from None
    return checked(start, False), checked(end, True)


def p90(values: list[float]) -> float | None:
    """Nearest-rank 90th percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def compute(store: Any, start: float, end: float, group_by: str, tz: dt.tzinfo) -> list[dict]:
    if group_by not in GROUPS:
        raise HwdError(f"group_by is one of {', '.join(GROUPS)}", errors.INVALID_PARAMS)
    tickets = store.all("SELECT t.*, r.score AS score, r.excluded AS excluded FROM tickets t LEFT JOIN ratings r ON r.ticket = t.id "
                        "WHERE t.issued_ts >= ? AND t.issued_ts < ? ORDER BY t.issued_ts", (start, end))
    groups: dict[str, list[dict]] = {}
    for t in tickets:
        if group_by == "hour":
            key = f"{dt.datetime.fromtimestamp(t['issued_ts'], tz).hour:02d}"
        else:
            key = t[group_by]
        if key is None:
            continue
        groups.setdefault(key, []).append(t)
    rows = []
    for key in sorted(groups, key=report_words.natural_key):
        items = groups[key]
        waits = [_wait_s(t) for t in items if t["first_called_ts"] is not None]
        service = [t["finished_ts"] - t["started_ts"] for t in items
                   if t["state"] == "done" and t["started_ts"] is not None and t["finished_ts"] is not None]
        served = sum(1 for t in items if t["state"] == "done")
        rated = [t["score"] for t in items if t["score"] is not None and not t["excluded"]]
        wait_p90 = p90(waits)
        rows.append({
            group_by: key, "issued": len(items),
            "called": sum(1 for t in items if t["first_called_ts"] is not None),
            "served": served, "no_show": sum(1 for t in items if t["state"] == "no_show"),
            "expired": sum(1 for t in items if t["state"] == "expired"),
            "waiting": sum(1 for t in items if t["state"] in ("waiting", "called", "serving")),
            "mean_wait_s": _mean(waits), "p90_wait_s": round(wait_p90, 1) if wait_p90 is not None else None,
            "mean_service_s": _mean(service),
            "ratings": {views.LEVELS[s]: sum(1 for r in rated if r == s) for s in sorted(views.LEVELS, reverse=True)},
            "rated": len(rated), "unrated": sum(1 for t in items if t["rating_state"] == "unrated"),
            "bad": sum(1 for r in rated if r <= 2),
            "excluded": sum(1 for t in items if t["excluded"]),
            "rating_rate": round(len(rated) / served, 3) if served else None,
        })
    return rows


def to_csv(rows: list[dict], names: dict | None = None) -> str:
    """Rows as CSV text (BOM-free; nested ratings become one column per level), escaped by
    hwd.csvcells like every export. The columns are those of every row, in the order first seen:
    rows need not share their keys. With ``names`` (window, service and staff names by id) the
    CSV is for people: Chinese headings, names, minutes, percentages and states in words, as
    hwd.report_words shows them."""
    if not rows:
        return ""
    flat = []
    columns: dict[str, None] = {}
    for row in rows:
        out = {}
        for key, value in row.items():
            if isinstance(value, dict):
                out.update(value)
            else:
                out[key] = value
        columns.update(dict.fromkeys(out))
        flat.append(out)
    if names is not None:
        headings, people = report_words.for_people(flat, list(columns), names)
        return csvcells.to_csv(people, headings)
    return csvcells.to_csv(flat, list(columns))


# -- the manager's report: pictures of a period (docs/ui.md, /admin/stats) ----------------------------

PERIODS = ("day", "week", "month", "quarter", "custom")
WAIT_BUCKETS_MIN = (0, 5, 10, 15, 20, 30, 45, 60)   # lower bounds of the waiting-time buckets, minutes
DUTY_ACTIONS = ("login", "logout", "pause", "resume")
MAX_DAYS = 400   # per-day rows of a report (a custom period longer than this is cut)


def period_dates(kind: str, anchor: dt.date, start: str | None = None, end: str | None = None) -> tuple[str, str]:
    """The first and last date (inclusive) of the day, week (Monday–Sunday), month or quarter
    holding ``anchor`` — the supervision rhythm 日检查、周考勤、月通报、季考核 — or ``start``..``end``
    for ``custom``."""
    if kind == "day":
        first = last = anchor
    elif kind == "week":
        first = anchor - dt.timedelta(days=anchor.weekday())
        last = first + dt.timedelta(days=6)
    elif kind in ("month", "quarter"):
        month = anchor.month if kind == "month" else 3 * ((anchor.month - 1) // 3) + 1
        first = anchor.replace(month=month, day=1)
        after = month + (1 if kind == "month" else 3)
        last = (dt.date(first.year + (after > 12), (after - 1) % 12 + 1, 1)) - dt.timedelta(days=1)
    elif kind == "custom":
        if not start or not end:
            raise HwdError("a custom period needs from and to (YYYY-MM-DD)", errors.INVALID_PARAMS)
        return start, end
    else:
        raise HwdError(f"period is one of {', '.join(PERIODS)}", errors.INVALID_PARAMS)
    return first.isoformat(), last.isoformat()


def _wait_s(ticket: Any) -> float:
    """Seconds from issue to first call; never below 0 (the clock may have stepped back between them,
    and a frozen clock's datetime rounds to the microsecond)."""
    return max(0.0, ticket["first_called_ts"] - ticket["issued_ts"])


def _bucket_label(i: int) -> str:
    low = WAIT_BUCKETS_MIN[i]
    if i + 1 == len(WAIT_BUCKETS_MIN):
        return f"{low}分钟以上"
    return f"{low}–{WAIT_BUCKETS_MIN[i + 1]}分钟"


def _duty(store: Any, wid: str, start: float, end: float) -> tuple[float, float]:
    """(on duty, paused) seconds of a window in [start, end) from its login/pause log."""
    def step(state: str, action: str) -> str:
        if action == "login":
            return "open" if state == "closed" else state
        return {"logout": "closed", "pause": "paused", "resume": "open"}[action]

    marks = ",".join("?" * len(DUTY_ACTIONS))
    before = store.one(f"SELECT action FROM actions WHERE window = ? AND action IN ({marks}) AND ts < ? "
                       "ORDER BY ts DESC, id DESC LIMIT 1", (wid, *DUTY_ACTIONS, start))
    state = "closed" if before is None else step("closed", before["action"])
    at, on, paused = start, 0.0, 0.0
    rows = store.all(f"SELECT ts, action FROM actions WHERE window = ? AND action IN ({marks}) AND ts >= ? "
                     "AND ts < ? ORDER BY ts, id", (wid, *DUTY_ACTIONS, start, end))
    for row in rows + [{"ts": end, "action": None}]:
        span = row["ts"] - at
        if state == "open":
            on += span
        elif state == "paused":
            paused += span
        at = row["ts"]
        if row["action"]:
            state = step(state, row["action"])
    return on, paused


def report(store: Any, start: float, end: float, tz: dt.tzinfo, windows: dict, logins: bool,
           now: float) -> dict:
    """What the admin's charts draw for tickets issued in [start, end):

    - ``arrivals``: tickets issued per local hour (00–23);
    - ``waits``: first-call waiting times in buckets (``WAIT_BUCKETS_MIN``) and ``not_called``;
    - ``windows``: per window, served and no-show counts, ``busy_s`` (start → finish of its
      tickets), ``on_duty_s`` and ``idle_s`` = on duty − busy (never below 0), ``paused_s``.
      On duty is logged-in and not paused (``basis: login``) in a hall with staff logins, else
      each day's first call → last finish at the window (``basis: calls``);
    - ``ratings``: ratings per level (非常满意 … 非常不满意) and ``unrated``;
    - ``days``: issued and served per business day of the period (for week/month/quarter).
    """
    tickets = store.all("SELECT t.*, r.score AS score FROM tickets t LEFT JOIN ratings r ON r.ticket = t.id "
                        "WHERE t.issued_ts >= ? AND t.issued_ts < ? ORDER BY t.issued_ts", (start, end))
    arrivals = [0] * 24
    buckets = [0] * len(WAIT_BUCKETS_MIN)
    not_called = 0
    for t in tickets:
        arrivals[dt.datetime.fromtimestamp(t["issued_ts"], tz).hour] += 1
        if t["first_called_ts"] is None:
            not_called += 1
            continue
        minutes = _wait_s(t) / 60
        buckets[max(i for i, low in enumerate(WAIT_BUCKETS_MIN) if minutes >= low)] += 1
    per_window = []
    stop = min(end, now)
    for wid, window in windows.items():
        mine = [t for t in tickets if t["window"] == wid]
        done = [t for t in mine if t["state"] == "done" and t["started_ts"] is not None and t["finished_ts"] is not None]
        busy = sum(t["finished_ts"] - t["started_ts"] for t in done)
        if logins:
            on_duty, paused = _duty(store, wid, start, stop) if stop > start else (0.0, 0.0)
        else:
            days: dict[str, list[float]] = {}
            for t in mine:
                if t["first_called_ts"] is None:
                    continue
                span = days.setdefault(t["day"], [t["first_called_ts"], t["first_called_ts"]])
                span[0] = min(span[0], t["first_called_ts"])
                span[1] = max(span[1], t["finished_ts"] or t["called_ts"] or t["first_called_ts"])
            on_duty, paused = sum(b - a for a, b in days.values()), 0.0
        per_window.append({"window": wid, "name": window.name, "served": len(done),
                           "called": sum(1 for t in mine if t["first_called_ts"] is not None),
                           "no_show": sum(1 for t in mine if t["state"] == "no_show"),
                           "busy_s": round(busy, 1), "on_duty_s": round(on_duty, 1),
                           "idle_s": round(max(0.0, on_duty - busy), 1), "paused_s": round(paused, 1),
                           "basis": "login" if logins else "calls"})
    scores = [t["score"] for t in tickets if t["score"] is not None]
    per_day: dict[str, list[int]] = {}
    day = dt.datetime.fromtimestamp(start, tz).date()
    while dt.datetime.combine(day, dt.time(), tz).timestamp() < end and len(per_day) < MAX_DAYS:
        per_day[day.isoformat()] = [0, 0]
        day += dt.timedelta(days=1)
    for t in tickets:
        if t["day"] in per_day:
            per_day[t["day"]][0] += 1
            per_day[t["day"]][1] += t["state"] == "done"
    return {
        "days": [{"day": d, "issued": n, "served": s} for d, (n, s) in per_day.items()],
        "issued": len(tickets),
        "arrivals": [{"hour": f"{h:02d}", "count": n} for h, n in enumerate(arrivals)],
        "waits": [{"bucket": _bucket_label(i), "from_min": low, "count": buckets[i]}
                  for i, low in enumerate(WAIT_BUCKETS_MIN)],
        "not_called": not_called,
        "windows": per_window,
        "ratings": [{"score": s, "level": views.LEVELS[s], "count": scores.count(s)}
                    for s in sorted(views.LEVELS, reverse=True)],
        "unrated": sum(1 for t in tickets if t["rating_state"] == "unrated"),
    }
