"""Statistics for the daily/weekly/monthly inspections and the CSV export.

Rows per window, service, staff, day or hour over a period of issue times: issued, served,
no-show, expired, mean and p90 waiting time (issued → first call), mean service time (start →
finish), ratings by level, rated, unrated and the rating rate (rated / served). Tickets never
called have no window or clerk, so they count only in the service, day and hour groupings.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from typing import Any

from hwd import errors
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
    tickets = store.all("SELECT t.*, r.score AS score FROM tickets t LEFT JOIN ratings r ON r.ticket = t.id "
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
    for key in sorted(groups):
        items = groups[key]
        waits = [t["first_called_ts"] - t["issued_ts"] for t in items if t["first_called_ts"] is not None]
        service = [t["finished_ts"] - t["started_ts"] for t in items
                   if t["state"] == "done" and t["started_ts"] is not None and t["finished_ts"] is not None]
        served = sum(1 for t in items if t["state"] == "done")
        rated = [t["score"] for t in items if t["score"] is not None]
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
            "rating_rate": round(len(rated) / served, 3) if served else None,
        })
    return rows


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A cell as written to CSV: text that a spreadsheet would run as a formula (= + - @, tab,
    CR first) gets a leading apostrophe (OWASP CSV injection); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: list[dict]) -> str:
    """Rows as CSV text (BOM-free; nested ratings become one column per level). The columns are
    those of every row, in the order first seen: rows need not share their keys."""
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
                out[key] = "" if value is None else value
        columns.update(dict.fromkeys(out))
        flat.append(out)
    buf = io.StringIO()
    # CRLF rows (RFC 4180): the writer then quotes any cell holding a CR or LF, so a lone CR in
    # a reason cannot start a forged row
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\r\n", restval="")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in flat)
    return buf.getvalue()
