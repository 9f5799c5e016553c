"""``/counter/<window>``: the window clerk's console (窗口叫号).

Login with staff id and PIN (checked by the hall engine, ``hall.login``); then call next, recall,
no-show, start, finish, transfer to another service, pause with a reason and resume — buttons
and keyboard shortcuts, each enabled only when the engine would take it now. Shows the current
ticket with its priority class (老年人, 残疾人, …), the queue lengths of the window's services,
the clerk's own counts of today, the window's own devices when one is down (a call the window
screen cannot show is said so: the citizen must be called by voice) and the rating of the last
service when it arrives. The session remembers which clerk is logged in at which window.
"""

from __future__ import annotations

from typing import Any, Callable

from flask import (Blueprint, abort, jsonify, redirect, render_template, request,
                   url_for)

from hwd import errors, report_words, wording
from hwd.client import RpcError
from hwd.hall.devices.names import role_name
from hwd.report_words import PRIORITY_CLASSES

from kiosk_ui import sessions, words
from kiosk_ui.hwdlink import HallLink, message_for, current, window_or_404
from kiosk_ui.kiosk import queue_lengths

bp = Blueprint("counter", __name__, url_prefix="/counter")

WINDOW_DEVICES = ("display", "keypad", "evaluator", "speaker")  # a window's own devices, watched by its counter
ACTIONS = {
    "call_next": "hall.call_next", "recall": "hall.recall", "no_show": "hall.no_show",
    "start": "hall.start", "finish": "hall.finish", "transfer": "hall.transfer",
    "pause": "hall.pause", "resume": "hall.resume",
}
PAUSE_REASONS = ("临时离开", "午休", "会议", "业务咨询", "设备故障")




def _staff(window_id: str) -> str | None:
    """The clerk logged in at this window in this browser (a live server-side session)."""
    return sessions.staff_at("counter", window_id)


def _set_staff(window_id: str, staff: str | None) -> None:
    sessions.set_staff_at("counter", window_id, staff)


@bp.get("/<window>")
def page(window: str):
    w = window_or_404(window)
    link = current()
    staff = _staff(window)
    if staff is None:
        return render_template("counter_login.html", window=w, error=None)
    by_id = {s.get("id"): s for s in link.config_services()}
    services = [by_id[sid] for sid in w.get("services") or [] if sid in by_id]  # in the window's order
    devices = [str(w[role]) for role in WINDOW_DEVICES if w.get(role)]
    return render_template("counter.html", window=w, staff=staff, services=services, devices=devices,
                           all_services=link.config_services(), reasons=PAUSE_REASONS)


def staff_login(method: str, params: dict, form_page: Callable[[str], str], remember: Callable[[str], None],
                done_url: str) -> Any:
    """The staff id + PIN form of every staff page (counter windows, guide desks): one path, so
    a check added here (or in the engine's ``authenticate``) holds for every login. A clerk whose
    new PIN is due (added, or the PIN reset on /admin/config: LOGIN_FAILED ``set_pin``) is asked for
    it twice on the same URL; hwd stores only its hash (``hall.set_pin``), then the login goes on."""
    staff = request.form.get("staff", "").strip()[:64]
    if "new_pin" in request.form:
        return _new_pin(method, params, staff, remember, done_url)
    pin = request.form.get("pin", "")
    if not staff or not pin:
        return form_page("请输入工号和密码"), 400
    try:
        current().call(method, {**params, "staff": staff, "pin": pin[:64], "source": request.remote_addr})
    except RpcError as exc:
        if exc.code == errors.LOGIN_FAILED and isinstance(exc.data, dict) and exc.data.get("set_pin"):
            return render_template("staff_new_pin.html", staff=staff, error=None), 200
        return form_page(message_for(exc)), 429 if exc.code == errors.LOGIN_LOCKED else 403
    remember(staff)
    return redirect(done_url)


