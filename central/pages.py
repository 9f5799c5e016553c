"""The supervisors' pages: all halls on one page (``/``) and the supervision tables (``/table``,
日/周/月/季 per hall, window, staff or matter, ``?format=csv`` for the CSV). Charts are inline SVG
drawn here (hwd.web.svg); nothing is loaded from outside, the county's intranet may be offline.

What people read is the hall's words (hwd.report_words): names, not ids (the names each hall
reports, ``halls.names``), waits in minutes, rates as percentages, 过期 as the hall says it; the
CSV the same, UTF-8 with a BOM as spreadsheet programs open it. The all-halls page reloads itself
every ``refresh_s`` (``?refresh=auto``, which does not keep the login alive) and shows a hall that
stopped reporting in red with the time of its last report."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from flask import Blueprint, abort, make_response, render_template, request, url_for

from hwd import csvcells, report_words
from hwd.hall.config.central import HALL_ID_RE
from hwd.web.svg import bar_chart

from central import queries
from central.db import connection
from central.settings import current as settings
from central.auth import AUTO_REFRESH, login_required

bp = Blueprint("pages", __name__)
GROUP_NAMES = {"hall": "大厅", "window": "窗口", "staff": "工作人员", "matter": "事项"}
PERIOD_NAMES = {"day": "日", "week": "周", "month": "月", "quarter": "季"}
COLUMNS = ("issued", "called", "served", "no_show", "expired", "mean_wait_s", "p50_wait_s", "p90_wait_s",
           "mean_service_s", "rated", "bad", "rating_rate")
NAME_KIND = {"window": "window", "staff": "staff", "matter": "service"}  # a table's group → halls.names


def table_args() -> tuple[str, str, dt.date, dt.date, str | None]:
    group = request.args.get("group", "window")
    period = request.args.get("period", "day")
    if group not in queries.GROUPS or period not in queries.PERIODS:
        abort(400)
    hall = request.args.get("hall") or None
    if hall is not None and len(hall) > 64:
        abort(400)
    text = request.args.get("date")
    if text:
        try:
            day = dt.date.fromisoformat(text[:10])
        except ValueError:
            abort(400)
    else:
        day = _latest_day(hall)
    start, end = queries.period_bounds(period, day)
    return group, period, start, end, hall


def _latest_day(hall: str | None) -> dt.date:
    """The day the hall (or the latest of all halls) reports as today; else the county's today."""
    with connection() as conn:
        return queries.latest_day(conn, hall, settings().timezone)


def ago(seconds: float | None) -> str:
    """How long ago, in words: 刚刚, 12 分钟前, 3 小时前, 2 天前."""
    if seconds is None:
        return ""
    if seconds < 60:
        return "刚刚"
    for unit, name in ((86400, "天"), (3600, "小时"), (60, "分钟")):
        if seconds >= unit:
            return f"{int(seconds // unit)} {name}前"
    return ""


@bp.get("/")
@login_required
def index():
    s = settings()
    with connection() as conn:
        halls = queries.halls(conn, s.timezone)
        engines = queries.engines(conn)
    chart = bar_chart([(h["name"] or h["hall_id"], h["queue_now"]) for h in halls], title="当前排队人数",
                      unit="人") if halls else ""
    totals = {k: sum(h[k] or 0 for h in halls) for k in ("issued_today", "waiting_now", "queue_now",
                                                          "windows_open", "windows_idle", "windows_paused",
                                                          "devices_offline", "devices_faulted", "bad_open", "bad_overdue")}
    for h in halls:
        h["p50_min"], h["p90_min"] = report_words.minutes(h["wait_p50_s"]), report_words.minutes(h["wait_p90_s"])
        h["lag_min"] = report_words.minutes(h["outbox_lag_s"])
        h["report_time"] = (h["last_report_at"] or "")[:16].replace("T", " ")
        h["report_ago"] = ago(h["last_report_age_s"])
    now = dt.datetime.now(_zone(s.timezone)).strftime("%H:%M:%S")
    return render_template("halls.html", halls=halls, chart=chart, totals=totals, engines=engines,
                           refresh_s=s.refresh_s, refresh_url=url_for("pages.index", refresh=AUTO_REFRESH), now=now)


def _zone(name: str) -> dt.tzinfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


@bp.get("/table")
@login_required
def table():
    group, period, start, end, hall = table_args()
    with connection() as conn:
        rows = queries.table(conn, group, start, end, hall)
        halls = queries.hall_ids(conn)
        names = queries.hall_names(conn) if group != "hall" else {}
    hall_names = dict(halls)
    for r in rows:
        r["hall_name"] = hall_names.get(r["hall_id"], r["hall_id"])
        if group != "hall":
            key = r[group]
            r["key_name"] = names.get(r["hall_id"], {}).get(NAME_KIND[group], {}).get(str(key), key)
    if request.args.get("format") == "csv":
        return _csv(rows, group, period, start, hall)
    label = (lambda r: r["hall_name"] if group == "hall" else f"{r['hall_name']} {r['key_name']}")
    chart = bar_chart([(label(r), r["issued"]) for r in rows[:30]], title="取号量", unit="") if rows else ""
    headings = [report_words.heading(k) for k in COLUMNS]
    for r in rows:
        r["cells"] = [report_words.shown(k, r[k]) for k in COLUMNS]
    return render_template("table.html", rows=rows, group=group, period=period, start=start, end=end, hall=hall,
                           halls=halls, names=hall_names, headings=headings, groups=GROUP_NAMES,
                           periods=PERIOD_NAMES, chart=chart, date=request.args.get("date", start.isoformat()))


def _csv(rows: list[dict], group: str, period: str, start: dt.date, hall: str | None):
    """The table as people read it (Chinese headings, names, minutes, percentages), as CSV that a
    spreadsheet opens (UTF-8 with a BOM), escaped as the hall's export is (hwd.csvcells: no cell
    a spreadsheet runs)."""
    keys = ["hall_name"] + (["key_name"] if group != "hall" else []) + list(COLUMNS)
    labels = {"hall_name": "大厅", "key_name": GROUP_NAMES[group]}
    table = [{labels.get(k) or report_words.heading(k): r[k] if k in labels else report_words.shown(k, r[k])
              for k in keys} for r in rows]
    headings = [labels.get(k) or report_words.heading(k) for k in keys]
    resp = make_response("\ufeff" + csvcells.to_csv(table, headings))
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    # the hall id comes from the query string: only a well-formed one goes into the header
    name = f"{hall if hall and HALL_ID_RE.fullmatch(hall) else 'county'}-{group}-{period}-{start.isoformat()}.csv"
    resp.headers["Content-Disposition"] = f"attachment; filename={name}"
    return resp
