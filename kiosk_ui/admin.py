"""``/admin``: the hall manager's pages, behind a password.

The password is checked against a werkzeug hash (PBKDF2-SHA256, ``hwd-ui --hash-password``) from
``[ui] admin_password_hash`` or ``admin_password_file``, behind the login policy (hwd.web.throttle:
``[ui] login_failures`` per address, then ``login_lock_s``); the login is a server-side session
(hwd.web.sessions: ``[ui] session_idle_s``, ``session_hours``). Session cookies are HttpOnly and
SameSite=Strict; every form carries the session's CSRF token. Shows device health, today's
statistics (tables and inline-SVG charts), the tidal-window alerts (潮汐窗口, live), bad ratings
with their follow-up, CSV export, and in
demo mode the virtual hall: emulated window screens, printed receipts, announcements.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import zoneinfo
from pathlib import Path
from typing import Any, Callable

from flask import (Blueprint, Response, abort, jsonify, make_response, redirect, render_template, request,
                   send_from_directory, session, url_for)
from werkzeug.security import check_password_hash

from hwd import errors, report_words, wording
from hwd.hall import views
from hwd.hall.devices.names import device_names, kind_name
from hwd.web import sessions as web_sessions
from hwd.web.redirects import safe_target
from hwd.web.svg import bar_chart

from kiosk_ui import admin_roles, admin_standby, sessions, words
from kiosk_ui.hwdlink import HallLink, message_for, current
from kiosk_ui.settings import LEGACY_ADMIN

bp = Blueprint("admin", __name__, url_prefix="/admin")

GROUPS = {"window": "窗口", "service": "事项", "staff": "工作人员", "day": "日期"}
CHART_KEYS = ("done", "served", "finished", "count", "issued")
# the admin pages, in the order of the navigation every one of them shows (admin/base.html)
ADMIN_PAGES = (("admin.dashboard", "概览", "nav-dashboard"), ("admin_stats.page", "统计图表", "nav-stats"),
               ("admin_ratings.page", "好差评工单", "nav-ratings"), ("admin_config.index", "大厅设置", "nav-config"),
               ("admin.hall", "虚拟大厅", "nav-hall"))


@bp.app_context_processor
def _admin_account() -> dict:
    """Who is logged in at /admin (for the navigation), without counting as a use of the session."""
    return {"admin_account": admin_roles.account(touch=False)}


@bp.after_request
def _no_store(resp: Any) -> Any:
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.app_template_global("admin_pages")
def admin_pages() -> list[tuple[str, str, str]]:
    """The navigation's pages: the virtual hall only where there is something emulated to see."""
    return [p for p in ADMIN_PAGES if p[0] != "admin.hall" or _demo(current())]


def login_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if admin_roles.account() is None and not (getattr(view, "demo_open", False) and current().settings.demo):
            return redirect(url_for("admin.login", next=request.path))
        return view(*args, **kwargs)
    return wrapped


@bp.route("/login", methods=["GET", "POST"])
def login():
    """One form for every admin account: 账号 (empty: ``admin``, the ``[ui] admin_password_hash``
    login) and 密码, behind the login policy per account and address."""
    error = None
    accounts = current().settings.accounts()
    status, wait = 200, 0.0
    if request.method == "POST":
        name = (request.form.get("account", "").strip() or LEGACY_ADMIN)[:64]
        password = request.form.get("password", "")[:256]
        found = accounts.get(name)

        def verify() -> bool:
            stored = current().settings.account_hash(found) if found and not found.disabled else None
            return bool(stored) and check_password_hash(stored, password)

        what = "admin password" if name == LEGACY_ADMIN else f"admin password of {name}"
        tried = sessions.attempt("admin", name, verify, what)
        if tried.ok:
            session.clear()
            web_sessions.start("admin")
            session[admin_roles.SESSION_KEY] = found.id
            return redirect(safe_target(request.args.get("next"), url_for("admin.dashboard"), "/admin"))
        if tried.locked:
            wait = tried.wait_s
            error, status = wording.say(errors.LOGIN_LOCKED, "seconds", seconds=math.ceil(wait)), 429
        else:
            error, status = ("账号或密码不正确" if accounts else "未设置管理密码（[ui] admin_password_hash）"), 403
    resp = make_response(render_template("admin/login.html", error=error, configured=bool(accounts),
                                         named=any(a != LEGACY_ADMIN for a in accounts)), status)
    if status == 429:
        resp.headers["Retry-After"] = str(math.ceil(wait))
    return resp