def _new_pin(method: str, params: dict, staff: str, remember: Callable[[str], None], done_url: str) -> Any:
    first, second = request.form.get("new_pin", "")[:64], request.form.get("new_pin2", "")[:64]
    if not staff or first != second:
        return render_template("staff_new_pin.html", staff=staff, error="两次输入的密码不一致，请重新输入"), 400
    link = current()
    try:
        link.call("hall.set_pin", {"staff": staff, "pin": first, "source": request.remote_addr})
        link.call(method, {**params, "staff": staff, "pin": first, "source": request.remote_addr})
    except RpcError as exc:
        status = 429 if exc.code == errors.LOGIN_LOCKED else 403
        return render_template("staff_new_pin.html", staff=staff, error=message_for(exc)), status
    remember(staff)
    return redirect(done_url)


@bp.post("/<window>/login")
def login(window: str):
    w = window_or_404(window)
    return staff_login("hall.login", {"window": window},
                       lambda error: render_template("counter_login.html", window=w, error=error),
                       lambda staff: _set_staff(window, staff), url_for("counter.page", window=window))


@bp.post("/<window>/logout")
def logout(window: str):
    window_or_404(window)
    staff = _staff(window)
    if staff is not None:
        current().try_call("hall.logout", {"window": window, "staff": staff})
    _set_staff(window, None)
    return redirect(url_for("counter.page", window=window))


COUNT_KEYS = ("called", "served", "no_show", "rated", "bad", "mean_service_s")
COUNT_NAMES = {"called": "已叫号", "served": "已办结", "no_show": "过号", "rated": "已评价", "bad": "差评"}


def _today_counts(link: HallLink, window: str, staff: str) -> list[dict]:
    """The clerk's own counts of today (hall.stats grouped by staff), in a fixed order; service
    time in minutes, as the reports show it."""
    today = link.today().isoformat()
    rows = link.try_call("hall.stats", {"from": today, "to": today, "group_by": "staff"}, default=None)
    if isinstance(rows, dict):
        rows = rows.get("rows", [])

    def name(key: str) -> str:
        return COUNT_NAMES.get(key) or report_words.heading(key)
    for row in rows or []:
        if isinstance(row, dict) and str(row.get("staff", row.get("key"))) == staff:
            return [{"key": k, "name": name(k), "value": report_words.shown(k, row[k])}
                    for k in COUNT_KEYS if row.get(k) is not None]
    return [{"key": k, "name": name(k), "value": 0} for k in COUNT_KEYS[:3]]


def window_devices(link: HallLink, w: dict) -> list[dict]:
    """The window's screen, keypad (呼叫器 beside an evaluator), evaluator and speaker with their
    state in words (``problem``: '' when the device works)."""
    roles = [(role, str(w[role])) for role in WINDOW_DEVICES if w.get(role)]
    if not roles:
        return []
    rows = {str(d.get("id")): d for d in link.try_call("devices.list", default=None) or [] if isinstance(d, dict)}
    evaluator = bool(w.get("evaluator"))
    return [{"role": role, "name": role_name(role, evaluator), "id": dev, "state": (rows.get(dev) or {}).get("state"),
             "problem": words.device_problem(rows.get(dev)) if rows else "状态未知"} for role, dev in roles]


def screen_warning(devices: list[dict]) -> str:
    """What the clerk must know after a call when the window's screen is down ('' when it is up)."""
    screen = next((d for d in devices if d["role"] == "display"), None)
    if screen is None or not screen["problem"]:
        return ""
    return f"{screen['name']}{screen['problem']}，群众看不到号码，请口头招呼"


