"""The county's questions as SQL over the tables hwd.county.schema defines.

``halls()``: one row per hall for the all-halls page and ``GET /api/halls`` — "today" is the day
the hall itself last reported (its clock, hwd.county.sink), so a hall on a test clock or a
different time zone is counted on its own day; the counts follow the hall's ``hall.stats``
(issued by issue time; ``waiting_now`` = issued today and not finished: waiting, called or
serving, as hall.stats' ``waiting``; p90 nearest-rank; ratings of today's tickets, not excluded),
and for the fleet the hall's hwd version, the time and age of its last report and its offline
devices (by the names the hall reported, ``halls.names``). Everything about today's tickets comes
from one covering index (hwd.county.schema).

``table()``: the supervision tables (日/周/月/季) per hall, window, staff or matter over a day,
an ISO week, a month or a quarter — read from the daily rollup the sink keeps (hwd.county.rollup),
not from the tickets: a county quarter is ~130,000 rollup rows instead of ~10 M tickets.

Every hall writes its own rows (hwd.county.roles): a compromised hall PC can put anything there —
a name of a megabyte, bidi overrides, stacked combining marks, NaN or infinite times, a day
past year 9999. None of it may break the pages, the API or the exports for the other halls, so
what is read here is made safe once: names and keys cut to ``TEXT_MAX`` characters in SQL and
cleaned (``shown``), numbers that are not finite are None, impossible days are left out.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from typing import Any

from hwd import report_words
from hwd.county import rollup

GROUPS = {"hall": "r.hall_id", "window": "r.window_id", "staff": "r.staff", "matter": "r.service"}  # daily_rollup
PERIODS = ("day", "week", "month", "quarter")
FAULT_STATES = ("offline", "fault")

HALLS_SQL = """
WITH h AS (
    SELECT hall_id, left(name, 256) AS name,
           COALESCE(CASE WHEN today <= DATE '9999-12-31' AND isfinite(today) THEN today END,
                    (now() AT TIME ZONE %(tz)s)::date) AS today, pending, received_at,
           lag_at_report_s, heartbeat_s, last_record_id, left(hwd_version, 256) AS hwd_version,
           CASE WHEN isfinite(received_at) THEN EXTRACT(EPOCH FROM now() - received_at) END AS report_age_s,
           CASE WHEN isfinite(received_at) AND received_at BETWEEN TIMESTAMPTZ '0001-01-02 00:00Z' AND
                TIMESTAMPTZ '9999-12-30 00:00Z' THEN received_at AT TIME ZONE %(tz)s END AS received_local,
           names
    FROM halls),
t AS (
    SELECT t.hall_id, COUNT(*) AS issued,
           COUNT(*) FILTER (WHERE t.state IN ('waiting', 'called', 'serving')) AS waiting,
           COUNT(*) FILTER (WHERE t.state = 'waiting') AS queue,
           COUNT(*) FILTER (WHERE t.state = 'done') AS served,
           COUNT(*) FILTER (WHERE t.state = 'no_show') AS no_show,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY t.first_called_ts - t.issued_ts) AS p50,
           percentile_disc(0.9) WITHIN GROUP (ORDER BY t.first_called_ts - t.issued_ts) AS p90,
           COUNT(t.score) FILTER (WHERE NOT t.rating_excluded) AS rated,
           COUNT(*) FILTER (WHERE t.score <= 2 AND NOT t.rating_excluded) AS bad
    FROM tickets t JOIN h ON h.hall_id = t.hall_id AND t.issued_date = h.today
    GROUP BY t.hall_id),
busy AS (
    SELECT t.hall_id, t.window_id FROM tickets t JOIN h ON h.hall_id = t.hall_id AND t.issued_date = h.today
    WHERE t.state IN ('called', 'serving') AND t.window_id IS NOT NULL GROUP BY 1, 2),