@bp.post("/logout")
def logout():
    web_sessions.end("admin")
    session.clear()  # the account id too
    return redirect(url_for("admin.login"))


def _devices(link: HallLink) -> list[dict]:
    """devices.list as the manager reads it: each device's name (not its id), its state and the
    reason in Chinese, the technical detail kept behind the words for the engineer."""
    rows = link.try_call("devices.list", default=[]) or []
    names = device_names(link.config.devices, link.config.hall)
    options = {dev.id: dev.options for dev in link.config.devices}
    out = []
    for d in rows:
        row = dict(d)
        row["name"] = names.get(str(d.get("id")), str(d.get("id")))
        row["state_name"] = words.DEVICE_STATES.get(d.get("state"), d.get("state"))
        row["cause"] = words.device_cause(d)
        row["technical"] = str(d.get("detail") or "") if d.get("detail") not in words.DEVICE_DETAILS else ""
        row["kind_name"] = kind_name(d.get("kind"), options.get(str(d.get("id"))))
        if d.get("kind") == "printer" and "paper" not in d and d.get("state") in ("online", "fault"):
            status = link.try_call("printer.status", {"device": d["id"]}, default=None)
            if isinstance(status, dict):
                row["paper"] = status.get("paper")
        row["paper_name"] = words.PAPER.get(row.get("paper"), row.get("paper") or "")
        out.append(row)
    return out


def _stats(link: HallLink, group_by: str, day_from: str, day_to: str) -> list[dict]:
    """hall.stats rows, with nested counts (ratings per level) flattened into columns."""
    rows = link.try_call("hall.stats", {"from": day_from, "to": day_to, "group_by": group_by}, default=[])
    if isinstance(rows, dict):
        rows = rows.get("rows", [])
    out = []
    for row in rows or []:
        if not isinstance(row, dict):
            continue
        flat: dict = {}
        for key, value in row.items():
            if isinstance(value, dict):
                flat.update(value)
            elif isinstance(value, float):
                flat[key] = round(value, 1)
            else:
                flat[key] = value
        out.append(flat)
    return out


def _names(link: HallLink) -> dict[str, dict[str, str]]:
    """The names of the hall's services, windows and staff by id."""
    return {"service": {str(s.get("id")): s.get("name") for s in link.config_services()},
            "window": {str(w.get("id")): w.get("name") for w in link.windows()},
            "staff": {str(p.get("id")): p.get("name") for p in link.hall_raw.get("staff", []) or []
                      if isinstance(p, dict)}}


def _named(rows: list[dict], link: HallLink) -> list[dict]:
    """Rows with service, window and staff ids replaced by their names (``bdc`` → 不动产登记)."""
    names = _names(link)
    out = []
    for row in rows:
        row = dict(row)
        for key, table in names.items():
            if row.get(key) is not None and str(row[key]) in table:
                row[key] = table[str(row[key])]
        out.append(row)
    return out


def _columns(rows: list[dict]) -> list[str]:
    """The columns of the day's tables: those the reports name, and the count of each rating level."""
    levels = set(views.LEVELS.values())
    cols: list[str] = []
    for row in rows:
        for key in row:
            if key not in cols and (key in report_words.COLUMNS or key in levels) \
                    and not isinstance(row[key], (dict, list)):
                cols.append(key)
    return cols


def _chart(rows: list[dict], group: str, title: str) -> str:
    key = next((k for k in CHART_KEYS if any(k in r for r in rows)), None)
    if key is None:
        return str(bar_chart([], title=title))
    names = _names(current()).get(group, {})
    data = [(str(names.get(str(r.get(group)), r.get(group)) or ""), float(r.get(key) or 0)) for r in rows]
    return str(bar_chart(data, title=f"{title}（{report_words.heading(key)}）"))


def _ratings(link: HallLink) -> list[dict]:
    """Bad ratings of the last 60 days: those whose work order is still open first."""
    today = link.today()
    since = (today - dt.timedelta(days=60)).isoformat()
    rows = link.try_call("hall.ratings", {"bad": True, "from": since, "to": today.isoformat(), "limit": 200},
                         default=None)
    if isinstance(rows, dict):
        rows = rows.get("rows") or rows.get("ratings") or []
    rows = [r for r in rows or [] if isinstance(r, dict) and r.get("bad", True)]
    return sorted(rows, key=lambda r: (r.get("workorder") or {}).get("state") == "closed")