@bp.get("/<window>/state")
def state(window: str):
    """The window, its current ticket, its services' queue lengths and the clerk's counts."""
    w = window_or_404(window)
    link = current()
    staff = _staff(window)
    snap = link.call("hall.state")
    win = next((x for x in snap.get("windows", []) if str(x.get("id")) == window), None) or {}
    if staff is not None and win and win.get("staff") not in (None, staff):
        _set_staff(window, None)  # someone else logged in here meanwhile
        staff = None
    lengths = queue_lengths(snap)
    queues = [{"service": s, "name": _service_name(link, s), "waiting": lengths.get(s, 0)}
              for s in w.get("services") or []]
    counts = _today_counts(link, window, staff) if staff else []
    current_ticket = win.get("current_ticket") if win else None
    if isinstance(current_ticket, dict) and current_ticket.get("priority") not in (None, "normal"):
        current_ticket["priority_name"] = PRIORITY_CLASSES.get(current_ticket["priority"], current_ticket["priority"])
    hall = link.config.hall
    return jsonify({"ok": True, "logged_in": staff is not None, "staff": staff, "window": win,
                    "queues": queues, "counts": counts, "matters": _matters(link, win), "seq": snap.get("seq"),
                    "devices": window_devices(link, w), "min_recalls": hall.min_recalls if hall else 0})


def _matters(link: HallLink, win: dict | None) -> list[dict]:
    """The matters (事项) of the current ticket's service, for the clerk to pick the one handled
    (``hall.start``/``hall.finish`` ``matter``; default: the service's first)."""
    ticket = (win or {}).get("current_ticket") or {}
    service = next((s for s in link.config_services() if s.get("id") == ticket.get("service")), {})
    return [{"id": str(m.get("id")), "name": str(m.get("name") or m.get("id"))}
            for m in service.get("matter") or [] if isinstance(m, dict) and m.get("id")]


def _service_name(link: HallLink, service_id: str) -> str:
    return next((s.get("name", service_id) for s in link.config_services() if s.get("id") == service_id), service_id)


@bp.post("/<window>/api/<action>")
def act(window: str, action: str):
    """One clerk action; JSON in, JSON out."""
    window_or_404(window)
    method = ACTIONS.get(action)
    if method is None:
        abort(404)
    staff = _staff(window)
    if staff is None:
        return jsonify({"ok": False, "error": wording.say(errors.NOT_LOGGED_IN), "code": errors.NOT_LOGGED_IN}), 403
    body = request.get_json(silent=True) or {}
    params: dict[str, Any] = {"window": window}
    if action == "transfer":
        params["service"] = str(body.get("service", ""))
    if action == "pause":
        params["reason"] = str(body.get("reason") or "暂停服务")[:40]
    if action in ("start", "finish") and body.get("matter"):
        params["matter"] = str(body["matter"])[:64]
    link = current()
    try:
        result = link.call(method, params, timeout=link.settings.rpc_timeout_s + 3.0)  # calls announce
    except RpcError as exc:
        if exc.code == errors.NOT_LOGGED_IN:
            _set_staff(window, None)
        return jsonify({"ok": False, "error": message_for(exc), "code": exc.code}), 409
    if action == "call_next" and result is None:
        return jsonify({"ok": True, "result": None, "info": "当前没有等候的号"})
    warning = screen_warning(window_devices(link, window_or_404(window))) if action in ("call_next", "recall") else ""
    return jsonify({"ok": True, "result": result, "info": said(action, result or {}, warning), "warning": warning,
                    "at": current().now().isoformat(timespec="seconds")})


def said(action: str, r: dict, warning: str = "") -> str:
    """What the action did, in the clerk's words (not just "A004 · 好的"); ``warning``: the
    window screen is down, so the call was not seen."""
    n = r.get("number", "")
    if action == "call_next":
        return f"已叫号：{n}（{r.get('service_name', '')}），{warning or '请等群众到窗口'}"
    if action == "recall":
        return f"已重呼 {n}（第 {r.get('recalls', 1)} 次）" + (f"，{warning}" if warning else "")
    if action == "no_show":
        return f"{n} 过号，已顺延重新排队" if r.get("state") == "waiting" else f"{n} 已过号，不再叫号"
    if action == "start":
        return f"{n} 开始办理"
    if action == "finish":
        return f"{n} 已办结，已请群众评价"
    if action == "transfer":
        return f"{n} 已转到“{r.get('service_name', '')}”排队，保留原排队时间"
    if action == "pause":
        return f"窗口已暂停服务（{r.get('reason') or '暂停'}），窗口屏显示“暂停服务”"
    if action == "resume":
        return "窗口已恢复服务，可以叫号"
    return "已完成"