w AS (
    SELECT w.hall_id,
           COUNT(*) FILTER (WHERE w.state = 'open') AS open,
           COUNT(*) FILTER (WHERE w.state = 'open' AND b.window_id IS NULL) AS idle,
           COUNT(*) FILTER (WHERE w.state = 'paused') AS paused,
           COUNT(*) FILTER (WHERE w.state = 'closed') AS closed
    FROM windows w LEFT JOIN busy b ON b.hall_id = w.hall_id AND b.window_id = w.window_id
    GROUP BY w.hall_id),
d AS (
    SELECT hall_id, COUNT(*) FILTER (WHERE state IN ('offline', 'fault')) AS faulted, COUNT(*) AS devices,
           COUNT(*) FILTER (WHERE state = 'offline') AS offline,
           (array_agg(left(device, 256) ORDER BY device) FILTER (WHERE state = 'offline'))[1:%(names)s]
               AS offline_ids
    FROM devices GROUP BY hall_id),
o AS (
    SELECT wo.hall_id, COUNT(*) AS open, COUNT(*) FILTER (WHERE wo.due < h.today) AS overdue
    FROM workorders wo JOIN h ON h.hall_id = wo.hall_id WHERE wo.state <> 'closed' GROUP BY wo.hall_id)
SELECT h.hall_id, h.name, h.today, COALESCE(t.issued, 0), COALESCE(t.waiting, 0), COALESCE(t.queue, 0),
       COALESCE(t.served, 0), COALESCE(t.no_show, 0), t.p50, t.p90,
       COALESCE(w.open, 0), COALESCE(w.idle, 0), COALESCE(w.paused, 0), COALESCE(w.closed, 0),
       COALESCE(d.faulted, 0), COALESCE(d.devices, 0), COALESCE(o.open, 0), COALESCE(o.overdue, 0),
       COALESCE(t.rated, 0), COALESCE(t.bad, 0), h.pending, h.lag_at_report_s, h.report_age_s, h.heartbeat_s,
       h.last_record_id, h.hwd_version, COALESCE(d.offline, 0), d.offline_ids, h.received_local, h.names
FROM h LEFT JOIN t USING (hall_id) LEFT JOIN w USING (hall_id) LEFT JOIN d USING (hall_id)
       LEFT JOIN o USING (hall_id)
ORDER BY h.hall_id
"""

HALL_KEYS = ("hall_id", "name", "today", "issued_today", "waiting_now", "queue_now", "served_today",
             "no_show_today", "wait_p50_s", "wait_p90_s", "windows_open", "windows_idle", "windows_paused",
             "windows_closed", "devices_faulted", "devices", "bad_open", "bad_overdue", "rated_today",
             "bad_today", "outbox_pending", "_lag", "_age", "_hb", "last_record_id", "hwd_version",
             "devices_offline", "devices_offline_ids", "_received", "_names")
OFFLINE_NAMES = 10  # offline devices named per hall (the count says how many in all)
NAME_KINDS = ("window", "service", "staff", "device")
NAMES_PER_KIND = 2000


def outbox_lag_s(lag_at_report: float | None, report_age_s: float | None, heartbeat_s: float | None) -> float | None:
    """How far the hall's records are behind: the backlog age it last reported, plus the time
    since that report once the report is overdue (the link is down, or the hall is off)."""
    if report_age_s is None:
        return None
    grace = 2 * (heartbeat_s or 30.0)
    late = float(report_age_s) - grace if float(report_age_s) > grace else 0.0
    return round(float(lag_at_report or 0.0) + late, 1)


TEXT_MAX = 64  # characters of a hall's name, window, staff or matter shown (pages, API, CSV)
MAX_MARKS = 2  # combining marks kept on one character (more only stack up over the rows around)


def shown(text: str | None) -> str | None:
    """A hall's text as hwd-central shows it: no control or format characters (bidi overrides,
    zero-width ones), line separators as spaces, at most ``MAX_MARKS`` combining marks in a row,
    at most ``TEXT_MAX`` characters (… when cut)."""
    if text is None:
        return None
    out: list[str] = []
    marks = 0
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Zl", "Zp"):
            ch, cat = " ", "Zs"
        elif cat in ("Cc", "Cf", "Cs"):
            continue
        marks = marks + 1 if cat in ("Mn", "Me") else 0
        if marks > MAX_MARKS:
            continue
        out.append(ch)
        if len(out) > TEXT_MAX:
            return "".join(out[:TEXT_MAX - 1]) + "…"
    return "".join(out)


def finite(value: Any) -> float | None:
    """A number read from a hall's rows, or None when it is missing, NaN or infinite."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def names_of(raw: Any) -> dict[str, dict[str, str]]:
    """A hall's ``names`` column made safe: per kind, at most ``NAMES_PER_KIND`` ids with their
    names, both as ``shown``; anything not shaped so is left out."""
    out: dict[str, dict[str, str]] = {kind: {} for kind in NAME_KINDS}
    if not isinstance(raw, dict):
        return out
    for kind in NAME_KINDS:
        table = raw.get(kind)
        if not isinstance(table, dict):
            continue
        for key, name in list(table.items())[:NAMES_PER_KIND]:
            if isinstance(name, str) and name.strip():
                out[kind][shown(str(key)) or ""] = shown(name) or ""
    return out