def _time_notices(link: HallLink) -> list[str]:
    """What the hall manager must know about time: a step back of the wall clock (daemon.clock)
    and a year the official holiday calendar does not cover (both from hwd)."""
    out = []
    status = link.try_call("clock.status", default=None)
    back = status.get("last_back") if isinstance(status, dict) else None
    if isinstance(back, dict):
        out.append(f"系统时钟曾回拨：从 {back.get('from', '')} 回到 {back.get('to', '')}。营业日以时钟为准，"
                   "此前营业日未办理的号已过期。请检查网络校时（NTP）和主板电池。")
    hours = link.try_call("hall.hours", default=None)
    calendar = hours.get("calendar") if isinstance(hours, dict) else None
    for w in (calendar or {}).get("warnings") or []:
        if not isinstance(w, dict):
            continue
        if w.get("missing") == "package":
            out.append("未安装法定节假日日历（chinese-calendar）：节假日和调休只按配置的例外日期办理。")
            continue
        year = w.get("year")
        own = f"（配置中已有 {w['exceptions']} 个{year}年例外日期）" if w.get("exceptions") else ""
        out.append(f"法定节假日日历（chinese-calendar {w.get('package') or ''}）没有{year}年的数据：{year}年暂按每周"
                   f"工作时间办理{own}。请在{year}年1月1日前更新 chinese-calendar，或在配置中添加{year}年的"
                   "节假日和调休日（[[hall.hours.exception]]）。")
    return out


def _alerts(link: HallLink) -> list[dict]:
    """The raised tidal-window alerts (hall.alerts), each with its words and since when."""
    rows = link.try_call("hall.alerts", default=None)
    return [{"service": r.get("service"), "text": r.get("text") or "", "since": _clock_iso(r.get("since"))[:5],
             "triggers": r.get("triggers") or []}
            for r in rows or [] if isinstance(r, dict)]


@bp.get("/alerts")
@login_required
def alerts():
    """The banner's data: the page fetches it when hall.alert arrives and while one is raised."""
    return jsonify({"ok": True, "alerts": _alerts(current())})


@bp.get("")
@login_required
def dashboard():
    link = current()
    up = link.up()  # one short probe, not a timeout per table; and no 暂无数据 as if data were lost
    today = link.today(ask=up).isoformat()
    if not up:
        resp = make_response(render_template("admin/dashboard.html", down=True, devices=[], tables=[], today=today,
                                             ratings=[], demo=_demo(link)), 503)
        resp.headers["Retry-After"] = "5"
        return resp
    tables = []
    for group in ("window", "service", "staff"):
        rows = _stats(link, group, today, today)
        headings, shown = report_words.for_people(rows, _columns(rows), _names(link))
        tables.append({"group": group, "title": GROUPS[group], "headings": headings, "rows": shown,
                       "chart": _chart(rows, group, f"今日{GROUPS[group]}统计")})
    return render_template("admin/dashboard.html", down=False, devices=_devices(link), tables=tables, today=today,
                           ratings=_named(_ratings(link), link), demo=_demo(link),
                           wo_states=report_words.WORKORDER_STATES,
                           time_notices=_time_notices(link), alerts=_alerts(link),
                           standby=admin_standby.view(link))


@bp.get("/export.csv")
@login_required
def export():
    """hall.export for people (Chinese headings, names, minutes, percentages, states in words) as a
    CSV download, UTF-8 with a BOM as spreadsheet programs open it."""
    link = current()
    today = link.today().isoformat()
    day_from = request.args.get("from") or today
    day_to = request.args.get("to") or day_from
    group = request.args.get("group_by", "window")
    what = request.args.get("what", "stats")
    if group not in GROUPS or what not in ("stats", "tickets", "ratings"):
        abort(400)
    text = link.call("hall.export", {"what": what, "from": day_from, "to": day_to, "group_by": group, "labels": "zh"})
    name = f"hall-{what}-{group if what == 'stats' else 'all'}-{day_from}-{day_to}.csv"
    resp = Response("\ufeff" + (text or ""), mimetype="text/csv; charset=utf-8")
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


