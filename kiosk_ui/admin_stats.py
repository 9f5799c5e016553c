"""``/admin/stats``: the hall manager's statistics for any period, as pictures.

Supervision is 日检查、周考勤、月通报、季考核 (延津县 延“放管服”〔2021〕1号, 四(四)5), so the page has a period picker
(day, week, month, quarter, custom range) and draws, server-side as inline SVG (hwd.web.svg):
arrivals by hour, the waiting-time distribution, each window's load and idle time, and ratings
by level. The numbers and the period's bounds come from hwd (``hall.report``); this page only
draws them. The CSV export of the same period stays one click away.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template, request

from hwd.web.svg import bar_chart, column_chart, stacked_bars

from kiosk_ui.admin import login_required
from kiosk_ui.hwdlink import current

bp = Blueprint("admin_stats", __name__, url_prefix="/admin/stats")

PERIODS = (("day", "日"), ("week", "周"), ("month", "月"), ("quarter", "季度"), ("custom", "自定义"))
DUTY_COLORS = {"办理": "#0b5cad", "空闲": "#8fb3d9", "暂停": "#b36b00"}
LEVEL_COLORS = "#0f6b2f"
DAY_HOURS = (8, 17)   # the hour axis always shows at least 08–17 (a day of opening hours)


def _date(text: str | None) -> str | None:
    try:
        return dt.date.fromisoformat(text).isoformat() if text else None
    except ValueError:
        return None


def _hours(arrivals: list[dict]) -> list[tuple[str, float]]:
    busy = [int(a["hour"]) for a in arrivals if a["count"]]
    first = min(busy + [DAY_HOURS[0]])
    last = max(busy + [DAY_HOURS[1]])
    return [(f"{int(a['hour']):02d}时", a["count"]) for a in arrivals if first <= int(a["hour"]) <= last]


def _duty_unit(windows: list[dict]) -> tuple[str, float]:
    longest = max([w["busy_s"] + w["idle_s"] + w["paused_s"] for w in windows] + [0])
    return ("小时", 3600.0) if longest > 10 * 3600 else ("分钟", 60.0)


def charts(report: dict) -> dict:
    """The four pictures of a ``hall.report`` reply, as SVG markup."""
    unit, per = _duty_unit(report["windows"])
    duty = [(w["name"], [("办理", round(w["busy_s"] / per, 1)), ("空闲", round(w["idle_s"] / per, 1)),
                         ("暂停", round(w["paused_s"] / per, 1))]) for w in report["windows"]]
    ratings = [(r["level"], r["count"]) for r in report["ratings"]] + [("未评价", report["unrated"])]
    days = report.get("days") or []
    return {
        "days": column_chart([(d["day"][5:], d["issued"]) for d in days], title="每日取号量", unit="人",
                             color="#2f6f4f") if len(days) > 1 else None,
        "arrivals": column_chart(_hours(report["arrivals"]), title="各时段取号人数", unit="人"),
        "waits": column_chart([(w["bucket"], w["count"]) for w in report["waits"]], title="等候时间分布（取号到叫号）",
                              unit="人", color="#6a3d9a"),
        "served": bar_chart([(w["name"], w["served"]) for w in report["windows"]], title="各窗口办结量", unit="件"),
        "duty": stacked_bars(duty, DUTY_COLORS, title=f"各窗口办理与空闲时间（{unit}）", unit=unit),
        "ratings": bar_chart(ratings, title="评价等级分布", unit="条", color=LEVEL_COLORS),
    }


@bp.get("")
@login_required
def page():
    link = current()
    today = link.today().isoformat()
    period = request.args.get("period", "day")
    if period not in dict(PERIODS):
        period = "day"
    anchor = _date(request.args.get("date")) or today
    params: dict = {"period": period, "date": anchor}
    if period == "custom":
        params["from"] = _date(request.args.get("from")) or anchor
        params["to"] = _date(request.args.get("to")) or params["from"]
    report = link.call("hall.report", params)
    first, last = dt.date.fromisoformat(report["from"]), dt.date.fromisoformat(report["to"])
    nav = None
    if period != "custom":
        nav = {"prev": (first - dt.timedelta(days=1)).isoformat(), "next": (last + dt.timedelta(days=1)).isoformat()}
    return render_template("admin/stats.html", report=report, charts=charts(report), periods=PERIODS,
                           period=period, anchor=anchor, nav=nav, demo=link.settings.demo or link.emulated())