def hall_names(conn: Any) -> dict[str, dict[str, dict[str, str]]]:
    """Every hall's names (``names_of``), by hall id."""
    rows = conn.execute("SELECT hall_id, names FROM halls").fetchall()  # each bounded (schema.NAMES_MAX_BYTES)
    return {hall_id: names_of(names) for hall_id, names in rows}


def halls(conn: Any, tz: str) -> list[dict]:
    out = []
    for row in conn.execute(HALLS_SQL, {"tz": tz, "names": OFFLINE_NAMES}).fetchall():
        item = dict(zip(HALL_KEYS, row))
        names = names_of(item.pop("_names"))
        received = item.pop("_received")
        item["name"] = shown(item["name"])
        item["hwd_version"] = shown(item["hwd_version"])
        item["devices_offline_ids"] = [shown(d) for d in item["devices_offline_ids"] or []]
        item["devices_offline_names"] = [names["device"].get(d or "", d) for d in item["devices_offline_ids"]]
        item["last_report_at"] = received.isoformat(timespec="seconds") if received is not None else None
        item["today"] = item["today"].isoformat() if item["today"] else None
        for k in ("wait_p50_s", "wait_p90_s"):
            v = finite(item[k])
            item[k] = round(v, 1) if v is not None else None
        lag, age, hb = finite(item.pop("_lag")), finite(item.pop("_age")), finite(item.pop("_hb"))
        item["outbox_lag_s"] = outbox_lag_s(lag, age, hb)
        item["last_report_age_s"] = round(float(age), 1) if age is not None else None
        item["online"] = age is not None and float(age) <= 3 * (hb or 30.0)
        out.append(item)
    return out


def engines(conn: Any) -> dict[str, list[dict]]:
    """Per hall, its engine PCs ([hall.standby], docs/standby.md): the hall reports each as a
    device of kind ``engine`` (``online`` 当前主机 or 备机已同步, ``fault`` behind, ``offline``)."""
    out: dict[str, list[dict]] = {}
    for hall_id, device, state, detail in conn.execute(
            "SELECT hall_id, device, state, detail FROM devices WHERE kind = 'engine' ORDER BY hall_id, device"):
        out.setdefault(hall_id, []).append({"id": device.split(":", 1)[-1], "state": state, "detail": detail or ""})
    return out


def period_bounds(period: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """[first, last] day of the day / ISO week / month / quarter holding ``day``."""
    if period == "day":
        return day, day
    if period == "week":
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=6)
    if period == "month":
        start = day.replace(day=1)
    else:
        start = day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    months = 1 if period == "month" else 3
    y, m = divmod(start.month - 1 + months, 12)
    return start, dt.date(start.year + y, m + 1, 1) - dt.timedelta(days=1)