# -- the virtual hall (demo mode) -----------------------------------------------------------------

def _demo(link: HallLink) -> bool:
    return link.settings.demo or link.emulated()


def _sim_dir(link: HallLink) -> Path:
    return link.state_dir / "sim"


def _files(root: Path, pattern: str, limit: int) -> list[dict]:
    try:
        found = [p for p in root.glob(pattern) if p.is_file()]
    except OSError:
        return []
    found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [{"path": str(p.relative_to(root)), "name": p.name, "mtime": int(p.stat().st_mtime * 1000)}
            for p in found[:limit]]


def demo_open(view: Callable) -> Callable:
    """Mark a view that ``[ui] demo = true`` shows without the admin login (the virtual hall)."""
    view.demo_open = True
    return view


def virtual_hall(link: HallLink) -> dict:
    """What the emulators produced: screen and receipt PNGs (newest first), what each display
    shows, and the announcements (speaker.announced events seen by this process, log files)."""
    root = _sim_dir(link)
    screens = _files(root, "display/**/*.png", 40)
    receipts = _files(root, "printer/*/receipts/*.png", 12)
    announcements = []
    for log in _files(root, "speaker/*/announcements.jsonl", 4):
        try:
            lines = (root / log["path"]).read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
        except OSError:
            continue
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("text"):
                announcements.append((entry.get("ts") or 0, f"{_clock(entry.get('ts'), link)} {entry['text']}"))
    names = device_names(link.config.devices, link.config.hall)
    if not announcements:  # no emulated amplifier: what this process heard on the event bus
        announcements = [(e.get("ts") or 0, f"{_clock(e.get('ts'), link)} "
                                            f"{names.get(e.get('device', ''), e.get('device', ''))}：{e.get('text')}")
                         for e in list(link.live().announcements)]
    announcements.sort(key=lambda item: item[0] if isinstance(item[0], (int, float)) else 0, reverse=True)
    audio = _files(root, "speaker/*/*.wav", 3)
    texts = []
    for dev in link.config.devices:
        if dev.kind == "display":
            got = link.try_call("display.get", {"device": dev.id}, default=None)
            if isinstance(got, dict):
                texts.append({"device": dev.id, "name": names.get(dev.id, dev.id), "lines": got.get("lines") or []})
    state = link.try_call("hall.state", default=None) or {}
    calls = [{"number": c.get("number"), "window_name": c.get("window_name") or c.get("window"),
              "at": _clock_iso(c.get("called_at"))} for c in state.get("recent_calls", [])]
    return {"screens": screens, "receipts": receipts, "announcements": [a[1] for a in announcements[:30]],
            "audio": audio, "texts": texts, "calls": calls,
            "lockers": [dev.id for dev in link.config.devices if dev.kind == "locker"]}


def _clock_iso(value: Any) -> str:
    """HH:MM:SS of an ISO time from hwd (already in the hall's time zone)."""
    try:
        return dt.datetime.fromisoformat(str(value)).strftime("%H:%M:%S")
    except ValueError:
        return ""


def _clock(ts: Any, link: HallLink) -> str:
    return when(ts, link, "%H:%M:%S")


def when(ts: Any, link: HallLink, fmt: str = "%m-%d %H:%M:%S") -> str:
    """A Unix time as local time of the hall (``[daemon] timezone``); other values unchanged."""
    if not isinstance(ts, (int, float)) or isinstance(ts, bool):
        return "" if ts is None else str(ts)
    try:
        tz = zoneinfo.ZoneInfo(link.config.daemon.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = None
    return dt.datetime.fromtimestamp(ts, tz).strftime(fmt)


@bp.app_template_filter("when")
def _when_filter(ts: Any) -> str:
    return when(ts, current())


@bp.get("/hall")
@login_required
@demo_open
def hall():
    link = current()
    return render_template("admin/hall.html", vh=virtual_hall(link), demo=_demo(link))


@bp.get("/hall/state")
@login_required
@demo_open
def hall_state():
    return jsonify({"ok": True, **virtual_hall(current())})


@bp.get("/sim/<path:name>")
@login_required
@demo_open
def sim_file(name: str):
    """A PNG or WAV the emulators wrote (send_from_directory refuses paths outside the sim dir)."""
    if not name.endswith((".png", ".wav")):
        abort(404)
    return send_from_directory(_sim_dir(current()), name, max_age=0)
