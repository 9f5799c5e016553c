"""The supervisors' pages: all halls on one page (``/``) and the supervision tables (``/table``,
日/周/月/季 per hall, window, staff or matter, ``?format=csv`` for the CSV). Charts are inline SVG
drawn here (hwd.web.svg); nothing is loaded from outside, the county's intranet may be offline."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, make_response, render_template, request

from hwd import csvcells
from hwd.hall.config.central import HALL_ID_RE
from hwd.web.svg import bar_chart

from central import queries
from central.db import connection
from central.settings import current as settings
from central.auth import login_required

bp = Blueprint("pages", __name__)
GROUP_NAMES = {"hall": "大厅", "window": "窗口", "staff": "工作人员", "matter": "事项"}
PERIOD_NAMES = {"day": "日", "week": "周", "month": "月", "quarter": "季"}
COLUMNS = (("issued", "取号"), ("called", "叫号"), ("served", "办结"), ("no_show", "过号"), ("expired", "作废"),
           ("mean_wait_s", "平均等候(秒)"), ("p50_wait_s", "等候P50(秒)"), ("p90_wait_s", "等候P90(秒)"),
           ("mean_service_s", "平均办理(秒)"), ("rated", "评价"), ("bad", "差评"), ("rating_rate", "评价率"))


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


@bp.get("/")
@login_required
def index():
    with connection() as conn:
        halls = queries.halls(conn, settings().timezone)
        engines = queries.engines(conn)
    chart = bar_chart([(h["name"] or h["hall_id"], h["queue_now"]) for h in halls], title="当前排队人数",
                      unit="人") if halls else ""
    totals = {k: sum(h[k] or 0 for h in halls) for k in ("issued_today", "waiting_now", "queue_now",
                                                          "windows_open", "windows_idle", "windows_paused",
                                                          "devices_offline", "devices_faulted", "bad_open", "bad_overdue")}
    return render_template("halls.html", halls=halls, chart=chart, totals=totals, engines=engines)


@bp.get("/table")
@login_required
def table():
    group, period, start, end, hall = table_args()
    with connection() as conn:
        rows = queries.table(conn, group, start, end, hall)
        halls = queries.hall_ids(conn)
    if request.args.get("format") == "csv":
        return _csv(rows, group, period, start, hall)
    names = dict(halls)
    label = (lambda r: r[group] if group == "hall" else f"{names.get(r['hall_id'], r['hall_id'])} {r[group]}")
    chart = bar_chart([(label(r), r["issued"]) for r in rows[:30]], title="取号量", unit="") if rows else ""
    return render_template("table.html", rows=rows, group=group, period=period, start=start, end=end, hall=hall,
                           halls=halls, names=names, columns=COLUMNS, groups=GROUP_NAMES, periods=PERIOD_NAMES,
                           chart=chart, date=request.args.get("date", start.isoformat()))


def _csv(rows: list[dict], group: str, period: str, start: dt.date, hall: str | None):
    """The table as CSV, escaped as the hall's export is (hwd.csvcells: no cell a spreadsheet runs)."""
    keys = ["hall_id", group] + [k for k, _ in COLUMNS] if group != "hall" else ["hall_id"] + [k for k, _ in COLUMNS]
    resp = make_response(csvcells.to_csv(rows, keys))
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    # the hall id comes from the query string: only a well-formed one goes into the header
    name = f"{hall if hall and HALL_ID_RE.fullmatch(hall) else 'county'}-{group}-{period}-{start.isoformat()}.csv"
    resp.headers["Content-Disposition"] = f"attachment; filename={name}"
    return resp