TABLE_KEYS = ("hall_id", "key", "issued", "called", "served", "no_show", "expired", "wait_sum", "wait_count",
              "service_sum", "service_count", "rated", "bad")


def table(conn: Any, group: str, start: dt.date, end: dt.date, hall_id: str | None = None) -> list[dict]:
    """One row per hall and ``group`` key over [start, end] (issue dates), added up from the
    daily rollup (hwd.county.rollup): counts and means exact, p50/p90 the upper edge of the
    histogram bucket holding the nearest-rank percentile."""
    col = GROUPS[group]
    where = "r.day BETWEEN %(start)s AND %(end)s" + (" AND r.hall_id = %(hall)s" if hall_id else "")
    sums = ("issued", "called", "n_done", "n_no_show", "n_expired", "wait_sum", "wait_count", "service_sum",
            "service_count", "rated", "bad") + rollup.HIST
    sql = f"""
    SELECT r.hall_id, left({col}, 256) AS key, {', '.join(f'SUM(r.{c})' for c in sums)}
    FROM daily_rollup r
    WHERE {where} AND {col} IS NOT NULL
    GROUP BY r.hall_id, {col} ORDER BY r.hall_id, {col}"""
    rows = []
    for row in conn.execute(sql, {"start": start, "end": end, "hall": hall_id}).fetchall():
        n = len(TABLE_KEYS)
        item = {k: (finite(v) if k.endswith("_sum") else int(v) if k not in ("hall_id", "key") else v)
                for k, v in zip(TABLE_KEYS, row[:n])}
        item["key"] = shown(item["key"])
        hist = [int(v) for v in row[n:]]
        wait_sum, wait_count = item.pop("wait_sum"), item.pop("wait_count")
        service_sum, service_count = item.pop("service_sum"), item.pop("service_count")
        item["mean_wait_s"] = round(wait_sum / wait_count, 1) if wait_count and wait_sum is not None else None
        item["p50_wait_s"] = rollup.bucket_upper(rollup.percentile(hist, 0.5))
        item["p90_wait_s"] = rollup.bucket_upper(rollup.percentile(hist, 0.9))
        item["mean_service_s"] = (round(service_sum / service_count, 1) if service_count and service_sum is not None
                                  else None)
        item["rating_rate"] = round(item["rated"] / item["served"], 3) if item["served"] else None
        item[group] = item.pop("key")
        rows.append(item)
    rows.sort(key=lambda r: (r["hall_id"], report_words.natural_key(r[group])))   # window 9 before 10
    return rows


def hall_ids(conn: Any) -> list[tuple[str, str]]:
    return [(r[0], shown(r[1]) or r[0]) for r in conn.execute("SELECT hall_id, left(name, 256) FROM halls "
                                                               "ORDER BY hall_id")]


def latest_day(conn: Any, hall_id: str | None, tz: str) -> dt.date:
    """The day the hall reports as today — county-wide, the latest of the halls' days that are not
    past the county's tomorrow (one hall's clock, or a hall's lie, does not move the county's
    default day into the future) — else the county's today."""
    today = "(now() AT TIME ZONE %(tz)s)::date"
    sane = "isfinite(today) AND today <= DATE '9999-12-31'"
    if hall_id:
        sql = f"SELECT MAX(today) FILTER (WHERE {sane}) FROM halls WHERE hall_id = %(hall)s"
    else:
        sql = (f"SELECT COALESCE(MAX(today) FILTER (WHERE {sane} AND today <= {today} + 1), "
               f"MAX(today) FILTER (WHERE {sane})) FROM halls")
    row = conn.execute(sql, {"tz": tz, "hall": hall_id}).fetchone()
    return row[0] if row and row[0] else conn.execute(f"SELECT {today}", {"tz": tz}).fetchone()[0]
